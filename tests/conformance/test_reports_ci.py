"""Reports for CI: the self-contained HTML page, results.json, the expected-failures and
expected-skips files (unit and end to end), and the suite on pytest-xdist workers."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance import runner
from conformance.expectations import (
    Expectations,
    ExpectationsError,
    FeatureScenarios,
    known_scenarios,
    load_expectations,
    parse_expectations,
)
from conformance.report import (
    HTML_FILE,
    RESULTS_FILE,
    Report,
    ScenarioResult,
    read_results,
    report_from_results,
    to_html,
    to_junit_xml,
    to_markdown,
    to_results_json,
    write_report,
)
from simulator.version import BitbucketVersion
from tests.conformance.running import conform
from tests.conformance.test_report import SECRETS, sample

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180
BROKEN_FORM = "tests.conformance.test_runner:setup_link_dropped"
FORM_FEATURE = "features/oauth2/01-open-the-add-integration-form.feature"
SHOWS_LINK = "The form shows the setup link and the callback URL"
CONTEXT_PATH = "A base URL with a context path is kept in the setup link"
OWN_CALLBACKS = "Each integration gets its own callback URLs"


# -- HTML ----------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Every tag and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(text: str) -> Page:
    """The page parsed as HTML."""
    page = Page()
    page.feed(text)
    page.close()
    return page


def as_xml(text: str) -> ET.Element:
    """The page parsed as XML (after its doctype): it must be well-formed."""
    assert text.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314 - our own output


def with_odd_names() -> Report:
    """The sample report, with markup and quotes in a name and a message."""
    report = sample()
    odd = replace(
        report.scenarios[0],
        name='<script>alert("x")</script> & "quotes"',
        actual="<b>bold</b> & 'single'",
    )
    return replace(report, scenarios=(odd, *report.scenarios[1:]))


def test_the_html_page_is_well_formed() -> None:
    root = as_xml(to_html(sample()))

    assert root.tag == "html"
    assert root.find("head/style") is not None
    assert root.find("body/h1") is not None


def test_the_html_page_loads_nothing_from_anywhere() -> None:
    page = parse_page(to_html(sample()))

    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "img", "iframe")]
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    style = to_html(sample()).split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style
    assert "@import" not in style


def test_the_html_page_escapes_every_text() -> None:
    text = to_html(with_odd_names())

    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#x27;single&#x27;" in text
    as_xml(text)


def test_the_html_page_groups_scenarios_by_guide_section_in_order() -> None:
    root = as_xml(to_html(sample()))

    headings = [h.text for h in root.iter("h2") if h.text not in ("Sections", "Expectations")]
    assert headings == [section.title for section, _ in sample().sections()]


def test_a_failure_is_an_open_collapsible_block_with_step_expected_actual_and_trace() -> None:
    root = as_xml(to_html(sample()))

    blocks = [d for d in root.iter("details") if "scenario" in (d.get("class") or "")]
    failed = next(d for d in blocks if "failed" in (d.get("class") or ""))
    warned = next(d for d in blocks if "warned" in (d.get("class") or ""))
    assert failed.get("open") == "open"
    assert warned.get("open") is None
    text = "".join(failed.itertext())
    assert "Then the user sees an error" in text
    assert "an error naming access_denied" in text
    assert "HTTP 500 `boom`" in text
    assert "HTTP trace of the step (2 requests, secrets redacted)" in text
    assert "POST http://127.0.0.1:8000/rest/oauth2/latest/token" in text
    anchor = failed.get("id")
    links = [a.get("href") for a in root.iter("a")]
    assert f"#{anchor}" in links


def test_no_secret_of_a_trace_reaches_the_html_page() -> None:
    text = to_html(sample())

    for secret in SECRETS:
        assert secret not in text
    assert "&lt;redacted&gt;" in text


def test_the_html_page_of_an_empty_report_says_no_scenario_ran() -> None:
    text = to_html(Report(scenarios=()))

    assert "NO SCENARIO RAN" in text
    assert "No scenario ran." in text
    as_xml(text)


def test_the_html_page_shows_the_expectations() -> None:
    report = expectation_report()
    root = as_xml(to_html(report))

    joined = "\n".join("".join(li.itertext()) for li in root.iter("li"))
    assert "expected failure now passes: remove it from xf.txt:3" in joined
    assert "unexpected skip" in joined
    badges = {"".join(span.itertext()) for span in root.iter("span")}
    assert {"expected failure", "FAILED", "passed", "skipped"} <= badges


# -- results.json --------------------------------------------------------------------------------


def test_results_json_reads_back_into_the_same_report() -> None:
    report = replace(sample(), expected_failures_file="xf.txt", expected_skips_file="xs.txt")

    again = report_from_results(json.loads(to_results_json(report)))

    assert to_markdown(again) == to_markdown(report)
    assert again.expected_failures_file == "xf.txt"


def test_results_json_holds_no_secret() -> None:
    text = to_results_json(sample())

    for secret in SECRETS:
        assert secret not in text


def test_a_document_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="not a bbdc-sim-conformance-results/1 document"):
        report_from_results({"format": "x"})


def test_write_report_writes_the_html_page_and_the_results(tmp_path: Path) -> None:
    written = write_report(sample(), tmp_path)

    assert written["html"] == tmp_path / HTML_FILE
    assert read_results(tmp_path / RESULTS_FILE).verdict == "FAILED"


# -- the report model with expectations ------------------------------------------------------------


def scenario(name: str, outcome: str, level: str = "must", **extra: str) -> ScenarioResult:
    """A scenario of the form feature."""
    return ScenarioResult(
        feature="Open the Add Integration form",
        section="open-the-add-integration-form",
        name=name,
        level=level,  # type: ignore[arg-type]
        outcome=outcome,  # type: ignore[arg-type]
        feature_uri=FORM_FEATURE,
        line=len(name),
        **extra,  # type: ignore[arg-type]
    )


def expectation_report() -> Report:
    """An excused failure, a violation, an unexpected skip and an expected one."""
    return Report(
        scenarios=(
            scenario("Excused", "failed", expected_failure="xf.txt:2", actual="no link"),
            scenario("Fixed since", "passed", expected_failure="xf.txt:3"),
            scenario("Skipped, unlisted", "skipped", message="the SUT does not offer OAuth 1"),
            scenario("Skipped, listed", "skipped", expected_skip="xs.txt:1"),
            scenario("Plain pass", "passed"),
        ),
        expected_failures_file="xf.txt",
        expected_skips_file="xs.txt",
    )


def test_an_excused_failure_does_not_fail_the_run_but_a_passing_one_does() -> None:
    report = expectation_report()

    assert [s.name for s in report.excused] == ["Excused"]
    assert [s.name for s in report.violations] == ["Fixed since"]
    assert [s.name for s in report.failing] == ["Fixed since"]
    assert report.verdict == "FAILED"
    without = replace(report, scenarios=report.scenarios[:1] + report.scenarios[2:])
    assert without.verdict == "PASSED"


def test_a_harness_error_is_not_excused_by_an_expected_failure() -> None:
    broken = scenario("Broken", "failed", expected_failure="xf.txt:2")
    broken = replace(broken, harness_error=True)

    assert not broken.excused
    assert Report(scenarios=(broken,)).verdict == "FAILED"


def test_only_unlisted_skips_are_unexpected_and_only_with_a_skips_file() -> None:
    report = expectation_report()

    assert [s.name for s in report.unexpected_skips] == ["Skipped, unlisted"]
    assert replace(report, expected_skips_file="").unexpected_skips == []


def test_the_summary_line_counts_the_expectations() -> None:
    line = expectation_report().summary_line()

    assert line.startswith("2 passed, 1 failed, 0 warnings, 2 skipped (5 scenarios) [")
    assert "[1 expected failure; 1 expected failure now passes; 1 unexpected skip]" in line


def test_junit_xml_turns_an_excused_failure_into_a_skip_and_a_violation_into_a_failure() -> None:
    root = ET.fromstring(to_junit_xml(expectation_report()))  # noqa: S314 - our own output

    cases = {case.get("name"): case for case in root.iter("testcase")}
    excused = cases["Excused"].find("skipped")
    assert excused is not None
    assert (excused.get("message") or "").startswith("expected failure (xf.txt:2): ")
    failure = cases["Fixed since"].find("failure")
    assert failure is not None
    assert failure.get("type") == "expectation"
    assert failure.get("message") == "expected failure now passes: remove it from xf.txt:3"
    assert root.get("failures") == "1"


def test_markdown_lists_the_violated_expectations_first() -> None:
    text = to_markdown(expectation_report())

    section = text.split("## Expectations\n", 1)[1].split("\n## ", 1)[0]
    assert "expected failure now passes: remove it from xf.txt:3" in section
    assert "unexpected skip: features/oauth2/01-open-the-add-integration-form.feature" in section
    assert "| expected failure | @must | Excused |" in text


# -- expectations files ---------------------------------------------------------------------------

FEATURE = """\
@section:finish-the-setup
Feature: Finish
  @must
  Scenario: Plain: with a colon
    Given a Bitbucket Data Center server at version "8.19.1"

  @should
  Scenario Outline: On <version>
    Given a Bitbucket Data Center server at version "<version>"

    Examples:
      | version |
      | 7.21.0  |
      | 9.4.16  |
