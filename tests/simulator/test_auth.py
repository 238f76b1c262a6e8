"""Who is calling (simulator/auth.py), seen through real HTTP: session, Basic, Bearer tokens.

Every answer is stamped with ``X-AUSERNAME``/``X-AUSERID`` when a user was authenticated, so
these tests probe a path nothing is served at: its 404 still says who the caller was.
"""

from __future__ import annotations

import base64
from http.cookies import SimpleCookie
from typing import Any

import pytest
from aiohttp import ClientResponse

from simulator.model import User
from simulator.store import SESSION_COOKIE, Store
from tests.conftest import Client, basic
from tests.schemas import validate

PROBE = "/rest/api/1.0/sim-auth-probe"
INCORRECT_PASSWORD = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
TOKENS = "/rest/access-tokens/1.0/users"


def raw_basic(credentials: bytes) -> dict[str, str]:
    """A Basic header carrying arbitrary bytes."""
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def bearer(secret: str) -> dict[str, str]:
    """A Bearer header."""
    return {"Authorization": f"Bearer {secret}"}


def cookie(session_id: str) -> dict[str, str]:
    """A Cookie header carrying a session."""
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


async def login(client: Client, username: str) -> str:
    """Log in through the form; the session id (the client's own jar is emptied)."""
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": username, "j_password": username},
        allow_redirects=False,
    )
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        jar.load(header)
    client.session.cookie_jar.clear()
    return jar[SESSION_COOKIE].value


async def new_token(client: Client, user: str = "alice", **extra: Any) -> str:
    """Create an access token for ``user`` and return its secret."""
    response = await client.put(
        f"{TOKENS}/{user}",
        json={"name": "t", "permissions": ["PROJECT_READ", "REPO_READ"], **extra},
        headers=basic(user),
    )
    assert response.status == 200
    secret: str = (await response.json())["token"]
    return secret


async def probe(client: Client, headers: dict[str, str] | None = None) -> ClientResponse:
    """A request whose only interesting part is how it was authenticated."""
    return await client.get(PROBE, headers=headers or {})


def assert_user(response: ClientResponse, store: Store, slug: str) -> None:
    """The answer names the user ``slug`` in Bitbucket's headers."""
    user = store.catalog.users_by_slug[slug]
    assert response.headers["X-AUSERNAME"] == user.name
    assert response.headers["X-AUSERID"] == str(user.id)
    assert response.headers["X-AREQUESTID"]


def assert_anonymous(response: ClientResponse) -> None:
    """The answer names no user."""
    assert "X-AUSERNAME" not in response.headers
    assert "X-AUSERID" not in response.headers
    assert response.headers["X-AREQUESTID"]


async def assert_incorrect_password(response: ClientResponse) -> None:
    """Bitbucket's 401 for bad Basic credentials, naming no user."""
    assert response.status == 401
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["exceptionName"] == INCORRECT_PASSWORD
    assert body["errors"][0]["message"] == (
        "Authentication failed. Please check your credentials and try again."
    )
    assert_anonymous(response)


# -- anonymous ------------------------------------------------------------------------------


async def test_no_credentials_is_anonymous(client: Client) -> None:
    response = await probe(client)
    assert response.status == 404
    assert_anonymous(response)


# -- session cookie -------------------------------------------------------------------------


async def test_session_cookie_after_login_names_the_user(client: Client, store: Store) -> None:
    session_id = await login(client, "alice")
    assert_user(await probe(client, cookie(session_id)), store, "alice")


async def test_unknown_session_cookie_is_anonymous(client: Client) -> None:
    assert_anonymous(await probe(client, cookie("0" * 32)))


async def test_session_cookie_after_logout_is_anonymous(client: Client) -> None:
    session_id = await login(client, "alice")
    await client.get("/j_atl_security_logout", headers=cookie(session_id), allow_redirects=False)
    assert_anonymous(await probe(client, cookie(session_id)))


async def test_a_session_in_use_lives_on_but_not_past_a_reset(client: Client, store: Store) -> None:
    session_id = await login(client, "bob")
    for _ in range(3):  # 75 minutes in all, never 30 idle
        store.clock.advance(25 * 60)
        assert_user(await probe(client, cookie(session_id)), store, "bob")
    store.reset()
    assert_anonymous(await probe(client, cookie(session_id)))


async def test_a_session_idle_longer_than_the_timeout_is_gone(client: Client, store: Store) -> None:
    session_id = await login(client, "bob")
    store.clock.advance(store.config.sessions.idle_seconds + 1)
    assert_anonymous(await probe(client, cookie(session_id)))
    assert session_id not in store.sessions


async def test_sessions_are_bounded_least_recently_used_first(client: Client, store: Store) -> None:
    store.config.patch({"sessions": {"max_sessions": 3}})
    first = await login(client, "alice")
    second = await login(client, "bob")
    assert_user(await probe(client, cookie(first)), store, "alice")  # first is now recent
    await login(client, "alice")
    await login(client, "bob")
    assert len(store.sessions) == 3
    assert second not in store.sessions
    assert first in store.sessions


async def test_expired_sessions_are_pruned_as_new_ones_come(client: Client, store: Store) -> None:
    for name in ("alice", "bob", "alice"):
        await login(client, name)
    store.clock.advance(store.config.sessions.idle_seconds + 1)
    await login(client, "bob")
    assert len(store.sessions) == 1


