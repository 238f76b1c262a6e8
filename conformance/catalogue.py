"""``bbdc-sim steps``: the catalogue of the step library.

For every step: its keyword(s) and pattern, what it does (the first line of its docstring),
and an example line taken from the feature files (with its file and line), grouped by the
section of the guide its module mirrors. QA engineers write new ``.feature`` files from it.

    bbdc-sim steps [--features DIR] [--format text|markdown|json]
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.gherkin_parser import GherkinDocument, get_gherkin_document
from pytest_bdd.gherkin_parser import Scenario as GherkinScenario
from pytest_bdd.gherkin_parser import Step as GherkinStep

from conformance.steps import STEP_MODULES, StepDefinition, registry

#: Headings of the step modules, in the guide's order.
SECTION_TITLES: Final = {
    "conformance.steps.common": "Common: the Bitbucket server and its clock",
    "conformance.steps.version_note": "Note: OAuth 2 is available from Bitbucket 7.21",
    "conformance.steps.open_the_add_integration_form": "Open the Add Integration form",
    "conformance.steps.configure_application_link": "Configure Application link",
    "conformance.steps.finish_the_setup": "Finish the Setup",
    "conformance.steps.share_the_login_link": "Share the login link",
    "conformance.steps.configure_bitbucket_server_plugins": "Configure Bitbucket Server plugins",
    "conformance.steps.oauth1_open_the_add_integration_form": (
        "OAuth 1: Open the Add Integration form"
    ),
    "conformance.steps.oauth1_create_the_application_link": "OAuth 1: Create the application link",
    "conformance.steps.oauth1_finish_the_setup": "OAuth 1: Finish the setup",
    "conformance.steps.oauth1_log_in": "OAuth 1: Log in",
    "conformance.steps.oauth1_bitbucket_8": "OAuth 1: Bitbucket 8 and later",
    "conformance.steps.matrix": "The version matrix",
}
_KEYWORD_TYPES: Final = {"given": "given", "when": "when", "then": "then"}
_OUTLINE_PARAMETER = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True, slots=True)
class FeatureStep:
    """A step as written in a feature file, with its type resolved (And/But -> the last)."""

    kind: str
    keyword: str
    text: str
    location: str


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One step of the library, as the catalogue shows it."""

    section: str
    module: str
    keywords: tuple[str, ...]
    pattern: str
    summary: str
    example: str | None
    example_location: str | None


def library() -> list[StepDefinition]:
    """Every step of the library (its modules imported)."""
    for name in STEP_MODULES:
        importlib.import_module(name)
    return registry()


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _first_example_row(scenario: GherkinScenario) -> dict[str, str]:
    for table in scenario.examples:
        if table.table_header is not None and table.table_body:
            names = [cell.value for cell in table.table_header.cells]
            values = [cell.value for cell in table.table_body[0].cells]
            return dict(zip(names, values, strict=False))
    return {}


def _steps_of(document: GherkinDocument) -> Iterator[tuple[list[GherkinStep], dict[str, str]]]:
    children = list(document.feature.children)
    while children:
        child = children.pop(0)
        if child.rule is not None:
            children[:0] = child.rule.children
        if child.background is not None:
            yield child.background.steps, {}
        if child.scenario is not None:
            yield child.scenario.steps, _first_example_row(child.scenario)


def fill_outline(text: str, example: dict[str, str]) -> str:
    """A step of an outline with ``<parameter>`` replaced from an example row."""
    return _OUTLINE_PARAMETER.sub(lambda m: example.get(m.group(1), m.group(0)), text)


def feature_steps(features: Path) -> list[FeatureStep]:
    """Every step line of the feature files under ``features`` (unparsable files skipped),
    outline parameters filled from the first example row."""
    found: list[FeatureStep] = []
    root = features.parent
    for path in sorted(features.rglob("*.feature"), key=_feature_order):
        try:
            document = get_gherkin_document(str(path))
        except GherkinParseError:
            continue
        for steps, example in _steps_of(document):
            kind = "given"
            for step in steps:
                keyword = step.keyword.strip()
                kind = _KEYWORD_TYPES.get(keyword.lower(), kind)
                text = fill_outline(step.text, example)
                location = f"{_display(path, root)}:{step.location.line}"
                found.append(FeatureStep(kind, keyword, text, location))
    return found


def catalogue(features: Path | None) -> list[CatalogueEntry]:
    """The library's steps with an example each (None when no feature uses the step)."""
    written = feature_steps(features) if features is not None and features.is_dir() else []
    entries = []
    for definition in library():
        example = next(
            (s for s in written if definition.matches(s.kind, s.text)),
            None,
        )
        entries.append(
            CatalogueEntry(
                section=SECTION_TITLES.get(definition.module, definition.module),
                module=definition.module,
                keywords=tuple(kind.capitalize() for kind in definition.kinds),
                pattern=definition.pattern.pattern,
                summary=definition.summary,
                example=f"{example.keyword} {example.text}" if example else None,
                example_location=example.location if example else None,
            )
        )
    return entries


def _feature_order(path: Path) -> tuple[int, Path]:
    """OAuth 2 features first (the guide's main path gives the examples), then the rest."""
    return (0 if "oauth2" in path.parts else 1, path)


def _grouped(entries: list[CatalogueEntry]) -> dict[str, list[CatalogueEntry]]:
    groups: dict[str, list[CatalogueEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.section, []).append(entry)
    return groups


PLACEHOLDERS_HELP: Final = (
    'In a pattern, "{name}" is any text between double quotes, {name:d} a whole number, '
    "{name} one word."
)


def format_text(entries: list[CatalogueEntry]) -> str:
    """The catalogue for a terminal."""
    lines = [f"The step library: {len(entries)} steps. {PLACEHOLDERS_HELP}", ""]
    for section, items in _grouped(entries).items():
        lines += [f"== {section} ({items[0].module}) ==", ""]
        for entry in items:
            lines.append(f"  {'/'.join(entry.keywords)} {entry.pattern}")
            lines.append(f"      {entry.summary}")
            if entry.example:
                lines.append(f"      e.g. {entry.example}   [{entry.example_location}]")
            else:
                lines.append("      (no feature uses it yet)")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_markdown(entries: list[CatalogueEntry]) -> str:
    """The catalogue as Markdown (one table per section)."""
    lines = ["# The step library", "", PLACEHOLDERS_HELP, ""]
    for section, items in _grouped(entries).items():
        lines += [f"## {section}", "", "| Step | What it does | Example |", "|---|---|---|"]
        for entry in items:
            step = f"`{'/'.join(entry.keywords)} {entry.pattern}`".replace("|", "\\|")
            example = f"`{entry.example}`".replace("|", "\\|") if entry.example else ""
            lines.append(f"| {step} | {entry.summary} | {example} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_json(entries: list[CatalogueEntry]) -> str:
    """The catalogue as JSON (a list of entries)."""
    return json.dumps([asdict(entry) for entry in entries], indent=2) + "\n"


FORMATS: Final = {"text": format_text, "markdown": format_markdown, "json": format_json}
