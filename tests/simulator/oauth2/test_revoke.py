"""``POST /rest/oauth2/latest/revoke`` (RFC 7009), ``revoke/{id}`` and ``token/jwt/reset``."""

from __future__ import annotations

import pytest
from aiohttp import ClientResponse

from simulator.oauth2 import jwt
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import (
    bearer,
    make_link,
    oauth_error,
    obtain_tokens,
    refresh,
    token_body,
    whoami,
)

REVOKE = "/rest/oauth2/latest/revoke"
RESET = "/rest/oauth2/latest/token/jwt/reset"


async def revoke(
    client: Client, link: OAuth2Client, token: str, /, **overrides: str | None
) -> ClientResponse:
    """``POST revoke`` with the link's credentials in the body."""
    fields: dict[str, str | None] = {
        "token": token,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        **overrides,
    }
    data = {name: value for name, value in fields.items() if value is not None}
    return await client.post(REVOKE, data=data)


def token_id(store: Store, token: str) -> str:
    """The ``id`` claim of a token."""
    decoded = jwt.decode(token, store.oauth2.jwt_secret)
    assert decoded is not None
    return decoded


# -- RFC 7009 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [REVOKE, "/rest/oauth2/1.0/revoke"])
async def test_revoking_an_access_token_answers_200_and_ends_it(
    client: Client, store: Store, path: str
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await client.post(
        path,
        data={
            "token": tokens["access_token"],
            "token_type_hint": "access_token",
            "client_id": link.client_id,
            "client_secret": link.client_secret,
        },
    )
    assert response.status == 200
    assert await response.read() == b""
    assert response.headers["Cache-Control"] == "no-store"
    assert await whoami(client, tokens["access_token"]) is None
    await token_body(await refresh(client, link, tokens["refresh_token"]))


async def test_revoking_a_refresh_token_ends_the_pair(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await revoke(client, link, tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status == 200
    assert await whoami(client, tokens["access_token"]) is None
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
async def test_revoking_an_unknown_token_is_still_200(
    client: Client, store: Store, token: str
) -> None:
    link = make_link(store)
    response = await revoke(client, link, token)
    assert response.status == 200


async def test_a_client_cannot_revoke_another_clients_token(client: Client, store: Store) -> None:
    link = make_link(store)
    other = make_link(store, name="Other")
    tokens = await obtain_tokens(client, store, link)
    response = await revoke(client, other, tokens["access_token"])
    assert response.status == 200
    assert await whoami(client, tokens["access_token"]) == "alice"


@pytest.mark.parametrize("secret", ["wrong", None])
async def test_revoke_with_wrong_secret_is_invalid_client(
    client: Client, store: Store, secret: str | None
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await revoke(client, link, tokens["access_token"], client_secret=secret)
    await oauth_error(response, 401, "invalid_client")
    assert await whoami(client, tokens["access_token"]) == "alice"


async def test_revoke_by_unknown_client_is_invalid_client(client: Client, store: Store) -> None:
    link = make_link(store)
    response = await revoke(client, link, "x", client_id="nope")
    await oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("name", ["token", "client_id"])
async def test_revoke_without_required_parameter_is_invalid_request(
    client: Client, store: Store, name: str
) -> None:
    link = make_link(store)
    response = await revoke(client, link, "x", **{name: None})
    assert name in await oauth_error(response, 400, "invalid_request")


async def test_revoke_with_unsupported_hint_is_unsupported_token_type(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    response = await revoke(client, link, "x", token_type_hint="id_token")
    await oauth_error(response, 400, "unsupported_token_type")


async def test_revoke_as_json_is_invalid_request(client: Client, store: Store) -> None:
    link = make_link(store)
    response = await client.post(
        REVOKE,
        json={"token": "x", "client_id": link.client_id, "client_secret": link.client_secret},
    )
    await oauth_error(response, 400, "invalid_request")


async def test_revoke_is_journaled_without_the_token(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    await revoke(client, link, tokens["access_token"], token_type_hint="access_token")
    entry = store.journal.entries()[-1]
    assert entry.extra == {"client_auth": "body", "token_type_hint": "access_token"}
    assert entry.form["token"] == "<redacted>"
    assert tokens["access_token"] not in repr(entry.to_json())


# -- revoke/{id} ----------------------------------------------------------------------------------


async def test_user_revokes_their_own_token_by_id(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    the_id = token_id(store, tokens["access_token"])
    response = await client.post(f"{REVOKE}/{the_id}", headers=basic("alice"))
    assert response.status == 204
    assert await whoami(client, tokens["access_token"]) is None
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


async def test_sysadmin_revokes_anyones_token_by_id(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "bob")
    the_id = token_id(store, tokens["refresh_token"])
    response = await client.post(f"{REVOKE}/{the_id}", headers=basic("admin"))
    assert response.status == 204
    assert await whoami(client, tokens["access_token"]) is None


async def test_other_user_cannot_revoke_by_id(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "bob")
    the_id = token_id(store, tokens["access_token"])
    response = await client.post(f"{REVOKE}/{the_id}", headers=basic("alice"))
    assert response.status == 401
    validate(await response.json(), "error.json")
    assert await whoami(client, tokens["access_token"]) == "bob"


async def test_anonymous_revoke_by_id_is_401(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "bob")
    response = await client.post(f"{REVOKE}/{token_id(store, tokens['access_token'])}")
    assert response.status == 401
    validate(await response.json(), "error.json")


async def test_revoke_unknown_id_is_404(client: Client) -> None:
    response = await client.post(f"{REVOKE}/no-such-token", headers=basic("alice"))
    assert response.status == 404
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["message"]


async def test_token_can_revoke_itself_by_id(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    the_id = token_id(store, tokens["access_token"])
    response = await client.post(f"{REVOKE}/{the_id}", headers=bearer(tokens["access_token"]))
    assert response.status == 204


# -- token/jwt/reset ------------------------------------------------------------------------------


async def test_sysadmin_reset_of_the_signing_secret_ends_every_token(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    response = await client.post(RESET, headers=basic("admin"))
    assert response.status == 204
    assert await whoami(client, tokens["access_token"]) is None
    await oauth_error(await refresh(client, link, tokens["refresh_token"]), 400, "invalid_grant")


@pytest.mark.parametrize("user", ["alice", None])
async def test_reset_by_non_admin_or_anonymous_is_401(
    client: Client, store: Store, user: str | None
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    response = await client.post(RESET, headers=basic(user) if user else {})
    assert response.status == 401
    validate(await response.json(), "error.json")
    assert await whoami(client, tokens["access_token"]) == "alice"


async def test_sysadmins_token_without_admin_scope_cannot_reset(
    client: Client, store: Store
) -> None:
    link = make_link(store, scopes=(Scope.REPO_ADMIN,))
    tokens = await obtain_tokens(client, store, link, "admin")
    response = await client.post(RESET, headers=bearer(tokens["access_token"]))
    assert response.status == 401


async def test_sysadmins_token_with_system_admin_scope_can_reset(
    client: Client, store: Store
) -> None:
    link = make_link(store, scopes=(Scope.SYSTEM_ADMIN,))
    tokens = await obtain_tokens(client, store, link, "admin", scope="SYSTEM_ADMIN")
    response = await client.post(RESET, headers=bearer(tokens["access_token"]))
    assert response.status == 204
