"""The conformance report: what each scenario did, grouped by the guide's sections.

The pytest plugin turns every scenario it ran into a :class:`ScenarioResult`; a
:class:`Report` holds them, and pure writers turn it into text:

- :func:`to_markdown`: a summary grouped by guide section (in the guide's order), one row
  per scenario (passed, FAILED, warning, expected failure, skipped); for each failure and
  warning the step, what was expected, what happened, and the HTTP trace of that step,
  secrets redacted.
- :func:`to_html`: the same as one self-contained HTML page (inline CSS, no script, nothing
  loaded from elsewhere), each failure a collapsible block.
- :func:`to_junit_xml`: one ``<testsuite>`` per section, one ``<testcase>`` per scenario.
  A ``@must`` failure is a ``<failure>``. A ``@should`` failure (a warning) is a
  ``<skipped message="warning: ...">`` with the details as its text, so CI systems that fail
  a build on failures do not fail it on warnings yet still show them; every testcase also
  carries ``level``, ``outcome`` and ``section`` properties, so nothing is lost. An expected
  failure (``--expected-failures``) is a ``<skipped message="expected failure ...">``; an
  expected failure that passed is a ``<failure type="expectation">``.
- :func:`to_cucumber_json`: the standard Cucumber JSON (features -> elements -> steps with
  ``result`` status, duration in nanoseconds and ``error_message``). Step statuses are what
  happened: the failing step of a warned scenario is ``failed`` (its ``error_message``
  begins with ``warning:``, and the scenario keeps its ``@should`` tag); the run's verdict is
  the report's, not a count of failed steps.
- :func:`to_results_json`: every field of every scenario as JSON, for tools (the version
  matrix reads it back with :func:`read_results`).

Output is deterministic: scenarios are sorted (section in guide order, feature file, line,
name), nothing carries a timestamp, only durations vary. Traces are the JSON form of
:class:`conformance.useragent.TraceEntry` (``method``, ``url``, ``status``, ``reason``,
``location``, ``request_headers``, ``response_headers``, ``form``, ``error``); the writers
redact them again, so a trace from elsewhere cannot leak a secret into a report.
"""

from __future__ import annotations

import html
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from conformance.useragent import redact_header, redact_pairs, redact_url
from conformance.wire import WireEntry, wire_lines

Level = Literal["must", "should"]
Outcome = Literal["passed", "failed", "warned", "skipped"]
StepStatus = Literal["passed", "failed", "skipped", "undefined", "pending"]

LEVELS: tuple[Level, ...] = ("must", "should")
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "warned", "skipped")
STEP_STATUSES: tuple[StepStatus, ...] = ("passed", "failed", "skipped", "undefined", "pending")
SECTION_TAG = "section:"
NO_SECTION = ""

MARKDOWN_FILE = "summary.md"
HTML_FILE = "report.html"
JUNIT_FILE = "junit.xml"
CUCUMBER_FILE = "cucumber.json"
RESULTS_FILE = "results.json"


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the guide: the slug its ``@section:`` tag names, and its heading."""

    slug: str
    title: str


#: The guide's sections, in its order (``shared/guide/bitbucket-server-integration-setup.md``);
#: the version note opens the guide. Other sections follow, sorted; untagged scenarios last.
GUIDE_SECTIONS: tuple[Section, ...] = (
    Section("version-note", "Note: Application Links using OAuth 2 are available since v7.21"),
    Section("open-the-add-integration-form", "Open the Add Integration form"),
    Section("configure-application-link", "Configure Application link"),
    Section("finish-the-setup", "Finish the Setup"),
    Section("share-the-login-link", "Share the login link"),
    Section("configure-bitbucket-server-plugins", "Configure Bitbucket Server plugins"),
    # Private Packagist's OAuth 1 guide (features/oauth1/), in its order.
    Section("oauth1-open-the-add-integration-form", "OAuth 1: Open the Add Integration form"),
    Section("oauth1-create-the-application-link", "OAuth 1: Create the application link"),
    Section("oauth1-finish-the-setup", "OAuth 1: Finish the setup"),
    Section("oauth1-log-in", "OAuth 1: Log in"),
    Section("oauth1-bitbucket-8-and-later", "OAuth 1: Bitbucket 8 and later"),
    Section(
        "oauth1-configure-bitbucket-server-plugins", "OAuth 1: Configure Bitbucket Server plugins"
    ),
)
_GUIDE_ORDER = {section.slug: index for index, section in enumerate(GUIDE_SECTIONS)}
_TITLES = {section.slug: section.title for section in GUIDE_SECTIONS}


def _bare(tag: str) -> str:
    return tag[1:] if tag.startswith("@") else tag


def section_of(tags: Iterable[str]) -> str:
    """The slug of the first ``@section:...`` tag ('' when there is none)."""
    for tag in tags:
        bare = _bare(tag)
        if bare.startswith(SECTION_TAG):
            return bare[len(SECTION_TAG) :]
    return NO_SECTION


def level_of(tags: Iterable[str]) -> Level:
    """``should`` when tagged ``@should``, else ``must`` (the stricter level by default)."""
    return "should" if any(_bare(tag) == "should" for tag in tags) else "must"


def outcome_of(level: Level, status: Literal["passed", "failed", "skipped"]) -> Outcome:
    """The scenario's outcome: a failure of a ``@should`` scenario is a warning."""
    if status == "failed":
        return "warned" if level == "should" else "failed"
    return status


