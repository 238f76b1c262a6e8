"""``bbdc-sim serve`` (also ``python -m simulator``): run the simulated Bitbucket Data Center.

Every flag has a ``BBDC_SIM_*`` variable (``--base-url``: ``BBDC_SIM_BASE_URL``); a flag wins
over its variable. Bad input is one line on stderr and a non-zero exit, never a traceback.
Exit codes: 0 stopped by SIGTERM or SIGINT (after the requests in flight, within
:data:`GRACE_SECONDS`); 2 a bad command line, setting or variable; 3 the address cannot be
bound (a busy port, no permission). The simulator never imports the conformance harness:
``bbdc-sim`` (:mod:`conformance.cli`) dispatches ``serve`` here.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Final

from aiohttp import web

from simulator import __version__, network
from simulator.app import create_app
from simulator.logredact import install as install_redaction
from simulator.persistence import StateFileError
from simulator.settings import DATASETS, ENV_PREFIX, Settings, SettingsError
from simulator.store import Store
from simulator.testing import bound_base_url, tls_files
from simulator.tls import server_context

EXIT_OK: Final = 0
EXIT_USAGE: Final = 2
EXIT_CANNOT_BIND: Final = 3
#: How long a stopping server lets the requests in flight finish.
GRACE_SECONDS: Final = 5.0
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: ``serve``'s flags that are not settings, with their variables.
COMMAND_VARIABLES: Final = (ENV_PREFIX + "LOG_LEVEL", ENV_PREFIX + "ACCESS_LOG")
#: One line per request: the client, the request line (secrets redacted), status, size, time.
ACCESS_LOG_FORMAT: Final = '%a "%r" %s %b %Tfs'


def log_level(text: str) -> str:
    """``--log-level``: a Python log level name, any case."""
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level ({', '.join(LOG_LEVELS).lower()})"
        )
    return level


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """``serve``'s flags; each setting's default comes from its ``BBDC_SIM_*`` variable."""
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", help="port to bind; 0 picks a free one (default 7990)")
    serve.add_argument("--base-url", help="public base URL, may carry a context path")
    serve.add_argument("--bitbucket-version", help="version to report, e.g. 8.19.1")
    serve.add_argument("--seed", help="dataset seed (default 1)")
    serve.add_argument("--dataset", choices=DATASETS, help="dataset size (default small)")
    serve.add_argument("--users", help="explicit number of users")
    serve.add_argument("--projects", help="explicit number of projects")
    serve.add_argument("--repos", help="explicit number of repositories")
    serve.add_argument("--control-token", help="token the control API requires off loopback")
    serve.add_argument(
        "--control-hosts",
        metavar="NAMES",
        help="more host names the control API answers to, comma-separated (containers)",
    )
    serve.add_argument("--journal-size", help="exchanges the journal keeps (default 1000)")
    serve.add_argument("--max-page-limit", help="the cap on a page's limit (default 1000)")
    serve.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep links, tokens, sessions, configuration, clock and 2FA enrolments in this "
        "SQLite file across restarts",
    )
    serve.add_argument(
        "--connection-timeout",
        metavar="SECONDS",
        help="close a connection without a complete request after this long (default 20)",
    )
    serve.add_argument(
        "--tls",
        action="store_const",
        const="true",
        help="serve HTTPS with a certificate made at start; the ready line names its CA",
    )
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    serve.add_argument("--tls-key", metavar="PEM", help="the key of --tls-cert")
    serve.add_argument("--tls-dir", metavar="DIR", help="where --tls writes its CA and key")
    serve.add_argument(
        "--webhook-remote-targets",
        action="store_const",
        const="true",
        help="let webhooks deliver beyond loopback (by default only to 127.0.0.1, ::1, localhost)",
    )
    serve.add_argument(
        "--webhook-timeout",
        metavar="SECONDS",
        help="how long a webhook delivery may take (default 10)",
    )
    serve.add_argument(
        "--log-level",
        type=log_level,
        default=None,
        help="debug, info, warning (default), error or critical",
    )
    serve.add_argument(
        "--access-log",
        action="store_const",
        const=True,
        default=None,
        help="print one line per request on stderr (secrets redacted)",
    )


SETTING_FLAGS: Final = (
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
    "control_hosts",
    "journal_size",
    "max_page_limit",
    "connection_timeout",
    "state_file",
    "tls",
    "tls_cert",
    "tls_key",
    "tls_dir",
    "webhook_remote_targets",
    "webhook_timeout",
)


def settings_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from parsed flags over the ``BBDC_SIM_*`` variables (``serve``'s own, and
    those of other commands, are left out)."""
    environ = os.environ if environ is None else environ
    settings_env = {
        key: value
        for key, value in environ.items()
        if key not in COMMAND_VARIABLES and not key.startswith(OTHER_COMMAND_PREFIXES)
    }
    explicit = {name: getattr(args, name, None) for name in SETTING_FLAGS}
    return Settings.from_sources(explicit, settings_env)


