"""The two-factor plugin against OAuth 1: the authorize page, the access-token servlet and
signed REST calls are blocked unless "Enable OAuth whitelist" is on."""

from __future__ import annotations

import pytest

from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth1.signing import (
    ACCESS_TOKEN,
    AUTHORIZE,
    KeyPair,
    access_token,
    form_of,
    make_key_pair,
    make_link,
    problem_of,
    request_token,
    signed_headers,
    url_of,
    verifier_for,
)
from tests.simulator.oauth2.test_oauth2_flow import cookie, log_in
from tests.simulator.tfa.support import BLOCKED, configure, envelope, install, names_two_factor

ALICE = "/rest/api/1.0/users/alice"


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair()


async def signed_get(client: Client, keys: KeyPair, token: str, path: str = ALICE) -> int:
    headers = signed_headers(url_of(client, path), keys, method="GET", token=token)
    response = await client.get(path, headers=headers)
    return response.status


async def test_authorize_page_is_blocked_until_the_whitelist_is_on(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    token = (await request_token(client, keys))["oauth_token"]
    session_id = await log_in(client, store, "alice")  # before the plugin: no second factor
    await install(client)
    blocked = await client.get(
        AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id), allow_redirects=False
    )
    assert blocked.status == 302
    assert blocked.headers["Location"].endswith(BLOCKED)
    await configure(client, oauth_whitelist=True)
    page = await client.get(AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id))
    assert page.status == 200
    assert "Allow" in await page.text()


@pytest.mark.parametrize(("mode", "status"), [("redirect", 401), ("401", 401), ("403", 403)])
async def test_access_token_is_refused_with_permission_denied(
    client: Client, store: Store, keys: KeyPair, mode: str, status: int
) -> None:
    make_link(store, keys.public_pem)
    temporary = await request_token(client, keys)
    verifier = await verifier_for(client, store, temporary["oauth_token"])
    await install(client, blocked_response=mode)
    headers = signed_headers(
        url_of(client, ACCESS_TOKEN), keys, token=temporary["oauth_token"], verifier=verifier
    )
    response = await client.post(ACCESS_TOKEN, headers=headers)
    body = await problem_of(response, status, "permission_denied")
    assert "two-factor authentication" in body["oauth_problem_advice"].lower()
    await configure(client, oauth_whitelist=True)
    again = signed_headers(
        url_of(client, ACCESS_TOKEN), keys, token=temporary["oauth_token"], verifier=verifier
    )
    granted = await client.post(ACCESS_TOKEN, headers=again)
    assert granted.status == 200, await granted.text()
    assert form_of(await granted.text())["oauth_token"]


async def test_signed_rest_calls_follow_each_setting(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    token = (await access_token(client, store, keys))["oauth_token"]
    assert await signed_get(client, keys, token) == 200
    await install(client)
    headers = signed_headers(url_of(client, ALICE), keys, method="GET", token=token)
    blocked = await client.get(ALICE, headers=headers)
    assert names_two_factor(await envelope(blocked, 401))
    assert "X-AUSERNAME" not in blocked.headers
    await configure(client, oauth_whitelist=True)
    assert await signed_get(client, keys, token) == 200
    await configure(client, oauth_whitelist=False, ip_whitelist=["127.0.0.0/8"])
    assert await signed_get(client, keys, token) == 200
    await configure(client, ip_whitelist=[], enforce="groups", groups=["release-managers"])
    assert await signed_get(client, keys, token) == 200  # alice is not in that group
    await configure(client, enforce="all-except-groups", groups=["release-managers"])
    assert await signed_get(client, keys, token) == 401
    await configure(client, installed=False)
    assert await signed_get(client, keys, token) == 200
