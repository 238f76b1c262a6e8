"""Soak: memory under a mixed load stays flat.

The simulator serves, for ``SOAK_SECONDS`` (60 s in ``make bench``; ``BENCH_SOAK_SECONDS``
for an hour), full OAuth 2 logins (authorize, consent, allow, code exchange, a Bearer REST
call), refreshes of the pairs they issued, and REST reads as a user, from one client process
with 8 of each in flight. Its VmRSS is read from ``/proc`` every few seconds. The figure
compared with the goal is the last reading over the reading after the first third of the
run (the first minute of an hour): at most 1.2, i.e. no growth beyond the warm-up.
"""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp

from bench.common import (
    BenchError,
    Result,
    Server,
    basic_auth,
    fmt_memory,
    rss_kib,
    serving,
    sim_command,
)
from bench.oauth2_login import (
    FORM,
    PROPERTIES_PATH,
    TOKEN_PATH,
    FlowError,
    LoginFlow,
    client_session,
    prepare,
    refresh_form,
    token_pair,
)

NAME = "soak"
SOAK_SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "60"))
IN_FLIGHT = 8
SAMPLE_EVERY = 3.0
GOAL = 1.2


async def _soak(server: Server, seconds: float) -> tuple[list[tuple[float, int]], dict[str, int]]:
    counts = {"logins": 0, "refreshes": 0, "reads": 0, "errors": 0}
    samples: list[tuple[float, int]] = []
    async with client_session(IN_FLIGHT * 3) as session:
        link, cookie = await prepare(session, server.url, "bench soak")
        flow = LoginFlow(session, server.url, link, cookie)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds

        async def logins() -> None:
            while loop.time() < end:
                try:
                    pair = await flow.full_login()
                    counts["logins"] += 1
                    async with session.post(
                        server.url + TOKEN_PATH,
                        data=refresh_form(link.client_id, link.client_secret, pair.refresh_token),
                        headers={"Content-Type": FORM},
                    ) as answer:
                        token_pair(await answer.json())
                    counts["refreshes"] += 1
                except (FlowError, aiohttp.ClientError, ValueError, KeyError):
                    counts["errors"] += 1

        async def reads() -> None:
            headers = basic_auth("alice", "alice")
            while loop.time() < end:
                for path in (PROPERTIES_PATH, "/rest/api/1.0/repos?limit=25"):
                    async with session.get(server.url + path, headers=headers) as answer:
                        await answer.read()
                        counts["reads" if answer.status == 200 else "errors"] += 1

        async def sampler() -> None:
            started = loop.time()
            while loop.time() < end:
                kib = rss_kib(server.pid)
                if kib is not None:
                    samples.append((loop.time() - started, kib))
                await asyncio.sleep(SAMPLE_EVERY)

        await asyncio.gather(
            *(logins() for _ in range(IN_FLIGHT)), *(reads() for _ in range(IN_FLIGHT)), sampler()
        )
    return samples, counts


def run(seconds: float = SOAK_SECONDS) -> Result:
    """Soak the simulator; check that memory stays within :data:`GOAL` of the warm-up's."""
    result = Result(NAME, f"memory under {seconds:g} s of mixed load")
    result.add(
        "load", f"{IN_FLIGHT} login+refresh loops and {IN_FLIGHT} REST read loops, one client"
    )
    started = time.perf_counter()
    with serving(sim_command()) as sim:
        try:
            samples, counts = asyncio.run(_soak(sim, seconds))
        except (FlowError, aiohttp.ClientError, ValueError) as exc:
            raise BenchError(f"the soak could not run: {exc}") from exc
    if len(samples) < 3:
        raise BenchError("too few memory samples (no /proc here?)")
    third = seconds / 3
    baseline = next(kib for at, kib in samples if at >= third)
    last = samples[-1][1]
    result.add(
        "done",
        f"{counts['logins']:,} logins, {counts['refreshes']:,} refreshes, "
        f"{counts['reads']:,} reads, {counts['errors']} errors "
        f"in {time.perf_counter() - started:.0f} s",
    )
    result.add(
        "VmRSS",
        f"start {fmt_memory(samples[0][1])}, after {third:.0f} s "
        f"{fmt_memory(baseline)}, end {fmt_memory(last)}",
    )
    result.check("end / after the warm-up", last / baseline, GOAL, True)
    return result
