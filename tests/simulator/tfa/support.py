"""Helpers of the two-factor plugin tests: configure the plugin, log in through it, read
its pages."""

from __future__ import annotations

from typing import Any

import pyotp
from aiohttp import ClientResponse

from simulator.store import SESSION_COOKIE, Store
from simulator.tfa.enrolment import PENDING_COOKIE
from tests.conftest import Client
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import parse_page

HTML = "text/html;charset=UTF-8"
ENROL = "/plugins/servlet/tfa/enrol"
VERIFY = "/plugins/servlet/tfa/verify"
BLOCKED = "/plugins/servlet/tfa/blocked"
ADMIN = "/plugins/servlet/tfa/admin"


async def configure(client: Client, **tfa: Any) -> dict[str, Any]:
    """PATCH the plugin's settings through the control API; return the new section."""
    response = await client.patch("/_sim/config", json={"tfa": tfa})
    assert response.status == 200, await response.text()
    body = validate(await response.json(), "tfa/config.json")
    section: dict[str, Any] = body["tfa"]
    return section


async def install(client: Client, **tfa: Any) -> dict[str, Any]:
    """Install the plugin (enforcement "all" unless given) with further settings."""
    return await configure(client, installed=True, **tfa)


def cookies_of(response: ClientResponse) -> dict[str, str]:
    """The cookies a response sets (name -> value)."""
    return {name: morsel.value for name, morsel in response.cookies.items()}


def cookie_header(**cookies: str) -> dict[str, str]:
    """A Cookie header with these cookies."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


async def password_login(
    client: Client,
    username: str,
    next_path: str | None = None,
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    """POST the login form (password = username); the cookie jar is cleared afterwards."""
    data = {"j_username": username, "j_password": username}
    if next_path is not None:
        data["next"] = next_path
    response = await client.post(
        "/j_atl_security_check", data=data, headers=headers, allow_redirects=False
    )
    client.session.cookie_jar.clear()  # every request names its cookies explicitly
    return response


def pending_id(response: ClientResponse) -> str:
    """The pending-login cookie a login answer set (and no session cookie)."""
    cookies = cookies_of(response)
    assert SESSION_COOKIE not in cookies
    return cookies[PENDING_COOKIE]


async def html_page(response: ClientResponse, status: int = 200) -> str:
    """An HTML answer's text, after checking status and content type."""
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Content-Type"] == HTML
    return text


async def enrol_form(client: Client, pending: str, prefix: str = "") -> tuple[str, dict[str, str]]:
    """Open the enrolment page: the secret shown on it and the form's hidden fields."""
    headers = cookie_header(**{PENDING_COOKIE: pending})
    response = await client.get(prefix + ENROL, headers=headers)
    page = parse_page(await html_page(response))
    secret = page.text.split("enter this key in the app by hand:")[1].split()[0]
    return secret, page.hidden()


async def submit_code(
    client: Client, path: str, pending: str, fields: dict[str, str], code: str
) -> ClientResponse:
    """POST a code to the enrolment or verification form."""
    return await client.post(
        path,
        data={**fields, "code": code},
        headers=cookie_header(**{PENDING_COOKIE: pending}),
        allow_redirects=False,
    )


def code_now(store: Store, secret: str) -> str:
    """The current TOTP code on the simulated clock."""
    return pyotp.TOTP(secret).at(store.clock.now())


async def enrol(client: Client, store: Store, username: str) -> tuple[str, str]:
    """A user's first 2FA login, completed: (their secret, the new session id)."""
    login = await password_login(client, username)
    assert login.headers["Location"] == store.base_url + ENROL
    pending = pending_id(login)
    secret, fields = await enrol_form(client, pending)
    done = await submit_code(client, ENROL, pending, fields, code_now(store, secret))
    assert done.status == 302, await done.text()
    return secret, cookies_of(done)[SESSION_COOKIE]


async def verify_form(client: Client, pending: str) -> dict[str, str]:
    """Open the verification page: the form's hidden fields."""
    response = await client.get(VERIFY, headers=cookie_header(**{PENDING_COOKIE: pending}))
    return parse_page(await html_page(response)).hidden()


async def envelope(response: ClientResponse, status: int) -> dict[str, Any]:
    """A REST error in Bitbucket's envelope, validated."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body: dict[str, Any] = validate(await response.json(), "error.json")
    return body


def names_two_factor(body: dict[str, Any]) -> bool:
    """Whether an envelope's message names two-factor authentication."""
    return "two-factor authentication" in body["errors"][0]["message"].lower()
