"""Personal access tokens REST API: /rest/access-tokens/1.0/users/{userSlug}[/{tokenId}]."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from simulator.oauth2.scopes import Scope
from simulator.rest.access_tokens import MAX_TOKENS_PER_USER, NewToken, create_token
from simulator.store import SESSION_COOKIE, Store
from simulator.version import BitbucketVersion
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import make_link, obtain_tokens

API = "/rest/access-tokens/1.0"
DAY_MS = 86_400_000
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"
VALIDATION = "com.atlassian.bitbucket.validation.ArgumentValidationException"
BAD_REQUEST = "com.atlassian.bitbucket.rest.exception.BadRequestException"
NO_SUCH_USER = "com.atlassian.bitbucket.user.NoSuchUserException"
NO_SUCH_ENTITY = "com.atlassian.bitbucket.NoSuchEntityException"
NOT_FOUND = "com.sun.jersey.api.NotFoundException"
READ = {"name": "ci", "permissions": ["PROJECT_READ", "REPO_READ"]}


async def create(
    client: Client, user: str = "alice", body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create a token for ``user`` (by default as ``user`` over Basic); the validated answer."""
    response = await client.put(
        f"{API}/users/{user}", json=READ if body is None else body, headers=headers or basic(user)
    )
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    token: dict[str, Any] = validate(await response.json(), "access-token-created.json")
    return token


async def error_of(response: Any, status: int, exception: str) -> dict[str, Any]:
    """Assert an error envelope and return its first error."""
    assert response.status == status, await response.text()
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["exceptionName"] == exception
    first: dict[str, Any] = body["errors"][0]
    return first


def bearer(secret: str) -> dict[str, str]:
    """An Authorization header for a Bearer token."""
    return {"Authorization": f"Bearer {secret}"}


# -- creating -------------------------------------------------------------------------------


async def test_create_answers_the_token_and_its_secret(client: Client, store: Store) -> None:
    before = store.clock.now_ms()
    token = await create(client)
    assert re.fullmatch(r"[0-9]{12}", token["id"])
    assert before <= token["createdDate"] <= store.clock.now_ms()
    assert token["name"] == "ci"
    assert token["permissions"] == ["PROJECT_READ", "REPO_READ"]
    assert token["user"]["slug"] == "alice"
    assert token["user"]["links"]["self"][0]["href"] == store.base_url + "/users/alice"
    assert "expiryDays" not in token
    assert "expiryDate" not in token
    assert "lastAuthenticated" not in token


async def test_secret_is_shaped_like_bitbucket_tokens(client: Client) -> None:
    token = await create(client)
    secret = token["token"]
    assert len(secret) == 44
    decoded = base64.urlsafe_b64decode(secret)
    assert decoded.startswith(token["id"].encode() + b":")
    assert len(decoded) == 33


async def test_each_token_gets_its_own_id_and_secret(client: Client) -> None:
    first, second = await create(client), await create(client)
    assert first["id"] != second["id"]
    assert first["token"] != second["token"]


async def test_create_with_expiry_days_sets_the_expiry_date(client: Client) -> None:
    token = await create(client, body={**READ, "expiryDays": 30})
    assert token["expiryDays"] == 30
    assert token["expiryDate"] == token["createdDate"] + 30 * DAY_MS


async def test_create_with_null_expiry_never_expires(client: Client) -> None:
    token = await create(client, body={**READ, "expiryDays": None})
    assert "expiryDate" not in token


async def test_create_collapses_a_repeated_permission(client: Client) -> None:
    token = await create(client, body={"name": "x", "permissions": ["REPO_WRITE", "REPO_WRITE"]})
    assert token["permissions"] == ["REPO_WRITE"]


async def test_create_for_user_whose_slug_differs_from_name(client: Client) -> None:
    token = await create(client, "jane_example.com", headers=basic("jane@example.com"))
    assert token["user"]["name"] == "jane@example.com"
    assert token["user"]["slug"] == "jane_example.com"


async def test_create_through_a_login_session(client: Client) -> None:
    login = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob"},
        allow_redirects=False,
    )
    session_id = login.cookies[SESSION_COOKIE].value
    client.session.cookie_jar.clear()
    token = await create(client, "bob", headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})
    assert token["user"]["name"] == "bob"


