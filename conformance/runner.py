"""``bbdc-sim conform``: run the conformance suite against a system under test.

    bbdc-sim conform [--sut reference|http://...|module:factory] [--sut-command CMD]
                     [--bitbucket-version V] [--tags EXPR] [--report DIR] [--features DIR]
                     [--expected-failures FILE] [--expected-skips FILE] [-n N|auto]
                     [--matrix [VERSIONS]] [-- PYTEST ARGS...]

It runs ``pytest.main`` in this process on the feature files with the harness's plugin
(:mod:`conformance.plugin`) and a configuration of its own (``-c`` the null device, so the
directory it is started from does not change the run), then prints the verdict and the total
time. ``-n`` spreads the scenarios over pytest-xdist workers; ``--matrix`` runs the suite once
per Bitbucket version (:mod:`conformance.matrix`).

``--sut-command CMD`` starts the system under test first (:mod:`conformance.drivers.launch`):
``CMD`` is split like a shell would but run without one, in the current directory, and must
print its driver protocol base URL (the first ``http://`` or ``https://`` URL on a line of its
stdout) within 30 s (``launch.START_TIMEOUT``); that URL becomes ``--sut`` (with ``--sut URL``
given as well, that URL is used and the harness only waits until its ``/capabilities``
answers). Everything after (one run, ``--matrix``) sees an ordinary ``--sut URL``; at the end
the process is stopped (``SIGTERM``, ``SIGKILL`` 5 s later), whatever the outcome. A command
that exits first or prints no URL in time is exit 4, with its exit status and last lines of
output::

    bbdc-sim conform --sut-command "node examples/node-integration/server.js --port 0"

The exit code (docs/ci.md):

- 0: every ``@must`` scenario passed (``@should`` failures are warnings, listed expected
  failures are excused) and one ran;
- 1: a ``@must`` scenario failed, or an expected failure passed (an expectation violated);
- 2: the command line is wrong (argparse, a bad ``--matrix`` version, ``-n`` without
  pytest-xdist, ``--sut-command`` with a ``--sut`` that is no URL), or pytest was interrupted;
- 3: an internal error of the harness;
- 4: bad input: an unusable ``--sut`` (unreachable, off-protocol) or ``--sut-command`` (it
  exits, or prints no URL, or its URL does not answer, in time), a feature file with a
  syntax error, an unknown tag or an undefined step, a bad line in an expectations file, a
  malformed ``--bitbucket-version`` (each named with its file and line, or the endpoint);
- 5: no scenario ran (``--tags`` matched nothing, or every scenario was skipped).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, TextIO

import pytest

#: The plugins the run does without (they only matter to the project's own unit tests).
_BLOCKED_PLUGINS: Final = ("cacheprovider", "asyncio", "aiohttp")

EXIT_MEANINGS: Final = {
    0: "PASSED: every @must scenario passed",
    1: "FAILED: a @must scenario failed, or an expected failure now passes",
    2: "INTERRUPTED: the run stopped (see the errors above)",
    3: "INTERNAL ERROR in the harness (see above)",
    4: "USAGE ERROR: see the message above",
    5: "NO SCENARIO RAN: --tags matched nothing, or every scenario was skipped",
}
#: ``bbdc-sim conform``'s own exit code for a wrong command line (argparse's too).
EXIT_BAD_COMMAND_LINE: Final = 2


def default_features_dir() -> Path:
    """The bundled suite: ``conformance/features/`` in an installed wheel (the build puts the
    repository's ``features/`` there), else ``features/`` beside the package in a checkout.
    Never the current directory: a project's own ``features/`` (Behat's, say) is not ours."""
    package = Path(__file__).resolve().parent
    bundled = package / "features"
    return bundled if bundled.is_dir() else package.parent / "features"


#: The module that binds the feature files of a run with a team's own ``--features``.
BINDING_MODULE: Final = "test_conformance_features.py"


def binding_source(folders: Sequence[Path]) -> str:
    """A pytest-bdd binding module for every ``.feature`` file under ``folders``."""
    paths = ", ".join(repr(str(folder.resolve())) for folder in folders)
    return (
        '"""Written by bbdc-sim conform for this run: the bundled suite and --features."""\n\n'
        f"from pytest_bdd import scenarios\n\nscenarios({paths})\n"
    )


def suite_folders(options: ConformOptions) -> list[Path]:
    """The feature folders of a run with ``--features``: the bundled suite (unless
    ``--only-features``), then the team's."""
    bundled = [] if options.only_features else [default_features_dir()]
    return [*bundled, *options.features]


