"""``bbdc-sim conform`` end to end, in a child process as CI runs it: against the reference
in process, through a Python factory, and through the HTTP driver with the reference in a
separate process; a failing @must, no scenario, an unreachable SUT."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.expectations import known_scenarios
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer
from conformance.report import RESULTS_FILE, read_results
from conformance.runner import ConformOptions, conform_argv, default_features_dir, pytest_args
from conformance.sut import CreatedIntegration
from tests.conformance.running import conform

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def outcomes(report: Path) -> dict[str, str]:
    """Scenario name -> outcome, from the JUnit XML of a report."""
    tree = ET.parse(report / "junit.xml")  # noqa: S314 - our own report
    found = {}
    for case in tree.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[str(case.get("name"))] = str(properties["outcome"])
    return found


# -- SUTs for the runs below (imported by the child process from this module) --------------------


class SetupLinkDropped(ReferenceIntegrator):
    """A broken integration: the form never shows the setup link."""

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        created = super().create_integration(platform, base_url, oauth_version)
        return dataclasses.replace(created, setup_link=None)


def setup_link_dropped() -> SetupLinkDropped:
    """``--sut tests.conformance.test_runner:setup_link_dropped``."""
    return SetupLinkDropped(ReferenceServer().start(), owns_server=True)


class NoVersionMessage(ReferenceIntegrator):
    """An integration that forgets the OAuth 1 hint below 7.21 (a @should departure)."""

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        created = super().create_integration(platform, base_url, oauth_version)
        return dataclasses.replace(created, messages=())


def no_version_message() -> NoVersionMessage:
    """``--sut tests.conformance.test_runner:no_version_message``."""
    return NoVersionMessage(ReferenceServer().start(), owns_server=True)


# -- the arguments -------------------------------------------------------------------------------


def test_the_runner_runs_the_features_with_the_plugin_and_its_own_configuration() -> None:
    args = pytest_args(
        ConformOptions(
            sut="http://127.0.0.1:5000",
            bitbucket_version="8.19.1",
            tags="@must",
            report="out",
            pytest_args=("-x",),
        )
    )
    assert args[0] == str(default_features_dir().resolve())
    assert args[args.index("-c") + 1] != "pyproject.toml"
    assert args[args.index("conformance.plugin") - 1 :][:2] == ["-p", "conformance.plugin"]
    assert "--strict-markers" in args
    assert args[args.index("--sut") + 1] == "http://127.0.0.1:5000"
    assert args[args.index("--bitbucket-version") + 1] == "8.19.1"
    assert "--tags=@must" in args
    assert args[args.index("--report") + 1] == str(Path("out").resolve())
    assert args[-1] == "-x"


def test_a_matrix_column_runs_with_the_same_options_at_its_version() -> None:
    options = ConformOptions(
        sut="pkg.mod:make",
        tags="@must",
        report="out",
        expected_failures="xf.txt",
        workers="2",
        quiet=False,
        pytest_args=("-x",),
    )

    argv = conform_argv(dataclasses.replace(options, bitbucket_version="7.21.0"))

    assert argv[:2] == ["--sut", "pkg.mod:make"]
    assert argv[argv.index("--bitbucket-version") + 1] == "7.21.0"
    assert argv[argv.index("--report") + 1] == str(Path("out").resolve())
    assert argv[argv.index("--expected-failures") + 1] == "xf.txt"
    assert argv[argv.index("--workers") + 1] == "2"
    assert "--tags=@must" in argv
    assert "--verbose" in argv
    assert argv[-2:] == ["--", "-x"]


# -- end to end ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole suite against the reference in process, with a report."""
    folder = tmp_path_factory.mktemp("reference") / "report"
    result = conform("--report", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bbdc-sim conform: PASSED: every @must scenario passed (exit 0); total time" in (
        result.stdout
    )
    return folder


def test_the_suite_passes_against_the_reference_and_writes_the_report(
    reference_report: Path,
) -> None:
    assert sorted(p.name for p in reference_report.iterdir()) == [
        "cucumber.json",
        "junit.xml",
        "report.html",
        "results.json",
        "summary.md",
    ]
    summary = (reference_report / "summary.md").read_text(encoding="utf-8")
    assert "- Result: **PASSED**" in summary
    assert "## Share the login link" in summary
    features = json.loads((reference_report / "cucumber.json").read_text(encoding="utf-8"))
    assert {f["uri"] for f in features} == {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "features").rglob("*.feature")
    }
    skipped = {name for name, outcome in outcomes(reference_report).items() if outcome != "passed"}
    # At the default version under test (9.4.16) the scenario for versions below 7.21 skips.
    assert skipped == {
        "Below 7.21 the integration says OAuth 2 is unavailable at the version under test"
    }


def test_the_report_names_scenarios_as_expectations_files_list_them(
    reference_report: Path,
) -> None:
    features = sorted((ROOT / "features").rglob("*.feature"))
    known = known_scenarios((path, path.relative_to(ROOT).as_posix()) for path in features)
    report = read_results(reference_report / RESULTS_FILE)

    reported = {(s.feature_uri, s.name) for s in report.scenarios}
    listed = {(uri, name) for uri, scenarios in known.items() for name in scenarios.names}
    assert reported == listed


