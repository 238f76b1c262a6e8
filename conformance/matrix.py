"""``bbdc-sim conform --matrix [VERSIONS]``: the suite once per Bitbucket version, and a matrix
of the results (rows: scenarios or sections; columns: versions).

Each version runs as its own ``bbdc-sim conform --bitbucket-version V --report DIR/V`` child
process (a fresh simulator and SUT, the same options otherwise), whose ``results.json`` the
matrix reads back; several at once (:func:`parallel_runs`). One column
(:func:`home_version`) runs every scenario; the others only those that take the version under
test (``--version-under-test-only``): a scenario that names its version has the same outcome
everywhere, and its one cell stands for every column. ``--bitbucket-version`` is the
*version under test*: the scenarios written ``Given a Bitbucket Data Center server at the
version under test`` follow it (and skip themselves where the guide does not apply to it, see
:mod:`conformance.steps.matrix`); scenarios that name a version keep it in every column.

The exit code: 2, 3 or 4 as soon as a version's run gives one (no further version starts);
else 1 when a ``@must`` scenario failed (or an expected failure passed) in any version; else
0 when a scenario ran in some version; 5 when none ran in any.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, TextIO

from conformance.report import (
    HTML_CSS,
    HTML_FILE,
    RESULTS_FILE,
    Report,
    ScenarioResult,
    html_text,
    md_code,
    md_text,
    read_results,
    section_title,
)
from conformance.runner import EXIT_MEANINGS, ConformOptions, conform_argv
from simulator.version import DEFAULT_VERSION, BitbucketVersion, VersionError

#: The newest release the facts name (bitbucket-dc.md: a capture from Bitbucket 10.4.1). The
#: simulator models nothing new in 10.x: the column checks that an integration reads a
#: two-digit major version right (``"10.4.1" < "7.21"`` as text).
NEWEST_VERSION: Final = "10.4.1"
#: The default columns: the OAuth 1 era (7.17, the last before OAuth 2: 7.20), OAuth 2's first
#: release (7.21), 8.0 (archived repositories; OAuth 1 stops serving synchronisations), the
#: 8.x and 9.x long-term-support releases (9.4.16 is the simulator's default) and the newest.
DEFAULT_VERSIONS: Final = (
    "7.17.0",
    "7.20.0",
    "7.21.0",
    "8.0.0",
    "8.19.1",
    DEFAULT_VERSION,
    NEWEST_VERSION,
)
ROWS: Final = ("scenarios", "sections")
MATRIX_MD: Final = "matrix.md"
MATRIX_HTML: Final = "matrix.html"
MATRIX_JSON: Final = "matrix.json"
OUTPUT_FILE: Final = "output.txt"
#: Cell labels, from the worst.
CELLS: Final = ("FAIL", "warn", "xfail", "pass", "skip", "-")
_CELL_OF_LABEL: Final = {
    "FAILED": "FAIL",
    "warning": "warn",
    "expected failure": "xfail",
    "passed": "pass",
    "skipped": "skip",
}
_CELL_CLASS: Final = {
    "FAIL": "failed",
    "warn": "warned",
    "xfail": "expected",
    "pass": "passed",
    "skip": "skipped",
    "-": "skipped",
}
_NAME_WIDTH: Final = 72
#: The plugin's option for the columns that run only what takes the version under test.
VARYING_ONLY_OPTION: Final = "--version-under-test-only"
#: At most this many versions run at once (each its own process, simulator and SUT).
MAX_PARALLEL: Final = 4


def parse_versions(text: str | None) -> tuple[str, ...]:
    """The matrix's versions: ``None``, ``''`` or ``default`` for :data:`DEFAULT_VERSIONS`,
    else a comma- or space-separated list (``7.21,8.19.1``), each normalised to
    ``MAJOR.MINOR.PATCH``, duplicates dropped; ``ValueError`` naming a bad one."""
    if text is None or text.strip() in ("", "default"):
        return DEFAULT_VERSIONS
    versions: dict[str, None] = {}
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if part == "default":
            versions.update(dict.fromkeys(DEFAULT_VERSIONS))
            continue
        try:
            versions[str(BitbucketVersion.parse(part))] = None
        except VersionError as exc:
            raise ValueError(f"--matrix: {exc}") from None
    return tuple(versions)


@dataclass(frozen=True, slots=True)
class Column:
    """One version's run."""

    version: str
    exit_code: int
    report: Report | None
    seconds: float
    folder: Path
    #: Whether it ran only the scenarios that take the version under test (``--matrix``
    #: runs the others in one column, :func:`home_version`, and repeats their cells).
    varying_only: bool = False

    @property
    def verdict(self) -> str:
        """The run's verdict (its exit code's meaning when it wrote no report)."""
        if self.report is None:
            return EXIT_MEANINGS.get(self.exit_code, "no report").split(":", 1)[0]
        return self.report.verdict

    def line(self) -> str:
        """``Bitbucket V: VERDICT: summary (exit N)``."""
        summary = f": {self.report.summary_line()}" if self.report is not None else ""
        scope = ", the scenarios that take the version under test" if self.varying_only else ""
        return f"Bitbucket {self.version}: {self.verdict}{summary} (exit {self.exit_code}{scope})"


