"""The baseline: a bare aiohttp app serving the application-properties JSON and a health check.

Run as a subprocess: ``python bench/baseline_app.py --port 0`` prints one ready line,
``baseline <aiohttp version> ready at http://127.0.0.1:<port>``, the way ``bbdc-sim serve``
does. It imports nothing from the simulator, so its start-up is aiohttp's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Sequence

import aiohttp
from aiohttp import web

#: What application-properties answers unless ``--body`` gives the simulator's own bytes.
DEFAULT_BODY = json.dumps(
    {
        "version": "9.4.16",
        "buildNumber": "9004016",
        "buildDate": "1730000000000",
        "displayName": "Bitbucket",
    },
    separators=(",", ":"),
)
CONTENT_TYPE = "application/json;charset=UTF-8"


def create_app(body: bytes) -> web.Application:
    """The bare app: one handler per path, a prebuilt body, no middleware."""

    async def get_application_properties(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def get_health(request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/rest/api/1.0/application-properties", get_application_properties)
    app.router.add_get("/rest/api/latest/application-properties", get_application_properties)
    app.router.add_get("/_sim/health", get_health)
    return app


async def serve(host: str, port: int, body: bytes) -> None:
    """Serve until cancelled, printing one ready line with the URL."""
    await serve_app(create_app(body), host, port, f"baseline aiohttp-{aiohttp.__version__}")


async def serve_app(app: web.Application, host: str, port: int, name: str) -> None:
    """Serve ``app`` until cancelled, printing ``<name> ready at <url>`` once bound."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    print(f"{name} ready at http://{host}:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--body", default=DEFAULT_BODY, help="JSON for application-properties")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.body.encode()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