def section_title(slug: str) -> str:
    """The heading of a section (the slug itself for a section the guide does not have)."""
    if slug == NO_SECTION:
        return "Scenarios without a section"
    return _TITLES.get(slug, slug)


def _section_key(slug: str) -> tuple[int, str]:
    if slug in _GUIDE_ORDER:
        return (0, f"{_GUIDE_ORDER[slug]:04d}")
    return (2, "") if slug == NO_SECTION else (1, slug)


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a scenario as run."""

    keyword: str
    name: str
    status: StepStatus = "passed"
    line: int = 0
    duration: float = 0.0
    error_message: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STEP_STATUSES:
            raise ValueError(f"step status must be one of {STEP_STATUSES}, not {self.status!r}")

    @property
    def text(self) -> str:
        """``Keyword name`` as written in the feature."""
        return f"{self.keyword.strip()} {self.name}".strip()


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario (one example of an outline) and what came of it."""

    feature: str
    section: str
    name: str
    level: Level
    outcome: Outcome
    #: The step that failed, as written (``When the admin opens ...``).
    failed_step: str | None = None
    expected: str | None = None
    actual: str | None = None
    #: Anything else worth reading: an error, or why the scenario was skipped.
    message: str | None = None
    #: The failed step's HTTP hops (JSON form of ``useragent.TraceEntry``).
    trace: tuple[Mapping[str, Any], ...] = ()
    duration: float = 0.0
    feature_uri: str = ""
    feature_line: int = 1
    feature_description: str = ""
    feature_tags: tuple[str, ...] = ()
    keyword: str = "Scenario"
    line: int = 0
    description: str = ""
    tags: tuple[str, ...] = ()
    steps: tuple[StepResult, ...] = field(default=())
    #: The failure is the harness's, the feature file's or the driver protocol's, not the
    #: SUT's: no level and no expected-failure entry excuses it.
    harness_error: bool = False
    #: Where ``--expected-failures`` lists the scenario (``FILE:LINE``), when an entry applies
    #: to this run; '' otherwise.
    expected_failure: str = ""
    #: Where ``--expected-skips`` lists the scenario (``FILE:LINE``); '' otherwise.
    expected_skip: str = ""
    #: The Bitbucket version the scenario ran at when it takes the version under test
    #: (``Given a Bitbucket Data Center server at the version under test``); '' when it pins
    #: its own.
    version_under_test: str = ""
    #: Bitbucket's side of a failed scenario: the integration's exchanges with the simulated
    #: Bitbucket (JSON form of :class:`conformance.wire.WireEntry`), oldest first; None when
    #: it was not recorded (a passed scenario).
    wire: tuple[Mapping[str, Any], ...] | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")

    @property
    def failing_step(self) -> str | None:
        """The failed step: as given, else the first failed one among ``steps``."""
        if self.failed_step:
            return self.failed_step
        failed = next((s for s in self.steps if s.status == "failed"), None)
        return failed.text if failed is not None else None

    @property
    def location(self) -> str:
        """``uri:line`` of the scenario ('' when unknown)."""
        if not self.feature_uri:
            return ""
        return f"{self.feature_uri}:{self.line}" if self.line else self.feature_uri

    def sort_key(self) -> tuple[tuple[int, str], str, int, str]:
        """Section in guide order, feature file, line, name."""
        return (_section_key(self.section), self.feature_uri, self.line, self.name)

    @property
    def excused(self) -> bool:
        """It failed (or warned) as its ``--expected-failures`` entry says it would."""
        return (
            bool(self.expected_failure)
            and self.outcome in ("failed", "warned")
            and not self.harness_error
        )

    @property
    def violation(self) -> str | None:
        """Why the scenario fails the run though it passed: an expected failure now passes."""
        if self.expected_failure and self.outcome == "passed":
            return f"expected failure now passes: remove it from {self.expected_failure}"
        return None

    @property
    def fails_run(self) -> bool:
        """A ``@must`` failure nothing excuses, or a violated expectation."""
        return (self.outcome == "failed" and not self.excused) or self.violation is not None

    @property
    def label(self) -> str:
        """The result as the reports name it: ``passed``, ``FAILED``, ``warning``,
        ``skipped``, ``expected failure``."""
        if self.violation is not None:
            return "FAILED"
        if self.excused:
            return "expected failure"
        return {"passed": "passed", "failed": "FAILED", "warned": "warning"}.get(
            self.outcome, "skipped"
        )


