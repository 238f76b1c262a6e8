"""``make mutants``: run the suite against every mutant and print the kill table.

    python -m conformance.mutants.table [--tags EXPR] [--workers N] [--report DIR]
                                        [--all-scenarios] [NAME ...]

Each mutant runs on the scenarios named for it, within its own part of the suite
(:attr:`~conformance.mutants.Mutant.tags`: the OAuth 2 scenarios for an OAuth 2 bug, the OAuth 1
ones for an OAuth 1 bug); ``--all-scenarios`` runs it on that whole part (slower: every other
scenario that catches it is listed too). The reference runs on each whole part those mutants
need; ``--tags`` runs them all on the same scenarios instead.

One row per mutant: the scenarios that caught it (those named for it first, then, with
``--all-scenarios``, how many others failed too), the level it was caught at (``@must``: the
run fails; ``@should``: only a warning), and whether every scenario named for it failed. The
reference runs alongside: a scenario named for a mutant must pass on it, or the catch proves
nothing.

Exit 0 when every mutant is caught by every scenario named for it and the reference passes
them all; 1 otherwise; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from conformance.mutants import MUTANTS, Catch, Mutant, by_name
from conformance.mutants.run import (
    ScenarioOutcome,
    SuiteRun,
    in_parallel,
    merged,
    run_suite,
    selection,
)

REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class Row:
    """One mutant and what the suite did to it."""

    mutant: Mutant
    run: SuiteRun

    def missed(self) -> list[Catch]:
        """The scenarios named for the mutant that did not fail (or did not run)."""
        return [
            catch
            for catch in self.mutant.catches
            if not (outcomes := self.run.outcomes_of(catch)) or not all(o.caught for o in outcomes)
        ]

    @property
    def killed(self) -> bool:
        """Whether every scenario named for the mutant failed."""
        return bool(self.run.scenarios) and not self.missed()

    @property
    def level(self) -> str:
        """``@must`` when a ``@must`` scenario failed (the run fails), ``@should`` when only
        warnings caught it, ``-`` when nothing did."""
        levels = {o.level for o in self.run.caught}
        if "must" in levels:
            return "@must"
        if "should" in levels:
            return "@should"
        return "-"

    def caught_by(self, every: bool = False) -> str:
        """The named scenarios that failed (an outline once, with how many of its examples
        failed), then how many others failed too (or all of them, when ``every``)."""
        if not self.run.scenarios:
            return f"no report (exit {self.run.exit_code})"
        labels: dict[str, list[str]] = {}
        named: set[ScenarioOutcome] = set()
        for catch in self.mutant.catches:
            outcomes = self.run.outcomes_of(catch)
            caught = [o for o in outcomes if o.caught]
            named.update(outcomes)
            if not caught:
                continue
            examples = labels.setdefault(short(catch.feature, catch.scenario), [])
            if catch.example:
                examples.append(catch.example)
            elif len(outcomes) > 1:
                examples.append(f"{len(caught)} of {len(outcomes)} examples")
        # Several examples of one outline named for the mutant: the outline once.
        parts = [
            f"{label} ({'; '.join(examples)})" if examples else label
            for label, examples in labels.items()
        ]
        others = [o for o in self.run.caught if o not in named]
        if every:
            parts += [short(o.feature, o.name) for o in others]
        elif others:
            parts.append(f"+{len(others)} more")
        return "; ".join(parts) or "nothing"


def short(feature: str, name: str) -> str:
    """``04 The authorization request carries state``: the feature file's number (or its
    stem) and the scenario's name."""
    stem = Path(feature).stem
    number = stem.split("-", 1)[0]
    folder = Path(feature).parent.name
    prefix = number if number.isdigit() and folder == "oauth2" else f"{folder}/{stem}"
    return f"{prefix} {name}"


def reference_misses(reference: SuiteRun, mutants: Sequence[Mutant]) -> list[str]:
    """The scenarios named for a mutant that do not pass on the reference (or did not run)."""
    problems = []
    for catch in {catch for m in mutants for catch in m.catches}:
        outcomes = reference.outcomes_of(catch)
        if not outcomes:
            problems.append(f"{catch}: did not run")
        elif not all(o.outcome == "passed" for o in outcomes):
            failing = ", ".join(f"{o.name}: {o.outcome}" for o in outcomes if o.outcome != "passed")
            problems.append(f"{catch}: {failing}")
    return sorted(problems)


