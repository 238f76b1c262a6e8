"""A webhook receiver on 127.0.0.1 (in the test's loop, or in a thread of its own), and the
paths and credentials the webhook tests share."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from simulator.model import Repository
from simulator.store import Store
from simulator.threaded import ThreadedAppServer
from tests.conftest import Client

API = "/rest/api/1.0"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes


@dataclass
class Inbox:
    """What a receiver got, and what it answers."""

    status: int = 200
    answer: str = "thanks"
    #: Where it listens: ``http://127.0.0.1:<port>``.
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        """A URL on the receiver."""
        return self.base_url + path

    def take(self) -> list[Received]:
        """Everything received so far."""
        with self.lock:
            return list(self.received)


def receiver_app(inbox: Inbox) -> web.Application:
    """An app that records every request and answers ``inbox.status``."""

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        with inbox.lock:
            inbox.received.append(
                Received(request.method, request.path_qs, CIMultiDict(request.headers), body)
            )
        return web.Response(status=inbox.status, text=inbox.answer)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receive)
    return app


class ThreadedReceiver(ThreadedAppServer):
    """A receiver in a thread of its own (for a simulator in another thread)."""

    label = "receiver"

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 0)
        self.inbox = Inbox()

    def make_app(self) -> web.Application:
        """The recording app."""
        return receiver_app(self.inbox)

    def bound(self, port: int) -> None:
        """Where the receiver listens, now that it is known."""
        self.inbox.base_url = f"http://127.0.0.1:{port}"


def pkg_repo(store: Store, index: int = 0) -> Repository:
    """A repository of PKG (alice administers the project; bob reads the first one)."""
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])[index]


def repo_hooks(repo: Repository, prefix: str = API) -> str:
    """A repository's webhooks."""
    return f"{prefix}/projects/{repo.project.key}/repos/{repo.slug}/webhooks"


def project_hooks(key: str, prefix: str = API) -> str:
    """A project's webhooks."""
    return f"{prefix}/projects/{key}/webhooks"


def hook_body(url: str, **fields: Any) -> dict[str, Any]:
    """A valid create body for ``url``."""
    return {"name": "Packagist", "url": url, "events": ["repo:refs_changed"], **fields}


async def settle(client: Client) -> dict[str, Any]:
    """Wait for the deliveries in flight (never a sleep)."""
    answer = await client.post("/_sim/webhooks/settle", json={"timeout_seconds": 10})
    assert answer.status == 200, await answer.text()
    body: dict[str, Any] = await answer.json()
    assert body["settled"], body
    return body


async def deliveries(client: Client, **query: str) -> list[dict[str, Any]]:
    """The deliveries logged."""
    answer = await client.get("/_sim/webhooks/deliveries", params=query)
    assert answer.status == 200, await answer.text()
    found: list[dict[str, Any]] = (await answer.json())["deliveries"]
    return found
