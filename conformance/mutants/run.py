"""Run the conformance suite against a mutant (or the reference) and read what it caught.

Each run is ``python -m conformance.runner --sut ... --report DIR`` in a subprocess of its own
(its own simulator, reference server and ports; a mutant that hangs or crashes cannot touch
another run), so several run at once. The outcome of every scenario is read back from the
run's ``junit.xml``: ``passed``, ``failed`` (a ``@must`` failure, or any failure of the
harness), ``warned`` (a failed ``@should`` scenario) or ``skipped``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from pytest_bdd.scenario import make_python_name

from conformance.mutants import OAUTH2_TAGS, Catch

#: The repository root (where ``features/`` is).
ROOT: Final = Path(__file__).resolve().parents[2]
#: The OAuth 2 part of the suite, the default of :func:`run_suite` (each mutant runs on its
#: own :attr:`~conformance.mutants.Mutant.tags`: the OAuth 1 scenarios for an OAuth 1 bug).
DEFAULT_TAGS: Final = OAUTH2_TAGS
#: Seconds one run may take before it counts as hung.
RUN_TIMEOUT: Final = 600.0
#: Outcomes that mean the scenario caught the SUT departing from the guide.
CAUGHT: Final = frozenset({"failed", "warned"})

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """One scenario of a run's report."""

    feature: str
    name: str
    level: str
    outcome: str
    line: int = 0

    @property
    def caught(self) -> bool:
        """Whether it failed (``failed``, or ``warned`` for a ``@should`` scenario)."""
        return self.outcome in CAUGHT

    @property
    def location(self) -> str:
        """``file:line``."""
        return f"{self.feature}:{self.line}" if self.line else self.feature


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """What one run of the suite did."""

    sut: str
    exit_code: int
    seconds: float
    scenarios: tuple[ScenarioOutcome, ...]
    #: The runner's output (stdout and stderr), for diagnosis.
    output: str

    @property
    def caught(self) -> tuple[ScenarioOutcome, ...]:
        """The scenarios that failed or warned."""
        return tuple(s for s in self.scenarios if s.caught)

    def outcomes_of(self, catch: Catch) -> tuple[ScenarioOutcome, ...]:
        """The scenarios of the report that ``catch`` names (every row of an outline)."""
        return tuple(s for s in self.scenarios if catch.matches(s.feature, s.name))


def merged(runs: Sequence[SuiteRun]) -> SuiteRun:
    """Several runs against one SUT (on different scenarios) read as one: every scenario,
    the first failing exit code (else 0), the time and output of all."""
    if not runs:
        raise ValueError("nothing to merge")
    code = next((run.exit_code for run in runs if run.exit_code != 0), 0)
    return SuiteRun(
        sut=runs[0].sut,
        exit_code=code,
        seconds=sum(run.seconds for run in runs),
        scenarios=tuple(s for run in runs for s in run.scenarios),
        output="\n".join(run.output for run in runs),
    )


def outcome_of(case: ET.Element) -> str:
    """A JUnit testcase's outcome: its ``outcome`` property, else its child elements."""
    for prop in case.iter("property"):
        if prop.get("name") == "outcome" and prop.get("value"):
            return str(prop.get("value"))
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    skipped = case.find("skipped")
    if skipped is not None:
        return "warned" if (skipped.get("message") or "").startswith("warning") else "skipped"
    return "passed"


def read_junit(path: Path) -> tuple[ScenarioOutcome, ...]:
    """Every scenario of a report's ``junit.xml``."""
    outcomes = []
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - our own report
        level = next(
            (p.get("value", "") for p in case.iter("property") if p.get("name") == "level"), ""
        )
        outcomes.append(
            ScenarioOutcome(
                feature=case.get("file", ""),
                name=case.get("name", ""),
                level=level,
                outcome=outcome_of(case),
                line=int(case.get("line") or 0),
            )
        )
    return tuple(outcomes)


def selection(catches: Iterable[Catch]) -> str:
    """A ``-k`` expression selecting the scenarios ``catches`` name (pytest-bdd's test names;
    it may select a few more whose names contain these)."""
    names = sorted({f"test_{make_python_name(catch.scenario)}" for catch in catches})
    return " or ".join(names)


def runner_command(
    sut: str, report_dir: Path, tags: str | None = DEFAULT_TAGS, keyword: str | None = None
) -> list[str]:
    """The command that runs the suite against ``sut``."""
    command = [sys.executable, "-m", "conformance.runner", "--sut", sut]
    command += ["--report", str(report_dir)]
    if tags:
        command.append(f"--tags={tags}")
    if keyword:
        command += ["--", "-k", keyword]
    return command


def run_suite(
    sut: str,
    *,
    tags: str | None = DEFAULT_TAGS,
    keyword: str | None = None,
    report_dir: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> SuiteRun:
    """Run the suite against ``sut`` (``reference`` or a ``--sut`` factory) and read its
    report (kept in ``report_dir`` when given, else in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="bbdc-sim-mutant-") as scratch:
        folder = report_dir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        try:
            done = subprocess.run(  # noqa: S603 - our own interpreter and module
                runner_command(sut, folder, tags, keyword),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            code, output = -1, f"timed out after {timeout:.0f} s\n{partial}"
        seconds = time.perf_counter() - started
        junit = folder / "junit.xml"
        scenarios = read_junit(junit) if junit.is_file() else ()
    return SuiteRun(sut, code, seconds, scenarios, output)


def in_parallel(function: Callable[[T], R], items: Sequence[T], workers: int | None) -> list[R]:
    """``function`` over ``items`` on up to ``workers`` threads (default: the CPUs, at most
    4), results in the order of ``items``."""
    count = workers or min(os.cpu_count() or 2, 4)
    with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
        return list(pool.map(function, items))