def feature_problem(folder: Path) -> str | None:
    """Why ``--features DIR`` cannot be used, or None."""
    if not folder.is_dir():
        return f"no feature directory at {folder}"
    if not any(folder.rglob("*.feature")):
        return f"no .feature file under {folder}"
    return None


@dataclass(frozen=True, slots=True)
class ConformOptions:
    """What ``bbdc-sim conform`` was asked."""

    sut: str = "reference"
    bitbucket_version: str | None = None
    tags: str | None = None
    report: str | None = None
    #: ``--features``: folders of a team's own ``.feature`` files, run with the bundled suite
    #: (no Python beside them needed).
    features: tuple[Path, ...] = ()
    #: ``--only-features``: run only those, not the bundled suite.
    only_features: bool = False
    #: Where :func:`run` wrote the binding module of a run with ``features`` (set by it).
    binding_dir: Path | None = None
    timeout: float | None = None
    quiet: bool = True
    pytest_args: tuple[str, ...] = field(default=())
    expected_failures: str | None = None
    expected_skips: str | None = None
    #: pytest-xdist's ``-n``: a number of workers, or ``auto``.
    workers: str | None = None
    #: The versions of ``--matrix`` (None: one run).
    matrix: tuple[str, ...] | None = None
    #: The matrix's rows: ``scenarios`` or ``sections``.
    matrix_rows: str = "scenarios"
    #: ``--sut-command``: the command starting the SUT, which prints its URL (None: none).
    #: :func:`run` resolves it into ``sut`` before anything else sees the options.
    sut_command: str | None = None
    #: ``--bitbucket``: a simulator already running (None: the harness starts its own).
    bitbucket: str | None = None
    bitbucket_control_token: str | None = None
    #: Where the harness's own simulator binds and how the integration reaches it.
    bitbucket_host: str | None = None
    bitbucket_port: int | None = None
    bitbucket_public_url: str | None = None
    #: ``--bitbucket-tls``: the harness's simulator serves HTTPS; ``--bitbucket-ca``: the CA
    #: of a running one that does.
    bitbucket_tls: bool = False
    bitbucket_ca: str | None = None


def xdist_available() -> bool:
    """Whether pytest-xdist is installed (``-n`` needs it)."""
    return importlib.util.find_spec("xdist") is not None


XDIST_MISSING: Final = (
    "bbdc-sim conform: -n/--workers needs pytest-xdist, which is not installed: "
    "pip install pytest-xdist (it comes with the project's dev extra: pip install -e '.[dev]')"
)


def pytest_args(options: ConformOptions) -> list[str]:
    """The arguments ``pytest.main`` runs the suite with."""
    bundled = default_features_dir().resolve()
    target = options.binding_dir or bundled
    extra: list[str] = []
    if options.binding_dir is not None:
        for folder in suite_folders(options):
            extra += ["--feature-dir", str(folder.resolve())]
    args = [
        *extra,
        str(target),
        "-c",
        os.devnull,
        "--rootdir",
        str(bundled.parent),
        "-p",
        "conformance.plugin",
        "--strict-markers",
        "--sut",
        options.sut,
    ]
    for plugin in _BLOCKED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    args.append("-q" if options.quiet else "-v")
    if options.bitbucket_version:
        args += ["--bitbucket-version", options.bitbucket_version]
    if options.tags:
        args.append(f"--tags={options.tags}")  # "=": pytest reads "@..." arguments as files
    if options.report:
        args += ["--report", str(Path(options.report).resolve())]
    if options.timeout is not None:
        args += ["--sut-timeout", str(options.timeout)]
    for flag, value in bitbucket_flags(options):
        args += [flag, value] if value else [flag]
    if options.expected_failures:
        args += ["--expected-failures", options.expected_failures]
    if options.expected_skips:
        args += ["--expected-skips", options.expected_skips]
    if options.workers:
        args += ["-p", "xdist", "-n", options.workers]
    return args + list(options.pytest_args)


def bitbucket_flags(options: ConformOptions) -> list[tuple[str, str]]:
    """The ``--bitbucket*`` flags of ``options`` (the plugin's and ``bbdc-sim conform``'s);
    ``--bitbucket-tls`` takes no value (``""``)."""
    values = (
        ("--bitbucket", options.bitbucket),
        ("--bitbucket-control-token", options.bitbucket_control_token),
        ("--bitbucket-host", options.bitbucket_host),
        (
            "--bitbucket-port",
            None if options.bitbucket_port is None else str(options.bitbucket_port),
        ),
        ("--bitbucket-public-url", options.bitbucket_public_url),
        ("--bitbucket-ca", options.bitbucket_ca),
    )
    flags = [(flag, value) for flag, value in values if value]
    return [*flags, ("--bitbucket-tls", "")] if options.bitbucket_tls else flags