@dataclass(frozen=True, slots=True)
class Row:
    """A scenario (or a section) and its cell in every column."""

    section: str
    name: str
    location: str
    #: Whether it takes the version under test (its result may differ by column).
    varies: bool
    cells: tuple[str, ...]


def cell(scenario: ScenarioResult | None) -> str:
    """A scenario's cell: ``pass``, ``FAIL``, ``warn``, ``xfail``, ``skip`` (``-``: not run)."""
    if scenario is None:
        return "-"
    return _CELL_OF_LABEL.get(scenario.label, "skip")


def worst(cells: Sequence[str]) -> str:
    """The worst of some cells (``-`` when there is none)."""
    ranked = [c for c in CELLS if c in cells]
    return ranked[0] if ranked else "-"


@dataclass(frozen=True, slots=True)
class Matrix:
    """Every version's run."""

    columns: tuple[Column, ...]
    sut: str = ""

    def ran_once(self) -> str:
        """``: it runs at V only, its cell repeated`` when the other columns ran only the
        scenarios that take the version under test; else nothing."""
        home = next((c for c in self.columns if not c.varying_only), None)
        if home is None or not any(c.varying_only for c in self.columns):
            return ""
        return f" (it runs at {home.version} only; its cell stands for every column)"

    @property
    def versions(self) -> tuple[str, ...]:
        """The columns' versions."""
        return tuple(column.version for column in self.columns)

    def scenario_rows(self) -> list[Row]:
        """A row per scenario, in report order."""
        keys: dict[tuple[str, str], ScenarioResult] = {}
        for column in self.columns:
            if column.report is not None:
                for scenario in column.report.ordered:
                    keys.setdefault((scenario.feature_uri, scenario.name), scenario)
        ordered = sorted(keys.values(), key=ScenarioResult.sort_key)
        home = next((c for c in self.columns if not c.varying_only), None)
        rows = []
        for first in ordered:
            found = [self._find(column, first) for column in self.columns]
            varies = any(s is not None and s.version_under_test for s in found)
            if not varies and home is not None:
                # Names its version: the same outcome in every column, run in one.
                kept = self._find(home, first)
                found = [
                    kept if c.varying_only and s is None else s
                    for c, s in zip(self.columns, found, strict=True)
                ]
            rows.append(
                Row(
                    section=first.section,
                    name=first.name,
                    location=first.location,
                    varies=varies,
                    cells=tuple(cell(s) for s in found),
                )
            )
        return rows

    @staticmethod
    def _find(column: Column, wanted: ScenarioResult) -> ScenarioResult | None:
        if column.report is None:
            return None
        for scenario in column.report.scenarios:
            if (scenario.feature_uri, scenario.name) == (wanted.feature_uri, wanted.name):
                return scenario
        return None

    def section_rows(self) -> list[Row]:
        """A row per guide section: in each column, the worst cell of its scenarios."""
        grouped: dict[str, list[Row]] = {}
        for row in self.scenario_rows():
            grouped.setdefault(row.section, []).append(row)
        return [
            Row(
                section=slug,
                name=section_title(slug),
                location="",
                varies=any(row.varies for row in rows),
                cells=tuple(
                    worst([row.cells[i] for row in rows]) for i in range(len(self.columns))
                ),
            )
            for slug, rows in grouped.items()
        ]

    def rows(self, kind: str) -> list[Row]:
        """``scenarios`` or ``sections`` rows."""
        return self.section_rows() if kind == "sections" else self.scenario_rows()

    @property
    def exit_code(self) -> int:
        """2/3/4 from a version that gave one; 1 if any version failed; 0 if a scenario ran
        somewhere; 5 if none ran anywhere."""
        codes = [column.exit_code for column in self.columns]
        for code in codes:
            if code not in (0, 1, 5):
                return code
        if 1 in codes:
            return 1
        return 0 if 0 in codes else 5

    @property
    def verdict(self) -> str:
        """``PASSED``, ``FAILED`` (with the versions) or ``NO SCENARIO RAN``."""
        failed = [c.version for c in self.columns if c.exit_code not in {0, 5}]
        if failed:
            return f"FAILED at {', '.join(failed)}"
        return "PASSED" if self.exit_code == 0 else "NO SCENARIO RAN"