async def test_latest_prefix_serves_the_same_api(client: Client) -> None:
    response = await client.put(
        "/rest/access-tokens/latest/users/alice", json=READ, headers=basic("alice")
    )
    assert response.status == 200
    token = validate(await response.json(), "access-token-created.json")
    listed = await client.get("/rest/access-tokens/latest/users/alice", headers=basic("alice"))
    assert [t["id"] for t in (await listed.json())["values"]] == [token["id"]]


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"permissions": ["REPO_READ"]}, "name"),
        ({"name": "", "permissions": ["REPO_READ"]}, "name"),
        ({"name": "   ", "permissions": ["REPO_READ"]}, "name"),
        ({"name": 7, "permissions": ["REPO_READ"]}, "name"),
        ({"name": "x" * 256, "permissions": ["REPO_READ"]}, "name"),
        ({"name": "x"}, "permissions"),
        ({"name": "x", "permissions": []}, "permissions"),
        ({"name": "x", "permissions": "REPO_READ"}, "permissions"),
        ({"name": "x", "permissions": ["REPO_FOO"]}, "permissions"),
        ({"name": "x", "permissions": ["repo_read"]}, "permissions"),
        ({"name": "x", "permissions": [None]}, "permissions"),
        ({"name": "x", "permissions": ["REPO_READ", "REPO_WRITE"]}, "permissions"),
        ({"name": "x", "permissions": ["PROJECT_READ", "PROJECT_ADMIN"]}, "permissions"),
        ({**READ, "expiryDays": 0}, "expiryDays"),
        ({**READ, "expiryDays": -5}, "expiryDays"),
        ({**READ, "expiryDays": "30"}, "expiryDays"),
        ({**READ, "expiryDays": 1.5}, "expiryDays"),
        ({**READ, "expiryDays": True}, "expiryDays"),
        ({**READ, "expiryDays": 2**31}, "expiryDays"),
    ],
)
async def test_create_with_an_invalid_field_is_400_naming_it(
    client: Client, store: Store, body: dict[str, Any], context: str
) -> None:
    response = await client.put(f"{API}/users/alice", json=body, headers=basic("alice"))
    error = await error_of(response, 400, VALIDATION)
    assert error["context"] == context
    assert store.access_tokens == {}


async def test_create_reports_every_invalid_field(client: Client) -> None:
    response = await client.put(
        f"{API}/users/alice", json={"permissions": [], "expiryDays": 0}, headers=basic("alice")
    )
    assert response.status == 400
    body = validate(await response.json(), "error.json")
    assert [e["context"] for e in body["errors"]] == ["name", "permissions", "expiryDays"]


async def test_create_with_an_empty_body_is_400_for_the_name(client: Client) -> None:
    response = await client.put(f"{API}/users/alice", headers=basic("alice"))
    assert (await error_of(response, 400, VALIDATION))["context"] == "name"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'["name"]', b'"text"', b"\xff\xfe", b"[" * 100_000, b'{"name": "x",}'],
)
async def test_create_with_malformed_json_is_400(client: Client, raw: bytes) -> None:
    response = await client.put(
        f"{API}/users/alice",
        data=raw,
        headers={**basic("alice"), "Content-Type": "application/json"},
    )
    await error_of(response, 400, BAD_REQUEST)


async def test_create_stops_at_the_maximum_number_of_tokens(client: Client, store: Store) -> None:
    alice = store.catalog.users_by_slug["alice"]
    for n in range(MAX_TOKENS_PER_USER):
        create_token(
            store, alice, NewToken(name=f"t{n}", permissions=("REPO_READ",), expiry_days=None)
        )
    response = await client.put(f"{API}/users/alice", json=READ, headers=basic("alice"))
    error = await error_of(response, 400, VALIDATION)
    assert error["context"] is None
    assert len(store.access_tokens) == MAX_TOKENS_PER_USER


async def test_anonymous_create_is_401(client: Client) -> None:
    response = await client.put(f"{API}/users/alice", json=READ)
    await error_of(response, 401, AUTHORISATION)


async def test_create_for_another_user_is_401(client: Client, store: Store) -> None:
    response = await client.put(f"{API}/users/alice", json=READ, headers=basic("bob"))
    await error_of(response, 401, AUTHORISATION)
    assert store.access_tokens == {}


async def test_admin_cannot_create_a_token_for_another_user(client: Client, store: Store) -> None:
    response = await client.put(f"{API}/users/alice", json=READ, headers=basic("admin"))
    await error_of(response, 401, AUTHORISATION)
    assert store.access_tokens == {}


async def test_a_token_cannot_create_tokens(client: Client, store: Store) -> None:
    token = await create(client, body={"name": "x", "permissions": ["PROJECT_ADMIN", "REPO_ADMIN"]})
    response = await client.put(f"{API}/users/alice", json=READ, headers=bearer(token["token"]))
    await error_of(response, 401, AUTHORISATION)
    assert list(store.access_tokens) == [token["id"]]


