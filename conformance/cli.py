"""The ``bbdc-sim`` command (also ``python -m conformance``).

- ``serve``: run the simulated Bitbucket Data Center (:mod:`simulator.cli`);
- ``conform``: run the conformance suite against a system under test (:mod:`conformance.runner`);
- ``steps``: print the step library's catalogue (:mod:`conformance.catalogue`);
- ``reference``: run the reference integration beside a simulator, set up as the guide says,
  for a local demo (:mod:`conformance.reference.demo`).

It lives in the harness so that the simulator never imports it. Every flag of ``conform``
and ``steps`` has a ``BBDC_SIM_CONFORM_*`` / ``BBDC_SIM_STEPS_*`` variable (``--tags``:
``BBDC_SIM_CONFORM_TAGS``; a flag wins over its variable), ``serve``'s are the simulator's
settings (``BBDC_SIM_PORT``). An unknown flag prints that subcommand's usage; every bad input
is one line and a documented exit code (docs/ci.md).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, NoReturn

from simulator import __version__
from simulator import cli as serve_cli
from simulator.version import DEFAULT_VERSION

PROG: Final = "bbdc-sim"
ENV_PREFIX: Final = "BBDC_SIM_"
#: ``conform``'s own exit code for a wrong command line (argparse's too).
EXIT_BAD_COMMAND_LINE: Final = 2
#: ``conform``'s exit code for bad input (an unwritable --report, say).
EXIT_USAGE: Final = 4
TRUE_WORDS: Final = ("1", "true", "yes", "on")


class Parser(argparse.ArgumentParser):
    """Plain help (no reST), and errors naming the subcommand with its own usage."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_COMMAND_LINE, f"{self.prog}: error: {message}\n")


