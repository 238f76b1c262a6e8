"""The conformance report model and its writers (conformance.report).

The golden files in ``tests/conformance/golden/`` hold the exact output for a small
hand-built report; regenerate them with ``BBDC_UPDATE_GOLDEN=1`` after an intended change
and review the diff.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.report import (
    CUCUMBER_FILE,
    GUIDE_SECTIONS,
    HTML_FILE,
    JUNIT_FILE,
    MARKDOWN_FILE,
    RESULTS_FILE,
    Report,
    ScenarioResult,
    StepResult,
    cucumber_features,
    level_of,
    md_block,
    md_code,
    md_text,
    outcome_of,
    section_of,
    to_cucumber_json,
    to_junit_xml,
    to_markdown,
    write_report,
)

GOLDEN = Path(__file__).parent / "golden"

#: A failed step's trace as the user agent records it, but with secrets left in (as another
#: producer might send them): every writer must redact them.
TRACE: tuple[dict[str, Any], ...] = (
    {
        "index": 3,
        "method": "POST",
        "url": "http://127.0.0.1:8000/rest/oauth2/latest/token?client_secret=leak",
        "status": 401,
        "reason": "Unauthorized",
        "location": None,
        "request_headers": [
            ["Host", "127.0.0.1:8000"],
            ["Authorization", "Basic dXNlcjpwdw=="],
            ["Cookie", "BITBUCKETSESSIONID=abc123"],
        ],
        "response_headers": [["Content-Type", "application/json"], ["Date", "Mon"]],
        "form": [
            ["grant_type", "authorization_code"],
            ["code", "the-code"],
            ["client_secret", "s3cr3t"],
        ],
        "error": None,
    },
    {
        "method": "GET",
        "url": "http://127.0.0.1:8001/callback?code=c0de&state=st4te",
        "status": 0,
        "error": "ConnectionRefusedError: refused",
    },
)
SECRETS = ("leak", "dXNlcjpwdw==", "abc123", "the-code", "s3cr3t", "c0de", "st4te")


def sample() -> Report:
    """A report with a pass, a failure with a trace, a warning, a skip and odd sections."""
    failed = ScenarioResult(
        feature="Share the login link",
        section="share-the-login-link",
        name="Denying consent | shows <an> error",
        level="must",
        outcome="failed",
        failed_step="Then the user sees an error",
        expected="an error naming access_denied",
        actual="HTTP 500 `boom`",
        message="line one\nline two",
        trace=TRACE,
        duration=0.25,
        feature_uri="features/oauth2/share-the-login-link.feature",
        feature_line=2,
        feature_tags=("oauth2",),
        line=10,
        tags=("must", "section:share-the-login-link"),
        steps=(
            StepResult("Given", "a server", "passed", 9, 0.1),
            StepResult("Then", "the user sees an error", "failed", 10, 0.15, "AssertionError: x"),
            StepResult("And", "nothing else", "skipped", 11),
        ),
    )
    passed = ScenarioResult(
        feature="Finish the Setup",
        section="finish-the-setup",
        name="The form is submitted",
        level="must",
        outcome="passed",
        duration=0.5,
        feature_uri="features/oauth2/finish-the-setup.feature",
        line=4,
        tags=("@must", "@section:finish-the-setup"),
        steps=(StepResult("When", "the admin submits", "passed", 5, 0.5),),
    )
    warned = ScenarioResult(
        feature="Configure Bitbucket Server plugins",
        section="configure-bitbucket-server-plugins",
        name="The error names the OAuth whitelist",
        level="should",
        outcome="warned",
        failed_step="Then the error names the OAuth whitelist",
        expected="a message naming the OAuth whitelist",
        actual="Login failed",
        duration=0.125,
        feature_uri="features/oauth2/configure-bitbucket-server-plugins.feature",
        line=7,
        tags=("should", "section:configure-bitbucket-server-plugins"),
        steps=(StepResult("Then", "the error names the OAuth whitelist", "failed", 8, 0.125),),
    )
    skipped = ScenarioResult(
        feature="OAuth 2 availability",
        section="version-note",
        name="OAuth 2 needs 7.21 [7.20.0]",
        level="should",
        outcome="skipped",
        message="the SUT does not offer OAuth 1",
        feature_uri="features/oauth2/version-note.feature",
        line=12,
        tags=("should", "section:version-note"),
    )
    unknown_section = ScenarioResult(
        feature="Extras",
        section="zz-extra",
        name="B",
        level="must",
        outcome="passed",
        feature_uri="features/extra.feature",
        line=3,
    )
    no_section = ScenarioResult(
        feature="Extras",
        section="",
        name="A",
        level="must",
        outcome="passed",
        feature_uri="features/extra.feature",
        line=1,
    )
    return Report(
        scenarios=(failed, passed, warned, skipped, unknown_section, no_section),
        sut="reference",
        bitbucket_version="9.4.16",
        duration=1.5,
    )


def check_golden(name: str, text: str) -> None:
    """Compare with a golden file (or rewrite it under BBDC_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if os.environ.get("BBDC_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


# -- golden output -----------------------------------------------------------------------------


def test_markdown_matches_the_golden_file() -> None:
    check_golden("report.md", to_markdown(sample()))


def test_junit_xml_matches_the_golden_file() -> None:
    check_golden("report.xml", to_junit_xml(sample()))


def test_cucumber_json_matches_the_golden_file() -> None:
    check_golden("report.cucumber.json", to_cucumber_json(sample()))


@pytest.mark.parametrize("writer", [to_markdown, to_junit_xml, to_cucumber_json])
def test_output_does_not_depend_on_the_order_results_arrive_in(
    writer: Callable[[Report], str],
) -> None:
    report = sample()
    shuffled = replace(report, scenarios=tuple(reversed(report.scenarios)))

    assert writer(shuffled) == writer(report)


@pytest.mark.parametrize("writer", [to_markdown, to_junit_xml, to_cucumber_json])
def test_no_secret_of_a_trace_reaches_any_output(writer: Callable[[Report], str]) -> None:
    text = writer(sample())

    for secret in SECRETS:
        assert secret not in text
    assert "redacted" in text


# -- Markdown ----------------------------------------------------------------------------------


def test_markdown_groups_sections_in_the_guide_order() -> None:
    text = to_markdown(sample())

    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        GUIDE_SECTIONS[0].title,
        "Finish the Setup",
        "Share the login link",
        "Configure Bitbucket Server plugins",
        "zz-extra",
        "Scenarios without a section",
    ]


def test_markdown_of_an_empty_report_says_no_scenario_ran() -> None:
    text = to_markdown(Report(scenarios=()))

    assert "- Result: **NO SCENARIO RAN**" in text
    assert "No scenario ran." in text


def test_markdown_helpers_escape_markup_and_fences() -> None:
    assert md_text("a | b <i>*x*</i>") == r"a \| b &lt;i&gt;\*x\*&lt;/i&gt;"
    assert md_code("uses `x`") == "`` uses `x` ``"
    assert md_block("```\ncode\n```") == ["````text", "```", "code", "```", "````"]


# -- JUnit XML ---------------------------------------------------------------------------------


def test_junit_xml_is_well_formed_with_counts_failures_and_warnings() -> None:
    root = ET.fromstring(to_junit_xml(sample()))  # noqa: S314 - our own output

    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("6", "1", "2")
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 6
    (failure,) = root.iter("failure")
    assert failure.get("type") == "must"
    assert "Then the user sees an error" in (failure.get("message") or "")
    warnings = [s for s in root.iter("skipped") if (s.get("message") or "").startswith("warning:")]
    assert len(warnings) == 1
    levels = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}["level"]
        for case in cases
    }
    assert levels["The error names the OAuth whitelist"] == "should"