# -- text --------------------------------------------------------------------------------------


def shorten(text: str, width: int) -> str:
    """``text`` in ``width`` characters, cut with ``…`` before an outline row's example
    (``Name (version: 7.21.0)``), which stays whole."""
    if len(text) <= width:
        return text
    tail = ""
    cut = text.rfind(" (")
    if text.endswith(")") and cut > 0 and len(text) - cut <= width // 2:
        tail = text[cut:]
    return text[: width - len(tail) - 1].rstrip() + "…" + tail


def format_text(matrix: Matrix, kind: str = "scenarios") -> str:
    """The matrix for a terminal: sections as headings, a row per scenario (``*``: takes the
    version under test), a cell per version, the verdict row, then a line per version."""
    rows = matrix.rows(kind)
    widths = [max(len(v), 6) for v in matrix.versions]
    labels = [f"{'*' if row.varies else ' '} {shorten(row.name, _NAME_WIDTH)}" for row in rows]
    name_width = max([len(label) for label in labels] + [len("verdict")])

    def line(label: str, cells: Sequence[str]) -> str:
        padded = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return f"{label.ljust(name_width)}  {padded}".rstrip()

    sut = f" against {matrix.sut}" if matrix.sut else ""
    out = [
        f"Conformance matrix{sut}: {len(rows)} {kind} x {len(matrix.versions)} versions",
        "cells: pass, FAIL (fails the run), warn (@should), xfail (expected failure), skip, "
        "- (not run)",
        "* takes the version under test; every other scenario names its version and keeps it"
        + matrix.ran_once(),
        "",
        line("", matrix.versions),
    ]
    section = None
    for row, label in zip(rows, labels, strict=True):
        if kind == "scenarios" and row.section != section:
            section = row.section
            out.append(section_title(section))
        out.append(line(label, row.cells))
    verdicts = [
        {"PASSED": "PASSED", "FAILED": "FAILED", "NO SCENARIO RAN": "none"}.get(
            column.verdict, "ERROR"
        )
        for column in matrix.columns
    ]
    out += [line("verdict", verdicts), ""]
    out += [column.line() for column in matrix.columns]
    out.append(f"Matrix: {matrix.verdict} (exit {matrix.exit_code})")
    return "\n".join(out) + "\n"


# -- Markdown, HTML, JSON ------------------------------------------------------------------------


def _report_link(column: Column, name: str) -> str:
    return f"{column.version}/{name}"


def format_markdown(matrix: Matrix, kind: str = "scenarios") -> str:
    """The matrix as Markdown: a table per section (or one table of sections)."""
    header = "| Scenario | " + " | ".join(matrix.versions) + " |"
    rule = "|---|" + "---|" * len(matrix.versions)
    lines = ["# Conformance matrix", ""]
    if matrix.sut:
        lines.append(f"- System under test: {md_code(matrix.sut)}")
    lines += [f"- Result: **{matrix.verdict}**", ""]
    for column in matrix.columns:
        link = f" ([report]({_report_link(column, 'summary.md')}))" if column.report else ""
        lines.append(f"- {md_text(column.line())}{link}")
    lines += [
        "",
        "Cells: pass, **FAIL** (fails the run), warn (@should), xfail (expected failure), "
        "skip, - (not run). \\* takes the version under test; every other scenario names its "
        f"version and keeps it{matrix.ran_once()}.",
        "",
    ]
    rows = matrix.rows(kind)
    if kind == "sections":
        lines += [header.replace("Scenario", "Section", 1), rule]
    section = None
    for row in rows:
        if kind == "scenarios" and row.section != section:
            section = row.section
            lines += ["", f"## {md_text(section_title(section))}", "", header, rule]
        cells = " | ".join("**FAIL**" if c == "FAIL" else c for c in row.cells)
        mark = "\\* " if row.varies else ""
        lines.append(f"| {mark}{md_text(row.name)} | {cells} |")
    return "\n".join(lines).rstrip("\n") + "\n"