@dataclass(frozen=True, slots=True)
class Report:
    """Every scenario of a run, and what the run was against."""

    scenarios: tuple[ScenarioResult, ...]
    title: str = "Conformance report"
    sut: str = ""
    bitbucket_version: str = ""
    duration: float = 0.0
    #: ``--expected-failures`` and ``--expected-skips`` as given ('' when not).
    expected_failures_file: str = ""
    expected_skips_file: str = ""

    @property
    def ordered(self) -> list[ScenarioResult]:
        """The scenarios in report order."""
        return sorted(self.scenarios, key=ScenarioResult.sort_key)

    def sections(self) -> list[tuple[Section, list[ScenarioResult]]]:
        """The sections that have scenarios, in the guide's order, each with its scenarios."""
        grouped: dict[str, list[ScenarioResult]] = {}
        for scenario in self.ordered:
            grouped.setdefault(scenario.section, []).append(scenario)
        return [(Section(slug, section_title(slug)), items) for slug, items in grouped.items()]

    def count(self, outcome: Outcome) -> int:
        """How many scenarios had this outcome."""
        return sum(1 for s in self.scenarios if s.outcome == outcome)

    @property
    def ran(self) -> int:
        """Scenarios that ran (not skipped)."""
        return len(self.scenarios) - self.count("skipped")

    @property
    def failing(self) -> list[ScenarioResult]:
        """The scenarios that fail the run (see :attr:`ScenarioResult.fails_run`)."""
        return [s for s in self.ordered if s.fails_run]

    @property
    def excused(self) -> list[ScenarioResult]:
        """The scenarios that failed as ``--expected-failures`` says they would."""
        return [s for s in self.ordered if s.excused]

    @property
    def violations(self) -> list[ScenarioResult]:
        """The expected failures that passed."""
        return [s for s in self.ordered if s.violation is not None]

    @property
    def unexpected_skips(self) -> list[ScenarioResult]:
        """Skipped scenarios ``--expected-skips`` does not list (only when it was given)."""
        if not self.expected_skips_file:
            return []
        return [s for s in self.ordered if s.outcome == "skipped" and not s.expected_skip]

    @property
    def skips_that_ran(self) -> list[ScenarioResult]:
        """Scenarios ``--expected-skips`` lists that were not skipped."""
        return [s for s in self.ordered if s.expected_skip and s.outcome != "skipped"]

    @property
    def ok(self) -> bool:
        """Nothing fails the run (no ``@must`` failure unexcused, no expected failure that
        passes), and at least one scenario ran."""
        return not self.failing and self.ran > 0

    @property
    def verdict(self) -> str:
        """``PASSED``, ``FAILED``, or ``NO SCENARIO RAN``."""
        if self.failing:
            return "FAILED"
        return "PASSED" if self.ran else "NO SCENARIO RAN"

    def summary_line(self) -> str:
        """``3 passed, 1 failed, 2 warnings, 0 skipped (6 scenarios) in 1.23 s``, with the
        expectations' notes (``[1 expected failure; ...]``) before ``in`` when there are any."""
        warnings = self.count("warned")
        total = len(self.scenarios)
        notes = []
        for count, singular, plural in (
            (len(self.excused), "expected failure", "expected failures"),
            (len(self.violations), "expected failure now passes", "expected failures now pass"),
            (len(self.unexpected_skips), "unexpected skip", "unexpected skips"),
            (len(self.skips_that_ran), "expected skip ran", "expected skips ran"),
        ):
            if count:
                notes.append(f"{count} {singular if count == 1 else plural}")
        extra = f" [{'; '.join(notes)}]" if notes else ""
        return (
            f"{self.count('passed')} passed, {self.count('failed')} failed, "
            f"{warnings} {'warning' if warnings == 1 else 'warnings'}, "
            f"{self.count('skipped')} skipped "
            f"({total} {'scenario' if total == 1 else 'scenarios'}){extra} "
            f"in {_seconds(self.duration)}"
        )


# -- shared formatting ---------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


_NOISY_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "content-length",
        "date",
        "host",
        "keep-alive",
        "server",
        "user-agent",
        "x-arequestid",
    }
)


def _pairs(value: Any) -> list[tuple[str, str]]:
    """Headers or form fields given as ``[[name, value], ...]`` or as a mapping."""
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.items()
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = value
    else:
        return []
    pairs = []
    for item in items:
        if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            name, raw = item
            values = raw if isinstance(raw, list) else [raw]
            pairs += [(str(name), str(v)) for v in values]
    return pairs


def trace_lines(trace: Iterable[Mapping[str, Any]]) -> list[str]:
    """A trace as text, one request per block, secrets redacted (again)."""
    lines: list[str] = []
    for number, hop in enumerate(trace, start=1):
        method = str(hop.get("method", "?"))
        url = redact_url(str(hop.get("url", "?")))
        status = hop.get("status")
        if hop.get("error"):
            answer = f"no answer ({hop['error']})"
        else:
            answer = f"{status} {hop.get('reason') or ''}".strip()
        lines.append(f"{number}. {method} {url} -> {answer}")
        for name, value in _pairs(hop.get("request_headers")):
            if name.lower() not in _NOISY_HEADERS:
                lines.append(f"   > {name}: {redact_header(name, value)}")
        form = _pairs(hop.get("form"))
        if form:
            shown = "&".join(f"{n}={v}" for n, v in redact_pairs(form))
            lines.append(f"   > (form) {shown}")
        for name, value in _pairs(hop.get("response_headers")):
            if name.lower() not in _NOISY_HEADERS:
                lines.append(f"   < {name}: {redact_header(name, value)}")
    return lines


#: The heading of Bitbucket's side in every writer.
WIRE_TITLE = (
    "Bitbucket's side: what the integration sent the simulated Bitbucket during the "
    "scenario, and the answers (from its journal, oldest first, secrets redacted)"
)
NO_WIRE = "The integration sent Bitbucket nothing during the scenario."


def wire_entries(scenario: ScenarioResult) -> list[WireEntry]:
    """A scenario's Bitbucket side as entries."""
    return [WireEntry.from_json(entry) for entry in scenario.wire or ()]