def test_junit_xml_replaces_characters_xml_cannot_hold() -> None:
    odd = replace(sample().scenarios[0], actual="bell \x07 and nul \x00")

    root = ET.fromstring(to_junit_xml(Report(scenarios=(odd,))))  # noqa: S314 - our own output

    (failure,) = root.iter("failure")
    assert "bell \ufffd and nul \ufffd" in (failure.text or "")


# -- Cucumber JSON -----------------------------------------------------------------------------


def test_cucumber_json_has_the_standard_shape() -> None:
    features = json.loads(to_cucumber_json(sample()))

    assert features == cucumber_features(sample())
    for feature in features:
        assert set(feature) == {
            "keyword",
            "uri",
            "name",
            "id",
            "line",
            "description",
            "language",
            "tags",
            "elements",
        }
        for element in feature["elements"]:
            assert element["type"] == "scenario"
            assert element["id"].startswith(feature["id"] + ";")
            assert all(tag["name"].startswith("@") for tag in element["tags"])
            for step in element["steps"]:
                assert set(step) == {"keyword", "name", "line", "match", "result"}
                assert step["keyword"].endswith(" ")
                assert isinstance(step["result"]["duration"], int)
                assert step["result"]["status"] in ("passed", "failed", "skipped")


def test_cucumber_json_marks_the_failed_step_of_a_warning_as_a_warning() -> None:
    features = {f["name"]: f for f in cucumber_features(sample())}

    (element,) = features["Configure Bitbucket Server plugins"]["elements"]
    (step,) = element["steps"]
    assert step["result"]["status"] == "failed"
    assert step["result"]["error_message"].startswith("warning:")


