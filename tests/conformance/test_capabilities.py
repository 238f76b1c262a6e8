"""What an integration declares in ``GET /capabilities`` is what it is tested on.

The whole bundled suite runs against the reference declaring each capability set
(:mod:`tests.conformance.capability_suts`: OAuth 2 only, OAuth 1 only, both in either order,
each with and without the repository listing), each run in a child process as CI runs it. For
each set: the run passes, some scenarios ran, every scenario needing an undeclared
capability (``@oauth1``, ``@oauth2``, ``@repositories``, and ``@packages`` / ``@webhooks``,
declared with the listing) is skipped before any of its steps,
no scenario is skipped for a capability it is not tagged with (a missing tag), and the
integration is never called for something undeclared (``create_integration`` with an
undeclared OAuth version, ``repositories()`` when it declares none), while every declared
capability is exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from conformance.report import RESULTS_FILE, Report, ScenarioResult, read_results
from tests.conformance.capability_suts import CALL_LOG_VARIABLE, CAPABILITY_SETS, Declared

ROOT: Final = Path(__file__).resolve().parents[2]
MODULE: Final = "tests.conformance.capability_suts"
#: Seconds one run of the suite may take.
TIMEOUT: Final = 300
#: Runs at once (each is a simulator, a reference server and the suite; mostly CPU).
WORKERS: Final = max(2, min(os.cpu_count() or 2, 4))
#: The set the reference itself declares: every other run is compared with it.
EVERYTHING: Final = "declares_oauth2_and_1"
CAPABILITY_TAGS: Final = frozenset({"oauth1", "oauth2", "repositories", "packages", "webhooks"})


@dataclass(frozen=True, slots=True)
class CapabilityRun:
    """One run of the suite against the reference declaring ``declared``."""

    name: str
    declared: Declared
    exit_code: int
    output: str
    report: Report | None
    calls: tuple[dict[str, Any], ...]

    @property
    def undeclared(self) -> frozenset[str]:
        """The capability tags the declaration lacks."""
        lacking = {f"oauth{v}" for v in (1, 2) if v not in self.declared.oauth_versions}
        if not self.declared.repositories:
            lacking |= {"repositories", "packages", "webhooks"}
        return frozenset(lacking)

    @property
    def scenarios(self) -> tuple[ScenarioResult, ...]:
        """Every scenario of the report (failing the test when there is none)."""
        assert self.report is not None, f"{self.name} wrote no {RESULTS_FILE}:\n{self.output}"
        return self.report.scenarios

    def needing_undeclared(self) -> list[ScenarioResult]:
        """The scenarios tagged with a capability the declaration lacks."""
        return [s for s in self.scenarios if self.undeclared & set(s.tags)]

    def methods(self) -> list[str]:
        """The integration's methods in the order they were called."""
        return [str(call["method"]) for call in self.calls]

    def oauth_versions_created(self) -> set[int]:
        """The OAuth versions ``create_integration`` was called with."""
        return {
            int(call["oauth_version"])
            for call in self.calls
            if call["method"] == "create_integration"
        }


def run_declaring(name: str, scratch: Path) -> CapabilityRun:
    """The suite against ``capability_suts:<name>``, its report and the calls it made."""
    folder = scratch / name
    folder.mkdir(parents=True)
    log = folder / "calls.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.runner",
            "--sut",
            f"{MODULE}:{name}",
            "--report",
            str(folder / "report"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, CALL_LOG_VARIABLE: str(log), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    results = folder / "report" / RESULTS_FILE
    lines = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
    return CapabilityRun(
        name=name,
        declared=CAPABILITY_SETS[name],
        exit_code=done.returncode,
        output=done.stdout + done.stderr,
        report=read_results(results) if results.is_file() else None,
        calls=tuple(json.loads(line) for line in lines),
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CapabilityRun]:
    """Every capability set's run, a few at a time."""
    scratch = tmp_path_factory.mktemp("capabilities")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda name: run_declaring(name, scratch), CAPABILITY_SETS))
    return {run.name: run for run in done}


def _shown(scenarios: Iterable[ScenarioResult]) -> str:
    return "\n".join(
        f"  {s.feature_uri}:{s.line}: {s.name} [{s.outcome}] {s.message or ''}" for s in scenarios
    )


