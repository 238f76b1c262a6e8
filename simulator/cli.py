"""The ``bbdc-sim`` command.

- ``serve``: run the simulated Bitbucket Data Center;
- ``conform``: run the conformance suite against a system under test (:mod:`conformance.runner`);
- ``steps``: print the step library's catalogue (:mod:`conformance.catalogue`);
- ``reference``: run the reference integration beside a simulator, set up as the guide says,
  for a local demo (:mod:`conformance.reference.demo`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from simulator.app import create_app
from simulator.settings import DATASETS, Settings, SettingsError
from simulator.store import Store
from simulator.testing import bound_base_url
from simulator.version import DEFAULT_VERSION


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bbdc-sim``."""
    parser = argparse.ArgumentParser(prog="bbdc-sim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulated Bitbucket Data Center")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind; 0 picks a free one (default 7990)")
    serve.add_argument("--base-url", help="public base URL, may carry a context path")
    serve.add_argument("--bitbucket-version", help="version to report, e.g. 8.19.1")
    serve.add_argument("--seed", type=int, help="dataset seed (default 1)")
    serve.add_argument("--dataset", choices=DATASETS, help="dataset size (default small)")
    serve.add_argument("--users", type=int, help="explicit number of users")
    serve.add_argument("--projects", type=int, help="explicit number of projects")
    serve.add_argument("--repos", type=int, help="explicit number of repositories")
    serve.add_argument("--control-token", help="token the control API requires off loopback")
    serve.add_argument("--log-level", default="WARNING", help="Python log level")
    add_conform_parser(commands)
    add_steps_parser(commands)
    commands.add_parser(
        "reference",
        help="run the reference integration beside a simulator, set up as the guide says, and "
        "print both URLs (a local demo; 'bbdc-sim reference --help' for its options)",
        add_help=False,
    )
    return parser


def add_conform_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``bbdc-sim conform``."""
    conform = commands.add_parser(
        "conform",
        help="run the conformance suite against a system under test",
        description="Run the features (the setup guide, step by step) against a system under "
        "test. Exit 0 when every @must scenario passed, non-zero when one failed, when no "
        "scenario ran, or on bad input (an unusable --sut, a broken feature file); "
        "docs/ci.md lists the exit codes.",
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
        "--timeout", type=float, help="seconds per answer of an HTTP SUT (default 10)"
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
        type=_workers,
        metavar="N|auto",
        help="run the scenarios on N pytest-xdist workers, each with its own simulator and "
        "SUT (needs pytest-xdist; not with an http:// SUT)",
    )
    conform.add_argument(
        "--matrix",
        nargs="?",
        const="default",
        type=_matrix_versions,
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


def _workers(text: str) -> str:
    """``-n``: a positive number of workers, or ``auto`` / ``logical``."""
    if text in ("auto", "logical") or (text.isdigit() and int(text) > 0):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (1, 2, ... or auto)")


def _matrix_versions(text: str) -> tuple[str, ...]:
    """``--matrix``: the versions, normalised (:func:`conformance.matrix.parse_versions`)."""
    from conformance.matrix import parse_versions

    try:
        return parse_versions(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--matrix: ")) from None


def add_steps_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``bbdc-sim steps``."""
    steps = commands.add_parser(
        "steps",
        help="print the step library: pattern, what it does, an example",
        description="The steps a .feature file can use, with an example from the features.",
    )
    steps.add_argument("--features", help="where examples are taken from (default: features/)")
    steps.add_argument("--format", choices=("text", "markdown", "json"), default="text")


def conform(args: argparse.Namespace) -> int:
    """``bbdc-sim conform``."""
    from pathlib import Path

    from conformance.runner import ConformOptions, run

    if args.matrix is not None and args.bitbucket_version:
        print(
            "bbdc-sim conform: --matrix sets the version under test of each run; "
            "drop --bitbucket-version (or list it: --matrix 8.19.1,9.4.16)",
            file=sys.stderr,
        )
        return 2
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
    )
    return run(options)


def steps(args: argparse.Namespace) -> int:
    """``bbdc-sim steps``."""
    from pathlib import Path

    from conformance.catalogue import FORMATS, catalogue
    from conformance.runner import default_features_dir

    features = Path(args.features) if args.features else default_features_dir()
    sys.stdout.write(FORMATS[args.format](catalogue(features)))
    return 0


def reference(argv: Sequence[str]) -> int:
    """``bbdc-sim reference [demo options]``: the demo of :mod:`conformance.reference.demo`."""
    from conformance.reference.demo import main as demo_main

    return demo_main(list(argv))


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags over the environment."""
    explicit = {
        name: getattr(args, name)
        for name in (
            "host",
            "port",
            "base_url",
            "bitbucket_version",
            "seed",
            "dataset",
            "users",
            "projects",
            "repos",
            "control_token",
        )
    }
    return Settings.from_sources(explicit)


def check_bind(settings: Settings) -> None:
    """Refuse to expose the control API beyond loopback without a token."""
    loopback = settings.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not settings.control_token:
        raise SettingsError(
            f"host: binding {settings.host} needs --control-token (BBDC_SIM_CONTROL_TOKEN) "
            "so that the control API is not open to the network"
        )


async def serve(settings: Settings) -> None:
    """Serve until cancelled, printing one ready line with the URL."""
    store = Store(settings)
    runner = web.AppRunner(create_app(settings, store), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else settings.port
    store.base_url = bound_base_url(settings, port)
    print(f"bbdc-sim {settings.bitbucket_version} ready at {store.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["reference"]:
        return reference(arguments[1:])
    args = build_parser().parse_args(arguments)
    if args.command == "conform":
        return conform(args)
    if args.command == "steps":
        return steps(args)
    logging.basicConfig(level=getattr(args, "log_level", "WARNING").upper())
    try:
        settings = settings_from_args(args)
        check_bind(settings)
    except SettingsError as exc:
        print(f"bbdc-sim: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
