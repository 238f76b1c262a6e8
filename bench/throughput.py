"""Throughput: requests/second of ``GET /rest/api/1.0/application-properties``.

The simulator and the bare baseline (answering the simulator's own bytes) are loaded in turn
by ``bench/loadgen.py``, a separate process holding a fixed number of keep-alive connections
busy for a fixed time after a warm-up. Both servers run throughout (an idle one costs
nothing) and the load alternates between them (simulator, baseline, simulator, ...), so a
burst of load from elsewhere on the machine hits both sides alike. Besides requests/second
it reports the server's CPU time per request, read from /proc: that figure does not depend
on whether the load generator or the server is the bottleneck, and it is checked (at most
1.2x the baseline's).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bench.common import (
    BENCH_DIR,
    BenchError,
    Http,
    Result,
    Server,
    baseline_command,
    cpu_seconds,
    fmt_seconds,
    median,
    ratio,
    server_environment,
    serving,
    sim_command,
)

NAME = "throughput"
PATH = "/rest/api/1.0/application-properties"
CONNECTIONS = 32
DURATION = 2.0
WARMUP = 0.5
ROUNDS = 5
GOAL = 0.8
#: Issue 11: the simulator spends at most 1.2x the bare app's server CPU per request.
CPU_GOAL = 1.2


@dataclass
class LoadRun:
    """One load generator run against one server."""

    rps: float
    ok: int
    other: int
    errors: int
    cpu_per_request: float | None
    server_busy: float | None


def load(server: Server, connections: int, duration: float, warmup: float) -> LoadRun:
    """Run the load generator against a server; bounded by its duration plus a margin."""
    argv = [
        sys.executable,
        str(BENCH_DIR / "loadgen.py"),
        server.url + PATH,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
    ]
    cpu_before = cpu_seconds(server.pid)
    try:
        finished = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=duration + warmup + 60,
            check=False,
            env=server_environment(),
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError("the load generator did not finish in time") from exc
    cpu_after = cpu_seconds(server.pid)
    lines = finished.stdout.strip().splitlines()
    if finished.returncode != 0 or not lines:
        raise BenchError(f"the load generator failed ({finished.returncode}):\n{finished.stderr}")
    counts = json.loads(lines[-1])
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


def run(
    rounds: int = ROUNDS,
    connections: int = CONNECTIONS,
    duration: float = DURATION,
    warmup: float = WARMUP,
) -> Result:
    """Alternate simulator and baseline load runs and compare the median requests/second."""
    result = Result(NAME, f"GET {PATH} requests/second, load from a second process")
    sims: list[LoadRun] = []
    bases: list[LoadRun] = []
    with serving(sim_command()) as sim:
        with Http(sim) as client:
            reply = client.request("GET", PATH)
        if reply.status != 200:
            result.unavailable = f"GET {PATH} answered {reply.status} on the simulator"
            return result
        with serving(baseline_command("--body", reply.body.decode())) as base:
            for _ in range(rounds):
                sims.append(load(sim, connections, duration, warmup))
                bases.append(load(base, connections, duration, warmup))
    result.add("load", f"{connections} connections, {warmup:g} s warm-up + {duration:g} s")
    result.add("rounds (each, alternating)", str(len(sims)))
    result.add("body", f"{len(reply.body)} bytes, the same from both")
    result.add("simulator", _describe(sims))
    result.add("baseline", _describe(bases))
    sim_rps = median([r.rps for r in sims])
    base_rps = median([r.rps for r in bases])
    sim_cpu = _median_or_none([r.cpu_per_request for r in sims])
    base_cpu = _median_or_none([r.cpu_per_request for r in bases])
    if sim_cpu is not None and base_cpu is not None:
        result.add(
            "throughput ratio if both servers were the bottleneck",
            f"{ratio(base_cpu, sim_cpu):.2f} (base CPU / sim CPU; not checked)",
        )
    bad = sum(r.other + r.errors for r in (*sims, *bases))
    if bad:
        result.notes.append(f"{bad} answers were not 200 or failed (not counted)")
    busy = _median_or_none([r.server_busy for r in bases])
    if busy is not None and busy < 0.8:
        result.notes.append(
            f"the baseline server was busy only {busy:.0%} of the time: the load generator "
            "limits both sides; the CPU per request line shows the servers' own cost"
        )
    result.check("ratio simulator/baseline", ratio(sim_rps, base_rps), GOAL, at_most=False)
    if sim_cpu is not None and base_cpu is not None:
        result.check("server CPU per request, sim/base", ratio(sim_cpu, base_cpu), CPU_GOAL, True)
    else:
        result.notes.append("server CPU per request not measured: /proc/<pid>/stat unreadable")
    return result


def _describe(runs: Sequence[LoadRun]) -> str:
    rps = median([r.rps for r in runs])
    text = f"{rps:,.0f} req/s (runs: {', '.join(f'{r.rps:,.0f}' for r in runs)})"
    cpu = _median_or_none([r.cpu_per_request for r in runs])
    busy = _median_or_none([r.server_busy for r in runs])
    if cpu is not None and busy is not None:
        text += f"; server CPU {fmt_seconds(cpu)}/request, busy {busy:.0%}"
    return text


def _median_or_none(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return median(known) if known else None
