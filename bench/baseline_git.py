"""The git baseline: a bare aiohttp app that hands every request under ``/scm/`` to
``git http-backend`` on a folder of bare repositories, with no authentication or middleware.

Run as a subprocess: ``python -m bench.baseline_git --root DIR --port 0`` prints one ready
line, ``baseline-git ready at http://127.0.0.1:<port>``, the way ``bbdc-sim serve`` does. A
repository ``DIR/<name>.git`` is at ``/scm/x/<name>.git``. It imports nothing from the
simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bench.baseline_app import serve_app


def create_app(root: Path) -> web.Application:
    """The bare app: one handler, git http-backend as CGI."""

    async def backend(request: web.Request) -> web.Response:
        name = request.match_info["repo"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_PROJECT_ROOT=str(root),
            GIT_HTTP_EXPORT_ALL="1",
            PATH_INFO=f"/{name}/{request.match_info['tail']}",
            REQUEST_METHOD=request.method,
            QUERY_STRING=request.query_string,
            CONTENT_TYPE=request.headers.get("Content-Type", ""),
        )
        if "Git-Protocol" in request.headers:
            env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
        body = await request.read()
        env["CONTENT_LENGTH"] = str(len(body))
        process = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers[key.strip()] = value.strip()
        return web.Response(status=status, body=payload, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/scm/{project}/{repo}/{tail:.+}", backend)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_app(create_app(args.root), args.host, args.port, "baseline-git"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
