"""Token endpoint throughput, refresh grant: the simulator vs the npm ``oauth2-mock-server``.

The load is ``POST <token endpoint>`` with ``grant_type=refresh_token`` (client credentials in
the form body), from a second process (``python -m bench.oauth2_token``, aiohttp client): a
fixed number of workers, each on its own keep-alive connection slot and its **own refresh
chain**, for a warm-up and then a fixed measured window. Refresh tokens rotate (each answer
carries a new one and the old one is dead), so a worker always sends the refresh token of the
previous answer; a chain that breaks (any non-200) stops its worker. The chains' heads are
printed at the end and carried into the next round.

The simulator's chains start from token pairs got through the real flow (a link from
``POST /_sim/applinks``, alice's form login, authorize, consent, allow, code exchange; see
:mod:`bench.oauth2_login`). The peer checks no refresh token, so its chains start from
placeholders; from then on both get the same requests built the same way. Both servers run
throughout and the load alternates between them, round by round; the medians are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from bench import peer_oauth2_mock_server as peer
from bench.common import (
    ROOT,
    BenchError,
    Result,
    Server,
    cpu_seconds,
    fmt_seconds,
    median,
    ratio,
    server_environment,
    serving,
    sim_command,
)
from bench.oauth2_login import FlowError, Link, mint_pairs, refresh_form, token_pair
from bench.throughput import LoadRun

NAME = "oauth2_token"
SIM_TOKEN_PATH = "/rest/oauth2/latest/token"  # noqa: S105 - a path
CONNECTIONS = 32
DURATION = 2.0
WARMUP = 0.5
ROUNDS = 5
GOAL = 1.0
PEER_CLIENT = ("bench-peer-client", "bench-peer-secret")


# -- the load generator (run as its own process) -----------------------------------------------


@dataclass
class Chains:
    """What the load generator reads on stdin: where to send and the chains to continue."""

    url: str
    client_id: str
    client_secret: str
    refresh_tokens: list[str]

    def to_json(self) -> str:
        """One JSON document."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Chains:
        """Parse :meth:`to_json`'s output; ValueError if it is not that shape."""
        data = json.loads(text)
        tokens = data.get("refresh_tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError("refresh_tokens must be a list of strings")
        return cls(str(data["url"]), str(data["client_id"]), str(data["client_secret"]), tokens)


@dataclass
class RefreshCounts:
    """What one load run saw; ``refresh_tokens`` are the chains' heads (None: broken)."""

    ok: int = 0
    other: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    total: int = 0
    broken: int = 0
    refresh_tokens: list[str | None] = field(default_factory=list)
    first_problem: str = ""


async def refresh_load(chains: Chains, duration: float, warmup: float) -> RefreshCounts:
    """One worker per chain, refreshing back to back; count 200s inside the window."""
    loop = asyncio.get_running_loop()
    counts = RefreshCounts(seconds=duration)
    heads: list[str | None] = list(chains.refresh_tokens)
    window_start = loop.time() + warmup
    window_end = window_start + duration
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(session: aiohttp.ClientSession, index: int) -> None:
        while loop.time() < window_end:
            token = heads[index]
            if token is None:
                return
            body = refresh_form(chains.client_id, chains.client_secret, token)
            status = -1
            try:
                async with session.post(chains.url, data=body, headers=headers) as response:
                    text = await response.text()
                    status = response.status
                heads[index] = token_pair(json.loads(text)).refresh_token if status == 200 else None
                if status != 200 and not counts.first_problem:
                    counts.first_problem = f"{status}: {text[:200]}"
            except (aiohttp.ClientError, TimeoutError, ValueError, FlowError) as exc:
                heads[index] = None  # the server may have rotated the token: the chain is lost
                status = -1
                if not counts.first_problem:
                    counts.first_problem = repr(exc)
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
        connector=aiohttp.TCPConnector(limit=len(heads) or 1),
        timeout=aiohttp.ClientTimeout(total=30),
        cookie_jar=aiohttp.DummyCookieJar(),
    ) as session:
        await asyncio.gather(*(worker(session, i) for i in range(len(heads))))
    counts.rps = counts.ok / duration if duration else 0.0
    counts.refresh_tokens = heads
    counts.broken = sum(1 for head in heads if head is None)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Read :class:`Chains` on stdin, run the load, print :class:`RefreshCounts` as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.oauth2_token", description=__doc__)
    parser.add_argument("--duration", type=float, default=DURATION)
    parser.add_argument("--warmup", type=float, default=WARMUP)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0:
        parser.error("duration > 0 and warmup >= 0 are required")
    chains = Chains.from_json(sys.stdin.read())
    counts = asyncio.run(refresh_load(chains, args.duration, args.warmup))
    print(json.dumps(asdict(counts)), flush=True)
    return 0