def positive_seconds(text: str) -> float:
    """``--timeout``: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:  # NaN compares false both ways
        raise argparse.ArgumentTypeError(f"{text!r}: the timeout must be more than 0 seconds")
    return value


def workers(text: str) -> str:
    """``-n``: a positive number of workers, or ``auto`` / ``logical``."""
    if text in ("auto", "logical") or (text.isdigit() and int(text) > 0):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (1, 2, ... or auto)")


def matrix_versions(text: str) -> tuple[str, ...]:
    """``--matrix``: the versions, normalised (:func:`conformance.matrix.parse_versions`)."""
    from conformance.matrix import parse_versions

    try:
        return parse_versions(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--matrix: ")) from None


def add_conform_parser(commands: argparse._SubParsersAction[Parser]) -> Parser:
    """``bbdc-sim conform``."""
    conform = commands.add_parser(
        "conform",
        help="run the conformance suite against a system under test",
        description="Run the features (the setup guide, step by step) against a system under "
        "test. Exit 0 when every @must scenario passed, non-zero when one failed, when no "
        "scenario ran, or on bad input (an unusable --sut, a broken feature file); "
        "docs/ci.md lists the exit codes. Every flag has a BBDC_SIM_CONFORM_<FLAG> "
        "variable (--tags: BBDC_SIM_CONFORM_TAGS).",
    )
    conform.add_argument(
        "--sut",
        default="reference",
        help="'reference' (default: the bundled reference), an http(s):// base URL serving "
        "the driver protocol (docs/driver-protocol.md), or 'package.module:factory'",
    )
    conform.add_argument(
        "--sut-command",
        metavar="CMD",
        help="start the SUT with CMD (split like a shell would, run without one) and use the "
        "first http(s):// URL it prints on stdout within 30 s as --sut (with --sut URL: wait "
        "until that URL answers instead); stopped at the end (SIGTERM, SIGKILL after 5 s)",
    )
    conform.add_argument(
        "--bitbucket",
        metavar="URL",
        help="use the simulator already running at URL (bbdc-sim serve; its control token "
        "from --bitbucket-control-token) instead of starting one",
    )
    conform.add_argument(
        "--bitbucket-control-token",
        metavar="TOKEN",
        help="the control token of --bitbucket's simulator (default: $BBDC_SIM_CONTROL_TOKEN)",
    )
    conform.add_argument(
        "--bitbucket-tls",
        action="store_true",
        help="the harness's simulator serves HTTPS with a CA it makes; the harness trusts it, "
        "and names it in BBDC_SIM_CA_FILE for the integration (the reference trusts it)",
    )
    conform.add_argument(
        "--bitbucket-ca",
        metavar="FILE",
        help="the CA certificate of --bitbucket's simulator when it serves HTTPS (serve --tls)",
    )
    conform.add_argument(
        "--bitbucket-host",
        metavar="HOST",
        help="address the harness's simulator binds (default 127.0.0.1), for an integration "
        "elsewhere (a container: 0.0.0.0)",
    )
    conform.add_argument(
        "--bitbucket-port", type=int, metavar="PORT", help="its port (default: a free one)"
    )
    conform.add_argument(
        "--bitbucket-public-url",
        metavar="URL",
        help="the base URL the integration reaches the harness's simulator at, when not the "
        "bound address (http://host.docker.internal:7990)",
    )
    conform.add_argument(
        "--bitbucket-version",
        help="the version under test: that of the scenarios written 'at the version under "
        f"test' (scenarios that name a version keep it; default: the simulator's, "
        f"{DEFAULT_VERSION})",
    )
    conform.add_argument(
        "--tags",
        help="a tag expression: 'must and not repositories', 'section:finish-the-setup', ...",
    )
    conform.add_argument(
        "--report",
        help="write summary.md, report.html, junit.xml, cucumber.json, results.json here",
    )
    conform.add_argument(
        "--features",
        action="append",
        metavar="DIR",
        help="a folder of your own .feature files, run with the bundled suite (no Python "
        "file needed beside them; repeatable)",
    )
    conform.add_argument(
        "--only-features",
        action="store_true",
        help="run only the --features folders, not the bundled suite",
    )
    conform.add_argument(
        "--timeout", type=positive_seconds, help="seconds per answer of an HTTP SUT (default 10)"
    )
    conform.add_argument(
        "--expected-failures",
        metavar="FILE",
        help="scenarios expected to fail, one 'features/x.feature: Scenario name' per line "
        "(docs/ci.md): they do not fail the run, but one that passes does",
    )
    conform.add_argument(
        "--expected-skips",
        metavar="FILE",
        help="scenarios expected to be skipped (same format): any other skip is reported",
    )
    conform.add_argument(
        "-n",
        "--workers",
        type=workers,
        metavar="N|auto",
        help="run the scenarios on N pytest-xdist workers, each with its own simulator and "
        "SUT (needs pytest-xdist; not with an http:// SUT)",
    )
    conform.add_argument(
        "--matrix",
        nargs="?",
        const="default",
        type=matrix_versions,
        metavar="VERSIONS",
        help="run the suite at each Bitbucket version (comma-separated; default "
        "7.17.0,7.20.0,7.21.0,8.0.0,8.19.1,9.4.16,10.4.1) and print a matrix of the results",
    )
    conform.add_argument(
        "--matrix-rows",
        choices=("scenarios", "sections"),
        default="scenarios",
        help="the matrix's rows (default: scenarios)",
    )
    conform.add_argument("-v", "--verbose", action="store_true", help="one line per scenario")
    conform.add_argument(
        "pytest_args", nargs="*", help="after --: more pytest arguments (e.g. -- -x)"
    )
    return conform


def add_steps_parser(commands: argparse._SubParsersAction[Parser]) -> Parser:
    """``bbdc-sim steps``."""
    steps = commands.add_parser(
        "steps",
        help="print the step library: pattern, what it does, an example",
        description="The steps a .feature file can use, with an example from the bundled "
        "features (or --features DIR). Flags have BBDC_SIM_STEPS_<FLAG> variables.",
    )
    steps.add_argument("--features", help="where examples are taken from (default: the suite)")
    steps.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    return steps


def build_parser() -> tuple[Parser, dict[str, Parser]]:
    """The parser of ``bbdc-sim`` and each subcommand's."""
    parser = Parser(
        prog=PROG,
        description="A Bitbucket Data Center simulator and conformance harness: serve, "
        "conform, steps, reference.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    serve = commands.add_parser(
        "serve",
        help="run the simulated Bitbucket Data Center",
        description="Run the simulated Bitbucket Data Center until SIGTERM or SIGINT. Every "
        "flag has a BBDC_SIM_<FLAG> variable (--port: BBDC_SIM_PORT). Exit 0 once stopped, "
        "2 for a bad flag or variable, 3 when the address cannot be bound.",
    )
    serve_cli.add_serve_arguments(serve)
    subparsers = {
        "serve": serve,
        "conform": add_conform_parser(commands),
        "steps": add_steps_parser(commands),
    }
    commands.add_parser(
        "reference",
        help="run the reference integration beside a simulator, set up as the guide says, and "
        "print both URLs (a local demo; 'bbdc-sim reference --help' for its options)",
        add_help=False,
    )
    return parser, subparsers


