"""OAuth 2 access tokens on the REST API: the user capped by the token's scope; an unknown or
expired token is anonymous."""

from __future__ import annotations

from typing import Any

from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import (
    PROPERTIES,
    bearer,
    make_link,
    obtain_tokens,
    refresh,
    token_body,
    whoami,
)

REPOS = "/rest/api/1.0/repos"


async def repo_ids(client: Client, headers: dict[str, str], **query: str) -> list[int]:
    """The ids of every repository the global listing returns."""
    response = await client.get(REPOS, params={"limit": "1000", **query}, headers=headers)
    assert response.status == 200
    page = validate(await response.json(), "repositories-page.json")
    assert page["isLastPage"] is True
    return [repo["id"] for repo in page["values"]]


def private_pkg_repo(store: Store) -> str:
    """The path of a private repository alice can read as a project admin."""
    project = store.catalog.projects_by_key["PKG"]
    repo = next(r for r in store.catalog.project_repositories(project) if not r.public)
    return f"/rest/api/1.0/projects/PKG/repos/{repo.slug}"


async def assert_anonymous(client: Client, store: Store, token: str) -> None:
    """The token counts as anonymous: 200 without X-AUSERNAME; 401 where a user is needed."""
    assert await whoami(client, token) is None
    response = await client.get(private_pkg_repo(store), headers=bearer(token))
    assert response.status == 401
    body: dict[str, Any] = validate(await response.json(), "error.json")
    assert body["errors"][0]["message"] == "You are not permitted to access this resource"


async def test_valid_token_acts_as_its_user(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    response = await client.get(PROPERTIES, headers=bearer(tokens["access_token"]))
    assert response.headers["X-AUSERNAME"] == "alice"
    repo = await client.get(private_pkg_repo(store), headers=bearer(tokens["access_token"]))
    assert repo.status == 200
    validate(await repo.json(), "repository.json")


async def test_repo_read_token_lists_what_the_user_may_read(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    with_token = await repo_ids(client, bearer(tokens["access_token"]), permission="REPO_READ")
    as_alice = await repo_ids(client, basic("alice"), permission="REPO_READ")
    assert with_token == as_alice
    assert with_token


async def test_repo_read_token_is_capped_at_read(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    assert await repo_ids(client, basic("alice"), permission="REPO_WRITE")
    assert await repo_ids(client, bearer(tokens["access_token"]), permission="REPO_WRITE") == []
    assert await repo_ids(client, bearer(tokens["access_token"]), permission="REPO_ADMIN") == []


async def test_repo_admin_token_keeps_the_users_own_rights(client: Client, store: Store) -> None:
    link = make_link(store, scopes=(Scope.REPO_ADMIN,))
    tokens = await obtain_tokens(client, store, link, "alice", scope="REPO_ADMIN")
    with_token = await repo_ids(client, bearer(tokens["access_token"]), permission="REPO_ADMIN")
    assert with_token == await repo_ids(client, basic("alice"), permission="REPO_ADMIN")


async def test_public_repos_token_sees_public_repositories_only(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice", scope="PUBLIC_REPOS")
    assert tokens["scope"] == "PUBLIC_REPOS"
    headers = bearer(tokens["access_token"])
    response = await client.get(REPOS, params={"limit": "1000"}, headers=headers)
    page = validate(await response.json(), "repositories-page.json")
    assert page["values"]
    assert all(repo["public"] for repo in page["values"])
    assert await repo_ids(client, headers) == await repo_ids(client, {})
    private = await client.get(private_pkg_repo(store), headers=headers)
    assert private.status == 401
    assert await repo_ids(client, headers, permission="REPO_READ") == []


async def test_unknown_token_is_anonymous(client: Client, store: Store) -> None:
    await assert_anonymous(client, store, "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6Im5vIn0.c2lnbmF0dXJl")


async def test_garbage_token_is_anonymous(client: Client, store: Store) -> None:
    await assert_anonymous(client, store, "not-a-jwt")


async def test_expired_token_is_anonymous(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    store.clock.advance(3601)
    await assert_anonymous(client, store, tokens["access_token"])


async def test_token_just_before_expiry_still_works(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    store.clock.advance(3500)
    assert await whoami(client, tokens["access_token"]) == "alice"


async def test_refresh_token_is_not_an_access_token(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    await assert_anonymous(client, store, tokens["refresh_token"])


async def test_rotated_access_token_is_anonymous(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    await token_body(await refresh(client, link, tokens["refresh_token"]))
    await assert_anonymous(client, store, tokens["access_token"])


async def test_token_of_a_deleted_link_is_anonymous(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    store.oauth2.delete_client(link)
    await assert_anonymous(client, store, tokens["access_token"])


async def test_tampered_token_is_anonymous(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    header, payload, signature = tokens["access_token"].split(".")
    await assert_anonymous(client, store, f"{header}.{payload}.{signature[::-1]}")