async def test_create_for_unknown_user_is_404(client: Client) -> None:
    response = await client.put(f"{API}/users/nobody", json=READ, headers=basic("alice"))
    await error_of(response, 404, NO_SUCH_USER)


# -- listing and reading --------------------------------------------------------------------


async def test_list_is_a_page_of_tokens_newest_first_without_secrets(
    client: Client, store: Store
) -> None:
    ids = []
    for name in ("one", "two", "three"):
        ids.append((await create(client, body={**READ, "name": name}))["id"])
        store.clock.advance(1)
    response = await client.get(f"{API}/users/alice", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "access-tokens-page.json")
    assert [t["id"] for t in body["values"]] == ids[::-1]
    assert [t["name"] for t in body["values"]] == ["three", "two", "one"]
    assert body["isLastPage"] is True
    assert body["start"] == 0
    assert body["limit"] == 25
    assert body["size"] == 3


async def test_list_of_a_user_without_tokens_is_an_empty_page(client: Client) -> None:
    response = await client.get(f"{API}/users/bob", headers=basic("bob"))
    body = validate(await response.json(), "access-tokens-page.json")
    assert body["values"] == []
    assert body["isLastPage"] is True


async def test_list_pages_with_start_and_limit(client: Client, store: Store) -> None:
    for n in range(3):
        await create(client, body={**READ, "name": f"t{n}"})
        store.clock.advance(1)
    first = validate(
        await (await client.get(f"{API}/users/alice?limit=2", headers=basic("alice"))).json(),
        "access-tokens-page.json",
    )
    assert [t["name"] for t in first["values"]] == ["t2", "t1"]
    assert first["nextPageStart"] == 2
    second = validate(
        await (
            await client.get(f"{API}/users/alice?limit=2&start=2", headers=basic("alice"))
        ).json(),
        "access-tokens-page.json",
    )
    assert [t["name"] for t in second["values"]] == ["t0"]
    assert second["isLastPage"] is True


@pytest.mark.parametrize(("query", "context"), [("limit=-1", "limit"), ("start=abc", "start")])
async def test_list_with_bad_paging_is_400(client: Client, query: str, context: str) -> None:
    response = await client.get(f"{API}/users/alice?{query}", headers=basic("alice"))
    assert (await error_of(response, 400, VALIDATION))["context"] == context


async def test_list_does_not_show_other_users_tokens(client: Client) -> None:
    await create(client, "bob")
    response = await client.get(f"{API}/users/alice", headers=basic("alice"))
    assert (await response.json())["values"] == []


async def test_get_one_token(client: Client) -> None:
    created = await create(client, body={**READ, "expiryDays": 7})
    response = await client.get(f"{API}/users/alice/{created['id']}", headers=basic("alice"))
    assert response.status == 200
    token = validate(await response.json(), "access-token.json")
    assert token == {key: value for key, value in created.items() if key != "token"}


async def test_get_unknown_token_is_404(client: Client) -> None:
    response = await client.get(f"{API}/users/alice/123456789012", headers=basic("alice"))
    await error_of(response, 404, NO_SUCH_ENTITY)


async def test_get_token_under_another_users_slug_is_404(client: Client) -> None:
    created = await create(client)
    response = await client.get(f"{API}/users/bob/{created['id']}", headers=basic("admin"))
    await error_of(response, 404, NO_SUCH_ENTITY)


async def test_anonymous_list_is_401(client: Client) -> None:
    await error_of(await client.get(f"{API}/users/alice"), 401, AUTHORISATION)


async def test_unknown_bearer_token_is_anonymous_and_gets_401(client: Client) -> None:
    response = await client.get(f"{API}/users/alice", headers=bearer("not-a-token"))
    await error_of(response, 401, AUTHORISATION)


async def test_another_users_tokens_are_401(client: Client) -> None:
    created = await create(client)
    await error_of(await client.get(f"{API}/users/alice", headers=basic("bob")), 401, AUTHORISATION)
    response = await client.get(f"{API}/users/alice/{created['id']}", headers=basic("bob"))
    await error_of(response, 401, AUTHORISATION)


async def test_list_for_unknown_user_is_404(client: Client) -> None:
    response = await client.get(f"{API}/users/nobody", headers=basic("admin"))
    await error_of(response, 404, NO_SUCH_USER)


async def test_user_slug_is_case_insensitive(client: Client) -> None:
    await create(client)
    response = await client.get(f"{API}/users/ALICE", headers=basic("alice"))
    assert len((await response.json())["values"]) == 1


