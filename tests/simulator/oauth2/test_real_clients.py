"""Clients written by others, unchanged, against a served simulator: requests-oauthlib's
OAuth2Session logs in with PKCE and refreshes; its default (HTTP Basic client auth) fails
exactly as it would against real Bitbucket, which reads client credentials from the body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from simulator.settings import Settings
from simulator.testing import SimulatorServer

CALLBACK = "http://127.0.0.1:9/oauth/login/check-custom/acme"  # never contacted


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib insists on https; the simulator serves plain HTTP on loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def link(server: SimulatorServer) -> dict[str, Any]:
    server.store.reset()
    response = requests.post(
        server.base_url + "/_sim/applinks",
        json={"type": "oauth2", "name": "Packagist", "redirect_urls": [CALLBACK]},
        timeout=10,
    )
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


def consent_as(server: SimulatorServer, username: str, authorization_url: str) -> str:
    """Play the user's browser: log in, open the consent page, click Allow; the callback URL."""
    browser = requests.Session()
    login = browser.post(
        server.base_url + "/j_atl_security_check",
        data={"j_username": username, "j_password": username},
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302
    page = browser.get(authorization_url, timeout=10)  # 303 to consent, followed
    assert page.status_code == 200
    assert "/plugins/servlet/oauth2/consent" in page.url
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert fields["atl_token"]
    decision = browser.post(
        server.base_url + "/rest/oauth2/latest/authorize",
        data={**{k: _unescape(v) for k, v in fields.items()}, "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert decision.status_code == 303
    return decision.headers["Location"]


def _unescape(value: str) -> str:
    return value.replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


def test_oauth2session_logs_in_with_pkce_and_refreshes(
    server: SimulatorServer, link: dict[str, Any]
) -> None:
    oauth = OAuth2Session(
        link["client_id"], redirect_uri=CALLBACK, scope=["REPO_READ"], pkce="S256"
    )
    url, state = oauth.authorization_url(server.base_url + "/rest/oauth2/latest/authorize")
    callback = consent_as(server, "alice", url)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    token = oauth.fetch_token(
        server.base_url + "/rest/oauth2/latest/token",
        authorization_response=callback,
        client_secret=link["client_secret"],
        include_client_id=True,  # credentials in the body, as Bitbucket requires
    )
    assert token["token_type"] == "bearer"
    assert token["scope"] == ["REPO_READ"]
    me = oauth.get(server.base_url + "/rest/api/1.0/application-properties", timeout=10)
    assert me.headers["X-AUSERNAME"] == "alice"
    refreshed = oauth.refresh_token(
        server.base_url + "/rest/oauth2/latest/token",
        client_id=link["client_id"],
        client_secret=link["client_secret"],
        include_client_id=True,
    )
    assert refreshed["access_token"] != token["access_token"]
    journal = requests.get(
        server.base_url + "/_sim/journal",
        params={"path_prefix": "/rest/oauth2/latest/token"},
        timeout=10,
    ).json()
    grants = [entry["extra"].get("grant_type") for entry in journal["entries"]]
    assert grants == ["authorization_code", "refresh_token"]
    assert all(entry["form"]["client_secret"] == "<redacted>" for entry in journal["entries"])


def test_oauth2session_default_basic_client_auth_fails_as_on_bitbucket(
    server: SimulatorServer, link: dict[str, Any]
) -> None:
    oauth = OAuth2Session(link["client_id"], redirect_uri=CALLBACK, scope=["REPO_READ"])
    url, _ = oauth.authorization_url(server.base_url + "/rest/oauth2/latest/authorize")
    callback = consent_as(server, "alice", url)
    with pytest.raises(OAuth2Error) as caught:
        oauth.fetch_token(
            server.base_url + "/rest/oauth2/latest/token",
            authorization_response=callback,
            client_secret=link["client_secret"],
        )
    assert caught.value.error in ("invalid_request", "invalid_client")


def test_the_basic_setting_lets_the_default_client_through(
    server: SimulatorServer, link: dict[str, Any]
) -> None:
    server.store.config.patch({"oauth2": {"accept_basic_client_auth": True}})
    oauth = OAuth2Session(link["client_id"], redirect_uri=CALLBACK, scope=["REPO_READ"])
    url, _ = oauth.authorization_url(server.base_url + "/rest/oauth2/latest/authorize")
    callback = consent_as(server, "bob", url)
    token = oauth.fetch_token(
        server.base_url + "/rest/oauth2/latest/token",
        authorization_response=callback,
        client_secret=link["client_secret"],
    )
    me = oauth.get(server.base_url + "/plugins/servlet/applinks/whoami", timeout=10)
    assert me.text == "bob"
    assert token["expires_in"] == 3600
