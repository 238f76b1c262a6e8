"""Bad input on the plugin's pages never gets a 500, and the whole 2FA login works under a
context path."""

from __future__ import annotations

import itertools

import pytest

from simulator.app import create_app
from simulator.keys import store_key
from simulator.settings import Settings
from simulator.store import SESSION_COOKIE, Store
from simulator.tfa.enrolment import PENDING_COOKIE
from tests.conftest import Client, ClientFactory, basic
from tests.simulator.tfa.support import (
    ADMIN,
    BLOCKED,
    ENROL,
    VERIFY,
    code_now,
    cookie_header,
    enrol_form,
    install,
    password_login,
    pending_id,
    submit_code,
)

CONTEXT_BASE = "http://127.0.0.1:7990/bitbucket"
BODIES: list[tuple[str, bytes]] = [
    ("application/x-www-form-urlencoded", b"code=%zz&atl_token=%ff&enforce=x"),
    ("application/x-www-form-urlencoded", b"code=" + b"9" * 5000),
    ("application/x-www-form-urlencoded", b"ip_whitelist=%00&groups=%ff%fe&enforce=groups"),
    ("application/json", b'{"code": "123456"}'),
    ("text/plain", b"\xff\xfe"),
    ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
]
HEADERS = [
    {},
    basic("admin"),
    {"Authorization": "Bearer a.b.c"},
    {"X-Forwarded-For": "::::, [, 10.0.0.1"},
    cookie_header(**{PENDING_COOKIE: "%00" * 40}),
    cookie_header(**{SESSION_COOKIE: "nonsense", PENDING_COOKIE: "x"}),
]


async def test_no_bad_request_to_the_plugin_pages_gets_a_500(client: Client) -> None:
    await install(client, trust_x_forwarded_for=True, ip_whitelist=["10.0.0.0/8"])
    pending = pending_id(await password_login(client, "alice"))
    every_headers = [*HEADERS, cookie_header(**{PENDING_COOKIE: pending})]
    for path, headers in itertools.product((ENROL, VERIFY, BLOCKED, ADMIN), every_headers):
        response = await client.get(path, headers=headers, allow_redirects=False)
        assert response.status < 500, (path, headers)
        for content_type, body in BODIES:
            response = await client.post(
                path,
                data=body,
                headers={**headers, "Content-Type": content_type},
                allow_redirects=False,
            )
            assert response.status < 500, (path, headers, body)


@pytest.fixture
async def context_client(aiohttp_client: ClientFactory) -> Client:
    """A simulator served under /bitbucket."""
    return await aiohttp_client(create_app(Settings(port=0, base_url=CONTEXT_BASE)))


async def test_two_factor_login_works_under_a_context_path(context_client: Client) -> None:
    assert context_client.app is not None
    store: Store = context_client.app[store_key]
    response = await context_client.patch(
        "/bitbucket/_sim/config", json={"tfa": {"installed": True}}
    )
    assert response.status == 200
    login = await context_client.post(
        "/bitbucket/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice"},
        allow_redirects=False,
    )
    context_client.session.cookie_jar.clear()
    assert login.headers["Location"] == CONTEXT_BASE + ENROL
    assert login.cookies[PENDING_COOKIE]["path"] == "/bitbucket"
    pending = login.cookies[PENDING_COOKIE].value
    secret, fields = await enrol_form_at(context_client, pending)
    done = await submit_code(
        context_client, "/bitbucket" + ENROL, pending, fields, code_now(store, secret)
    )
    assert done.headers["Location"] == CONTEXT_BASE + "/dashboard"
    assert done.cookies[SESSION_COOKIE].value in store.sessions


async def enrol_form_at(client: Client, pending: str) -> tuple[str, dict[str, str]]:
    """The enrolment form under the context path."""
    return await enrol_form(client, pending, prefix="/bitbucket")
