"""``POST /rest/oauth2/latest/token``: form parsing, client authentication, both grants, and
every attack on them, each answered with Bitbucket's OAuth error JSON (never a 500)."""

from __future__ import annotations

import base64

import pytest

from simulator.oauth2 import jwt
from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth2.test_oauth2_flow import (
    CHALLENGE,
    REDIRECT,
    TOKEN,
    VERIFIER,
    exchange,
    make_link,
    oauth_error,
    obtain_code,
    obtain_tokens,
    refresh,
    token_body,
    whoami,
)


def basic_client(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1 client authentication."""
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


# -- the request format -------------------------------------------------------------------------


async def test_code_exchange_answers_a_bearer_pair(client: Client, store: Store) -> None:
    link = make_link(store)
    body = await token_body(await exchange(client, link, await obtain_code(client, store, link)))
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "REPO_READ"
    assert jwt.decode(body["access_token"], store.oauth2.jwt_secret) in store.oauth2.tokens


async def test_json_body_is_invalid_request(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": link.client_id,
            "client_secret": link.client_secret,
            "code_verifier": VERIFIER,
        },
    )
    await oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x"])
async def test_body_without_the_form_content_type_is_invalid_request(
    client: Client, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(
        TOKEN, data=b"grant_type=refresh_token&refresh_token=x&client_id=y", headers=headers
    )
    await oauth_error(response, 400, "invalid_request")


async def test_query_parameters_count_when_the_form_content_type_is_sent(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": VERIFIER,
    }
    response = await client.post(
        TOKEN,
        params=params,
        data=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await token_body(response)


async def test_query_parameters_without_the_form_content_type_are_invalid_request(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": VERIFIER,
    }
    response = await client.post(TOKEN, params=params)
    await oauth_error(response, 400, "invalid_request")


async def test_body_wins_over_the_query_string(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        params={"client_secret": "wrong", "grant_type": "password"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": link.client_id,
            "client_secret": link.client_secret,
            "code_verifier": VERIFIER,
        },
    )
    await token_body(response)


async def test_undecodable_body_is_an_oauth_error_not_a_500(client: Client) -> None:
    response = await client.post(
        TOKEN,
        data=b"grant_type=\xff\xfe&client_id=%FF",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=bogus"},
    )
    await oauth_error(response, 400, "unsupported_grant_type")


# -- grant_type -----------------------------------------------------------------------------------


@pytest.mark.parametrize("grant_type", [None, ""])
async def test_missing_grant_type_is_invalid_request(
    client: Client, store: Store, grant_type: str | None
) -> None:
    link = make_link(store)
    response = await exchange(client, link, "code", grant_type=grant_type)
    assert "grant_type" in await oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type", ["client_credentials", "password", "implicit", "AUTHORIZATION_CODE"]
)
async def test_other_grant_types_are_unsupported(
    client: Client, store: Store, grant_type: str
) -> None:
    link = make_link(store)
    response = await exchange(client, link, "code", grant_type=grant_type)
    await oauth_error(response, 400, "unsupported_grant_type")


# -- authorization_code ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["code", "redirect_uri", "client_id"])
@pytest.mark.parametrize("value", [None, ""])
async def test_missing_required_parameter_is_invalid_request_naming_it(
    client: Client, store: Store, name: str, value: str | None
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await exchange(client, link, code, **{name: value})
    description = await oauth_error(response, 400, "invalid_request")
    assert description == f"The required parameter '{name}' is missing"


async def test_unknown_code_is_invalid_request(client: Client, store: Store) -> None:
    link = make_link(store)
    response = await exchange(client, link, "not-a-code")
    await oauth_error(response, 400, "invalid_request")


async def test_code_reuse_is_invalid_grant_and_revokes_its_tokens(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    tokens = await token_body(await exchange(client, link, code))
    assert await whoami(client, tokens["access_token"]) == "alice"
    await oauth_error(await exchange(client, link, code), 400, "invalid_grant")
    assert await whoami(client, tokens["access_token"]) is None
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


async def test_expired_code_is_invalid_grant(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    store.clock.advance(store.config.oauth2.code_seconds + 1)
    await oauth_error(await exchange(client, link, code), 400, "invalid_grant")


async def test_code_lifetime_follows_the_config(client: Client, store: Store) -> None:
    store.config.patch({"oauth2": {"code_seconds": 600}})
    link = make_link(store)
    code = await obtain_code(client, store, link)
    store.clock.advance(500)
    await token_body(await exchange(client, link, code))


async def test_redirect_uri_other_than_at_authorize_is_invalid_grant(
    client: Client, store: Store
) -> None:
    other = "https://packagist.example/other"
    link = make_link(store, redirects=(REDIRECT, other))
    code = await obtain_code(client, store, link)
    await oauth_error(await exchange(client, link, code, redirect_uri=other), 400, "invalid_grant")


async def test_code_presented_by_another_client_is_invalid_grant(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    other = make_link(store, name="Other application")
    code = await obtain_code(client, store, link)
    response = await exchange(
        client, link, code, client_id=other.client_id, client_secret=other.client_secret
    )
    await oauth_error(response, 400, "invalid_grant")
    await token_body(await exchange(client, link, code))


@pytest.mark.parametrize(
    "verifier",
    [
        None,  # missing
        "",
        "x" * 43,  # mismatched
        VERIFIER[:42],  # too short
        VERIFIER + "+",  # bad character
        VERIFIER[:-1] + " ",
        CHALLENGE,  # the challenge itself under S256
        "a" * 129,  # too long
    ],
)
async def test_bad_code_verifier_is_invalid_grant(
    client: Client, store: Store, verifier: str | None
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    await oauth_error(
        await exchange(client, link, code, code_verifier=verifier), 400, "invalid_grant"
    )


async def test_plain_verifier_must_equal_the_challenge(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(
        client, store, link, code_challenge=VERIFIER, code_challenge_method="plain"
    )
    response = await exchange(client, link, code, code_verifier=VERIFIER[::-1])
    await oauth_error(response, 400, "invalid_grant")


@pytest.mark.parametrize("secret", ["wrong", "", None])
async def test_wrong_or_missing_secret_is_invalid_client(
    client: Client, store: Store, secret: str | None
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await exchange(client, link, code, client_secret=secret)
    await oauth_error(response, 401, "invalid_client")


async def test_secret_of_another_client_is_invalid_client(client: Client, store: Store) -> None:
    link = make_link(store)
    other = make_link(store, name="Other")
    code = await obtain_code(client, store, link)
    response = await exchange(client, link, code, client_secret=other.client_secret)
    await oauth_error(response, 401, "invalid_client")


async def test_failed_exchange_leaves_the_code_usable(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    await oauth_error(await exchange(client, link, code, client_secret="x"), 401, "invalid_client")
    await token_body(await exchange(client, link, code))


async def test_lifetimes_follow_the_config(client: Client, store: Store) -> None:
    store.config.patch({"oauth2": {"access_token_seconds": 120}})
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    assert tokens["expires_in"] == 120
    store.clock.advance(121)
    assert await whoami(client, tokens["access_token"]) is None


async def test_token_endpoint_is_journaled_without_secrets(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    await exchange(client, link, code, code_verifier=None)
    entry = store.journal.entries()[-1]
    assert entry.extra["grant_type"] == "authorization_code"
    assert entry.extra["client_auth"] == "body"
    assert entry.extra["has_code_verifier"] is False
    assert entry.extra["redirect_uri"] == REDIRECT
    assert entry.extra["error"] == "invalid_grant"
    assert entry.form["client_secret"] == "<redacted>"
    assert link.client_secret not in repr(entry.to_json())


# -- refresh_token --------------------------------------------------------------------------------


async def test_refresh_issues_a_new_pair_with_the_same_scope(client: Client, store: Store) -> None:
    link = make_link(store)
    first = await obtain_tokens(client, store, link, scope="PUBLIC_REPOS REPO_READ")
    second = await token_body(await refresh(client, link, first["refresh_token"]))
    assert second["scope"] == first["scope"] == "PUBLIC_REPOS REPO_READ"
    assert second["refresh_token"] != first["refresh_token"]


async def test_refresh_does_not_need_redirect_uri(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    await token_body(await refresh(client, link, tokens["refresh_token"], redirect_uri=None))


async def test_refresh_token_reuse_is_invalid_grant(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    await token_body(await refresh(client, link, tokens["refresh_token"]))
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


async def test_refresh_token_of_another_client_is_invalid_grant(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    other = make_link(store, name="Other")
    tokens = await obtain_tokens(client, store, link)
    response = await refresh(
        client,
        link,
        tokens["refresh_token"],
        client_id=other.client_id,
        client_secret=other.client_secret,
    )
    await oauth_error(response, 400, "invalid_grant")
    await token_body(await refresh(client, link, tokens["refresh_token"]))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpZCI6IngifQ."])
async def test_unknown_refresh_token_is_invalid_grant(
    client: Client, store: Store, token: str
) -> None:
    link = make_link(store)
    await oauth_error(await refresh(client, link, token), 400, "invalid_grant")


async def test_access_token_is_not_a_refresh_token(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    await oauth_error(await refresh(client, link, tokens["access_token"]), 400, "invalid_grant")


async def test_expired_refresh_token_is_invalid_grant(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    store.clock.advance(store.config.oauth2.refresh_token_seconds + 1)
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


@pytest.mark.parametrize("name", ["refresh_token", "client_id"])
async def test_refresh_without_required_parameter_is_invalid_request(
    client: Client, store: Store, name: str
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await refresh(client, link, tokens["refresh_token"], **{name: None})
    assert name in await oauth_error(response, 400, "invalid_request")


async def test_refresh_with_wrong_secret_is_invalid_client(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await refresh(client, link, tokens["refresh_token"], client_secret="wrong")
    await oauth_error(response, 401, "invalid_client")
    await token_body(await refresh(client, link, tokens["refresh_token"]))


# -- HTTP Basic client authentication -------------------------------------------------------------


async def test_basic_only_credentials_are_ignored_so_client_id_is_missing(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers=basic_client(link.client_id, link.client_secret),
    )
    assert "client_id" in await oauth_error(response, 400, "invalid_request")
    assert store.journal.entries()[-1].extra["client_auth"] == "basic-ignored"


async def test_basic_secret_is_ignored_so_the_secret_is_wrong(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": link.client_id,
            "code_verifier": VERIFIER,
        },
        headers=basic_client(link.client_id, link.client_secret),
    )
    await oauth_error(response, 401, "invalid_client")


async def test_basic_client_auth_works_when_the_setting_accepts_it(
    client: Client, store: Store
) -> None:
    store.config.patch({"oauth2": {"accept_basic_client_auth": True}})
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers=basic_client(link.client_id, link.client_secret),
    )
    await token_body(response)
    assert store.journal.entries()[-1].extra["client_auth"] == "basic"


async def test_basic_header_with_a_users_password_is_still_ignored(
    client: Client, store: Store
) -> None:
    """A Basic header that happens to be a user's credentials passes the auth middleware."""
    link = make_link(store)
    code = await obtain_code(client, store, link)
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers=basic_client("alice", "alice"),
    )
    assert "client_id" in await oauth_error(response, 400, "invalid_request")
    assert store.journal.entries()[-1].extra["client_auth"] == "basic-ignored"


async def test_no_client_credentials_at_all_journal_none(client: Client, store: Store) -> None:
    link = make_link(store)
    await exchange(client, link, "code", client_secret=None)
    assert store.journal.entries()[-1].extra["client_auth"] == "none"


@pytest.mark.parametrize("path", ["/rest/oauth2/1.0/token", TOKEN])
async def test_get_on_the_token_endpoint_is_405(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 405