def scenario_wire_lines(scenario: ScenarioResult) -> list[str]:
    """Bitbucket's side of a failed scenario as text (a line saying so when it is empty)."""
    entries = wire_entries(scenario)
    return wire_lines(entries) if entries else [NO_WIRE]


def _shows_wire(scenario: ScenarioResult) -> bool:
    return (
        scenario.wire is not None
        and scenario.outcome in ("failed", "warned")
        and not scenario.harness_error
    )


def _details(scenario: ScenarioResult) -> list[tuple[str, str]]:
    """(label, text) of a failure, warning or violated expectation, for every writer."""
    items = []
    if scenario.violation is not None:
        items.append(("Expectation", scenario.violation))
    elif scenario.excused:
        items.append(("Expected failure", f"listed in {scenario.expected_failure}"))
    step = scenario.failing_step
    if step and scenario.outcome != "passed":
        items.append(("Step", step))
    for label, value in (
        ("Expected", scenario.expected),
        ("Actual", scenario.actual),
        ("Message", scenario.message),
    ):
        if value and scenario.outcome != "passed":
            items.append((label, value))
    return items


def _needs_details(scenario: ScenarioResult) -> bool:
    """Whether the reports explain the scenario: a failure, a warning, a violation."""
    return scenario.outcome in ("failed", "warned") or scenario.violation is not None


def _skip_note(report: Report, scenario: ScenarioResult) -> str:
    """Why a skipped scenario is worth a look ('' when it is not)."""
    if scenario.outcome == "skipped" and report.expected_skips_file and not scenario.expected_skip:
        return f"unexpected skip: {report.expected_skips_file} does not list it"
    if scenario.expected_skip and scenario.outcome != "skipped":
        return f"listed as an expected skip ({scenario.expected_skip}) but it ran"
    return ""


def _plain_details(scenario: ScenarioResult) -> str:
    """Details and trace as plain text (JUnit bodies, Cucumber error messages)."""
    lines = []
    for label, text in _details(scenario):
        if "\n" in text.strip():
            lines.append(f"{label}:")
            lines += [f"  {line}" for line in text.strip("\n").splitlines()]
        else:
            lines.append(f"{label}: {text}")
    if scenario.location:
        lines.insert(0, f"Scenario: {scenario.location}")
    if scenario.trace:
        lines += ["", "HTTP trace of the step (secrets redacted):", *trace_lines(scenario.trace)]
    if _shows_wire(scenario):
        lines += ["", WIRE_TITLE + ":", *scenario_wire_lines(scenario)]
    return "\n".join(lines)


def _headline(scenario: ScenarioResult) -> str:
    """One line saying what went wrong."""
    if scenario.violation is not None:
        return scenario.violation
    if scenario.expected or scenario.actual:
        text = f"expected {scenario.expected or '?'}; actual {scenario.actual or '?'}"
    else:
        text = scenario.message or "failed"
    step = scenario.failing_step
    text = f"{step}: {text}" if step else text
    first = " ".join(text.split())
    return first if len(first) <= 500 else first[:497] + "..."


# -- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def _md_label(scenario: ScenarioResult) -> str:
    label = scenario.label
    return "**FAILED**" if label == "FAILED" else label