#: Variables of the other ``bbdc-sim`` commands (``BBDC_SIM_CONFORM_TAGS``), not settings.
OTHER_COMMAND_PREFIXES: Final = (ENV_PREFIX + "CONFORM_", ENV_PREFIX + "STEPS_")


def check_bind(settings: Settings) -> None:
    """Refuse to expose the control API beyond loopback without a token."""
    loopback = settings.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not settings.control_token:
        raise SettingsError(
            f"host: binding {settings.host} needs --control-token (BBDC_SIM_CONTROL_TOKEN) "
            "so that the control API is not open to the network"
        )


def bind_problem(exc: OSError, settings: Settings) -> str:
    """One line on why the address cannot be bound."""
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is in use (choose another with --port)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on {where}: permission denied (ports below 1024 need root)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: no such address on this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


async def serve(settings: Settings, access_log: bool = False) -> None:
    """Serve until SIGTERM or SIGINT, printing one ready line with the URL; then let the
    requests in flight finish (at most :data:`GRACE_SECONDS`)."""
    store = Store(settings)
    files = tls_files(settings)
    logger = logging.getLogger("aiohttp.access") if access_log else None
    runner = web.AppRunner(
        create_app(settings, store),
        access_log=logger,
        access_log_format=ACCESS_LOG_FORMAT,
        handle_signals=False,
        shutdown_timeout=GRACE_SECONDS,
        **network.runner_options(settings),
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    network.quiet_exhaustion(loop)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(
            runner,
            settings.host,
            settings.port,
            ssl_context=server_context(files) if files is not None else None,
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else settings.port
        store.base_url = bound_base_url(settings, port)
        ca = f" (its CA certificate: {files.ca})" if files is not None and files.ca else ""
        print(f"bbdc-sim {settings.bitbucket_version} ready at {store.base_url}{ca}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def run_serve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """``serve`` with parsed arguments: its exit code."""
    environ = os.environ if environ is None else environ
    level = args.log_level
    if level is None:
        raw = environ.get(ENV_PREFIX + "LOG_LEVEL")
        try:
            level = log_level(raw) if raw else "WARNING"
        except argparse.ArgumentTypeError as exc:
            print(f"bbdc-sim serve: BBDC_SIM_LOG_LEVEL: {exc}", file=sys.stderr)
            return EXIT_USAGE
    access_log = args.access_log
    if access_log is None:
        access_log = environ.get(ENV_PREFIX + "ACCESS_LOG", "").strip().lower() in (
            "1",
            "true",
            "yes",
            "on",
        )
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if access_log:
        logging.getLogger("aiohttp.access").setLevel(logging.INFO)
    install_redaction()
    try:
        settings = settings_from_args(args, environ)
        check_bind(settings)
    except SettingsError as exc:
        print(f"bbdc-sim serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(settings, access_log))
    except StateFileError as exc:
        print(f"bbdc-sim serve: --state-file {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"bbdc-sim serve: {bind_problem(exc, settings)}", file=sys.stderr)
        return EXIT_CANNOT_BIND
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return EXIT_OK
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """``python -m simulator [serve] [flags]``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Run the simulated Bitbucket Data Center (the same as bbdc-sim serve).",
    )
    parser.add_argument("--version", action="version", version=f"bbdc-sim {__version__}")
    add_serve_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulator``: ``serve`` (the word itself may be given first)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        arguments = arguments[1:]
    return run_serve(build_parser().parse_args(arguments))


if __name__ == "__main__":
    raise SystemExit(main())
