"""The ``bbdc-sim`` command: ``serve`` (and, later, ``conform``, ``steps``, ``reference``)."""

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
    return parser


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
    args = build_parser().parse_args(argv)
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