def markdown_table(rows: Sequence[Row], every: bool = False) -> str:
    """The kill table."""
    lines = [
        "| mutant | changed | caught by | level | every named scenario failed |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = "yes" if row.killed else "NO: " + "; ".join(str(c) for c in row.missed())
        lines.append(
            f"| {row.mutant.name} | `{row.mutant.changed}` | {row.caught_by(every)} "
            f"| {row.level} | {verdict} |"
        )
    return "\n".join(lines)


def bugs_list(rows: Sequence[Row]) -> str:
    """What each mutant does wrong."""
    return "\n".join(f"- {row.mutant.name}: {row.mutant.bug}" for row in rows)


def describe_tags(tags: str | None) -> str:
    """``--tags 'oauth1'``, or ``all`` for every scenario."""
    return f"--tags {tags!r}" if tags else "all"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.mutants.table",
        description="Run the conformance suite against every mutant of the reference and "
        "print the kill table.",
    )
    parser.add_argument("names", nargs="*", help="only these mutants (default: all)")
    parser.add_argument(
        "--tags",
        help="the scenarios every run takes ('' for all; default: each mutant's own, "
        "'not oauth1' for an OAuth 2 bug, 'oauth1' for an OAuth 1 bug)",
    )
    parser.add_argument("--workers", type=int, help="runs at once (default: CPUs, at most 4)")
    parser.add_argument("--report", help="keep each run's report in DIR/<mutant>/")
    parser.add_argument(
        "--all-scenarios",
        action="store_true",
        help="run each mutant on its whole part of the suite (not only the scenarios named for "
        "it) and list every scenario that caught it",
    )
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run, print the table; 0 when every mutant is caught as named."""
    args = parse(sys.argv[1:] if argv is None else argv)
    stream = out or sys.stdout
    try:
        mutants = [by_name(n) for n in args.names] if args.names else list(MUTANTS)
    except KeyError as exc:
        print(f"conformance.mutants.table: {exc.args[0]}", file=sys.stderr)
        return 2
    chosen: str | None = args.tags
    report = Path(args.report) if args.report else None

    def tags_of(entry: Mutant) -> str | None:
        return entry.tags if chosen is None else chosen or None

    # The reference once per part of the suite the mutants run on (OAuth 2, OAuth 1).
    parts = list(dict.fromkeys(tags_of(m) for m in mutants))
    jobs = [
        (f"{REFERENCE}-{i}" if len(parts) > 1 else REFERENCE, REFERENCE, part)
        for i, part in enumerate(parts, 1)
    ]
    keywords: dict[str, str | None] = {REFERENCE: None}
    for entry in mutants:
        keywords[entry.name] = None if args.all_scenarios else selection(entry.catches)
    jobs += [(m.name, m.sut, tags_of(m)) for m in mutants]
    started = time.perf_counter()

    def one(job: tuple[str, str, str | None]) -> SuiteRun:
        folder, sut, tags = job
        return run_suite(
            sut,
            tags=tags,
            keyword=keywords.get(folder),
            report_dir=report / folder if report else None,
        )

    runs = in_parallel(one, jobs, args.workers)
    elapsed = time.perf_counter() - started
    reference = merged(runs[: len(parts)])
    rows = [Row(m, r) for m, r in zip(mutants, runs[len(parts) :], strict=True)]
    write = stream.write
    write(markdown_table(rows, args.all_scenarios) + "\n\n")
    write(bugs_list(rows) + "\n\n")
    killed = [row for row in rows if row.killed]
    by_must = [row for row in killed if row.level == "@must"]
    write(
        f"{len(killed)} of {len(rows)} mutants caught by every scenario named for them "
        f"({len(by_must)} fail the run through a @must scenario, "
        f"{len(killed) - len(by_must)} only warn through @should).\n"
    )
    problems = reference_misses(reference, mutants)
    if reference.exit_code != 0 or problems:
        write(f"The reference run exited {reference.exit_code}; named scenarios not passing:\n")
        for problem in problems:
            write(f"  - {problem}\n")
    else:
        write(
            f"The reference passes all {len(reference.scenarios)} scenarios run "
            f"(exit {reference.exit_code}), every named one included.\n"
        )
    mutant_seconds = sum(row.run.seconds for row in rows)
    write(
        f"Scenarios: {', '.join(describe_tags(part) for part in parts)}. Time: "
        f"{elapsed:.1f} s for {len(runs)} runs ({len(rows)} mutants + the reference "
        f"{'x' + str(len(parts)) if len(parts) > 1 else ''}); the reference's "
        f"{'runs' if len(parts) > 1 else 'run'} {reference.seconds:.1f} s; the mutants' runs "
        f"{mutant_seconds:.1f} s in total, "
        f"{mutant_seconds / max(1, len(rows)):.1f} s each.\n"
    )
    return 0 if len(killed) == len(rows) and not problems and reference.exit_code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