# -- the driver --------------------------------------------------------------------------------


@dataclass
class Side:
    """One server under load and the state of its chains."""

    label: str
    server: Server
    chains: Chains
    runs: list[LoadRun] = field(default_factory=list)
    broken: int = 0
    problems: list[str] = field(default_factory=list)


def load(side: Side, duration: float, warmup: float) -> LoadRun:
    """One load generator run against one side; its chains move on to the returned heads."""
    argv = [
        sys.executable,
        "-m",
        "bench.oauth2_token",
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
    ]
    cpu_before = cpu_seconds(side.server.pid)
    try:
        finished = subprocess.run(
            argv,
            input=side.chains.to_json(),
            capture_output=True,
            text=True,
            timeout=duration + warmup + 60,
            check=False,
            cwd=ROOT,
            env=server_environment(),
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError("the refresh load generator did not finish in time") from exc
    cpu_after = cpu_seconds(side.server.pid)
    lines = finished.stdout.strip().splitlines()
    if finished.returncode != 0 or not lines:
        raise BenchError(
            f"the refresh load generator failed ({finished.returncode}):\n{finished.stderr}"
        )
    counts = json.loads(lines[-1])
    heads: list[str | None] = counts["refresh_tokens"]
    side.broken += sum(1 for head in heads if head is None)
    if counts.get("first_problem") and len(side.problems) < 3:
        side.problems.append(str(counts["first_problem"]))
    side.chains.refresh_tokens = [head for head in heads if head is not None]
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    total = int(counts.get("total", 0))
    return LoadRun(
        rps=float(counts["rps"]),
        ok=int(counts["ok"]),
        other=int(counts["other"]),
        errors=int(counts["errors"]),
        cpu_per_request=cpu / total if cpu is not None and total else None,
        server_busy=cpu / (duration + warmup) if cpu is not None else None,
    )


def sim_side(server: Server, connections: int) -> Side:
    """The simulator with a link and one token pair per worker, from the real flow."""
    try:
        link, pairs = asyncio.run(mint_pairs(server.url, connections, name="bench oauth2_token"))
    except (FlowError, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        raise BenchError(f"no token pair from the simulator's login flow: {exc}") from exc
    tokens = [pair.refresh_token for pair in pairs]
    chains = Chains(server.url + SIM_TOKEN_PATH, link.client_id, link.client_secret, tokens)
    return Side("simulator", server, chains)


def top_up(side: Side, connections: int) -> None:
    """Replace broken simulator chains with fresh pairs from the real flow, on the same link."""
    missing = connections - len(side.chains.refresh_tokens)
    if missing <= 0:
        return
    link = Link(side.chains.client_id, side.chains.client_secret)
    try:
        _, pairs = asyncio.run(mint_pairs(side.server.url, missing, link=link))
    except (FlowError, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        raise BenchError(f"no fresh token pair from the simulator: {exc}") from exc
    side.chains.refresh_tokens += [pair.refresh_token for pair in pairs]


def peer_side(server: Server, connections: int) -> Side:
    """The peer; it checks no refresh token, so the chains start from placeholders."""
    tokens = [f"bench-peer-start-{index}" for index in range(connections)]
    chains = Chains(server.url + peer.TOKEN_PATH, *PEER_CLIENT, tokens)
    return Side(f"{peer.PACKAGE}", server, chains)


def probe(side: Side) -> tuple[int, int, dict[str, Any]]:
    """One refresh by hand on the first chain: (status, body bytes, JSON body)."""

    async def once() -> tuple[int, int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
            session.post(
                side.chains.url,
                data=refresh_form(
                    side.chains.client_id,
                    side.chains.client_secret,
                    side.chains.refresh_tokens[0],
                ),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as response,
        ):
            raw = await response.read()
            body = json.loads(raw) if response.status == 200 else {}
            return response.status, len(raw), body if isinstance(body, dict) else {}

    status, size, body = asyncio.run(once())
    if status == 200:
        side.chains.refresh_tokens[0] = token_pair(body).refresh_token
    return status, size, body


def start_peer(stack: contextlib.ExitStack, result: Result, connections: int) -> Side | str:
    """The peer running (stopped when ``stack`` closes) and probed, or why it is not."""
    npm_peer = peer.prepare()
    if npm_peer.command is None:
        return npm_peer.reason or "unknown"
    try:
        side = peer_side(stack.enter_context(serving(npm_peer.command)), connections)
        status, size, body = probe(side)
    except (BenchError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return f"it did not serve: {exc}"
    if status != 200:
        return f"its refresh grant answered {status}"
    result.add(
        f"{peer.PACKAGE} {npm_peer.version}",
        f"answer {size} bytes: {', '.join(sorted(body))} (RS256 JWTs)",
    )
    return side


def run(
    rounds: int = ROUNDS,
    connections: int = CONNECTIONS,
    duration: float = DURATION,
    warmup: float = WARMUP,
) -> Result:
    """Alternate simulator and peer refresh-grant load and compare median requests/second."""
    result = Result(NAME, "POST token grant_type=refresh_token requests/second vs the npm peer")
    result.add(
        "load",
        f"{connections} workers, one refresh chain each, {warmup:g} s warm-up + {duration:g} s, "
        "from a second process",
    )
    with serving(sim_command()) as sim, contextlib.ExitStack() as stack:
        sim_load = sim_side(sim, connections)
        try:
            status, size, body = probe(sim_load)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise BenchError(f"the simulator's refresh grant failed: {exc}") from exc
        if status != 200:
            result.unavailable = f"the simulator's refresh grant answered {status}"
            return result
        result.add("simulator answer", f"{size} bytes: {', '.join(sorted(body))}")
        peer_load = start_peer(stack, result, connections)
        for _ in range(rounds):
            top_up(sim_load, connections)
            sim_load.runs.append(load(sim_load, duration, warmup))
            if isinstance(peer_load, Side):
                peer_load.runs.append(load(peer_load, duration, warmup))
    result.add("rounds (each, alternating)", str(len(sim_load.runs)))
    result.add("simulator", describe(sim_load.runs))
    sides = [sim_load]
    if isinstance(peer_load, Side):
        result.add("peer", describe(peer_load.runs))
        sides.append(peer_load)
        compare(result, sim_load, peer_load)
    else:
        result.unavailable = f"the peer {peer.PACKAGE} is not available: {peer_load}"
    for side in sides:
        bad = sum(r.other + r.errors for r in side.runs)
        if bad or side.broken:
            result.notes.append(
                f"{side.label}: {bad} answers were not 200 or failed, {side.broken} chains "
                f"broke: {side.problems}"
            )
    busy = median_or_none([r.server_busy for side in sides for r in side.runs])
    if busy is not None and busy < 0.8:
        result.notes.append(
            f"the servers were busy only {busy:.0%} of the time (median): the load generator "
            "limits both sides; the CPU per request line shows the servers' own cost"
        )
    return result


def compare(result: Result, sim_load: Side, peer_load: Side) -> None:
    """The CPU line (shown) and the requests/second ratio (checked)."""
    sim_cpu = median_or_none([r.cpu_per_request for r in sim_load.runs])
    peer_cpu = median_or_none([r.cpu_per_request for r in peer_load.runs])
    if sim_cpu is not None and peer_cpu is not None:
        result.add(
            "server CPU per request, sim/peer",
            f"{ratio(sim_cpu, peer_cpu):.2f} (throughput ratio if both servers were the "
            f"bottleneck: {ratio(peer_cpu, sim_cpu):.2f}; not checked)",
        )
    sim_rps = median([r.rps for r in sim_load.runs])
    peer_rps = median([r.rps for r in peer_load.runs])
    result.check("ratio simulator/peer", ratio(sim_rps, peer_rps), GOAL, at_most=False)


def describe(runs: Sequence[LoadRun]) -> str:
    """Median requests/second, each run, and the server's CPU per request and busy share."""
    rps = median([r.rps for r in runs])
    text = f"{rps:,.0f} req/s (runs: {', '.join(f'{r.rps:,.0f}' for r in runs)})"
    cpu = median_or_none([r.cpu_per_request for r in runs])
    busy = median_or_none([r.server_busy for r in runs])
    if cpu is not None and busy is not None:
        text += f"; server CPU {fmt_seconds(cpu)}/request, busy {busy:.0%}"
    return text


def median_or_none(values: Sequence[float | None]) -> float | None:
    """The median of the known values, or None if none is known."""
    known = [value for value in values if value is not None]
    return median(known) if known else None


if __name__ == "__main__":
    raise SystemExit(main())
