"""``GET users``, ``GET users/{userSlug}`` and ``GET /plugins/servlet/applinks/whoami``."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.model import AccessToken
from simulator.store import SESSION_COOKIE, Store
from tests.conftest import Client, basic
from tests.schemas import validate

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
prefixes = pytest.mark.parametrize("prefix", PREFIXES)
WHOAMI = "/plugins/servlet/applinks/whoami"
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"


async def walk(
    client: Client, url: str, headers: dict[str, str], limit: int, **params: str
) -> list[dict[str, Any]]:
    """Follow ``nextPageStart`` to the end, checking each page's envelope."""
    values: list[dict[str, Any]] = []
    start = 0
    while True:
        response = await client.get(
            url, headers=headers, params={**params, "start": str(start), "limit": str(limit)}
        )
        assert response.status == 200
        body = validate(await response.json(), "users-page.json")
        assert body["start"] == start
        assert body["limit"] == limit
        assert body["size"] == len(body["values"]) <= limit
        values.extend(body["values"])
        if body["isLastPage"]:
            assert "nextPageStart" not in body
            return values
        assert body["size"] == limit
        assert body["nextPageStart"] == start + body["size"]
        start = body["nextPageStart"]


async def error_of(response: Any, status: int) -> dict[str, Any]:
    """The single error of an enveloped error response with the given status."""
    assert response.status == status
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "error.json")
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    return error


# -- GET users -------------------------------------------------------------------------------