def md_text(text: str) -> str:
    """Text safe inside Markdown prose or a table cell (one line; markup escaped)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_code(text: str) -> str:
    """A one-line code span whatever backticks the text holds."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_block(text: str, info: str = "text") -> list[str]:
    """A fenced code block whatever fences the text holds."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}{info}", *text.splitlines(), fence]


def _md_details(scenario: ScenarioResult) -> list[str]:
    if scenario.fails_run:
        label = "FAILED"
    else:
        label = "Expected failure" if scenario.excused else "Warning"
    lines = [f"### {label}: {md_text(scenario.name)}", ""]
    where = md_text(scenario.feature)
    if scenario.location:
        where += f" ({md_code(scenario.location)})"
    lines.append(f"- Feature: {where}")
    lines.append(f"- Level: @{scenario.level}")
    blocks: list[tuple[str, str]] = []
    for name, text in _details(scenario):
        if "\n" in text.strip():
            blocks.append((name, text.strip("\n")))
        else:
            lines.append(f"- {name}: {md_code(text)}")
    for name, text in blocks:
        lines += ["", f"{name}:", "", *md_block(text)]
    if scenario.trace and scenario.outcome != "passed":
        count = len(scenario.trace)
        noun = "request" if count == 1 else "requests"
        lines += ["", f"HTTP trace of the step ({count} {noun}, secrets redacted):", ""]
        lines += md_block("\n".join(trace_lines(scenario.trace)))
    if _shows_wire(scenario):
        lines += ["", md_text(WIRE_TITLE) + ":", ""]
        lines += md_block("\n".join(scenario_wire_lines(scenario)))
    lines.append("")
    return lines


def _expectation_notes(report: Report) -> list[str]:
    """One line per violated or noteworthy expectation."""
    notes = []
    for scenario in report.violations:
        notes.append(f"FAILED: {scenario.location}: {scenario.name}: {scenario.violation}")
    for scenario in report.unexpected_skips:
        reason = f" ({scenario.message})" if scenario.message else ""
        notes.append(f"unexpected skip: {scenario.location}: {scenario.name}{reason}")
    for scenario in report.skips_that_ran:
        notes.append(f"{scenario.location}: {scenario.name}: {_skip_note(report, scenario)}")
    return notes


def to_markdown(report: Report) -> str:
    """The Markdown summary: verdict, then per guide section a table and the failures."""
    lines = [f"# {md_text(report.title)}", ""]
    if report.sut:
        lines.append(f"- System under test: {md_code(report.sut)}")
    if report.bitbucket_version:
        lines.append(f"- Bitbucket version: {md_code(report.bitbucket_version)}")
    for label, given in (
        ("Expected failures", report.expected_failures_file),
        ("Expected skips", report.expected_skips_file),
    ):
        if given:
            lines.append(f"- {label}: {md_code(given)}")
    lines.append(f"- Result: **{report.verdict}**")
    lines.append(f"- Scenarios: {report.summary_line()}")
    lines.append("")
    if not report.scenarios:
        lines += ["No scenario ran.", ""]
    notes = _expectation_notes(report)
    if notes:
        lines += ["## Expectations", ""]
        lines += [f"- {md_text(note)}" for note in notes]
        lines.append("")
    for section, scenarios in report.sections():
        lines += [f"## {md_text(section.title)}", ""]
        lines += ["| Result | Level | Scenario | Time |", "|---|---|---|---|"]
        for scenario in scenarios:
            name = md_text(scenario.name)
            extra = [scenario.message or ""] if scenario.outcome == "skipped" else []
            extra = [text for text in (*extra, _skip_note(report, scenario)) if text]
            if extra:
                name += f" ({md_text('; '.join(extra))})"
            lines.append(
                f"| {_md_label(scenario)} | @{scenario.level} | {name} "
                f"| {_seconds(scenario.duration)} |"
            )
        lines.append("")
        for scenario in scenarios:
            if _needs_details(scenario):
                lines += _md_details(scenario)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- JUnit XML -----------------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 cannot hold replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def _time(value: float) -> str:
    return f"{value:.3f}"


def _testcase(scenario: ScenarioResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"conformance.{scenario.section or 'no-section'}",
            "name": xml_text(scenario.name),
            "time": _time(scenario.duration),
        },
    )
    if scenario.feature_uri:
        case.set("file", xml_text(scenario.feature_uri))
    if scenario.line:
        case.set("line", str(scenario.line))
    properties = ET.SubElement(case, "properties")
    for name, value in (
        ("feature", scenario.feature),
        ("section", scenario.section),
        ("level", scenario.level),
        ("outcome", scenario.outcome),
        ("expected_failure", scenario.expected_failure),
        ("expected_skip", scenario.expected_skip),
        ("version_under_test", scenario.version_under_test),
    ):
        if value or name in ("feature", "section", "level", "outcome"):
            ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    if scenario.violation is not None:
        failure = ET.SubElement(
            case,
            "failure",
            {"message": xml_text(scenario.violation), "type": "expectation"},
        )
        failure.text = xml_text(_plain_details(scenario))
    elif scenario.excused:
        skipped = ET.SubElement(
            case,
            "skipped",
            {
                "message": xml_text(
                    f"expected failure ({scenario.expected_failure}): {_headline(scenario)}"
                )
            },
        )
        skipped.text = xml_text(_plain_details(scenario))
    elif scenario.outcome == "failed":
        failure = ET.SubElement(
            case,
            "failure",
            {"message": xml_text(_headline(scenario)), "type": "must"},
        )
        failure.text = xml_text(_plain_details(scenario))
    elif scenario.outcome == "warned":
        skipped = ET.SubElement(
            case, "skipped", {"message": xml_text("warning: " + _headline(scenario))}
        )
        skipped.text = xml_text(_plain_details(scenario))
    elif scenario.outcome == "skipped":
        reason = scenario.message or "skipped"
        ET.SubElement(case, "skipped", {"message": xml_text(reason)})
    return case


def _suite_attributes(name: str, scenarios: Sequence[ScenarioResult]) -> dict[str, str]:
    skipped = sum(
        1
        for s in scenarios
        if not s.fails_run and (s.outcome in ("skipped", "warned") or s.excused)
    )
    return {
        "name": xml_text(name),
        "tests": str(len(scenarios)),
        "failures": str(sum(1 for s in scenarios if s.fails_run)),
        "errors": "0",
        "skipped": str(skipped),
        "time": _time(sum(s.duration for s in scenarios)),
    }


def to_junit_xml(report: Report) -> str:
    """JUnit XML: a suite per guide section, a testcase per scenario."""
    root = ET.Element("testsuites", _suite_attributes(report.title, report.ordered))
    root.set("time", _time(report.duration))
    for section, scenarios in report.sections():
        suite = ET.SubElement(root, "testsuite", _suite_attributes(section.title, scenarios))
        for scenario in scenarios:
            suite.append(_testcase(scenario))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


# -- Cucumber JSON -------------------------------------------------------------------------------


def slug(text: str) -> str:
    """Cucumber's id form: lower case, runs of other characters as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _tags(tags: Iterable[str], line: int) -> list[dict[str, Any]]:
    return [{"name": "@" + _bare(tag), "line": max(line - 1, 1)} for tag in tags]


def _nanoseconds(seconds: float) -> int:
    return math.floor(seconds * 1_000_000_000)


