"""``--expected-failures FILE`` and ``--expected-skips FILE``: the scenarios a CI run expects to
fail, or to be skipped, so that a known departure does not fail every build while a new one
still does (as the OpenID Foundation's conformance-suite CI runner does).

A file lists one scenario per line, as the report names it::

  # Lines starting with # and blank lines are ignored.
  features/oauth2/04-share-the-login-link.feature: PKCE is used
  features/oauth2/00-version-note.feature: OAuth 2 is offered from Bitbucket 7.21 (version: 7.21.0)
  [7.21, 8.0] features/oauth2/04-share-the-login-link.feature: A user logs in through the login link

- the feature file's path as the report shows it (relative to the directory above the feature
  directory, e.g. ``features/oauth2/...``; an absolute path works too), a colon, the
  scenario's name;
- an outline's row is named with its example (``Name (version: 7.21.0)``); the outline's name
  as written (with its ``<placeholders>``) stands for every row;
- an optional ``[VERSION, ...]`` prefix limits the entry to runs whose version under test
  (``--bitbucket-version``, a column of ``--matrix``) is one of those versions.

Every entry must name a scenario of the feature files: a line that does not is an error naming
the file and line, before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.gherkin_parser import GherkinDocument, get_gherkin_document
from pytest_bdd.gherkin_parser import Scenario as GherkinScenario

from simulator.version import BitbucketVersion, VersionError

Kind = Literal["failure", "skip"]
OPTION: Final = {"failure": "--expected-failures", "skip": "--expected-skips"}
_LINE = re.compile(
    r"^(?:\[(?P<versions>[^\]]*)\]\s*)?(?P<path>\S(?:.*?\S)?\.feature)\s*:\s*(?P<name>\S.*?)\s*$"
)
_PLACEHOLDER = re.compile(r"<([^<>]+)>")


class ExpectationsError(ValueError):
    """An expectations file that cannot be used; the message lists ``FILE:LINE: problem``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n  ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of an expectations file."""

    #: ``FILE:LINE`` of the entry, as the reports cite it.
    source: str
    feature: str
    scenario: str
    #: The versions under test the entry applies to (empty: every version).
    versions: tuple[BitbucketVersion, ...] = ()

    def applies_to(self, version: BitbucketVersion) -> bool:
        """Whether the entry counts in a run whose version under test is ``version``."""
        return not self.versions or version in self.versions


@dataclass(frozen=True, slots=True)
class FeatureScenarios:
    """The scenario names of one feature file, as the report gives them."""

    #: Every name a report can show (an outline's rows with their examples).
    names: frozenset[str]
    #: An outline's name as written -> the names of its rows.
    outlines: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is a scenario, a row of an outline, or an outline."""
        return name in self.names or name in self.outlines


def example_suffix(example: dict[str, str]) -> str:
    """`` (key: value, ...)``: how the report names an outline's row."""
    return " (" + ", ".join(f"{key}: {value}" for key, value in example.items()) + ")"


def fill(text: str, example: dict[str, str]) -> str:
    """``text`` with ``<name>`` replaced by the example's values."""
    return _PLACEHOLDER.sub(lambda m: example.get(m.group(1), m.group(0)), text)


def _all_scenarios(document: GherkinDocument) -> Iterator[GherkinScenario]:
    for child in document.feature.children:
        if child.scenario is not None:
            yield child.scenario
        if child.rule is not None:
            for grandchild in child.rule.children:
                if grandchild.scenario is not None:
                    yield grandchild.scenario


def scenario_names(document: GherkinDocument) -> FeatureScenarios:
    """The names a report gives the scenarios of a parsed feature file."""
    names: set[str] = set()
    outlines: dict[str, tuple[str, ...]] = {}
    for scenario in _all_scenarios(document):
        rows: list[str] = []
        for table in scenario.examples:
            if table.table_header is None:
                continue
            header = [cell.value for cell in table.table_header.cells]
            for body in table.table_body or ():
                example = dict(zip(header, (cell.value for cell in body.cells), strict=False))
                rows.append(fill(scenario.name, example) + example_suffix(example))
        if rows:
            outlines[scenario.name] = tuple(rows)
            names.update(rows)
        else:
            names.add(scenario.name)
    return FeatureScenarios(frozenset(names), outlines)


