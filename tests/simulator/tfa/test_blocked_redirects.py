"""Clients that follow redirects (aiohttp's and requests' defaults, as node's fetch) reach a
final answer naming the two-factor plugin within a few hops when the plugin blocks their
OAuth 2 Bearer token or OAuth 1 signature, at every ``blocked_response``: the page a blocked
request is sent to is never itself blocked (it used to redirect a Bearer request to itself,
and an OAuth 1 signature resent there no longer matches its URL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiohttp
import pytest
import requests
from requests_oauthlib import OAuth1Session, OAuth2Session

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.simulator.oauth1.signing import (
    CONSUMER_KEY,
    KeyPair,
    make_key_pair,
    self_signed_certificate,
)
from tests.simulator.oauth1.test_real_clients import dance
from tests.simulator.oauth2.test_real_clients import CALLBACK, consent_as

#: A page (the user's profile), an applinks servlet, and a REST resource.
PATHS = ("/projects/PKG", "/plugins/servlet/applinks/whoami", "/rest/api/1.0/repos")
MODES = ("redirect", "401", "403")
#: At most one redirect (to the blocked page), then the answer.
MAX_HOPS = 1
NAMES_THE_PLUGIN = "Two-factor authentication is required"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair()


@pytest.fixture(autouse=True)
def plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib insists on https; the simulator serves plain HTTP on loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def block(server: SimulatorServer, mode: str) -> None:
    """Install the plugin for everyone, OAuth whitelist off, blocked requests answered so."""
    response = requests.patch(
        server.base_url + "/_sim/config",
        json={
            "tfa": {
                "installed": True,
                "enforce": "all",
                "oauth_whitelist": False,
                "blocked_response": mode,
            }
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text


def oauth2_token(server: SimulatorServer) -> str:
    """An access token of alice, obtained before the plugin is installed."""
    server.store.reset()
    link = requests.post(
        server.base_url + "/_sim/applinks",
        json={"type": "oauth2", "name": "Packagist", "redirect_urls": [CALLBACK]},
        timeout=10,
    ).json()
    oauth = OAuth2Session(link["client_id"], redirect_uri=CALLBACK, scope=["REPO_READ"])
    url, _ = oauth.authorization_url(server.base_url + "/rest/oauth2/latest/authorize")
    token = oauth.fetch_token(
        server.base_url + "/rest/oauth2/latest/token",
        authorization_response=consent_as(server, "alice", url),
        client_secret=link["client_secret"],
        include_client_id=True,
    )
    return str(token["access_token"])


def oauth1_session(server: SimulatorServer, keys: KeyPair) -> OAuth1Session:
    """alice's signed session, from the whole OAuth 1 dance before the plugin is installed."""
    server.store.reset()
    response = requests.post(
        server.base_url + "/_sim/applinks",
        json={
            "type": "oauth1",
            "name": "Packagist",
            "consumer_key": CONSUMER_KEY,
            "public_key": self_signed_certificate(keys),
            "callback_url": None,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    oauth, _ = dance(server, keys)
    return oauth


def assert_final(status: int, hops: int, text: str, what: str) -> None:
    assert hops <= MAX_HOPS, f"{what}: {hops} redirects"
    assert status in (200, 401, 403), f"{what}: {status} {text[:200]}"
    assert NAMES_THE_PLUGIN in text, f"{what}: {status} {text[:200]}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_requests_with_a_bearer_token_ends_on_an_answer_naming_the_plugin(
    server: SimulatorServer, mode: str, path: str
) -> None:
    token = oauth2_token(server)
    block(server, mode)
    client = requests.Session()
    client.max_redirects = 5
    answer = client.get(
        server.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert_final(answer.status_code, len(answer.history), answer.text, f"{mode} {path}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_aiohttp_with_a_bearer_token_ends_on_an_answer_naming_the_plugin(
    server: SimulatorServer, mode: str, path: str
) -> None:
    token = oauth2_token(server)
    block(server, mode)

    async def fetch() -> tuple[int, int, str]:
        async with (
            aiohttp.ClientSession() as client,
            client.get(
                server.base_url + path,
                headers={"Authorization": f"Bearer {token}"},
                max_redirects=5,
            ) as answer,
        ):
            return answer.status, len(answer.history), await answer.text()

    status, hops, text = asyncio.run(fetch())
    assert_final(status, hops, text, f"{mode} {path}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_an_oauth1_signed_call_ends_on_an_answer_naming_the_plugin(
    server: SimulatorServer, keys: KeyPair, mode: str, path: str
) -> None:
    """requests-oauthlib resends its signature (made for the first URL) to the redirect's
    target, where it no longer matches: the blocked page must not check it."""
    oauth = oauth1_session(server, keys)
    block(server, mode)
    oauth.max_redirects = 5
    answer = oauth.get(server.base_url + path, timeout=10)
    assert_final(answer.status_code, len(answer.history), answer.text, f"{mode} {path}")


def test_the_blocked_page_answers_any_credential_without_redirecting(
    server: SimulatorServer,
) -> None:
    token = oauth2_token(server)
    block(server, "redirect")
    for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": "OAuth bogus"}, {}):
        answer = requests.get(
            server.base_url + "/plugins/servlet/tfa/blocked",
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 200, headers
        assert NAMES_THE_PLUGIN in answer.text
        assert "X-AUSERNAME" not in answer.headers
