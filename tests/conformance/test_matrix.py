"""``bbdc-sim conform --matrix``: versions, the matrix of results and its forms, and runs over
two or three versions (a few sections only, to stay fast)."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.matrix import (
    DEFAULT_VERSIONS,
    MATRIX_HTML,
    MATRIX_JSON,
    MATRIX_MD,
    MAX_PARALLEL,
    NEWEST_VERSION,
    Column,
    Matrix,
    cell,
    format_html,
    format_markdown,
    format_text,
    parallel_runs,
    parse_versions,
    shorten,
    to_json,
    worst,
)
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer
from conformance.report import Report, ScenarioResult
from conformance.runner import ConformOptions
from conformance.sut import CreatedIntegration
from simulator.version import DEFAULT_VERSION
from tests.conformance.running import conform

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300
OFFERED = "OAuth 2 is offered at the version under test from 7.21"
REFUSED = "Below 7.21 the integration says OAuth 2 is unavailable at the version under test"


# -- a SUT with a version bug (imported by the child processes) ------------------------------------


class TextVersionCompare(ReferenceIntegrator):
    """Compares Bitbucket versions as text: ``"10.4.1" < "7.21"``, so it refuses OAuth 2 on
    Bitbucket 10 as if it were older than 7.21."""

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        created = super().create_integration(platform, base_url, oauth_version)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = base_url.rstrip("/") + "/rest/api/1.0/application-properties"
        with opener.open(url, timeout=10) as answer:
            version = str(json.load(answer)["version"])
        if oauth_version == 2 and version < "7.21":
            return dataclasses.replace(
                created,
                setup_link=None,
                messages=("OAuth 2 needs Bitbucket 7.21 or later: use OAuth 1",),
            )
        return created


def text_version_compare() -> TextVersionCompare:
    """``--sut tests.conformance.test_matrix:text_version_compare``."""
    return TextVersionCompare(ReferenceServer().start(), owns_server=True)


# -- versions ------------------------------------------------------------------------------------


def test_the_default_versions_span_the_guide_cut_offs_and_the_newest() -> None:
    assert parse_versions(None) == DEFAULT_VERSIONS
    assert parse_versions("default") == DEFAULT_VERSIONS
    assert DEFAULT_VERSIONS[:5] == ("7.17.0", "7.20.0", "7.21.0", "8.0.0", "8.19.1")
    assert DEFAULT_VERSION in DEFAULT_VERSIONS
    assert DEFAULT_VERSIONS[-1] == NEWEST_VERSION == "10.4.1"


def test_versions_are_normalised_and_deduplicated_in_order() -> None:
    assert parse_versions("8.19, 7.21 8.19.0,9.4.16") == ("8.19.0", "7.21.0", "9.4.16")


def test_a_bad_version_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"not a Bitbucket version .*'nine'"):
        parse_versions("8.19,nine")


# -- the matrix ----------------------------------------------------------------------------------


def result(
    name: str, outcome: str, version: str = "", section: str = "version-note"
) -> ScenarioResult:
    """A scenario of one feature."""
    return ScenarioResult(
        feature="F",
        section=section,
        name=name,
        level="must",
        outcome=outcome,  # type: ignore[arg-type]
        feature_uri="features/f.feature",
        line=len(name),
        version_under_test=version,
    )


def column(version: str, code: int, *scenarios: ScenarioResult) -> Column:
    """A version's run."""
    report = Report(scenarios=scenarios, sut="reference (bbdc-sim reference)")
    return Column(version, code, report, 1.0, Path(version))


def sample() -> Matrix:
    """Two versions: a pinned scenario, one at the version under test, another section."""
    return Matrix(
        (
            column(
                "7.20.0",
                0,
                result("Pinned", "passed"),
                result("Follows", "skipped", "7.20.0"),
                result("Login", "passed", section="share-the-login-link"),
            ),
            column(
                "10.4.1",
                1,
                result("Pinned", "passed"),
                result("Follows", "failed", "10.4.1"),
                result("Login", "warned", section="share-the-login-link"),
            ),
        ),
        sut="reference (bbdc-sim reference)",
    )


def test_a_row_per_scenario_with_a_cell_per_version() -> None:
    rows = sample().scenario_rows()

    assert [(r.name, r.varies, r.cells) for r in rows] == [
        ("Pinned", False, ("pass", "pass")),
        ("Follows", True, ("skip", "FAIL")),
        ("Login", False, ("pass", "warn")),
    ]