async def test_admin_reads_anyones_tokens(client: Client) -> None:
    created = await create(client)
    listed = await client.get(f"{API}/users/alice", headers=basic("admin"))
    body = validate(await listed.json(), "access-tokens-page.json")
    assert [t["id"] for t in body["values"]] == [created["id"]]


async def test_a_token_may_list_its_users_tokens(client: Client) -> None:
    created = await create(client)
    response = await client.get(f"{API}/users/alice", headers=bearer(created["token"]))
    assert response.status == 200
    validate(await response.json(), "access-tokens-page.json")


async def test_last_authenticated_appears_once_the_token_is_used(
    client: Client, store: Store
) -> None:
    created = await create(client)
    store.clock.advance(60)
    used_at = store.clock.now_ms()
    await client.get("/rest/api/1.0/sim-probe", headers=bearer(created["token"]))
    response = await client.get(f"{API}/users/alice/{created['id']}", headers=basic("alice"))
    token = validate(await response.json(), "access-token.json")
    assert used_at <= token["lastAuthenticated"] <= store.clock.now_ms()


async def test_expired_token_stops_authenticating_but_stays_listed(
    client: Client, store: Store
) -> None:
    created = await create(client, body={**READ, "expiryDays": 1})
    assert (await client.get(f"{API}/users/alice", headers=bearer(created["token"]))).status == 200
    store.clock.advance(86_400)
    expired = await client.get(f"{API}/users/alice", headers=bearer(created["token"]))
    await error_of(expired, 401, AUTHORISATION)
    listed = await client.get(f"{API}/users/alice", headers=basic("alice"))
    body = validate(await listed.json(), "access-tokens-page.json")
    assert [t["id"] for t in body["values"]] == [created["id"]]


# -- updating -------------------------------------------------------------------------------


async def test_update_changes_name_and_permissions(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}",
        json={"name": "renamed", "permissions": ["REPO_WRITE"]},
        headers=basic("alice"),
    )
    assert response.status == 200
    token = validate(await response.json(), "access-token.json")
    assert token["name"] == "renamed"
    assert token["permissions"] == ["REPO_WRITE"]
    assert token["createdDate"] == created["createdDate"]
    again = await client.get(f"{API}/users/alice/{created['id']}", headers=basic("alice"))
    assert (await again.json())["name"] == "renamed"


async def test_update_with_only_a_name_keeps_the_permissions(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}", json={"name": "n2"}, headers=basic("alice")
    )
    token = validate(await response.json(), "access-token.json")
    assert token["permissions"] == created["permissions"]


async def test_updated_permissions_take_effect_on_the_secret(client: Client, store: Store) -> None:
    created = await create(client)
    await client.post(
        f"{API}/users/alice/{created['id']}",
        json={"permissions": ["PROJECT_ADMIN", "REPO_ADMIN"]},
        headers=basic("alice"),
    )
    assert store.access_tokens[created["id"]].permissions == ("PROJECT_ADMIN", "REPO_ADMIN")


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"name": ""}, "name"),
        ({"permissions": []}, "permissions"),
        ({"permissions": ["REPO_READ", "REPO_ADMIN"]}, "permissions"),
    ],
)
async def test_update_with_an_invalid_field_is_400(
    client: Client, body: dict[str, Any], context: str
) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}", json=body, headers=basic("alice")
    )
    assert (await error_of(response, 400, VALIDATION))["context"] == context


async def test_update_with_malformed_json_is_400(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}",
        data=b"{",
        headers={**basic("alice"), "Content-Type": "application/json"},
    )
    await error_of(response, 400, BAD_REQUEST)


async def test_update_unknown_token_is_404(client: Client) -> None:
    response = await client.post(
        f"{API}/users/alice/000000000000", json={"name": "x"}, headers=basic("alice")
    )
    await error_of(response, 404, NO_SUCH_ENTITY)


async def test_admin_updates_anyones_token(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}", json={"name": "by-admin"}, headers=basic("admin")
    )
    assert (await response.json())["name"] == "by-admin"


async def test_another_user_cannot_update_a_token(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}", json={"name": "x"}, headers=basic("bob")
    )
    await error_of(response, 401, AUTHORISATION)


async def test_a_token_cannot_update_tokens(client: Client) -> None:
    created = await create(client)
    response = await client.post(
        f"{API}/users/alice/{created['id']}",
        json={"name": "x"},
        headers=bearer(created["token"]),
    )
    await error_of(response, 401, AUTHORISATION)


# -- revoking -------------------------------------------------------------------------------