"""


@pytest.fixture
def known(tmp_path: Path) -> dict[str, FeatureScenarios]:
    """The scenarios of one feature file, shown as ``features/finish.feature``."""
    path = tmp_path / "features" / "finish.feature"
    path.parent.mkdir()
    path.write_text(FEATURE, encoding="utf-8")
    return dict(known_scenarios([(path, "features/finish.feature")]))


def parse(text: str, known: dict[str, FeatureScenarios], root: Path) -> list[tuple[str, str, str]]:
    """(source, feature, scenario) of each entry."""
    entries = parse_expectations(text, "xf.txt", known, root)
    return [(e.source, e.feature, e.scenario) for e in entries]


def test_an_expectations_file_lists_scenarios_by_path_and_name(
    known: dict[str, FeatureScenarios], tmp_path: Path
) -> None:
    text = (
        "# known departures\n"
        "\n"
        "features/finish.feature: Plain: with a colon\n"
        "  ./features/finish.feature :  On 7.21.0 (version: 7.21.0)  \n"
        "features/finish.feature: On <version>\n"
    )
    assert parse(text, known, tmp_path) == [
        ("xf.txt:3", "features/finish.feature", "Plain: with a colon"),
        ("xf.txt:4", "features/finish.feature", "On 7.21.0 (version: 7.21.0)"),
        ("xf.txt:5", "features/finish.feature", "On <version>"),
    ]


def test_an_absolute_path_below_the_root_names_the_same_feature(
    known: dict[str, FeatureScenarios], tmp_path: Path
) -> None:
    line = f"{tmp_path / 'features' / 'finish.feature'}: Plain: with a colon\n"

    assert parse(line, known, tmp_path)[0][1] == "features/finish.feature"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("just words", "xf.txt:2: not 'path/to/file.feature: Scenario name'"),
        ("features/nope.feature: X", "xf.txt:2: no feature file 'features/nope.feature'"),
        (
            "features/finish.feature: Plain with a colon",
            "xf.txt:2: features/finish.feature has no scenario 'Plain with a colon'; "
            "closest: 'Plain: with a colon'",
        ),
        ("[7.x] features/finish.feature: On <version>", "xf.txt:2: [7.x]: '7.x' is not"),
        ("[] features/finish.feature: On <version>", "xf.txt:2: []: name at least one version"),
        (
            "features/finish.feature: On 8.0.0 (version: 8.0.0)",
            "xf.txt:2: features/finish.feature has no scenario 'On 8.0.0",
        ),
    ],
)
def test_a_bad_line_is_an_error_naming_the_file_and_line(
    known: dict[str, FeatureScenarios], tmp_path: Path, line: str, problem: str
) -> None:
    with pytest.raises(ExpectationsError) as caught:
        parse("# header\n" + line + "\n", known, tmp_path)

    assert caught.value.problems[0].startswith(problem), caught.value.problems


def test_every_bad_line_is_reported_at_once(
    known: dict[str, FeatureScenarios], tmp_path: Path
) -> None:
    with pytest.raises(ExpectationsError) as caught:
        parse("a\nfeatures/finish.feature: Plain: with a colon\nb\n", known, tmp_path)

    assert [p.split(":", 2)[1] for p in caught.value.problems] == ["1", "3"]


def test_an_outline_entry_covers_its_rows_and_a_version_prefix_limits_the_entry(
    known: dict[str, FeatureScenarios], tmp_path: Path
) -> None:
    path = tmp_path / "xf.txt"
    path.write_text(
        "features/finish.feature: On <version>\n"
        "[7.21, 8.0.0] features/finish.feature: Plain: with a colon\n",
        encoding="utf-8",
    )

    def load(version: str) -> Expectations:
        return load_expectations(
            str(path), "failure", known, tmp_path, BitbucketVersion.parse(version)
        )

    at_721 = load("7.21.0")
    at_94 = load("9.4.16")
    row = "On 9.4.16 (version: 9.4.16)"
    entry = at_721.lookup("features/finish.feature", row)
    assert entry is not None
    assert entry.source.endswith(":1")
    assert at_721.lookup("features/finish.feature", "Plain: with a colon") is not None
    assert at_94.lookup("features/finish.feature", "Plain: with a colon") is None


def test_a_missing_expectations_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExpectationsError, match=r"--expected-skips .*: cannot be read"):
        load_expectations(
            str(tmp_path / "none.txt"), "skip", {}, tmp_path, BitbucketVersion.parse("9.4.16")
        )


# -- end to end ------------------------------------------------------------------------------------


def write(path: Path, *lines: str) -> str:
    """An expectations file."""
    path.write_text("\n".join(["# written by the test", *lines, ""]), encoding="utf-8")
    return str(path)


def test_listed_failures_do_not_fail_the_run(tmp_path: Path) -> None:
    expected = write(
        tmp_path / "xf.txt", f"{FORM_FEATURE}: {SHOWS_LINK}", f"{FORM_FEATURE}: {CONTEXT_PATH}"
    )
    report = tmp_path / "report"

    result = conform(
        "--sut",
        BROKEN_FORM,
        "--tags",
        "section:open-the-add-integration-form",
        "--expected-failures",
        expected,
        "--report",
        str(report),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[2 expected failures]" in result.stdout
    assert f"expected failure @must {FORM_FEATURE}:9: {SHOWS_LINK}" in result.stdout
    results = read_results(report / RESULTS_FILE)
    assert sorted(s.label for s in results.scenarios) == [
        "expected failure",
        "expected failure",
        "passed",
    ]
    junit = ET.parse(report / "junit.xml").getroot()  # noqa: S314 - our own report
    assert junit.get("failures") == "0"


def test_an_expected_failure_that_passes_fails_the_run(tmp_path: Path) -> None:
    expected = write(
        tmp_path / "xf.txt",
        f"{FORM_FEATURE}: {SHOWS_LINK}",
        f"{FORM_FEATURE}: {CONTEXT_PATH}",
        f"{FORM_FEATURE}: {OWN_CALLBACKS}",
    )
    report = tmp_path / "report"

    result = conform(
        "--sut",
        BROKEN_FORM,
        "--tags",
        "section:open-the-add-integration-form",
        "--expected-failures",
        expected,
        "--report",
        str(report),
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"expected failure now passes: remove it from {expected}:4" in result.stdout
    assert "FAILED: a @must scenario failed, or an expected failure now passes (exit 1)" in (
        result.stdout
    )
    html = (report / HTML_FILE).read_text(encoding="utf-8")
    assert f"expected failure now passes: remove it from {expected}:4" in html


def test_a_bad_expectations_file_stops_the_run_naming_the_line(tmp_path: Path) -> None:
    expected = write(tmp_path / "xf.txt", f"{FORM_FEATURE}: No such scenario")

    result = conform("--expected-failures", expected, "--tags", "section:finish-the-setup")

    assert result.returncode == 4, result.stdout + result.stderr
    assert f"{expected}:2: {FORM_FEATURE} has no scenario 'No such scenario'" in result.stderr


def test_an_unexpected_skip_is_reported_without_failing_the_run(tmp_path: Path) -> None:
    skips = write(tmp_path / "xs.txt")
    report = tmp_path / "report"

    result = conform(
        "--tags",
        "section:version-note",
        "--bitbucket-version",
        "8.19.1",
        "--expected-skips",
        skips,
        "--report",
        str(report),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    below = "Below 7.21 the integration says OAuth 2 is unavailable at the version under test"
    assert f"unexpected skip @should features/versions/version-under-test.feature:16: {below}" in (
        result.stdout
    )
    assert f"applies below Bitbucket 7.21.0; the version under test is 8.19.1; {skips}" in (
        result.stdout
    )
    summary = (report / "summary.md").read_text(encoding="utf-8")
    assert "## Expectations" in summary
    assert "[1 unexpected skip]" in summary


def test_a_listed_skip_is_not_reported(tmp_path: Path) -> None:
    below = "Below 7.21 the integration says OAuth 2 is unavailable at the version under test"
    skips = write(tmp_path / "xs.txt", f"features/versions/version-under-test.feature: {below}")

    result = conform("--tags", "section:version-note", "--expected-skips", skips)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "unexpected skip" not in result.stdout


# -- pytest-xdist --------------------------------------------------------------------------------


def names_and_outcomes(folder: Path) -> dict[str, str]:
    """Scenario -> outcome of a report."""
    return {
        f"{s.feature_uri}: {s.name}": s.outcome
        for s in read_results(folder / RESULTS_FILE).scenarios
    }


def test_two_workers_give_a_complete_report(tmp_path: Path) -> None:
    tags = "section:version-note or section:finish-the-setup"
    alone = conform("--tags", tags, "--report", str(tmp_path / "alone"))
    workers = conform("--tags", tags, "-n", "2", "--report", str(tmp_path / "workers"))

    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert workers.returncode == 0, workers.stdout + workers.stderr
    assert "bringing up nodes" in workers.stdout
    assert names_and_outcomes(tmp_path / "workers") == names_and_outcomes(tmp_path / "alone")
    assert len(names_and_outcomes(tmp_path / "workers")) >= 8
    assert "system under test: reference (bbdc-sim reference)" in workers.stdout
    summary = (tmp_path / "workers" / "summary.md").read_text(encoding="utf-8")
    assert "## Finish the Setup" in summary
    junit = ET.parse(tmp_path / "workers" / "junit.xml").getroot()  # noqa: S314 - our report
    assert junit.get("tests") == str(len(names_and_outcomes(tmp_path / "alone")))


def test_workers_report_a_failure_with_its_details(tmp_path: Path) -> None:
    result = conform(
        "--sut",
        BROKEN_FORM,
        "--tags",
        "section:open-the-add-integration-form",
        "-n",
        "2",
        "--report",
        str(tmp_path),
    )

    assert result.returncode == 1, result.stdout + result.stderr
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f"### FAILED: {SHOWS_LINK}" in summary
    assert "- Step: `Then a link to create an OAuth application on that server is displayed`" in (
        summary
    )


def test_an_http_sut_is_refused_with_several_workers() -> None:
    result = conform("--sut", "http://127.0.0.1:9", "-n", "2")

    assert result.returncode == 4, result.stdout + result.stderr
    assert "would reset each other's state; run it without -n" in result.stderr


def test_an_undefined_step_is_reported_before_the_workers_start(tmp_path: Path) -> None:
    (tmp_path / "test_features.py").write_text(
        "from pytest_bdd import scenarios\n\nscenarios('.')\n", encoding="utf-8"
    )
    (tmp_path / "x.feature").write_text(
        "@section:finish-the-setup\nFeature: X\n  @must\n  Scenario: Y\n"
        "    When the admin does something undefined\n",
        encoding="utf-8",
    )

    result = conform("--features", str(tmp_path), "-n", "2")

    assert result.returncode == 4, result.stdout + result.stderr
    assert re.search(r"x\.feature:5: undefined step: When the admin does something", result.stderr)


def test_workers_without_pytest_xdist_are_a_clear_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "xdist_available", lambda: False)

    code = runner.run(runner.ConformOptions(workers="2"), out=io.StringIO())

    assert code == 2
    assert "needs pytest-xdist, which is not installed: pip install pytest-xdist" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_number_of_workers_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["conform", "-n", value])

    assert caught.value.code == 2
    assert "is not a number of workers" in capsys.readouterr().err


def test_the_runner_passes_workers_and_expectations_to_pytest() -> None:
    args = runner.pytest_args(
        runner.ConformOptions(workers="auto", expected_failures="xf", expected_skips="xs")
    )

    assert args[args.index("-n") - 2 : args.index("-n") + 2] == ["-p", "xdist", "-n", "auto"]
    assert args[args.index("--expected-failures") + 1] == "xf"
    assert args[args.index("--expected-skips") + 1] == "xs"


def test_the_example_of_docs_ci_md_is_a_valid_expectations_file() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    example = text.split("```text\n# .bbdc/expected-failures.txt", 1)[1].split("```", 1)[0]
    features = sorted((ROOT / "features").rglob("*.feature"))
    known = known_scenarios((path, path.relative_to(ROOT).as_posix()) for path in features)

    entries = parse_expectations("#" + example, "docs/ci.md", known, ROOT)

    assert len(entries) == 4
    assert [str(v) for v in entries[-1].versions] == ["7.21.0", "8.0.0"]
