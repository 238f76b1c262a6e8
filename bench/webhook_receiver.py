"""The webhook benchmark's receiver: a bare aiohttp app that reads every ``POST`` body and
answers 204. Run as a subprocess: ``python -m bench.webhook_receiver --port 0`` prints one
ready line, ``webhook-receiver ready at http://127.0.0.1:<port>``. ``GET /count`` answers how
many bodies it has read (so the benchmark can check that nothing was lost). It imports
nothing from the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence

from aiohttp import web

from bench.baseline_app import serve_app


def create_app() -> web.Application:
    """The receiver: ``POST /hook/{name}`` reads and counts; ``GET /count`` reports."""
    received = [0]

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        received[0] += 1
        return web.Response(status=204)

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"received": received[0]})

    app = web.Application()
    app.router.add_post("/hook/{name}", hook)
    app.router.add_get("/count", count)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_app(create_app(), args.host, args.port, "webhook-receiver"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