@prefixes
async def test_users_lists_active_users_ordered_by_name(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/users", headers=basic("alice"), params={"limit": "100"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "users-page.json")
    names = [user["name"] for user in body["values"]]
    expected = sorted((u.name for u in store.catalog.users if u.active), key=str.lower)
    assert names == expected
    assert "inactive.ian" not in names
    assert all(user["active"] for user in body["values"])
    assert body["isLastPage"] is True


@prefixes
async def test_users_is_401_for_anonymous_callers(client: Client, prefix: str) -> None:
    error = await error_of(await client.get(f"{prefix}/users"), 401)
    assert error["exceptionName"] == AUTHORISATION


@prefixes
async def test_users_is_401_for_an_unknown_bearer_token(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users", headers={"Authorization": "Bearer nope"})
    await error_of(response, 401)
    assert "X-AUSERNAME" not in response.headers


@prefixes
async def test_users_filter_matches_name_case_insensitively(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users", headers=basic("bob"), params={"filter": "ALIC"})
    body = validate(await response.json(), "users-page.json")
    assert [user["name"] for user in body["values"]] == ["alice"]


@prefixes
async def test_users_filter_matches_display_name(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/users", headers=basic("bob"), params={"filter": "administrator"}
    )
    body = validate(await response.json(), "users-page.json")
    assert [user["name"] for user in body["values"]] == ["admin"]


@prefixes
async def test_users_filter_matches_email_address(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/users", headers=basic("bob"), params={"filter": "JANE@EXAMPLE"}
    )
    body = validate(await response.json(), "users-page.json")
    assert [user["slug"] for user in body["values"]] == ["jane_example.com"]


@prefixes
async def test_users_filter_never_lists_inactive_users(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/users", headers=basic("admin"), params={"filter": "inactive"}
    )
    body = validate(await response.json(), "users-page.json")
    assert body["values"] == []
    assert body["isLastPage"] is True


@prefixes
async def test_users_pages_have_no_gaps_or_duplicates(
    client: Client, store: Store, prefix: str
) -> None:
    values = await walk(client, f"{prefix}/users", basic("alice"), limit=3)
    ids = [user["id"] for user in values]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(u.id for u in store.catalog.users if u.active)


@prefixes
async def test_users_default_limit_is_25(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users", headers=basic("alice"))
    body = validate(await response.json(), "users-page.json")
    assert body["limit"] == 25
    assert body["start"] == 0


@prefixes
async def test_users_limit_is_capped(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users", headers=basic("alice"), params={"limit": "5000"})
    body = validate(await response.json(), "users-page.json")
    assert body["limit"] == 1000


@prefixes
@pytest.mark.parametrize(("name", "value"), [("limit", "-1"), ("start", "abc"), ("limit", "0")])
async def test_users_bad_paging_is_400(client: Client, prefix: str, name: str, value: str) -> None:
    response = await client.get(f"{prefix}/users", headers=basic("alice"), params={name: value})
    error = await error_of(response, 400)
    assert error["context"] == name


@prefixes
async def test_users_avatar_size_adds_avatar_urls(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/users", headers=basic("alice"), params={"avatarSize": "32"}
    )
    body = validate(await response.json(), "users-page.json")
    assert body["values"]
    for user in body["values"]:
        assert user["avatarUrl"] == f"/users/{user['slug']}/avatar.png?s=32"


# -- GET users/{userSlug} --------------------------------------------------------------------


@prefixes
async def test_user_is_returned_in_bitbucket_shape(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/users/alice", headers=basic("bob"))
    assert response.status == 200
    body = validate(await response.json(), "user.json")
    alice = store.catalog.users_by_name["alice"]
    assert body == {
        "name": "alice",
        "emailAddress": alice.email,
        "active": True,
        "displayName": "Alice Example",
        "id": alice.id,
        "slug": "alice",
        "type": "NORMAL",
        "links": {"self": [{"href": f"{store.base_url}/users/alice"}]},
    }


@prefixes
async def test_user_avatar_size_gives_a_relative_avatar_url(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/users/alice", headers=basic("alice"), params={"avatarSize": "48"}
    )
    body = validate(await response.json(), "user.json")
    assert body["avatarUrl"] == "/users/alice/avatar.png?s=48"


@prefixes
@pytest.mark.parametrize(
    "size",
    [
        *("0", "-48", "abc", "4.5", "", "4_8", " 48", "48 ", "2147483648", "9" * 14),
        pytest.param("9" * 5000, id="5000-digits"),
    ],
)
async def test_user_bad_avatar_size_is_400(client: Client, prefix: str, size: str) -> None:
    response = await client.get(
        f"{prefix}/users/alice", headers=basic("alice"), params={"avatarSize": size}
    )
    error = await error_of(response, 400)
    assert error["context"] == "avatarSize"


@prefixes
@pytest.mark.parametrize(("size", "read"), [("+48", 48), ("2147483647", 2147483647)])
async def test_user_avatar_size_is_read_as_java_reads_an_int(
    client: Client, prefix: str, size: str, read: int
) -> None:
    response = await client.get(
        f"{prefix}/users/alice", headers=basic("alice"), params={"avatarSize": size}
    )
    body = validate(await response.json(), "user.json")
    assert body["avatarUrl"] == f"/users/alice/avatar.png?s={read}"


@prefixes
async def test_user_whose_name_is_not_its_slug_is_found_by_slug(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/users/jane_example.com", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "user.json")
    assert body["name"] == "jane@example.com"
    assert body["slug"] == "jane_example.com"
    assert body["links"]["self"][0]["href"] == f"{store.base_url}/users/jane_example.com"


@prefixes
async def test_user_name_that_is_not_a_slug_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users/jane@example.com", headers=basic("alice"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.user.NoSuchUserException"


@prefixes
async def test_inactive_user_is_returned_as_inactive(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users/inactive.ian", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "user.json")
    assert body["active"] is False


@prefixes
async def test_missing_user_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/users/no-such-user", headers=basic("alice"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.user.NoSuchUserException"
    assert error["context"] is None
    assert "no-such-user" in error["message"]


@prefixes
async def test_user_is_401_for_anonymous_callers(client: Client, prefix: str) -> None:
    error = await error_of(await client.get(f"{prefix}/users/alice"), 401)
    assert error["exceptionName"] == AUTHORISATION


@prefixes
async def test_missing_user_is_401_not_404_for_anonymous_callers(
    client: Client, prefix: str
) -> None:
    await error_of(await client.get(f"{prefix}/users/no-such-user"), 401)


# -- whoami ----------------------------------------------------------------------------------


async def test_whoami_answers_the_user_name_as_plain_text(client: Client) -> None:
    response = await client.get(WHOAMI, headers=basic("alice"))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert await response.text() == "alice"


async def test_whoami_answers_the_name_not_the_slug(client: Client) -> None:
    response = await client.get(WHOAMI, headers=basic("jane@example.com"))
    assert response.status == 200
    assert await response.text() == "jane@example.com"


async def test_whoami_is_empty_for_anonymous_callers(client: Client) -> None:
    response = await client.get(WHOAMI)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert await response.read() == b""
    assert "X-AUSERNAME" not in response.headers


async def test_whoami_is_empty_for_an_unknown_bearer_token(client: Client) -> None:
    response = await client.get(WHOAMI, headers={"Authorization": "Bearer nope"})
    assert response.status == 200
    assert await response.read() == b""


async def test_whoami_knows_a_session_user(client: Client, store: Store) -> None:
    session = store.create_session(store.catalog.users_by_name["bob"])
    response = await client.get(WHOAMI, headers={"Cookie": f"{SESSION_COOKIE}={session.id}"})
    assert response.status == 200
    assert await response.text() == "bob"


async def test_whoami_knows_an_access_token_user(client: Client, store: Store) -> None:
    alice = store.catalog.users_by_name["alice"]
    store.access_tokens["t1"] = AccessToken(
        id="t1",
        secret="secret-token-value",
        user_id=alice.id,
        name="ci",
        permissions=("REPO_READ",),
        created_ms=store.clock.now_ms(),
    )
    response = await client.get(WHOAMI, headers={"Authorization": "Bearer secret-token-value"})
    assert response.status == 200
    assert await response.text() == "alice"


async def test_whoami_with_wrong_basic_password_is_401(client: Client) -> None:
    response = await client.get(WHOAMI, headers=basic("alice", "wrong"))
    assert response.status == 401
    validate(await response.json(), "error.json")