def known_scenarios(features: Iterable[tuple[Path, str]]) -> dict[str, FeatureScenarios]:
    """Display path -> its scenarios, for every (path, display path) that parses."""
    known: dict[str, FeatureScenarios] = {}
    for path, shown in features:
        try:
            document = get_gherkin_document(str(path))
        except GherkinParseError:
            continue
        known[shown] = scenario_names(document)
    return known


def _versions(text: str | None) -> tuple[tuple[BitbucketVersion, ...], str | None]:
    if text is None:
        return (), None
    parts = [part for part in re.split(r"[,\s]+", text) if part]
    if not parts:
        return (), "[]: name at least one version, e.g. [7.17, 8.0] (or leave the brackets out)"
    versions = []
    for part in parts:
        try:
            versions.append(BitbucketVersion.parse(part))
        except VersionError:
            return (), f"[{text}]: {part!r} is not a Bitbucket version (MAJOR.MINOR[.PATCH])"
    return tuple(versions), None


def _feature_key(written: str, known: dict[str, FeatureScenarios], root: Path) -> str | None:
    """The display path of the feature an entry names (None when it names none)."""
    candidate = written.strip().replace("\\", "/").removeprefix("./")
    if candidate in known:
        return candidate
    path = Path(candidate)
    if path.is_absolute():
        try:
            relative = path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
        return relative if relative in known else None
    return None


def _closest(name: str, candidates: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(candidates), n=2, cutoff=0.5)
    return "; closest: " + " | ".join(repr(c) for c in close) if close else ""


def parse_expectations(
    text: str, filename: str, known: dict[str, FeatureScenarios], root: Path
) -> list[Entry]:
    """The entries of an expectations file; :class:`ExpectationsError` naming every bad line
    (not ``path.feature: name``, a bad version, an unknown feature or scenario)."""
    entries: list[Entry] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{filename}:{number}"
        match = _LINE.match(line)
        if match is None:
            problems.append(
                f"{where}: not 'path/to/file.feature: Scenario name' "
                f"(optionally after '[VERSION, ...] '): {line!r}"
            )
            continue
        versions, problem = _versions(match.group("versions"))
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        written, name = match.group("path"), match.group("name")
        key = _feature_key(written, known, root)
        if key is None:
            problems.append(
                f"{where}: no feature file {written!r} among the features run (paths are as "
                f"the report shows them){_closest(written, known)}"
            )
            continue
        if not known[key].knows(name):
            choices = set(known[key].names) | set(known[key].outlines)
            problems.append(f"{where}: {key} has no scenario {name!r}{_closest(name, choices)}")
            continue
        entries.append(Entry(where, key, name, versions))
    if problems:
        raise ExpectationsError(problems)
    return entries


@dataclass(frozen=True, slots=True)
class Expectations:
    """The entries of one file that apply to this run's version under test."""

    kind: Kind
    filename: str
    entries: tuple[Entry, ...]
    outlines: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def lookup(self, feature: str, name: str) -> Entry | None:
        """The entry listing the scenario ``name`` of ``feature`` (an outline's row is also
        listed by its outline's name), or None."""
        for entry in self.entries:
            if entry.feature != feature:
                continue
            if entry.scenario == name:
                return entry
            if name in self.outlines.get(feature, {}).get(entry.scenario, ()):
                return entry
        return None


def load_expectations(
    path: str,
    kind: Kind,
    known: dict[str, FeatureScenarios],
    root: Path,
    version: BitbucketVersion,
) -> Expectations:
    """Read and check an expectations file; keep the entries that apply to ``version``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectationsError(
            [f"{OPTION[kind]} {path}: cannot be read: {exc.strerror}"]
        ) from None
    except UnicodeDecodeError:
        raise ExpectationsError([f"{OPTION[kind]} {path}: not UTF-8 text"]) from None
    entries = parse_expectations(text, path, known, root)
    outlines = {key: dict(value.outlines) for key, value in known.items() if value.outlines}
    applying = tuple(entry for entry in entries if entry.applies_to(version))
    return Expectations(kind, path, applying, outlines)