def test_cucumber_json_durations_are_nanoseconds() -> None:
    features = {f["name"]: f for f in cucumber_features(sample())}

    (element,) = features["Finish the Setup"]["elements"]
    assert element["steps"][0]["result"]["duration"] == 500_000_000


# -- the model ---------------------------------------------------------------------------------


def test_section_and_level_come_from_the_tags() -> None:
    assert section_of(["must", "@section:finish-the-setup"]) == "finish-the-setup"
    assert section_of(["must"]) == ""
    assert level_of(["@should", "section:x"]) == "should"
    assert level_of(["section:x"]) == "must"


@pytest.mark.parametrize(
    ("level", "status", "outcome"),
    [
        ("must", "failed", "failed"),
        ("should", "failed", "warned"),
        ("should", "passed", "passed"),
        ("must", "skipped", "skipped"),
    ],
)
def test_a_should_failure_is_a_warning(level: Any, status: Any, outcome: str) -> None:
    assert outcome_of(level, status) == outcome


@pytest.mark.parametrize(
    ("outcomes", "verdict", "ok"),
    [
        ((), "NO SCENARIO RAN", False),
        (("skipped",), "NO SCENARIO RAN", False),
        (("passed", "warned"), "PASSED", True),
        (("passed", "failed", "warned"), "FAILED", False),
    ],
)
def test_the_verdict(outcomes: tuple[Any, ...], verdict: str, ok: bool) -> None:
    scenarios = tuple(
        ScenarioResult(feature="F", section="s", name=str(i), level="must", outcome=outcome)
        for i, outcome in enumerate(outcomes)
    )
    report = Report(scenarios=scenarios)

    assert (report.verdict, report.ok) == (verdict, ok)


def test_the_failing_step_defaults_to_the_first_failed_step() -> None:
    scenario = replace(sample().scenarios[0], failed_step=None)

    assert scenario.failing_step == "Then the user sees an error"


@pytest.mark.parametrize(
    "change", [{"level": "may"}, {"outcome": "broken"}], ids=["level", "outcome"]
)
def test_an_unknown_level_or_outcome_is_refused(change: dict[str, str]) -> None:
    fields: dict[str, Any] = {
        "feature": "F",
        "section": "s",
        "name": "n",
        "level": "must",
        "outcome": "passed",
    }
    with pytest.raises(ValueError, match=next(iter(change))):
        ScenarioResult(**{**fields, **change})


def test_an_unknown_step_status_is_refused() -> None:
    with pytest.raises(ValueError, match="step status"):
        StepResult("Given", "x", "exploded")  # type: ignore[arg-type]


def test_write_report_writes_every_form(tmp_path: Path) -> None:
    written = write_report(sample(), tmp_path / "out")

    assert {path.name for path in written.values()} == {
        MARKDOWN_FILE,
        HTML_FILE,
        JUNIT_FILE,
        CUCUMBER_FILE,
        RESULTS_FILE,
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        path.name for path in written.values()
    )
    assert written["markdown"].read_text(encoding="utf-8") == to_markdown(sample())
    assert json.loads(written["cucumber"].read_text(encoding="utf-8"))