def test_a_section_row_shows_the_worst_cell_of_its_scenarios() -> None:
    rows = sample().section_rows()

    assert [(r.section, r.varies, r.cells) for r in rows] == [
        ("version-note", True, ("pass", "FAIL")),
        ("share-the-login-link", False, ("pass", "warn")),
    ]


def test_cells_name_every_result() -> None:
    excused = dataclasses.replace(result("X", "failed"), expected_failure="xf:1")
    fixed = dataclasses.replace(result("X", "passed"), expected_failure="xf:1")

    assert [cell(excused), cell(fixed), cell(None)] == ["xfail", "FAIL", "-"]
    assert worst(["pass", "skip", "warn"]) == "warn"
    assert worst([]) == "-"


def test_a_scenario_missing_from_a_version_is_not_run_there() -> None:
    matrix = Matrix((column("7.20.0", 0, result("Only here", "passed")), column("8.0.0", 5)))

    assert matrix.scenario_rows()[0].cells == ("pass", "-")


@pytest.mark.parametrize(
    ("codes", "code", "verdict"),
    [
        ((0, 0), 0, "PASSED"),
        ((0, 5), 0, "PASSED"),
        ((5, 5), 5, "NO SCENARIO RAN"),
        ((0, 1), 1, "FAILED at 8.0.0"),
        ((1, 4), 4, "FAILED at 7.20.0, 8.0.0"),
    ],
)
def test_the_matrix_exit_code(codes: tuple[int, int], code: int, verdict: str) -> None:
    matrix = Matrix((column("7.20.0", codes[0]), column("8.0.0", codes[1])))

    assert (matrix.exit_code, matrix.verdict) == (code, verdict)


def test_the_text_matrix_has_the_versions_the_rows_and_a_verdict_per_version() -> None:
    text = format_text(sample())
    lines = text.splitlines()

    header = next(line for line in lines if "7.20.0" in line and "10.4.1" in line)
    assert header.split() == ["7.20.0", "10.4.1"]
    assert any(line.split() == ["*", "Follows", "skip", "FAIL"] for line in lines)
    assert any(line.split() == ["Pinned", "pass", "pass"] for line in lines)
    assert any(line.split() == ["verdict", "PASSED", "FAILED"] for line in lines)
    assert "Bitbucket 10.4.1: FAILED: 1 passed, 1 failed, 1 warning, 0 skipped" in text
    assert lines[-1] == "Matrix: FAILED at 10.4.1 (exit 1)"


def test_the_text_matrix_by_section() -> None:
    lines = format_text(sample(), "sections").splitlines()

    note = next(line for line in lines if line.startswith("* Note: Application Links"))
    assert note.split()[-2:] == ["pass", "FAIL"]
    assert "2 sections x 2 versions" in lines[0]


def test_long_names_keep_an_outline_row_example() -> None:
    name = "The OAuth 1 form warns about synchronizations from Bitbucket 8 only (version: 7.17.0)"

    short = shorten(name, 60)

    assert short.startswith("The OAuth 1 form warns about")
    assert short.endswith("… (version: 7.17.0)")
    assert len(short) <= 60
    assert shorten("short", 60) == "short"


