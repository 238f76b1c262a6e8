"""A tiny OAuth 2 client callback: it records every query it receives and answers a small page.

    with CallbackReceiver() as receiver:
        redirect = receiver.url("/oauth/login/check-custom/bitbucketserver")
        ...  # a browser lands on ``redirect?code=...&state=...``
        receiver.hits  # [Hit(path="/oauth/login/check-custom/bitbucketserver", query={...})]

It serves plain HTTP on 127.0.0.1, on a free port, from a daemon thread.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import parse_qs, urlsplit

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Callback received</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>Callback received</h1>
<p id="callback-query">{query}</p>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the callback received: its path and its query (every value of each name)."""

    path: str
    query: dict[str, list[str]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: list[Hit] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        """Record the path and query, then answer the page."""
        parts = urlsplit(self.path)
        server = cast(_Server, self.server)
        with server.lock:
            server.hits.append(Hit(parts.path, parse_qs(parts.query, keep_blank_values=True)))
        body = PAGE.format(query=html.escape(parts.query)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class CallbackReceiver:
    """The callback server; usable as a context manager."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="oauth2-callback",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def hits(self) -> list[Hit]:
        """Every request received so far, oldest first."""
        with self._server.lock:
            return list(self._server.hits)

    def clear(self) -> None:
        """Forget the requests received so far."""
        with self._server.lock:
            self._server.hits.clear()

    def start(self) -> CallbackReceiver:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