def _step_json(scenario: ScenarioResult, step: StepResult, first_failure: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"status": step.status, "duration": _nanoseconds(step.duration)}
    if step.status == "failed":
        message = _plain_details(scenario) if first_failure else (step.error_message or "")
        if first_failure and step.error_message:
            message = step.error_message + "\n\n" + message
        if scenario.excused:
            message = (
                f"expected failure (listed in {scenario.expected_failure}; does not fail "
                "the run)\n" + message
            )
        elif scenario.outcome == "warned":
            message = "warning: a @should scenario failed (does not fail the run)\n" + message
        result["error_message"] = message
    elif step.error_message:
        result["error_message"] = step.error_message
    keyword = step.keyword.strip() + " "
    return {
        "keyword": keyword,
        "name": step.name,
        "line": step.line,
        "match": {"location": ""},
        "result": result,
    }


def _element_json(feature_id: str, scenario: ScenarioResult) -> dict[str, Any]:
    steps = []
    seen_failure = False
    for step in scenario.steps:
        first = step.status == "failed" and not seen_failure
        seen_failure = seen_failure or step.status == "failed"
        steps.append(_step_json(scenario, step, first))
    return {
        "keyword": scenario.keyword,
        "id": f"{feature_id};{slug(scenario.name)}",
        "name": scenario.name,
        "line": scenario.line,
        "description": scenario.description,
        "tags": _tags(scenario.tags, scenario.line),
        "type": "scenario",
        "steps": steps,
    }


def cucumber_features(report: Report) -> list[dict[str, Any]]:
    """The Cucumber JSON document as Python data: features in report order (by their first
    scenario), scenarios within a feature by line."""
    grouped: dict[str, list[ScenarioResult]] = {}
    for scenario in report.ordered:
        grouped.setdefault(scenario.feature_uri or scenario.feature, []).append(scenario)
    features = []
    for key, scenarios in grouped.items():
        first = scenarios[0]
        feature_id = slug(first.feature) or slug(key)
        elements = [
            _element_json(feature_id, scenario)
            for scenario in sorted(scenarios, key=lambda s: (s.line, s.name))
        ]
        features.append(
            {
                "keyword": "Feature",
                "uri": first.feature_uri,
                "name": first.feature,
                "id": feature_id,
                "line": first.feature_line,
                "description": first.feature_description,
                "language": "en",
                "tags": _tags(first.feature_tags, first.feature_line),
                "elements": elements,
            }
        )
    return features


def to_cucumber_json(report: Report) -> str:
    """Cucumber JSON text (indented, keys in a fixed order)."""
    return json.dumps(cucumber_features(report), indent=2, ensure_ascii=False) + "\n"


# -- HTML ----------------------------------------------------------------------------------------