def _outcomes(run: CapabilityRun) -> dict[tuple[str, str], str]:
    return {(s.feature_uri, s.name): s.outcome for s in run.scenarios}


SETS: Final = sorted(CAPABILITY_SETS)


def test_every_declarable_set_is_tried() -> None:
    declared = {(frozenset(d.oauth_versions), d.repositories) for d in CAPABILITY_SETS.values()}
    assert declared == {
        (frozenset(versions), repositories)
        for versions in ({1}, {2}, {1, 2})
        for repositories in (True, False)
    }
    assert {d.oauth_versions for d in CAPABILITY_SETS.values()} >= {(1, 2), (2, 1)}
    assert CAPABILITY_SETS[EVERYTHING] == Declared((2, 1), True)


@pytest.mark.parametrize("name", SETS)
def test_the_run_passes_and_runs_scenarios(runs: dict[str, CapabilityRun], name: str) -> None:
    run = runs[name]
    assert run.exit_code == 0, run.output
    assert run.report is not None
    assert run.report.ran > 0, run.output
    # Every declared capability is tested: some scenario needing it passed.
    declared = CAPABILITY_TAGS - run.undeclared
    if 2 not in run.declared.oauth_versions:  # the after-login scenarios log in with OAuth 2
        declared -= {"packages", "webhooks"}
    exercised = {tag for s in run.scenarios if s.outcome == "passed" for tag in s.tags}
    assert declared <= exercised, f"no scenario needing {sorted(declared - exercised)} passed"


@pytest.mark.parametrize("name", SETS)
def test_the_integration_is_never_called_for_what_it_does_not_declare(
    runs: dict[str, CapabilityRun], name: str
) -> None:
    run = runs[name]
    assert run.methods(), f"{name} recorded no call (is {CALL_LOG_VARIABLE} honoured?)"
    # Every declared OAuth version is set up, no other.
    assert run.oauth_versions_created() == set(run.declared.oauth_versions)
    assert ("repositories" in run.methods()) == run.declared.repositories
    after_login = run.declared.repositories and 2 in run.declared.oauth_versions
    assert ("synchronise" in run.methods()) == after_login
    assert ("add_code_credential" in run.methods()) == after_login


@pytest.mark.parametrize("name", SETS)
def test_scenarios_needing_an_undeclared_capability_are_skipped_before_any_step(
    runs: dict[str, CapabilityRun], name: str
) -> None:
    run = runs[name]
    needing = run.needing_undeclared()
    if run.undeclared:
        assert needing, f"no scenario is tagged with any of {sorted(run.undeclared)}"
    ran = [s for s in needing if s.outcome != "skipped"]
    assert not ran, "scenarios needing an undeclared capability were not skipped:\n" + _shown(ran)
    started = [s for s in needing if any(step.status != "skipped" for step in s.steps)]
    assert not started, "skipped only after some of their steps ran:\n" + _shown(started)
    reasons = [s for s in needing if "capabilities" not in (s.message or "")]
    assert not reasons, "skipped for another reason than the capabilities:\n" + _shown(reasons)


@pytest.mark.parametrize("name", SETS)
def test_no_scenario_lacks_the_capability_tag_it_needs(
    runs: dict[str, CapabilityRun], name: str
) -> None:
    """A scenario skipped for a capability its tags do not name lacks that tag; every
    scenario needing only declared capabilities ends as with the full declaration."""
    run = runs[name]
    untagged = [
        s
        for s in run.scenarios
        if s.outcome == "skipped"
        and "capabilities" in (s.message or "")
        and not run.undeclared & set(s.tags)
    ]
    assert not untagged, "skipped for a capability they are not tagged with:\n" + _shown(untagged)
    everything = _outcomes(runs[EVERYTHING])
    changed = [
        s
        for s in run.scenarios
        if not run.undeclared & set(s.tags) and s.outcome != everything.get((s.feature_uri, s.name))
    ]
    assert not changed, f"outcomes differing from {EVERYTHING}'s:\n" + _shown(changed)


@pytest.mark.parametrize("repositories", ["", "_no_repositories"])
def test_the_order_of_the_oauth_versions_does_not_matter(
    runs: dict[str, CapabilityRun], repositories: str
) -> None:
    one_two = runs[f"declares_oauth1_and_2{repositories}"]
    two_one = runs[f"declares_oauth2_and_1{repositories}"]
    assert _outcomes(one_two) == _outcomes(two_one)
