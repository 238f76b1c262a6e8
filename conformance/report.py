"""The conformance report: what each scenario did, grouped by the guide's sections.

The pytest plugin turns every scenario it ran into a :class:`ScenarioResult`; a
:class:`Report` holds them, and three pure writers turn it into text:

- :func:`to_markdown`: a summary grouped by guide section (in the guide's order), one row
  per scenario (passed, FAILED, warning, skipped); for each failure and warning the step, what
  was expected, what happened, and the HTTP trace of that step, secrets redacted.
- :func:`to_junit_xml`: one ``<testsuite>`` per section, one ``<testcase>`` per scenario.
  A ``@must`` failure is a ``<failure>``. A ``@should`` failure (a warning) is a
  ``<skipped message="warning: ...">`` with the details as its text, so CI systems that fail
  a build on failures do not fail it on warnings yet still show them; every testcase also
  carries ``level``, ``outcome`` and ``section`` properties, so nothing is lost.
- :func:`to_cucumber_json`: the standard Cucumber JSON (features -> elements -> steps with
  ``result`` status, duration in nanoseconds and ``error_message``). Step statuses are what
  happened: the failing step of a warned scenario is ``failed`` (its ``error_message``
  begins with ``warning:``, and the scenario keeps its ``@should`` tag); the run's verdict is
  the report's, not a count of failed steps.

Output is deterministic: scenarios are sorted (section in guide order, feature file, line,
name), nothing carries a timestamp, only durations vary. Traces are the JSON form of
:class:`conformance.useragent.TraceEntry` (``method``, ``url``, ``status``, ``reason``,
``location``, ``request_headers``, ``response_headers``, ``form``, ``error``); the writers
redact them again, so a trace from elsewhere cannot leak a secret into a report.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance.useragent import redact_header, redact_pairs, redact_url

Level = Literal["must", "should"]
Outcome = Literal["passed", "failed", "warned", "skipped"]
StepStatus = Literal["passed", "failed", "skipped", "undefined", "pending"]

LEVELS: tuple[Level, ...] = ("must", "should")
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "warned", "skipped")
STEP_STATUSES: tuple[StepStatus, ...] = ("passed", "failed", "skipped", "undefined", "pending")
SECTION_TAG = "section:"
NO_SECTION = ""

MARKDOWN_FILE = "summary.md"
JUNIT_FILE = "junit.xml"
CUCUMBER_FILE = "cucumber.json"


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


@dataclass(frozen=True, slots=True)
class Report:
    """Every scenario of a run, and what the run was against."""

    scenarios: tuple[ScenarioResult, ...]
    title: str = "Conformance report"
    sut: str = ""
    bitbucket_version: str = ""
    duration: float = 0.0

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
    def ok(self) -> bool:
        """No ``@must`` scenario failed, and at least one scenario ran."""
        return self.count("failed") == 0 and self.ran > 0

    @property
    def verdict(self) -> str:
        """``PASSED``, ``FAILED``, or ``NO SCENARIO RAN``."""
        if self.count("failed"):
            return "FAILED"
        return "PASSED" if self.ran else "NO SCENARIO RAN"

    def summary_line(self) -> str:
        """``3 passed, 1 failed, 2 warnings, 0 skipped (6 scenarios) in 1.23 s``."""
        warnings = self.count("warned")
        total = len(self.scenarios)
        return (
            f"{self.count('passed')} passed, {self.count('failed')} failed, "
            f"{warnings} {'warning' if warnings == 1 else 'warnings'}, "
            f"{self.count('skipped')} skipped "
            f"({total} {'scenario' if total == 1 else 'scenarios'}) in {_seconds(self.duration)}"
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


def _details(scenario: ScenarioResult) -> list[tuple[str, str]]:
    """(label, text) of a failure or warning, for every writer."""
    items = []
    step = scenario.failing_step
    if step:
        items.append(("Step", step))
    for label, value in (
        ("Expected", scenario.expected),
        ("Actual", scenario.actual),
        ("Message", scenario.message),
    ):
        if value:
            items.append((label, value))
    return items


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
    return "\n".join(lines)


def _headline(scenario: ScenarioResult) -> str:
    """One line saying what went wrong."""
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
_OUTCOME_LABEL: dict[Outcome, str] = {
    "passed": "passed",
    "failed": "**FAILED**",
    "warned": "warning",
    "skipped": "skipped",
}


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
    label = "FAILED" if scenario.outcome == "failed" else "Warning"
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
    if scenario.trace:
        count = len(scenario.trace)
        noun = "request" if count == 1 else "requests"
        lines += ["", f"HTTP trace of the step ({count} {noun}, secrets redacted):", ""]
        lines += md_block("\n".join(trace_lines(scenario.trace)))
    lines.append("")
    return lines


def to_markdown(report: Report) -> str:
    """The Markdown summary: verdict, then per guide section a table and the failures."""
    lines = [f"# {md_text(report.title)}", ""]
    if report.sut:
        lines.append(f"- System under test: {md_code(report.sut)}")
    if report.bitbucket_version:
        lines.append(f"- Bitbucket version: {md_code(report.bitbucket_version)}")
    lines.append(f"- Result: **{report.verdict}**")
    lines.append(f"- Scenarios: {report.summary_line()}")
    lines.append("")
    if not report.scenarios:
        lines += ["No scenario ran.", ""]
    for section, scenarios in report.sections():
        lines += [f"## {md_text(section.title)}", ""]
        lines += ["| Result | Level | Scenario | Time |", "|---|---|---|---|"]
        for scenario in scenarios:
            name = md_text(scenario.name)
            if scenario.outcome == "skipped" and scenario.message:
                name += f" ({md_text(scenario.message)})"
            lines.append(
                f"| {_OUTCOME_LABEL[scenario.outcome]} | @{scenario.level} | {name} "
                f"| {_seconds(scenario.duration)} |"
            )
        lines.append("")
        for scenario in scenarios:
            if scenario.outcome in ("failed", "warned"):
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
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    if scenario.outcome == "failed":
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
    skipped = sum(1 for s in scenarios if s.outcome in ("skipped", "warned"))
    return {
        "name": xml_text(name),
        "tests": str(len(scenarios)),
        "failures": str(sum(1 for s in scenarios if s.outcome == "failed")),
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
        if scenario.outcome == "warned":
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


# -- files ---------------------------------------------------------------------------------------


def write_report(report: Report, directory: Path | str) -> dict[str, Path]:
    """Write the three forms into ``directory`` (created); their paths by format."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    outputs = {
        "markdown": (MARKDOWN_FILE, to_markdown(report)),
        "junit": (JUNIT_FILE, to_junit_xml(report)),
        "cucumber": (CUCUMBER_FILE, to_cucumber_json(report)),
    }
    written = {}
    for kind, (name, text) in outputs.items():
        path = target / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written[kind] = path
    return written