def apply_environment(parser: Parser, prefix: str, environ: Mapping[str, str]) -> None:
    """Take each flag's default from ``<prefix><FLAG>`` (``BBDC_SIM_CONFORM_TAGS``), checked
    as the flag would be; a bad value is the subcommand's usage error naming the variable."""
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help",):
            continue
        name = prefix + action.dest.upper()
        raw = environ.get(name)
        if raw is None:
            continue
        try:
            if isinstance(action, argparse._StoreTrueAction):
                value: object = raw.strip().lower() in TRUE_WORDS
            elif isinstance(action, argparse._AppendAction):
                value = [part for part in raw.split(os.pathsep) if part]
            elif action.type is not None and callable(action.type):
                value = action.type(raw)
            else:
                value = raw
            if action.choices is not None and value not in action.choices:
                raise argparse.ArgumentTypeError(
                    f"{raw!r} is not one of {', '.join(map(str, action.choices))}"
                )
        except (argparse.ArgumentTypeError, ValueError) as exc:
            parser.error(f"{name}: {exc}")
        parser.set_defaults(**{action.dest: value})


def check_report(report: str | None) -> str | None:
    """Why ``--report DIR`` cannot be written (tried before the run: the folder is made and a
    file written and removed in it), or None."""
    if not report:
        return None
    folder = Path(report)
    probe = folder / ".bbdc-sim-write-check"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"--report {report}: cannot write there ({exc.strerror or exc})"
    return None


def conform(args: argparse.Namespace) -> int:
    """``bbdc-sim conform``."""
    from conformance.runner import ConformOptions, run

    if args.matrix is not None and args.bitbucket_version:
        print(
            "bbdc-sim conform: --matrix sets the version under test of each run; "
            "drop --bitbucket-version (or list it: --matrix 8.19.1,9.4.16)",
            file=sys.stderr,
        )
        return EXIT_BAD_COMMAND_LINE
    problem = check_report(args.report)
    if problem is not None:
        print(f"bbdc-sim conform: {problem}", file=sys.stderr)
        return EXIT_USAGE
    options = ConformOptions(
        sut=args.sut,
        bitbucket_version=args.bitbucket_version,
        tags=args.tags,
        report=args.report,
        features=tuple(Path(folder) for folder in args.features or ()),
        only_features=args.only_features,
        timeout=args.timeout,
        quiet=not args.verbose,
        pytest_args=tuple(args.pytest_args),
        expected_failures=args.expected_failures,
        expected_skips=args.expected_skips,
        workers=args.workers,
        matrix=args.matrix,
        matrix_rows=args.matrix_rows,
        sut_command=args.sut_command,
        bitbucket=args.bitbucket,
        bitbucket_control_token=args.bitbucket_control_token,
        bitbucket_host=args.bitbucket_host,
        bitbucket_port=args.bitbucket_port,
        bitbucket_public_url=args.bitbucket_public_url,
        bitbucket_tls=args.bitbucket_tls,
        bitbucket_ca=args.bitbucket_ca,
    )
    return run(options)


def steps(args: argparse.Namespace) -> int:
    """``bbdc-sim steps``."""
    from conformance.catalogue import FORMATS, catalogue
    from conformance.runner import default_features_dir

    features = Path(args.features) if args.features else default_features_dir()
    if not features.is_dir():
        print(f"bbdc-sim steps: no feature directory at {features}", file=sys.stderr)
        return EXIT_BAD_COMMAND_LINE
    sys.stdout.write(FORMATS[args.format](catalogue(features)))
    return 0


def reference(argv: Sequence[str]) -> int:
    """``bbdc-sim reference [demo options]``: the demo of :mod:`conformance.reference.demo`."""
    from conformance.reference.demo import main as demo_main

    return demo_main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["reference"]:
        return reference(arguments[1:])
    parser, subparsers = build_parser()
    apply_environment(subparsers["conform"], ENV_PREFIX + "CONFORM_", os.environ)
    apply_environment(subparsers["steps"], ENV_PREFIX + "STEPS_", os.environ)
    args, unknown = parser.parse_known_args(arguments)
    if unknown:
        subparsers.get(args.command, parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "conform":
        return conform(args)
    if args.command == "steps":
        return steps(args)
    return serve_cli.run_serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
