"""Plugin cost: what the installed pytest plugin (``simulator.pytest_plugin``, entry point
``pytest11``) adds to an unrelated pytest run.

The same one-test project is run with pytest in a fresh interpreter, alternately with the
plugin (as installed) and without it (``-p no:bbdc_sim``), several times each; the median
difference is the plugin's cost (goal: under 50 ms), and the ratio compares the two medians.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BenchError, Result, fmt_seconds, median

NAME = "plugin_cost"
RUNS = 7
GOAL_SECONDS = 0.050
TEST = "def test_unrelated():\n    assert 1 + 1 == 2\n"


def pytest_run(folder: Path, *extra: str) -> float:
    """Seconds for one ``pytest -q`` of the folder in a new interpreter."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"pytest exited {done.returncode}: {done.stdout[-300:]}")
    return seconds


def run(runs: int = RUNS) -> Result:
    """Measure pytest with and without the plugin, interleaved; check the difference."""
    result = Result(NAME, "what the installed pytest plugin adds to an unrelated pytest run")
    with tempfile.TemporaryDirectory(prefix="bbdc-plugin-cost-") as scratch:
        folder = Path(scratch)
        (folder / "test_unrelated.py").write_text(TEST, encoding="utf-8")
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        pytest_run(folder)  # warm the file cache
        with_plugin: list[float] = []
        without: list[float] = []
        for _ in range(runs):
            with_plugin.append(pytest_run(folder))
            without.append(pytest_run(folder, "-p", "no:bbdc_sim"))
    cost = median(with_plugin) - median(without)
    result.add("pytest, plugin installed", f"{fmt_seconds(median(with_plugin))} median")
    result.add("pytest, -p no:bbdc_sim", f"{fmt_seconds(median(without))} median")
    result.add("the plugin's cost", f"{cost * 1000:.1f} ms ({runs} runs each, interleaved)")
    result.add("ratio (with / without)", f"{median(with_plugin) / median(without):.3f}")
    result.check("plugin cost (s)", cost, GOAL_SECONDS, True)
    return result