async def test_bad_basic_credentials_win_over_a_good_session(client: Client) -> None:
    session_id = await login(client, "alice")
    headers = {**cookie(session_id), **basic("alice", "wrong")}
    await assert_incorrect_password(await probe(client, headers))


# -- HTTP Basic -----------------------------------------------------------------------------


async def test_basic_with_good_credentials_names_the_user(client: Client, store: Store) -> None:
    assert_user(await probe(client, basic("admin")), store, "admin")


async def test_basic_username_is_case_insensitive(client: Client, store: Store) -> None:
    assert_user(await probe(client, basic("Alice", "alice")), store, "alice")


async def test_basic_for_user_whose_name_differs_from_slug(client: Client, store: Store) -> None:
    response = await probe(client, basic("jane@example.com"))
    assert_user(response, store, "jane_example.com")


@pytest.mark.parametrize(
    "headers",
    [
        basic("alice", "wrong"),
        basic("nobody", "nobody"),
        basic("alice", ""),
        basic("", ""),
        basic("inactive.ian"),
    ],
    ids=["wrong-password", "unknown-user", "empty-password", "empty-both", "inactive-user"],
)
async def test_basic_with_bad_credentials_is_401(client: Client, headers: dict[str, str]) -> None:
    await assert_incorrect_password(await probe(client, headers))


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic"},
        {"Authorization": "Basic "},
        raw_basic(b"no-colon-here"),
        raw_basic(b"alice:\xff\xfe"),
    ],
    ids=["not-base64", "no-credentials", "blank-credentials", "no-colon", "not-utf8"],
)
async def test_malformed_basic_is_401_not_500(client: Client, headers: dict[str, str]) -> None:
    await assert_incorrect_password(await probe(client, headers))


# -- personal access tokens -----------------------------------------------------------------


async def test_bearer_access_token_acts_as_its_user(client: Client, store: Store) -> None:
    secret = await new_token(client, "bob")
    assert_user(await probe(client, bearer(secret)), store, "bob")


async def test_bearer_scheme_is_case_insensitive(client: Client, store: Store) -> None:
    secret = await new_token(client)
    response = await probe(client, {"Authorization": f"bearer {secret}"})
    assert_user(response, store, "alice")


async def test_bearer_access_token_works_on_rest_and_records_its_use(
    client: Client, store: Store
) -> None:
    secret = await new_token(client)
    response = await client.get(f"{TOKENS}/alice", headers=bearer(secret))
    assert response.status == 200
    assert_user(response, store, "alice")
    token = next(iter(store.access_tokens.values()))
    assert token.last_authenticated_ms is not None


async def test_basic_with_username_and_access_token_acts_as_the_user(
    client: Client, store: Store
) -> None:
    secret = await new_token(client)
    assert_user(await probe(client, basic("alice", secret)), store, "alice")
    assert_user(await probe(client, basic("ALICE", secret)), store, "alice")


async def test_basic_with_another_users_name_and_a_token_is_401(client: Client) -> None:
    secret = await new_token(client)
    await assert_incorrect_password(await probe(client, basic("bob", secret)))


@pytest.mark.parametrize(
    "headers",
    [bearer("not-a-token"), {"Authorization": "Bearer "}, {"Authorization": "Token abc"}],
    ids=["unknown-token", "empty-bearer", "unknown-scheme"],
)
async def test_unrecognised_bearer_is_anonymous_not_401(
    client: Client, headers: dict[str, str]
) -> None:
    response = await probe(client, headers)
    assert response.status == 404
    assert_anonymous(response)


async def test_expired_access_token_stops_authenticating(client: Client, store: Store) -> None:
    secret = await new_token(client, expiryDays=1)
    store.clock.advance(86_400 - 1)
    assert_user(await probe(client, bearer(secret)), store, "alice")
    store.clock.advance(1)
    assert_anonymous(await probe(client, bearer(secret)))
    await assert_incorrect_password(await probe(client, basic("alice", secret)))


async def test_revoked_access_token_stops_authenticating(client: Client, store: Store) -> None:
    secret = await new_token(client)
    token_id = next(iter(store.access_tokens))
    deleted = await client.delete(f"{TOKENS}/alice/{token_id}", headers=basic("alice"))
    assert deleted.status == 204
    assert_anonymous(await probe(client, bearer(secret)))


# -- header encoding ------------------------------------------------------------------------


async def test_x_ausername_url_encodes_non_ascii_names(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = store.create_session(store.catalog.users_by_slug["alice"])
    zoe = User(
        id=4242,
        name="zoë.müller",
        slug="zo_.m_ller",
        display_name="Zoë Müller",
        email="zoe@example.com",
        password="x",
    )
    monkeypatch.setattr(store, "user_by_id", lambda user_id: zoe)
    response = await probe(client, cookie(session.id))
    assert response.headers["X-AUSERNAME"] == "zo%C3%AB.m%C3%BCller"
    assert response.headers["X-AUSERID"] == "4242"


async def test_x_ausername_keeps_at_sign_and_dots(client: Client) -> None:
    response = await probe(client, basic("jane@example.com"))
    assert response.headers["X-AUSERNAME"] == "jane@example.com"
