"""No secret reaches the log or the control API: every kind of secret, sent along every
route in every place a client puts one (query, form, ``Authorization``, ``Cookie``,
``Referer``), must appear in no log record and in no control-API answer."""

from __future__ import annotations

import base64
import logging
from urllib.parse import urlencode

import pytest

from tests.conftest import Client

#: One recognisable value per kind of secret.
SECRETS = {
    "password": "leak-password-5f1c",
    "client_secret": "leak-client-secret-77ab",
    "access_token": "leak-access-token-9e20",
    "refresh_token": "leak-refresh-token-3d4f",
    "personal_token": "leak-personal-token-c0de",
    "oauth_token": "leak-oauth1-token-a1b2",
    "oauth_verifier": "leak-oauth1-verifier-e5f6",
    "code": "leak-authorization-code-0042",
    "code_verifier": "leak-code-verifier-" + "v" * 30,
    "totp": "leak-totp-code-123456",
    "session": "leak-session-id-4242",
}
FIELDS = {
    "j_password": SECRETS["password"],
    "password": SECRETS["password"],
    "client_secret": SECRETS["client_secret"],
    "access_token": SECRETS["access_token"],
    "refresh_token": SECRETS["refresh_token"],
    "token": SECRETS["personal_token"],
    "oauth_token": SECRETS["oauth_token"],
    "oauth_verifier": SECRETS["oauth_verifier"],
    "code": SECRETS["code"],
    "code_verifier": SECRETS["code_verifier"],
    "otp": SECRETS["totp"],
}


def authorizations() -> list[str]:
    basic = base64.b64encode(f"alice:{SECRETS['password']}".encode()).decode()
    token = base64.b64encode(f"x-token-auth:{SECRETS['personal_token']}".encode()).decode()
    client = base64.b64encode(f"client:{SECRETS['client_secret']}".encode()).decode()
    return [
        f"Basic {basic}",
        f"Basic {token}",
        f"Basic {client}",
        f"Bearer {SECRETS['access_token']}",
        f'OAuth oauth_token="{SECRETS["oauth_token"]}", oauth_verifier="'
        f'{SECRETS["oauth_verifier"]}", oauth_signature="sig"',
    ]


def routes(client: Client) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, variable segments filled in."""
    app = client.app
    assert app is not None
    found: list[tuple[str, str]] = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None:
            continue
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        for name in ("projectKey", "repositorySlug", "userSlug", "slug", "key", "id", "tail"):
            path = path.replace("{" + name + "}", "x").replace("{" + name + ":.*}", "x")
        path = path.replace("{path:.+}", "composer.json")
        if "{" in path or path.startswith("/_sim"):
            continue
        found.append((route.method if route.method != "*" else "POST", path))
    return sorted(set(found))


@pytest.mark.parametrize("place", ["query", "form", "headers"])
async def test_no_secret_reaches_the_log_or_the_control_api(
    client: Client, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = 0
    for method, path in routes(client):
        for authorization in authorizations():
            headers = {
                "Authorization": authorization,
                "Cookie": f"BITBUCKETSESSIONID={SECRETS['session']}",
                "Referer": "http://x.example/cb?" + urlencode(FIELDS),
            }
            query = FIELDS if place == "query" else None
            data = urlencode(FIELDS) if place == "form" and method != "GET" else None
            if data is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            if place != "headers":
                headers = {"Authorization": authorization}
            response = await client.request(
                method, path, params=query, data=data, headers=headers, allow_redirects=False
            )
            await response.read()
            sent += 1
    assert sent > 100
    answers = []
    for path in ("/_sim/journal", "/_sim/config", "/_sim/faults", "/_sim/applinks"):
        response = await client.get(path)
        answers.append(await response.text())
    seen = "\n".join(answers) + "\n" + caplog.text
    leaked = {kind: value for kind, value in SECRETS.items() if value in seen}
    assert leaked == {}, leaked