#: The page's only style sheet, inline: the page loads nothing from anywhere.
HTML_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
  margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem;
  border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: 0.5rem;
  overflow-x: auto; white-space: pre-wrap; word-break: break-word; margin: 0.25rem 0; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #eee;
  vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td.time { white-space: nowrap; text-align: right; color: #555; }
table.scenarios { table-layout: fixed; }
table.scenarios th:nth-child(1) { width: 9rem; } table.scenarios th:nth-child(2) { width: 5rem; }
table.scenarios th:nth-child(4) { width: 34%; } table.scenarios th:nth-child(5) { width: 4.5rem; }
table.scenarios td:nth-child(4) { overflow-wrap: anywhere; }
.badge { display: inline-block; min-width: 5.5rem; white-space: nowrap; text-align: center;
  border-radius: 3px; padding: 0 0.4rem; font-size: 12px; font-weight: 600; color: #fff;
  background: #6a737d; }
.badge.passed { background: #22863a; } .badge.failed { background: #cb2431; }
.badge.warned { background: #b08800; } .badge.skipped { background: #6a737d; }
.badge.expected { background: #6f42c1; }
.verdict { font-size: 1.2rem; font-weight: 700; }
.verdict.passed { color: #22863a; } .verdict.failed { color: #cb2431; }
.verdict.none { color: #6a737d; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; }
nav ul { list-style: none; padding: 0; } nav li { margin: 0.1rem 0; }
details.scenario { border: 1px solid #e1e4e8; border-left: 4px solid #6a737d;
  border-radius: 4px; margin: 0.6rem 0; padding: 0.3rem 0.7rem; }
details.scenario.failed { border-left-color: #cb2431; }
details.scenario.warned { border-left-color: #b08800; }
details.scenario.expected { border-left-color: #6f42c1; }
details > summary { cursor: pointer; font-weight: 600; padding: 0.2rem 0; }
details details { margin: 0.4rem 0; } details details > summary { font-weight: 500; }
.note { color: #555; font-size: 12.5px; }
ol.steps li.failed { color: #cb2431; font-weight: 600; }
ol.steps li.skipped, ol.steps li.undefined { color: #6a737d; }
ul.expectations li { margin: 0.2rem 0; }
"""

_BADGE_CLASS = {
    "passed": "passed",
    "FAILED": "failed",
    "warning": "warned",
    "skipped": "skipped",
    "expected failure": "expected",
}


def html_text(text: object) -> str:
    """Text escaped for HTML (and XML) content or a quoted attribute."""
    return html.escape(xml_text(str(text)), quote=True)


def _html_id(prefix: str, text: str) -> str:
    return f"{prefix}-{slug(text) or 'none'}"


def _badge(label: str) -> str:
    return f'<span class="badge {_BADGE_CLASS.get(label, "skipped")}">{html_text(label)}</span>'


def _html_value(text: str) -> str:
    if "\n" in text.strip():
        return f"<pre>{html_text(text.strip(chr(10)))}</pre>"
    return f"<code>{html_text(text)}</code>"


def _html_details(scenario: ScenarioResult, anchor: str) -> list[str]:
    """A collapsible block: what failed, expected vs actual, the trace, the steps."""
    label = scenario.label
    kind = _BADGE_CLASS.get(label, "skipped")
    opened = ' open="open"' if scenario.fails_run else ""
    lines = [
        f'<details class="scenario {kind}" id="{anchor}"{opened}>',
        f"<summary>{_badge(label)} {html_text(scenario.name)}</summary>",
        '<dl class="meta">',
        f"<dt>Feature</dt><dd>{html_text(scenario.feature)}"
        + (f" (<code>{html_text(scenario.location)}</code>)" if scenario.location else "")
        + "</dd>",
        f"<dt>Level</dt><dd>@{html_text(scenario.level)}</dd>",
    ]
    if scenario.version_under_test:
        lines.append(
            f"<dt>Bitbucket</dt><dd>{html_text(scenario.version_under_test)} "
            "(the version under test)</dd>"
        )
    for name, text in _details(scenario):
        lines.append(f"<dt>{html_text(name)}</dt><dd>{_html_value(text)}</dd>")
    lines.append("</dl>")
    if scenario.trace and scenario.outcome != "passed":
        count = len(scenario.trace)
        noun = "request" if count == 1 else "requests"
        lines += [
            '<details class="trace" open="open">',
            f"<summary>HTTP trace of the step ({count} {noun}, secrets redacted)</summary>",
            f"<pre>{html_text(chr(10).join(trace_lines(scenario.trace)))}</pre>",
            "</details>",
        ]
    if _shows_wire(scenario):
        lines += [
            '<details class="trace" open="open">',
            f"<summary>{html_text(WIRE_TITLE)}</summary>",
            f"<pre>{html_text(chr(10).join(scenario_wire_lines(scenario)))}</pre>",
            "</details>",
        ]
    if scenario.steps:
        lines += ['<details class="steps">', "<summary>Steps</summary>", '<ol class="steps">']
        for step in scenario.steps:
            error = f" — {html_text(step.error_message)}" if step.error_message else ""
            lines.append(
                f'<li class="{html_text(step.status)}">{html_text(step.text)} '
                f'<span class="note">({html_text(step.status)}){error}</span></li>'
            )
        lines += ["</ol>", "</details>"]
    lines.append("</details>")
    return lines


def to_html(report: Report) -> str:
    """A self-contained HTML page: the verdict, then per guide section a table and a
    collapsible block for each failure, warning and violated expectation (the step, expected
    vs actual, the redacted HTTP trace). Inline CSS, no script, no link to anything outside
    the page; every text escaped."""
    verdict_class = {"PASSED": "passed", "FAILED": "failed"}.get(report.verdict, "none")
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{html_text(report.title)}: {html_text(report.verdict)}</title>",
        f"<style>{HTML_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{html_text(report.title)}</h1>",
        f'<p class="verdict {verdict_class}">{html_text(report.verdict)}</p>',
        '<dl class="meta">',
    ]
    for name, value in (
        ("System under test", report.sut),
        ("Bitbucket version", report.bitbucket_version),
        ("Expected failures", report.expected_failures_file),
        ("Expected skips", report.expected_skips_file),
    ):
        if value:
            lines.append(f"<dt>{name}</dt><dd><code>{html_text(value)}</code></dd>")
    lines += [f"<dt>Scenarios</dt><dd>{html_text(report.summary_line())}</dd>", "</dl>"]
    if not report.scenarios:
        lines.append("<p>No scenario ran.</p>")
    notes = _expectation_notes(report)
    if notes:
        lines += ['<h2 id="expectations">Expectations</h2>', '<ul class="expectations">']
        lines += [f"<li>{html_text(note)}</li>" for note in notes]
        lines.append("</ul>")
    sections = report.sections()
    anchors = {id(s): f"scenario-{n}" for n, s in enumerate(report.ordered, start=1)}
    if sections:
        lines += ["<nav>", "<h2>Sections</h2>", "<ul>"]
        for section, scenarios in sections:
            counts = ", ".join(
                f"{sum(1 for s in scenarios if s.label == label)} {label}"
                for label in ("passed", "FAILED", "warning", "expected failure", "skipped")
                if any(s.label == label for s in scenarios)
            )
            lines.append(
                f'<li><a href="#{_html_id("section", section.slug)}">'
                f"{html_text(section.title)}</a> "
                f'<span class="note">({html_text(counts)})</span></li>'
            )
        lines += ["</ul>", "</nav>"]
    for section, scenarios in sections:
        lines += [
            f'<section id="{_html_id("section", section.slug)}">',
            f"<h2>{html_text(section.title)}</h2>",
            '<table class="scenarios">',
            "<thead><tr><th>Result</th><th>Level</th><th>Scenario</th><th>Where</th>"
            "<th>Time</th></tr></thead>",
            "<tbody>",
        ]
        for scenario in scenarios:
            name = html_text(scenario.name)
            if _needs_details(scenario):
                name = f'<a href="#{anchors[id(scenario)]}">{name}</a>'
            extra = [scenario.message or ""] if scenario.outcome == "skipped" else []
            extra = [text for text in (*extra, _skip_note(report, scenario)) if text]
            if extra:
                name += f' <span class="note">({html_text("; ".join(extra))})</span>'
            lines.append(
                f"<tr><td>{_badge(scenario.label)}</td><td>@{html_text(scenario.level)}</td>"
                f"<td>{name}</td><td><code>{html_text(scenario.location)}</code></td>"
                f'<td class="time">{html_text(_seconds(scenario.duration))}</td></tr>'
            )
        lines += ["</tbody>", "</table>"]
        for scenario in scenarios:
            if _needs_details(scenario):
                lines += _html_details(scenario, anchors[id(scenario)])
        lines.append("</section>")
    lines += ["</body>", "</html>"]
    return "\n".join(lines) + "\n"


# -- results JSON (machine-readable, and how worker processes hand results over) -------------------

RESULTS_FORMAT = "bbdc-sim-conformance-results/1"
_SCENARIO_FIELDS = frozenset(f.name for f in fields(ScenarioResult))
_STEP_FIELDS = frozenset(f.name for f in fields(StepResult))


def scenario_to_dict(scenario: ScenarioResult) -> dict[str, Any]:
    """A scenario as plain data (lists, dicts, strings, numbers), trace as recorded."""
    return asdict(scenario)


def scenario_from_dict(data: Mapping[str, Any]) -> ScenarioResult:
    """The inverse of :func:`scenario_to_dict` (unknown keys ignored)."""
    values: dict[str, Any] = {k: v for k, v in data.items() if k in _SCENARIO_FIELDS}
    values["steps"] = tuple(
        StepResult(**{k: v for k, v in step.items() if k in _STEP_FIELDS})
        for step in data.get("steps", ())
    )
    values["trace"] = tuple(dict(hop) for hop in data.get("trace", ()))
    wire = data.get("wire")
    values["wire"] = None if wire is None else tuple(dict(entry) for entry in wire)
    for name in ("tags", "feature_tags"):
        values[name] = tuple(data.get(name, ()))
    return ScenarioResult(**values)


def redact_hop(hop: Mapping[str, Any]) -> dict[str, Any]:
    """A trace entry with its URL, headers and form redacted."""
    redacted = dict(hop)
    if "url" in redacted and redacted["url"] is not None:
        redacted["url"] = redact_url(str(redacted["url"]))
    if redacted.get("location"):
        redacted["location"] = redact_url(str(redacted["location"]))
    for key in ("request_headers", "response_headers"):
        if key in redacted:
            redacted[key] = [[n, redact_header(n, v)] for n, v in _pairs(redacted[key])]
    if "form" in redacted and redacted["form"] is not None:
        redacted["form"] = [list(pair) for pair in redact_pairs(_pairs(redacted["form"]))]
    return redacted


def to_results_json(report: Report) -> str:
    """The whole report as JSON (``results.json``): every field of every scenario, traces
    redacted, plus the verdict. :func:`read_results` reads it back."""
    scenarios = []
    for scenario in report.ordered:
        data = scenario_to_dict(scenario)
        data["trace"] = [redact_hop(hop) for hop in scenario.trace]
        scenarios.append(data)
    document = {
        "format": RESULTS_FORMAT,
        "title": report.title,
        "sut": report.sut,
        "bitbucket_version": report.bitbucket_version,
        "duration": report.duration,
        "expected_failures_file": report.expected_failures_file,
        "expected_skips_file": report.expected_skips_file,
        "verdict": report.verdict,
        "summary": report.summary_line(),
        "scenarios": scenarios,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def report_from_results(document: Mapping[str, Any]) -> Report:
    """A :class:`Report` from the data of ``results.json``."""
    if document.get("format") != RESULTS_FORMAT:
        raise ValueError(f"not a {RESULTS_FORMAT} document: format {document.get('format')!r}")
    return Report(
        scenarios=tuple(scenario_from_dict(item) for item in document.get("scenarios", ())),
        title=str(document.get("title", "Conformance report")),
        sut=str(document.get("sut", "")),
        bitbucket_version=str(document.get("bitbucket_version", "")),
        duration=float(document.get("duration", 0.0)),
        expected_failures_file=str(document.get("expected_failures_file", "")),
        expected_skips_file=str(document.get("expected_skips_file", "")),
    )


def read_results(path: Path | str) -> Report:
    """The report a run wrote as ``results.json``."""
    return report_from_results(json.loads(Path(path).read_text(encoding="utf-8")))


# -- files ---------------------------------------------------------------------------------------

#: What :func:`write_report` writes, by kind.
REPORT_FILES = {
    "markdown": MARKDOWN_FILE,
    "html": HTML_FILE,
    "junit": JUNIT_FILE,
    "cucumber": CUCUMBER_FILE,
    "results": RESULTS_FILE,
}


def write_report(report: Report, directory: Path | str) -> dict[str, Path]:
    """Write every form into ``directory`` (created); their paths by kind."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    outputs = {
        "markdown": (MARKDOWN_FILE, to_markdown(report)),
        "html": (HTML_FILE, to_html(report)),
        "junit": (JUNIT_FILE, to_junit_xml(report)),
        "cucumber": (CUCUMBER_FILE, to_cucumber_json(report)),
        "results": (RESULTS_FILE, to_results_json(report)),
    }
    written = {}
    for kind, (name, text) in outputs.items():
        path = target / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written[kind] = path
    return written