def format_html(matrix: Matrix, kind: str = "scenarios") -> str:
    """The matrix as a self-contained HTML page (links only to each version's report)."""
    verdict_class = "passed" if matrix.exit_code == 0 else "failed"
    head = "".join(f"<th>{html_text(v)}</th>" for v in matrix.versions)
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8" />',
        f"<title>Conformance matrix: {html_text(matrix.verdict)}</title>",
        f"<style>{HTML_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Conformance matrix</h1>",
        f'<p class="verdict {verdict_class}">{html_text(matrix.verdict)}</p>',
        '<dl class="meta">',
    ]
    if matrix.sut:
        lines.append(f"<dt>System under test</dt><dd><code>{html_text(matrix.sut)}</code></dd>")
    for column in matrix.columns:
        link = (
            f' (<a href="{html_text(_report_link(column, HTML_FILE))}">report</a>)'
            if column.report
            else ""
        )
        lines.append(
            f"<dt>Bitbucket {html_text(column.version)}</dt>"
            f"<dd>{html_text(column.line())}{link}</dd>"
        )
    lines += [
        "</dl>",
        '<p class="note">* takes the version under test; every other scenario names its '
        "version and keeps it.</p>",
        "<table>",
        f"<thead><tr><th>{'Section' if kind == 'sections' else 'Scenario'}</th>{head}</tr></thead>",
        "<tbody>",
    ]
    section = None
    width = len(matrix.versions) + 1
    for row in matrix.rows(kind):
        if kind == "scenarios" and row.section != section:
            section = row.section
            lines.append(f'<tr><th colspan="{width}">{html_text(section_title(section))}</th></tr>')
        cells = "".join(
            f'<td><span class="badge {_CELL_CLASS[c]}">{html_text(c)}</span></td>'
            for c in row.cells
        )
        mark = "* " if row.varies else ""
        lines.append(f"<tr><td>{html_text(mark + row.name)}</td>{cells}</tr>")
    lines += ["</tbody>", "</table>", "</body>", "</html>"]
    return "\n".join(lines) + "\n"