def conform_argv(options: ConformOptions) -> list[str]:
    """The ``bbdc-sim conform`` arguments of one run (not ``--matrix``) with these options."""
    argv = ["--sut", options.sut]
    for flag, value in (
        ("--bitbucket-version", options.bitbucket_version),
        ("--report", str(Path(options.report).resolve()) if options.report else None),
        ("--timeout", str(options.timeout) if options.timeout is not None else None),
        ("--expected-failures", options.expected_failures),
        ("--expected-skips", options.expected_skips),
        ("--workers", options.workers),
    ):
        if value is not None:
            argv += [flag, value]
    for folder in options.features:
        argv += ["--features", str(folder.resolve())]
    if options.only_features:
        argv.append("--only-features")
    for flag, value in bitbucket_flags(options):
        argv += [flag, value] if value else [flag]
    if options.tags:
        argv.append(f"--tags={options.tags}")
    if not options.quiet:
        argv.append("--verbose")
    if options.pytest_args:
        argv += ["--", *options.pytest_args]
    return argv


def run(options: ConformOptions, out: TextIO | None = None) -> int:
    """Run the suite; print the verdict and the time; pytest's exit code."""
    stream = out or sys.stdout
    problems = [p for p in map(feature_problem, options.features) if p is not None]
    if options.only_features and not options.features:
        problems.append("--only-features needs --features DIR")
    bundled = default_features_dir()
    if not options.only_features and not bundled.is_dir():
        problems.append(f"the bundled suite is missing at {bundled} (a broken install?)")
    if problems:
        for problem in problems:
            print(f"bbdc-sim conform: {problem}", file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)
    if options.workers and not xdist_available():
        print(XDIST_MISSING, file=sys.stderr)
        return EXIT_BAD_COMMAND_LINE
    if options.sut_command:
        return run_launched(options, stream)
    if options.matrix is not None:
        from conformance.matrix import run_matrix

        return run_matrix(options, stream)
    started = time.perf_counter()
    if options.features:
        with tempfile.TemporaryDirectory(prefix="bbdc-conform-") as scratch:
            source = binding_source(suite_folders(options))
            (Path(scratch) / BINDING_MODULE).write_text(source, encoding="utf-8")
            code = int(pytest.main(pytest_args(replace(options, binding_dir=Path(scratch)))))
    else:
        code = int(pytest.main(pytest_args(options)))
    elapsed = time.perf_counter() - started
    meaning = EXIT_MEANINGS.get(code, "unexpected exit code")
    print(f"bbdc-sim conform: {meaning} (exit {code}); total time {elapsed:.2f} s", file=stream)
    if options.report:
        print(f"bbdc-sim conform: report in {options.report}", file=stream)
    return code


def launch_target(sut: str | None) -> str | None:
    """What ``--sut`` means beside ``--sut-command``: None (read the URL the command prints)
    for none or ``reference`` (the default), the URL itself; ``ValueError`` for anything
    else (a Python factory is not a process)."""
    if sut is None or sut == "reference":
        return None
    if sut.startswith(("http://", "https://")):
        return sut
    raise ValueError(
        f"bbdc-sim conform: --sut-command starts an HTTP integration; --sut {sut} is not an "
        "http(s):// URL (give the URL it serves the driver protocol at, or no --sut)"
    )


def run_launched(options: ConformOptions, out: TextIO) -> int:
    """:func:`run` with ``--sut-command``: start it, run against its URL, stop it."""
    assert options.sut_command is not None
    return with_launched_sut(
        options.sut_command,
        options.sut,
        lambda url: run(replace(options, sut=url, sut_command=None), out),
    )


def with_launched_sut(command: str, sut: str | None, body: Callable[[str], int]) -> int:
    """Start ``command`` (:func:`conformance.drivers.launch.launched_sut`), give ``body`` its
    URL (or ``sut``'s, see :func:`launch_target`) and stop it; ``body``'s exit code, else 2 for
    a ``--sut`` that is no URL and 4 when the command cannot serve (the reason on stderr)."""
    from conformance.drivers.launch import LaunchError, launched_sut

    try:
        target = launch_target(sut)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_COMMAND_LINE
    try:
        with launched_sut(command, sut=target) as url:
            return body(url)
    except LaunchError as exc:
        print(f"bbdc-sim conform: {exc}", file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)


def main(argv: Sequence[str]) -> int:
    """``python -m conformance.runner``: the same as ``bbdc-sim conform``."""
    from conformance.cli import main as cli_main

    return cli_main(["conform", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