@pytest.fixture
def reference_process() -> Iterator[str]:
    """The reference served by a separate process; its base URL."""
    script = (
        "import sys, threading\n"
        "from conformance.reference.server import ReferenceServer\n"
        "server = ReferenceServer().start()\n"
        "print(server.base_url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=15)
        if child.stdout is not None:
            child.stdout.close()


def test_the_http_driver_gives_the_same_result_with_the_reference_in_another_process(
    reference_report: Path, reference_process: str, tmp_path: Path
) -> None:
    folder = tmp_path / "report"
    result = conform("--sut", reference_process, "--report", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"system under test: {reference_process} (bbdc-sim reference)" in result.stdout
    assert outcomes(folder) == outcomes(reference_report)


def test_the_python_factory_gives_the_same_result(reference_report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    result = conform("--sut", "conformance.reference.integrator:create", "--report", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(folder) == outcomes(reference_report)


def test_a_failing_must_scenario_exits_non_zero_and_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    result = conform(
        "--sut",
        "tests.conformance.test_runner:setup_link_dropped",
        "--tags",
        "section:open-the-add-integration-form",
        "--report",
        str(folder),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "bbdc-sim conform: FAILED: a @must scenario failed, or an expected failure now passes "
        "(exit 1)" in result.stdout
    )
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "### FAILED: The form shows the setup link and the callback URL" in summary
    assert "- Step: `Then a link to create an OAuth application on that server is displayed`" in (
        summary
    )
    assert outcomes(folder) == {
        "The form shows the setup link and the callback URL": "failed",
        "A base URL with a context path is kept in the setup link": "failed",
        "Each integration gets its own callback URLs": "passed",
    }


def test_only_should_failures_are_warnings_and_exit_zero(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    result = conform(
        "--sut",
        "tests.conformance.test_runner:no_version_message",
        "--tags",
        "section:version-note",
        "--report",
        str(folder),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bbdc-sim conform: PASSED: every @must scenario passed (exit 0)" in result.stdout
    found = outcomes(folder)
    warned = {name for name, outcome in found.items() if outcome == "warned"}
    # Every row of the outline below 7.21 warns; at the version under test (9.4.16) the
    # scenario for versions below 7.21 skips; the rest pass.
    assert warned == {n for n in found if n.startswith("Below 7.21") and "points to OAuth 1" in n}
    assert len(warned) >= 2
    assert {name for name, outcome in found.items() if outcome == "skipped"} == {
        "Below 7.21 the integration says OAuth 2 is unavailable at the version under test"
    }
    assert f"0 failed, {len(warned)} warnings, 1 skipped" in result.stdout


def test_no_scenario_ran_exits_non_zero() -> None:
    result = conform("--tags", "should and section:configure-application-link")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "NO SCENARIO RAN" in result.stdout


def test_an_unreachable_sut_is_a_clear_error_and_a_non_zero_exit() -> None:
    result = conform("--sut", "http://127.0.0.1:9")
    assert result.returncode == 4, result.stdout + result.stderr
    assert (
        "ERROR: the system under test cannot be used: GET http://127.0.0.1:9/capabilities: "
        "unreachable: connection refused" in result.stderr
    )


def test_a_missing_feature_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = conform("--features", str(tmp_path / "nowhere"))
    assert result.returncode == 4
    assert "no feature directory at" in result.stderr


def test_a_feature_directory_without_feature_files_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    result = conform("--features", str(tmp_path))
    assert result.returncode == 4
    assert f"no .feature file under {tmp_path}" in result.stderr


def test_only_features_needs_features() -> None:
    result = conform("--only-features")
    assert result.returncode == 4
    assert "--only-features needs --features DIR" in result.stderr


def test_a_teams_features_run_with_the_bundled_suite_and_need_no_python(tmp_path: Path) -> None:
    (tmp_path / "ours.feature").write_text(
        "@section:version-note\nFeature: Ours\n  @must\n  Scenario: Ours runs\n"
        '    Given a Bitbucket Data Center server at version "8.19.1"\n'
        "    When the admin opens the Add Integration form\n",
        encoding="utf-8",
    )
    both = conform("--features", str(tmp_path), "--tags", "section:version-note", "--verbose")
    assert both.returncode == 0, both.stdout + both.stderr
    assert "test_ours_runs PASSED" in both.stdout
    assert "test_oauth_2_is_offered_from_bitbucket_721" in both.stdout
    only = conform("--features", str(tmp_path), "--only-features")
    assert only.returncode == 0, only.stdout + only.stderr
    assert "PASSED: 1 passed" in only.stdout


def test_a_features_folder_in_the_current_directory_is_never_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.runner import default_features_dir

    (tmp_path / "features").mkdir()
    monkeypatch.chdir(tmp_path)
    assert default_features_dir() == ROOT / "features"


def test_bbdc_sim_reference_runs_the_demo_with_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["reference", "--help"])
    assert caught.value.code == 0
    assert "--bitbucket-port" in capsys.readouterr().out
