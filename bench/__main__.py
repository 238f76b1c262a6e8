"""``python -m bench [NAME ...] [--strict]``: run the benchmarks and print figures and verdicts.

Without names every benchmark runs, in the order startup, throughput, large, reset,
oauth2_token, oauth2_login, plugin_cost, soak, git_clone, webhooks. The exit status is 0
whatever the verdicts; with ``--strict`` it is 1 if any goal is missed or could not be measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence

from bench import (
    git_clone,
    large,
    oauth2_login,
    oauth2_token,
    plugin_cost,
    reset,
    soak,
    startup,
    throughput,
    webhooks,
)
from bench.common import BenchError, Result, format_result

BENCHMARKS: dict[str, Callable[[], Result]] = {
    startup.NAME: startup.run,
    throughput.NAME: throughput.run,
    large.NAME: large.run,
    reset.NAME: reset.run,
    oauth2_token.NAME: oauth2_token.run,
    oauth2_login.NAME: oauth2_login.run,
    plugin_cost.NAME: plugin_cost.run,
    soak.NAME: soak.run,
    git_clone.NAME: git_clone.run,
    webhooks.NAME: webhooks.run,
}


def run_one(name: str) -> Result:
    """Run one benchmark; a failure to run becomes an N/A result, not a crash."""
    try:
        return BENCHMARKS[name]()
    except BenchError as exc:
        failed = Result(name, "could not run")
        failed.unavailable = str(exc)
        return failed


def machine_line() -> str:
    """CPUs and load average, so that figures from a busy machine can be recognised."""
    try:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        load = "unknown"
    return f"bench: {os.cpu_count()} CPUs, load average {load}, Python {sys.version.split()[0]}"


def summary(results: Sequence[Result], seconds: float) -> str:
    """One line per benchmark and the total time."""
    lines = ["== summary"]
    width = max([10, *(len(r.name) for r in results)])
    lines.extend(f"  {r.name.ljust(width)}  {r.status}" for r in results)
    lines.append(f"  {'total time'.ljust(width)}  {seconds:.1f} s")
    lines.append("  " + machine_line())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the chosen benchmarks, print each block and a summary."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if a goal is missed or not measured"
    )
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    started = time.perf_counter()
    print(machine_line(), flush=True)
    results: list[Result] = []
    for name in names:
        result = run_one(name)
        results.append(result)
        print(format_result(result), flush=True)
    print(summary(results, time.perf_counter() - started), flush=True)
    if args.strict and any(r.status != "PASS" for r in results):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