async def test_delete_revokes_the_token(client: Client, store: Store) -> None:
    created = await create(client)
    response = await client.delete(f"{API}/users/alice/{created['id']}", headers=basic("alice"))
    assert response.status == 204
    assert await response.read() == b""
    assert store.access_tokens == {}
    gone = await client.get(f"{API}/users/alice/{created['id']}", headers=basic("alice"))
    await error_of(gone, 404, NO_SUCH_ENTITY)
    anonymous = await client.get(f"{API}/users/alice", headers=bearer(created["token"]))
    await error_of(anonymous, 401, AUTHORISATION)


async def test_admin_revokes_anyones_token(client: Client, store: Store) -> None:
    created = await create(client)
    response = await client.delete(f"{API}/users/alice/{created['id']}", headers=basic("admin"))
    assert response.status == 204
    assert store.access_tokens == {}


async def test_another_user_cannot_revoke_a_token(client: Client, store: Store) -> None:
    created = await create(client)
    response = await client.delete(f"{API}/users/alice/{created['id']}", headers=basic("bob"))
    await error_of(response, 401, AUTHORISATION)
    assert list(store.access_tokens) == [created["id"]]


async def test_a_token_cannot_revoke_tokens(client: Client) -> None:
    created = await create(client)
    response = await client.delete(
        f"{API}/users/alice/{created['id']}", headers=bearer(created["token"])
    )
    await error_of(response, 401, AUTHORISATION)


async def test_delete_unknown_token_is_404(client: Client) -> None:
    response = await client.delete(f"{API}/users/alice/999999999999", headers=basic("alice"))
    await error_of(response, 404, NO_SUCH_ENTITY)


async def test_anonymous_delete_is_401(client: Client) -> None:
    await error_of(await client.delete(f"{API}/users/alice/123"), 401, AUTHORISATION)


# -- methods, versions, reset ---------------------------------------------------------------


async def test_wrong_method_is_405(client: Client) -> None:
    response = await client.patch(f"{API}/users/alice", json=READ, headers=basic("alice"))
    assert response.status == 405
    validate(await response.json(), "error.json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/alice"),
        ("PUT", "/users/alice"),
        ("GET", "/users/alice/123456789012"),
        ("POST", "/users/alice/123456789012"),
        ("DELETE", "/users/alice/123456789012"),
    ],
)
async def test_before_5_5_every_path_is_404(
    client: Client, store: Store, method: str, path: str
) -> None:
    store.config.version = BitbucketVersion.parse("5.4.0")
    response = await client.request(method, API + path, json=READ, headers=basic("alice"))
    await error_of(response, 404, NOT_FOUND)


async def test_from_5_5_tokens_exist(client: Client, store: Store) -> None:
    store.config.version = BitbucketVersion.parse("5.5.0")
    await create(client)


async def test_reset_forgets_every_token(client: Client, store: Store) -> None:
    created = await create(client)
    store.reset()
    response = await client.get(f"{API}/users/alice", headers=bearer(created["token"]))
    await error_of(response, 401, AUTHORISATION)


@pytest.mark.parametrize("scope", [Scope.PUBLIC_REPOS, Scope.REPO_READ, Scope.REPO_ADMIN])
async def test_an_oauth2_token_of_any_scope_cannot_mint_tokens(
    client: Client, store: Store, scope: Scope
) -> None:
    link = make_link(store, scopes=(scope,))
    tokens = await obtain_tokens(client, store, link, "alice", scope=scope.value)
    body = {"name": "escalated", "permissions": ["PROJECT_ADMIN", "REPO_ADMIN"]}
    response = await client.put(
        f"{API}/users/alice", json=body, headers=bearer(tokens["access_token"])
    )
    error = await error_of(response, 401, AUTHORISATION)
    assert error["message"] == "An OAuth access token cannot be used to manage access tokens."
    assert store.access_tokens == {}


async def test_an_oauth2_token_cannot_change_or_revoke_tokens(client: Client, store: Store) -> None:
    created = await create(client)
    link = make_link(store, scopes=(Scope.REPO_ADMIN,))
    tokens = await obtain_tokens(client, store, link, "alice", scope="REPO_ADMIN")
    headers = bearer(tokens["access_token"])
    path = f"{API}/users/alice/{created['id']}"
    changed = await client.post(path, json={"permissions": ["REPO_ADMIN"]}, headers=headers)
    assert changed.status == 401
    revoked = await client.delete(path, headers=headers)
    assert revoked.status == 401
    assert store.access_tokens[created["id"]].permissions == ("PROJECT_READ", "REPO_READ")
