"""requests-oauthlib's ``OAuth1Session``, unchanged, against a served simulator: the whole
OAuth 1.0a dance with RSA-SHA1 in the Authorization header, the user's part played over HTTP
by a ``requests.Session`` (log in, open the Allow/Deny page, press Allow)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_RSA, SIGNATURE_TYPE_AUTH_HEADER
from requests_oauthlib import OAuth1Session

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.schemas import validate
from tests.simulator.oauth1.signing import (
    ACCESS_TOKEN,
    AUTHORIZE,
    CONSUMER_KEY,
    REQUEST_TOKEN,
    KeyPair,
)

CALLBACK = "http://127.0.0.1:9/oauth1/callback"  # never contacted
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture
def link(server: SimulatorServer, keys: KeyPair, certificate: str) -> dict[str, Any]:
    """A fresh simulator with an OAuth 1 link whose public key is a self-signed certificate."""
    server.store.reset()
    response = requests.post(
        server.base_url + "/_sim/applinks",
        json={
            "type": "oauth1",
            "name": "Packagist",
            "consumer_key": CONSUMER_KEY,
            "public_key": certificate,
            "callback_url": None,
            "impersonation": True,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def session(keys: KeyPair, **options: Any) -> OAuth1Session:
    """An RSA-SHA1 consumer signing in the Authorization header."""
    return OAuth1Session(
        CONSUMER_KEY,
        signature_method=SIGNATURE_RSA,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        rsa_key=keys.private_pem,
        **options,
    )


def approve_as(server: SimulatorServer, username: str, authorization_url: str) -> str:
    """Play the user's browser: sent to log in, log in, Allow; the callback URL (not followed)."""
    browser = requests.Session()
    first = browser.get(authorization_url, allow_redirects=False, timeout=10)
    assert first.status_code == 302
    assert first.headers["Location"].startswith(server.base_url + "/login?next=")
    login_page = browser.get(first.headers["Location"], timeout=10)
    next_path = html.unescape(re.findall(r'name="next" value="([^"]*)"', login_page.text)[0])
    page = browser.post(
        server.base_url + "/j_atl_security_check",
        data={"j_username": username, "j_password": username, "next": next_path},
        timeout=10,
    )  # 302 back to the Allow/Deny page, followed
    assert page.status_code == 200
    assert page.url.startswith(server.base_url + AUTHORIZE)
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    assert fields["atl_token"]
    decision = browser.post(
        server.base_url + AUTHORIZE,
        data={**fields, "approve": "Allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert decision.status_code == 302
    return decision.headers["Location"]


def dance(server: SimulatorServer, keys: KeyPair) -> tuple[OAuth1Session, dict[str, str]]:
    """Request token, the user's approval, access token: the session and the token answer."""
    oauth = session(keys, callback_uri=CALLBACK)
    temporary = oauth.fetch_request_token(server.base_url + REQUEST_TOKEN)
    assert temporary["oauth_callback_confirmed"] == "true"
    url = oauth.authorization_url(server.base_url + AUTHORIZE)
    callback = approve_as(server, "alice", url)
    assert callback.startswith(CALLBACK + "?oauth_token=")
    oauth.parse_authorization_response(callback)
    tokens: dict[str, str] = oauth.fetch_access_token(server.base_url + ACCESS_TOKEN)
    return oauth, tokens


def test_oauth1session_completes_the_dance(
    server: SimulatorServer, link: dict[str, Any], keys: KeyPair
) -> None:
    _, tokens = dance(server, keys)
    assert tokens["oauth_expires_in"] == "157680000"
    assert tokens["oauth_authorization_expires_in"] == "160272000"
    stored = server.store.oauth1.access_tokens[tokens["oauth_token"]]
    assert stored.user_id == server.store.catalog.users_by_name["alice"].id


def test_oauth1session_gets_the_problem_for_an_unknown_consumer(
    server: SimulatorServer, link: dict[str, Any], other_keys: KeyPair
) -> None:
    oauth = OAuth1Session(
        "unknown-consumer",
        signature_method=SIGNATURE_RSA,
        rsa_key=other_keys.private_pem,
        callback_uri=CALLBACK,
    )
    with pytest.raises(ValueError, match="consumer_key_unknown"):
        oauth.fetch_request_token(server.base_url + REQUEST_TOKEN)


def test_oauth1session_makes_a_signed_rest_call(
    server: SimulatorServer, link: dict[str, Any], keys: KeyPair
) -> None:
    oauth, _ = dance(server, keys)
    response = oauth.get(server.base_url + "/rest/api/1.0/users/alice", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["X-AUSERNAME"] == "alice"
    validate(response.json(), "user.json")


def test_two_legged_session_impersonates_a_user(
    server: SimulatorServer, link: dict[str, Any], keys: KeyPair
) -> None:
    response = session(keys).get(
        server.base_url + "/rest/api/1.0/users/bob", params={"user_id": "bob"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-AUSERNAME"] == "bob"
