"""Below Bitbucket 7.21 the OAuth 2 provider does not exist: every path answers 404 and
issued tokens stop authenticating."""

from __future__ import annotations

import pytest

from simulator.app import create_app
from simulator.keys import store_key
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, ClientFactory, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import (
    authorize,
    authorize_params,
    make_link,
    obtain_tokens,
    whoami,
)

PATHS = [
    ("GET", "/rest/oauth2/latest/authorize"),
    ("GET", "/rest/oauth2/1.0/authorize"),
    ("POST", "/rest/oauth2/latest/authorize"),
    ("POST", "/rest/oauth2/1.0/authorize"),
    ("GET", "/plugins/servlet/oauth2/consent"),
    ("GET", "/plugins/servlet/oauth2/error"),
    ("POST", "/rest/oauth2/latest/token"),
    ("POST", "/rest/oauth2/1.0/token"),
    ("POST", "/rest/oauth2/latest/revoke"),
    ("POST", "/rest/oauth2/1.0/revoke"),
    ("POST", "/rest/oauth2/latest/revoke/some-id"),
    ("POST", "/rest/oauth2/latest/token/jwt/reset"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_every_oauth2_path_is_404_below_7_21(
    client: Client, store: Store, method: str, path: str
) -> None:
    link = make_link(store)
    store.config.patch({"version": "7.20.0"})
    response = await client.request(
        method,
        path,
        params=authorize_params(link),
        data={"grant_type": "refresh_token"} if method == "POST" else None,
        headers=basic("admin"),
        allow_redirects=False,
    )
    assert response.status == 404
    validate(await response.json(), "error.json")


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_every_oauth2_path_is_404_below_7_21_under_a_context_path(
    aiohttp_client: ClientFactory, method: str, path: str
) -> None:
    settings = Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")
    client = await aiohttp_client(create_app(settings))
    assert client.app is not None
    client.app[store_key].config.patch({"version": "7.20.0"})
    response = await client.request(method, "/bitbucket" + path, allow_redirects=False)
    assert response.status == 404


async def test_oauth2_exists_from_7_21(client: Client, store: Store) -> None:
    store.config.patch({"version": "7.21.0"})
    link = make_link(store)
    await authorize(client, authorize_params(link))


async def test_tokens_stop_authenticating_below_7_21(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    store.config.patch({"version": "7.20.0"})
    assert await whoami(client, tokens["access_token"]) is None
    store.config.patch({"version": "7.21.0"})
    assert await whoami(client, tokens["access_token"]) == "alice"