class Links(HTMLParser):
    """The page's links and resources."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("href", "src", "action")]
        assert tag not in ("script", "link", "img")


def test_the_html_matrix_is_well_formed_and_links_only_to_the_version_reports() -> None:
    text = format_html(sample())

    root = ET.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314 - our output
    assert root.tag == "html"
    links = Links()
    links.feed(text)
    assert links.urls == ["7.20.0/report.html", "10.4.1/report.html"]


def test_the_markdown_and_json_matrices() -> None:
    markdown = format_markdown(sample())
    document = json.loads(to_json(sample()))

    assert "| Scenario | 7.20.0 | 10.4.1 |" in markdown
    assert "| \\* Follows | skip | **FAIL** |" in markdown
    assert document["exit_code"] == 1
    assert document["rows"][1] == {
        "section": "version-note",
        "name": "Follows",
        "location": "features/f.feature:7",
        "varies": True,
        "cells": {"7.20.0": "skip", "10.4.1": "FAIL"},
    }


# -- runs ----------------------------------------------------------------------------------------


def test_the_matrix_varies_the_version_under_test(tmp_path: Path) -> None:
    result = conform(
        "--matrix", "7.20,9.4.16", "--tags", "section:version-note", "--report", str(tmp_path)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split() == ["7.20.0", "9.4.16"] for line in lines)
    assert any(line.split() == ["*", *OFFERED.split(), "skip", "pass"] for line in lines)
    assert any(line.startswith("* Below 7.21") and line.endswith("pass    skip") for line in lines)
    assert "bbdc-sim conform --matrix: Bitbucket 7.20.0: PASSED: " in result.stdout
    assert "Matrix: PASSED (exit 0)" in result.stdout
    for name in (MATRIX_MD, MATRIX_HTML, MATRIX_JSON):
        assert (tmp_path / name).is_file()
    for version in ("7.20.0", "9.4.16"):
        assert (tmp_path / version / "report.html").is_file()
        assert (tmp_path / version / "output.txt").is_file()
    document = json.loads((tmp_path / MATRIX_JSON).read_text(encoding="utf-8"))
    cells = {row["name"]: row["cells"] for row in document["rows"] if row["varies"]}
    assert cells == {
        OFFERED: {"7.20.0": "skip", "9.4.16": "pass"},
        REFUSED: {"7.20.0": "pass", "9.4.16": "skip"},
    }
    # A scenario that names its version runs in one column (the default version's) only.
    steady = [row for row in document["rows"] if not row["varies"]]
    assert steady
    assert all(row["cells"]["7.20.0"] == row["cells"]["9.4.16"] for row in steady)
    ran = {c["version"]: c["summary"] for c in document["columns"]}
    assert f"({len(cells)} scenarios)" in ran["7.20.0"]
    assert f"({len(cells) + len(steady)} scenarios)" in ran["9.4.16"]
    assert "(it runs at 9.4.16 only; its cell stands for every column)" in result.stdout


def test_versions_run_in_parallel_unless_they_share_an_http_sut() -> None:
    assert parallel_runs(ConformOptions(sut="http://127.0.0.1:5000/_conformance"), 7) == 1
    assert parallel_runs(ConformOptions(sut="reference"), 1) == 1
    assert 1 <= parallel_runs(ConformOptions(sut="reference"), 7) <= MAX_PARALLEL


def test_a_must_failure_in_one_version_fails_the_matrix(tmp_path: Path) -> None:
    result = conform(
        "--sut",
        "tests.conformance.test_matrix:text_version_compare",
        "--matrix",
        f"{DEFAULT_VERSION},{NEWEST_VERSION}",
        "--tags",
        "section:version-note",
        "--matrix-rows",
        "sections",
        "--report",
        str(tmp_path),
    )

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[-2:] == ["pass", "FAIL"] and line.startswith("* ") for line in lines)
    assert f"Matrix: FAILED at {NEWEST_VERSION} (exit 1)" in result.stdout
    document = json.loads((tmp_path / MATRIX_JSON).read_text(encoding="utf-8"))
    assert document["columns"][0]["exit_code"] == 0
    assert document["columns"][1]["exit_code"] == 1
    summary = (tmp_path / NEWEST_VERSION / "summary.md").read_text(encoding="utf-8")
    assert f"### FAILED: {OFFERED}" in summary


def test_the_matrix_stops_at_a_usage_error() -> None:
    result = conform("--sut", "http://127.0.0.1:9", "--matrix", "7.21,8.0")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "Bitbucket 7.21.0: USAGE ERROR (exit 4)" in result.stdout
    assert "Bitbucket 8.0.0" not in result.stdout
    assert "the system under test cannot be used" in result.stderr


def test_the_matrix_and_a_single_version_exclude_each_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.cli import main

    assert main(["conform", "--matrix", "--bitbucket-version", "8.19.1"]) == 2
    assert "--matrix sets the version under test" in capsys.readouterr().err


def test_a_bad_matrix_version_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["conform", "--matrix", "7.21,x"])

    assert caught.value.code == 2
    assert "'x'" in capsys.readouterr().err


def test_a_malformed_version_under_test_is_bad_input() -> None:
    result = conform("--bitbucket-version", "x", "--tags", "section:finish-the-setup")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "--bitbucket-version: not a Bitbucket version" in result.stderr
