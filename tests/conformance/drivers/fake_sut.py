"""A small implementation of the driver protocol for testing the HTTP driver.

:class:`FakeSut` answers every endpoint correctly from memory and checks the requests it gets
against the request schemas; ``overrides`` replace the answer of one endpoint with anything
(HTML, wrong JSON, wrong status). :func:`serve` runs it on 127.0.0.1, port 0, in a thread.
Raw sockets stand in for implementations that refuse, stay silent or do not speak HTTP.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from jsonschema import ValidationError

from tests.schemas import validate

SESSION_COOKIE = "sid"
ALICE_SESSION = "alice-session"
COMMIT = "6a1f0c3e9b2d4f7081a5c6e3d2b1f0a9e8c7d6b5"
#: ``GET /packages`` once synchronised: a tag with a dist, a branch without.
PACKAGES: dict[str, Any] = {
    "pkg/core": [
        {
            "name": "pkg/core",
            "version": "v1.0.0",
            "version_normalized": "1.0.0.0",
            "source": {"type": "git", "url": "http://bb/scm/pkg/core.git", "reference": COMMIT},
            "dist": {"type": "zip", "url": "http://sut/dist/core.zip", "reference": COMMIT},
            "require": {"php": ">=8.1"},
        },
        {
            "name": "pkg/core",
            "version": "dev-main",
            "source": {"type": "git", "url": "http://bb/scm/pkg/core.git", "reference": COMMIT},
        },
    ]
}


@dataclass(frozen=True)
class Reply:
    """One canned answer."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, body: object) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(body).encode())


@dataclass(frozen=True)
class Received:
    """One request the fake got."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeSut:
    """A correct, in-memory implementation of the driver protocol."""

    def __init__(self) -> None:
        self.base_url = ""
        self.overrides: dict[tuple[str, str], Reply] = {}
        self.received: list[Received] = []
        self.request_errors: list[str] = []
        self.integrations: dict[str, dict[str, Any]] = {}
        self.synchronised = False
        self.code_credentials: list[tuple[str, str]] = []

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        """The reply to one request (after the path prefix is stripped)."""
        body = json.loads(raw) if raw else None
        self.received.append(Received(method, path, headers, body))
        if (method, path) in self.overrides:
            return self.overrides[(method, path)]
        try:
            return self._protocol(method, path, headers, body)
        except ValidationError as exc:
            self.request_errors.append(f"{method} {path}: {exc.message}")
            return json_reply(400, {"error": exc.message})

    def _protocol(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        user = self._user(headers.get("cookie", ""))
        if (method, path) == ("GET", "/capabilities"):
            return json_reply(
                200,
                {"protocol": 1, "name": "fake", "oauth_versions": [1, 2], "repositories": True},
            )
        if (method, path) == ("POST", "/reset"):
            self.integrations.clear()
            return Reply(204, content_type=None)
        if (method, path) == ("POST", "/integrations"):
            return self._create(validate(body, "driver/create-integration-request.json"))
        if method == "POST" and path.startswith("/integrations/") and path.endswith("/submit"):
            integration_id = unquote(path.removeprefix("/integrations/").removesuffix("/submit"))
            return self._submit(integration_id, validate(body, "driver/submit-request.json"))
        if (method, path) == ("GET", "/integrations"):
            return json_reply(200, list(self.integrations.values()))
        if (method, path) == ("GET", "/session"):
            return json_reply(
                200, {"authenticated": user is not None, "username": user, "error": None}
            )
        if (method, path) == ("GET", "/repositories"):
            rows = [
                {"project": "PKG", "slug": "core", "has_composer_json": True},
                {"project": "~ALICE", "slug": "notes", "has_composer_json": False},
            ]
            if user is None:
                return json_reply(401, {"error": "You are not logged in."})
            return json_reply(200, rows)
        if (method, path) == ("GET", "/packages"):
            if user is None:
                return json_reply(401, {"error": "You are not logged in."})
            return json_reply(200, {"packages": PACKAGES if self.synchronised else {}})
        if (method, path) == ("POST", "/packages/sync"):
            if user is None:
                return json_reply(401, {"error": "You are not logged in."})
            self.synchronised = True
            return Reply(204, content_type=None)
        if (method, path) == ("POST", "/code-credentials"):
            request = validate(body, "driver/code-credentials-request.json")
            self.code_credentials.append((request["username"], request["token"]))
            return Reply(204, content_type=None)
        return json_reply(404, {"error": f"no such endpoint: {method} {path}"})

    def _create(self, request: dict[str, Any]) -> Reply:
        integration_id = f"int-{len(self.integrations) + 1}"
        self.integrations[integration_id] = {
            "id": integration_id,
            "platform": request["platform"],
            "base_url": request["base_url"],
            "oauth_version": request["oauth_version"],
            "login_link": f"{self.base_url}/login/acme/{integration_id}",
        }
        created: dict[str, Any] = {
            "id": integration_id,
            "setup_link": request["base_url"] + "/plugins/servlet/applinks/listApplicationLinks",
            "callback_urls": [f"{self.base_url}/oauth2/callback"],
            "client_id": "",
            "client_secret": "",
            "messages": [],
        }
        if request["oauth_version"] == 1:
            created |= {
                "consumer_key": "packagist-acme",
                "public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
                "application_url": self.base_url,
            }
        return json_reply(201, created)

    def _submit(self, integration_id: str, request: dict[str, Any]) -> Reply:
        if integration_id not in self.integrations:
            return json_reply(404, {"error": f"no integration {integration_id}"})
        if request["client_secret"] == "wrong":
            return json_reply(422, {"error": "Bitbucket rejected the Client ID and secret"})
        return json_reply(200, {"redirect_to": f"{self.base_url}/integrations"})

    @staticmethod
    def _user(cookie_header: str) -> str | None:
        cookies = dict(
            part.strip().split("=", 1) for part in cookie_header.split(";") if "=" in part
        )
        return "alice" if cookies.get(SESSION_COOKIE) == ALICE_SESSION else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _dispatch(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        prefix = self.server.prefix
        if not self.path.startswith(prefix + "/"):
            reply = json_reply(404, {"error": "outside the prefix"})
        else:
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = self.server.fake.answer(self.command, self.path[len(prefix) :], headers, raw)
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.status != 204:
            self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSut, prefix: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.prefix = prefix


@dataclass(frozen=True)
class Running:
    """A fake serving on 127.0.0.1."""

    fake: FakeSut
    base_url: str


@contextmanager
def serve(prefix: str = "") -> Iterator[Running]:
    """Serve a :class:`FakeSut` under ``http://127.0.0.1:<port><prefix>``."""
    fake = FakeSut()
    server = _Server(fake, prefix)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Running(fake, fake.base_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@contextmanager
def raw_server(answer: bytes) -> Iterator[int]:
    """A port that answers the first connection with ``answer`` (not HTTP) and closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def serve_one() -> None:
        with suppress(OSError):
            connection, _ = sock.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        thread.join(timeout=5)
