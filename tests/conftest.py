"""Shared fixtures: an in-process simulator app for async HTTP tests."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.keys import store_key
from simulator.settings import Settings
from simulator.store import Store

pytest_plugins = ["pytester"]

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[Client]]


def basic(username: str, password: str | None = None) -> dict[str, str]:
    """An Authorization header for HTTP Basic (password defaults to the username)."""
    raw = f"{username}:{username if password is None else password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
def settings() -> Settings:
    """Settings of the app under test; override per module to change them."""
    return Settings(port=0)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, settings: Settings) -> Client:
    """An HTTP client on a fresh simulator app."""
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def store(client: Client) -> Store:
    """The store behind ``client``."""
    app = client.app
    assert app is not None
    return app[store_key]