def to_json(matrix: Matrix, kind: str = "scenarios") -> str:
    """The matrix as JSON: the columns (version, exit code, verdict, summary) and the rows."""
    document = {
        "sut": matrix.sut,
        "verdict": matrix.verdict,
        "exit_code": matrix.exit_code,
        "versions": list(matrix.versions),
        "columns": [
            {
                "version": column.version,
                "exit_code": column.exit_code,
                "verdict": column.verdict,
                "summary": column.report.summary_line() if column.report else None,
                "seconds": round(column.seconds, 3),
            }
            for column in matrix.columns
        ],
        "rows": [
            {
                "section": row.section,
                "name": row.name,
                "location": row.location,
                "varies": row.varies,
                "cells": dict(zip(matrix.versions, row.cells, strict=True)),
            }
            for row in matrix.rows(kind)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_matrix(matrix: Matrix, directory: Path, kind: str = "scenarios") -> None:
    """``matrix.md``, ``matrix.html`` and ``matrix.json`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (MATRIX_MD, format_markdown(matrix, kind)),
        (MATRIX_HTML, format_html(matrix, kind)),
        (MATRIX_JSON, to_json(matrix, kind)),
    ):
        (directory / name).write_text(text, encoding="utf-8", newline="\n")


# -- running -------------------------------------------------------------------------------------


def home_version(versions: Sequence[str]) -> str:
    """The column that runs every scenario: the simulator's default version when the matrix
    has it, else the first. The others run only the scenarios that take the version under
    test; every other scenario names its version, so its outcome is the same in each."""
    return DEFAULT_VERSION if DEFAULT_VERSION in versions else versions[0]


def run_version(
    options: ConformOptions, version: str, folder: Path, *, varying_only: bool = False
) -> Column:
    """One version's run in a child process (``python -m conformance.runner``); with
    ``varying_only``, of the scenarios that take the version under test only."""
    extra = (VARYING_ONLY_OPTION,) if varying_only else ()
    child = replace(
        options,
        matrix=None,
        bitbucket_version=version,
        report=str(folder),
        pytest_args=(*options.pytest_args, *extra),
    )
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "conformance.runner", *conform_argv(child)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OUTPUT_FILE).write_text(done.stdout + done.stderr, encoding="utf-8")
    results = folder / RESULTS_FILE
    report = read_results(results) if results.is_file() and done.returncode in (0, 1, 5) else None
    return Column(version, done.returncode, report, seconds, folder, varying_only)


def parallel_runs(options: ConformOptions, count: int) -> int:
    """How many versions run at once: one per CPU (at most :data:`MAX_PARALLEL`) when every
    child gets its own SUT (the reference or a Python factory, built in each child), one at
    a time for an HTTP SUT, which all children would share (each resets it per scenario), and
    for a running ``--bitbucket`` or a fixed ``--bitbucket-port``."""
    if is_url(options.sut) or options.bitbucket or options.bitbucket_port:
        return 1  # one integration, one simulator, or one port: shared by every version
    return max(1, min(count, os.cpu_count() or 1, MAX_PARALLEL))


def is_url(sut: str | None) -> bool:
    """Whether ``--sut`` names an HTTP implementation (shared by every child process)."""
    return bool(sut) and str(sut).startswith(("http://", "https://"))


def run_columns(
    options: ConformOptions, versions: Sequence[str], base: Path, out: TextIO
) -> list[Column]:
    """Every version's column, several at once (:func:`parallel_runs`), each line printed as
    it finishes; after a version's usage or SUT error (exit 2, 3 or 4: the rest would give it
    too) no further version starts. Columns come back in the order of ``versions``."""
    done: dict[str, Column] = {}
    stopped = False
    home = home_version(versions)
    split = len(versions) > 1
    workers = parallel_runs(options, len(versions))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue = [home, *(v for v in versions if v != home)]
        running: dict[Future[Column], str] = {}

        def start() -> None:
            while queue and len(running) < workers:
                version = queue.pop(0)
                varying_only = split and version != home
                future = pool.submit(
                    run_version, options, version, base / version, varying_only=varying_only
                )
                running[future] = version

        start()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                running.pop(future)
                column = future.result()
                done[column.version] = column
                print(f"bbdc-sim conform --matrix: {column.line()}", file=out, flush=True)
                if column.exit_code not in (0, 1, 5) and not stopped:
                    stopped = True
                    queue.clear()
                    output = (column.folder / OUTPUT_FILE).read_text(encoding="utf-8")
                    print(output.rstrip(), file=sys.stderr)
            start()
    return [done[version] for version in versions if version in done]


def run_matrix(options: ConformOptions, out: TextIO) -> int:
    """Run every version of ``options.matrix``; print the matrix; its exit code."""
    versions = options.matrix or DEFAULT_VERSIONS
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bbdc-matrix-") as scratch:
        base = Path(options.report).resolve() if options.report else Path(scratch)
        columns = run_columns(options, versions, base, out)
        sut = next((c.report.sut for c in columns if c.report is not None), options.sut)
        matrix = Matrix(tuple(columns), sut)
        print("", file=out)
        print(format_text(matrix, options.matrix_rows), file=out, end="")
        if options.report:
            write_matrix(matrix, base, options.matrix_rows)
            print(
                f"bbdc-sim conform --matrix: {MATRIX_MD}, {MATRIX_HTML}, {MATRIX_JSON} in "
                f"{options.report}; each version's report in {options.report}/<version>/",
                file=out,
            )
    elapsed = time.perf_counter() - started
    meaning = EXIT_MEANINGS.get(matrix.exit_code, "unexpected exit code")
    print(
        f"bbdc-sim conform --matrix: {meaning} (exit {matrix.exit_code}); "
        f"total time {elapsed:.2f} s",
        file=out,
    )
    return matrix.exit_code
