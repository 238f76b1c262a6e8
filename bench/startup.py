"""Start-up: spawn until the first 200 from ``GET /rest/api/1.0/application-properties``,
simulator vs a bare aiohttp app serving that path.

Each run spawns the process, reads its ready line to learn the port, then polls the REST
path every millisecond until it answers 200. A REST answer rather than ``/_sim/health``,
which would hide work the simulator does lazily on its first Bitbucket request. Runs are
interleaved (simulator, baseline, simulator, ...) after one untimed warm-up pair, and the
medians are compared.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.common import (
    Result,
    baseline_command,
    fmt_seconds,
    median,
    ratio,
    sim_command,
    start_server,
    stop_server,
    wait_for_status,
)

NAME = "startup"
FIRST = "/rest/api/1.0/application-properties"
#: The dataset is built on first use; this path shows what the first data request costs.
DATA_PATH = "/rest/api/1.0/repos"
RUNS = 7
GOAL = 1.2
TIME_BUDGET = 90.0


@dataclass
class Spawn:
    """One start-up: time to the ready line, time to the health answer, and its status."""

    ready: float
    answered: float
    status: int
    #: Time to the first answer from a path that needs the seeded dataset (simulator only).
    data: float | None = None


def spawn_once(argv: Sequence[str], data_path: str | None = None) -> Spawn:
    """Start a server, time it to its first 200 on the REST path (or first other answer)."""
    server = start_server(argv, timeout=60)
    try:
        reply = wait_for_status(server, FIRST, 200, timeout=30)
        answered = time.perf_counter() - server.spawned_at
        data = None
        if data_path is not None:
            wait_for_status(server, data_path, 200, timeout=30)
            data = time.perf_counter() - server.spawned_at
        return Spawn(server.ready_at - server.spawned_at, answered, reply.status, data)
    finally:
        stop_server(server)


def run(runs: int = RUNS, sim_argv: Sequence[str] | None = None) -> Result:
    """Measure both start-ups ``runs`` times each, interleaved, and compare the medians."""
    sim = list(sim_argv) if sim_argv is not None else sim_command()
    base = baseline_command()
    result = Result(NAME, f"spawn until the first 200 from GET {FIRST}")
    spawn_once(sim)
    spawn_once(base)
    sims: list[Spawn] = []
    bases: list[Spawn] = []
    deadline = time.perf_counter() + TIME_BUDGET
    for _ in range(runs):
        if time.perf_counter() > deadline:
            result.notes.append(f"time budget reached after {len(sims)} runs")
            break
        sims.append(spawn_once(sim, DATA_PATH))
        bases.append(spawn_once(base))
    sim_answer = median([s.answered for s in sims])
    base_answer = median([s.answered for s in bases])
    result.add("runs (each, interleaved)", str(len(sims)))
    result.add("simulator median", _describe(sims))
    result.add("baseline median", _describe(bases))
    data = [s.data for s in sims if s.data is not None]
    if data:
        result.add(
            "simulator to first 200 from /rest/api/1.0/repos (median, not checked)",
            fmt_seconds(median(data)),
        )
    result.add("simulator ready line (median)", fmt_seconds(median([s.ready for s in sims])))
    result.add("baseline ready line (median)", fmt_seconds(median([s.ready for s in bases])))
    missing = [s.status for s in sims if s.status != 200]
    if missing:
        result.unavailable = (
            f"{FIRST} answered {missing[0]}: the simulator was timed to its first HTTP "
            "answer instead, so the ratio below is provisional"
        )
    result.check("ratio simulator/baseline", ratio(sim_answer, base_answer), GOAL, at_most=True)
    return result


def _describe(spawns: Sequence[Spawn]) -> str:
    times = [s.answered for s in spawns]
    return (
        f"{fmt_seconds(median(times))} (min {fmt_seconds(min(times))}, "
        f"max {fmt_seconds(max(times))})"
    )
