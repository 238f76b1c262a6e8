"""A small closed-loop HTTP load generator on the aiohttp client, run as its own process.

``python bench/loadgen.py URL --connections 32 --duration 3 --warmup 0.5`` keeps that many
requests in flight over keep-alive connections, ignores the warm-up, counts the answers
that complete inside the measured window and prints one JSON line::

    {"ok": 12345, "other": 0, "errors": 0, "seconds": 3.0, "rps": 4115.0, "total": 14400}

``ok`` counts status 200, ``other`` any other status, ``errors`` failed exchanges, all in the
measured window; ``total`` counts every exchange including the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import aiohttp


@dataclass
class Counts:
    """What the measured window saw."""

    ok: int = 0
    other: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    total: int = 0


async def run_load(url: str, connections: int, duration: float, warmup: float) -> Counts:
    """Hit ``url`` from ``connections`` workers; count answers in the window after warm-up."""
    loop = asyncio.get_running_loop()
    counts = Counts()
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    started = loop.time()
    window_start = started + warmup
    window_end = window_start + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        while True:
            now = loop.time()
            if now >= window_end:
                return
            try:
                async with session.get(url) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = -1
            done = loop.time()
            counts.total += 1
            if window_start <= done < window_end:
                if status == 200:
                    counts.ok += 1
                elif status == -1:
                    counts.errors += 1
                else:
                    counts.other += 1

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    counts.seconds = duration
    counts.rps = counts.ok / duration if duration else 0.0
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run the load, print the counts as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.connections < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("connections >= 1, duration > 0 and warmup >= 0 are required")
    counts = asyncio.run(run_load(args.url, args.connections, args.duration, args.warmup))
    print(json.dumps(asdict(counts)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
