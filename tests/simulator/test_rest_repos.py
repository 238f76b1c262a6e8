"""``GET repos``, ``GET projects/{projectKey}/repos`` and
``GET projects/{projectKey}/repos/{repositorySlug}``.

Expected listings are computed from the seeded catalog's grants and flags directly (not
through :mod:`simulator.access`), so the tests check the permission rules independently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from simulator.app import create_app
from simulator.keys import store_key
from simulator.model import GlobalLevel, RepoLevel, Repository
from simulator.seed import Catalog
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
prefixes = pytest.mark.parametrize("prefix", PREFIXES)
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"


# -- oracles ---------------------------------------------------------------------------------


def all_repos(catalog: Catalog) -> list[Repository]:
    """Every repository in listing order (project order, then name)."""
    return [repo for p in catalog.projects for repo in catalog.project_repositories(p)]


def level_of(catalog: Catalog, username: str | None, repo: Repository) -> RepoLevel:
    """The seed's level for a user on a repository (PUBLIC for public ones), no caps."""
    level = RepoLevel.PUBLIC if repo.public else RepoLevel.NONE
    if username is None:
        return level
    user = catalog.users_by_name[username]
    if user.global_level >= GlobalLevel.ADMIN:
        return RepoLevel.REPO_ADMIN
    project_level = catalog.project_grants[user.id].get(repo.project.key)
    if project_level:
        level = max(level, RepoLevel(int(project_level)))
    return max(level, catalog.repo_grants[user.id].get(repo.id, RepoLevel.NONE))


def expected_ids(
    catalog: Catalog,
    username: str | None,
    need: RepoLevel = RepoLevel.PUBLIC,
    archived: bool | None = False,
) -> list[int]:
    """Ids a user lists at ``need``; ``archived`` False = active only, None = both."""
    return [
        repo.id
        for repo in all_repos(catalog)
        if level_of(catalog, username, repo) >= need
        and (archived is None or repo.archived == archived)
    ]


async def listing(
    client: Client, url: str, username: str | None = None, **params: str
) -> dict[str, Any]:
    """One page of repositories (limit 1000 unless given), validated."""
    headers = basic(username) if username else None
    response = await client.get(url, headers=headers, params={"limit": "1000", **params})
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body: dict[str, Any] = validate(await response.json(), "repositories-page.json")
    return body


async def listed_ids(
    client: Client, url: str, username: str | None = None, **params: str
) -> list[int]:
    """The ids of a single complete page."""
    body = await listing(client, url, username, **params)
    assert body["isLastPage"] is True
    return [repo["id"] for repo in body["values"]]


async def walk(
    client: Client, url: str, username: str | None, limit: int, **params: str
) -> list[dict[str, Any]]:
    """Follow ``nextPageStart`` to the end, checking each page's envelope."""
    values: list[dict[str, Any]] = []
    start = 0
    while True:
        body = await listing(client, url, username, start=str(start), limit=str(limit), **params)
        assert body["start"] == start
        assert body["limit"] == limit
        assert body["size"] == len(body["values"]) <= limit
        values.extend(body["values"])
        if body["isLastPage"]:
            assert "nextPageStart" not in body
            return values
        assert body["size"] == limit
        assert body["nextPageStart"] == start + limit
        start = body["nextPageStart"]


async def error_of(response: Any, status: int) -> dict[str, Any]:
    """The single error of an enveloped error response with the given status."""
    assert response.status == status
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "error.json")
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    return error


async def _client_for(settings: Settings) -> AsyncIterator[Client]:
    client: Client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def archived_client() -> AsyncIterator[Client]:
    """A simulator whose dataset (200 repositories) includes archived repositories."""
    async for client in _client_for(Settings(port=0, repos=200)):
        yield client


@pytest.fixture
async def large_client() -> AsyncIterator[Client]:
    """A simulator on the large dataset (100,000 repositories)."""
    async for client in _client_for(Settings(port=0, dataset="large")):
        yield client


def store_of(client: Client) -> Store:
    """The store behind a client."""
    app = client.app
    assert app is not None
    return app[store_key]


# -- GET repos: permissions ------------------------------------------------------------------


@prefixes
async def test_anonymous_caller_lists_public_repositories(
    client: Client, store: Store, prefix: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/repos")
    assert ids == expected_ids(store.catalog, None)
    assert ids
    public = {repo.id for repo in all_repos(store.catalog) if repo.public}
    assert set(ids) <= public


@prefixes
async def test_anonymous_caller_with_repo_read_gets_an_empty_page(
    client: Client, prefix: str
) -> None:
    body = await listing(client, f"{prefix}/repos", permission="REPO_READ")
    assert body["values"] == []
    assert body["size"] == 0
    assert body["isLastPage"] is True


@prefixes
async def test_unknown_bearer_token_lists_like_anonymous(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(
        f"{prefix}/repos", headers={"Authorization": "Bearer nope"}, params={"limit": "1000"}
    )
    body = validate(await response.json(), "repositories-page.json")
    assert [repo["id"] for repo in body["values"]] == expected_ids(store.catalog, None)


@prefixes
async def test_admin_lists_every_repository(client: Client, store: Store, prefix: str) -> None:
    ids = await listed_ids(client, f"{prefix}/repos", "admin", permission="REPO_ADMIN")
    assert ids == [repo.id for repo in all_repos(store.catalog) if not repo.archived]


@prefixes
@pytest.mark.parametrize("username", ["alice", "bob", "jane@example.com", "admin"])
@pytest.mark.parametrize("permission", [None, "REPO_READ", "REPO_WRITE", "REPO_ADMIN"])
async def test_permission_filter_follows_grants(
    client: Client, store: Store, prefix: str, username: str, permission: str | None
) -> None:
    params = {"permission": permission} if permission else {}
    ids = await listed_ids(client, f"{prefix}/repos", username, **params)
    need = RepoLevel[permission] if permission else RepoLevel.PUBLIC
    assert ids == expected_ids(store.catalog, username, need)


@prefixes
async def test_alice_reads_every_repository_of_her_project(
    client: Client, store: Store, prefix: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/repos", "alice", permission="REPO_ADMIN")
    catalog = store.catalog
    for key in ("PKG", "~ALICE"):
        project = catalog.projects_by_key[key]
        assert set(project.repo_ids()) <= set(ids)


@prefixes
async def test_bob_reads_exactly_his_granted_repositories(
    client: Client, store: Store, prefix: str
) -> None:
    catalog = store.catalog
    pkg = catalog.projects_by_key["PKG"]
    ids = await listed_ids(
        client, f"{prefix}/repos", "bob", permission="REPO_READ", projectkey="PKG"
    )
    assert ids == list(pkg.repo_ids())[:2]


# -- GET repos: filters ----------------------------------------------------------------------


@prefixes
async def test_name_filter_is_a_case_insensitive_substring(
    client: Client, store: Store, prefix: str
) -> None:
    repo = catalog_repo(store.catalog, "PKG", 0)
    fragment = repo.name[1:5].upper()
    ids = await listed_ids(client, f"{prefix}/repos", "admin", name=f"  {fragment} ")
    expected = [r.id for r in all_repos(store.catalog) if fragment.lower() in r.name.lower()]
    assert repo.id in ids
    assert ids == expected


@prefixes
async def test_name_filter_without_match_is_empty(client: Client, prefix: str) -> None:
    assert await listed_ids(client, f"{prefix}/repos", "admin", name="zz-no-such-zz") == []


@prefixes
async def test_projectname_filter_is_a_case_insensitive_substring(
    client: Client, store: Store, prefix: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/repos", "alice", projectname="ACKAGE")
    assert ids == list(store.catalog.projects_by_key["PKG"].repo_ids())


@prefixes
async def test_projectkey_filter_is_exact_and_case_insensitive(
    client: Client, store: Store, prefix: str
) -> None:
    url = f"{prefix}/repos"
    pkg = list(store.catalog.projects_by_key["PKG"].repo_ids())
    assert await listed_ids(client, url, "alice", projectkey="pkg") == pkg
    assert await listed_ids(client, url, "alice", projectkey="PK") == []
    assert await listed_ids(client, url, "alice", projectkey="NOPE") == []


@prefixes
async def test_projectkey_filter_finds_personal_repositories(
    client: Client, store: Store, prefix: str
) -> None:
    body = await listing(client, f"{prefix}/repos", "alice", projectkey="~alice")
    assert [r["id"] for r in body["values"]] == list(
        store.catalog.projects_by_key["~ALICE"].repo_ids()
    )
    for repo in body["values"]:
        assert repo["project"]["type"] == "PERSONAL"
        assert repo["project"]["owner"]["name"] == "alice"
        assert repo["links"]["self"][0]["href"].endswith(
            f"/users/alice/repos/{repo['slug']}/browse"
        )


@prefixes
async def test_filters_combine(client: Client, store: Store, prefix: str) -> None:
    public_project = next(p for p in store.catalog.projects if p.public)
    ids = await listed_ids(
        client,
        f"{prefix}/repos",
        "alice",
        projectkey=public_project.key,
        visibility="private",
        permission="REPO_READ",
    )
    assert ids == []


@prefixes
@pytest.mark.parametrize("visibility", ["public", "private", "PUBLIC"])
async def test_visibility_filter_splits_public_from_private(
    client: Client, store: Store, prefix: str, visibility: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/repos", "admin", visibility=visibility)
    want_public = visibility.lower() == "public"
    expected = [r.id for r in all_repos(store.catalog) if r.public == want_public]
    assert ids == expected
    assert ids


@prefixes
async def test_visibility_private_gives_anonymous_callers_nothing(
    client: Client, prefix: str
) -> None:
    assert await listed_ids(client, f"{prefix}/repos", visibility="private") == []


@prefixes
async def test_state_filter_keeps_repositories_in_that_state(
    client: Client, store: Store, prefix: str
) -> None:
    url = f"{prefix}/repos"
    every = [r.id for r in all_repos(store.catalog)]
    assert await listed_ids(client, url, "admin", state="AVAILABLE") == every
    assert await listed_ids(client, url, "admin", state="available") == every
    assert await listed_ids(client, url, "admin", state="OFFLINE") == []


@prefixes
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("visibility", "x"),
        ("visibility", "internal"),
        ("permission", "FOO"),
        ("permission", "PROJECT_READ"),
        ("permission", "repo_read"),
        ("state", "BROKEN"),
        ("archived", "SOME"),
        ("limit", "-1"),
        ("start", "abc"),
    ],
)
async def test_bad_filter_value_is_400_naming_it(
    client: Client, prefix: str, name: str, value: str
) -> None:
    response = await client.get(f"{prefix}/repos", headers=basic("alice"), params={name: value})
    error = await error_of(response, 400)
    assert error["context"] == name
    assert error["exceptionName"] == (
        "com.atlassian.bitbucket.validation.ArgumentValidationException"
    )


# -- GET repos: paging -----------------------------------------------------------------------


@prefixes
@pytest.mark.parametrize(("username", "limit"), [("admin", 7), ("alice", 4), (None, 2)])
async def test_repos_pages_have_no_gaps_or_duplicates(
    client: Client, store: Store, prefix: str, username: str | None, limit: int
) -> None:
    values = await walk(client, f"{prefix}/repos", username, limit)
    ids = [repo["id"] for repo in values]
    assert len(ids) == len(set(ids))
    assert ids == expected_ids(store.catalog, username)


@prefixes
async def test_filtered_repos_pages_have_no_gaps_or_duplicates(
    client: Client, store: Store, prefix: str
) -> None:
    values = await walk(client, f"{prefix}/repos", "alice", 3, permission="REPO_READ")
    ids = [repo["id"] for repo in values]
    assert len(ids) == len(set(ids))
    assert ids == expected_ids(store.catalog, "alice", RepoLevel.REPO_READ)


@prefixes
async def test_repos_default_limit_is_25_and_oversize_limit_is_capped(
    client: Client, prefix: str
) -> None:
    response = await client.get(f"{prefix}/repos", headers=basic("admin"))
    body = validate(await response.json(), "repositories-page.json")
    assert body["limit"] == 25
    assert body["size"] == 25
    assert body["nextPageStart"] == 25
    capped = await listing(client, f"{prefix}/repos", "admin", limit="5000")
    assert capped["limit"] == 1000


@prefixes
async def test_repos_start_beyond_the_end_is_an_empty_last_page(
    client: Client, prefix: str
) -> None:
    body = await listing(client, f"{prefix}/repos", "admin", start="100000", limit="10")
    assert body == {"size": 0, "limit": 10, "isLastPage": True, "values": [], "start": 100000}


# -- GET repos: archived and the version gate ------------------------------------------------


@prefixes
async def test_archived_repositories_are_hidden_by_default(
    archived_client: Client, prefix: str
) -> None:
    catalog = store_of(archived_client).catalog
    assert any(repo.archived for repo in all_repos(catalog))
    body = await listing(archived_client, f"{prefix}/repos", "admin")
    assert [r["id"] for r in body["values"]] == expected_ids(catalog, "admin")
    assert all(repo["archived"] is False for repo in body["values"])


@prefixes
@pytest.mark.parametrize(
    ("mode", "archived"), [("ARCHIVED", True), ("ACTIVE", False), ("all", None)]
)
async def test_archived_filter_selects_by_archive_state(
    archived_client: Client, prefix: str, mode: str, archived: bool | None
) -> None:
    catalog = store_of(archived_client).catalog
    body = await listing(archived_client, f"{prefix}/repos", "admin", archived=mode)
    assert [r["id"] for r in body["values"]] == expected_ids(catalog, "admin", archived=archived)
    if archived is not None:
        assert all(repo["archived"] is archived for repo in body["values"])


@prefixes
async def test_archived_filter_pages_have_no_gaps_or_duplicates(
    archived_client: Client, prefix: str
) -> None:
    catalog = store_of(archived_client).catalog
    values = await walk(archived_client, f"{prefix}/repos", "alice", 3, archived="ARCHIVED")
    ids = [repo["id"] for repo in values]
    assert ids == expected_ids(catalog, "alice", archived=True)
    assert len(ids) == len(set(ids))


@prefixes
async def test_before_8_0_archived_repositories_are_listed_without_the_field(
    archived_client: Client, prefix: str
) -> None:
    store = store_of(archived_client)
    store.config.patch({"version": "7.21.0"})
    body = await listing(archived_client, f"{prefix}/repos", "admin")
    assert [r["id"] for r in body["values"]] == expected_ids(store.catalog, "admin", archived=None)
    assert all("archived" not in repo for repo in body["values"])


@prefixes
@pytest.mark.parametrize("mode", ["ARCHIVED", "ACTIVE", "bogus"])
async def test_before_8_0_the_archived_parameter_is_ignored(
    archived_client: Client, prefix: str, mode: str
) -> None:
    store = store_of(archived_client)
    store.config.patch({"version": "7.21.0"})
    ids = await listed_ids(archived_client, f"{prefix}/repos", "admin", archived=mode)
    assert ids == expected_ids(store.catalog, "admin", archived=None)


@prefixes
async def test_from_8_0_the_archived_filter_applies(archived_client: Client, prefix: str) -> None:
    store = store_of(archived_client)
    store.config.patch({"version": "8.0.0"})
    ids = await listed_ids(archived_client, f"{prefix}/repos", "admin", archived="ARCHIVED")
    assert ids == expected_ids(store.catalog, "admin", archived=True)


# -- GET repos: the large dataset ------------------------------------------------------------


@prefixes
async def test_large_dataset_last_page_of_readable_repos_is_reachable(
    large_client: Client, prefix: str
) -> None:
    catalog = store_of(large_client).catalog
    expected = expected_ids(catalog, "alice", RepoLevel.REPO_READ)
    assert len(expected) > 100
    url = f"{prefix}/repos"
    first = await listing(large_client, url, "alice", permission="REPO_READ", limit="25")
    assert [r["id"] for r in first["values"]] == expected[:25]
    assert first["nextPageStart"] == 25
    start = len(expected) - 10
    last = await listing(
        large_client, url, "alice", permission="REPO_READ", start=str(start), limit="25"
    )
    assert [r["id"] for r in last["values"]] == expected[start:]
    assert last["isLastPage"] is True
    assert "nextPageStart" not in last
    before = await listing(
        large_client, url, "alice", permission="REPO_READ", start=str(start - 25), limit="25"
    )
    assert before["isLastPage"] is False
    assert before["nextPageStart"] == start


async def test_large_dataset_walk_of_readable_repos_is_complete(large_client: Client) -> None:
    catalog = store_of(large_client).catalog
    values = await walk(large_client, "/rest/api/1.0/repos", "alice", 100, permission="REPO_READ")
    assert [r["id"] for r in values] == expected_ids(catalog, "alice", RepoLevel.REPO_READ)


async def test_large_dataset_last_page_of_every_repo_is_reachable(large_client: Client) -> None:
    catalog = store_of(large_client).catalog
    active = [
        repo_id
        for repo_id in range(1, catalog.size.repos + 1)
        if not catalog.is_archived_repo(repo_id)
    ]
    # Listing order is project order, which here is id order.
    assert len(active) > 90_000
    body = await listing(
        large_client, "/rest/api/1.0/repos", "admin", start=str(len(active) - 3), limit="25"
    )
    assert body["isLastPage"] is True
    assert [r["id"] for r in body["values"]] == active[-3:]


# -- GET projects/{projectKey}/repos ---------------------------------------------------------


@prefixes
async def test_project_repos_lists_the_project_repositories(
    client: Client, store: Store, prefix: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/projects/PKG/repos", "alice")
    assert ids == list(store.catalog.projects_by_key["PKG"].repo_ids())


@prefixes
@pytest.mark.parametrize("archived", [None, "ACTIVE"])
async def test_project_repos_lists_archived_repositories_whatever_archived_says(
    archived_client: Client, prefix: str, archived: str | None
) -> None:
    catalog = store_of(archived_client).catalog
    project = next(
        p for p in catalog.projects if any(r.archived for r in catalog.project_repositories(p))
    )
    params = {} if archived is None else {"archived": archived}
    ids = await listed_ids(
        archived_client, f"{prefix}/projects/{project.key}/repos", "admin", **params
    )
    assert ids == [repo.id for repo in catalog.project_repositories(project)]
    assert any(repo.archived for repo in catalog.project_repositories(project))


@prefixes
async def test_project_repos_lists_only_visible_repositories(
    client: Client, store: Store, prefix: str
) -> None:
    ids = await listed_ids(client, f"{prefix}/projects/pkg/repos", "bob")
    assert ids == list(store.catalog.projects_by_key["PKG"].repo_ids())[:2]


@prefixes
async def test_project_repos_of_a_public_project_are_listed_anonymously(
    client: Client, store: Store, prefix: str
) -> None:
    public = next(p for p in store.catalog.projects if p.public)
    ids = await listed_ids(client, f"{prefix}/projects/{public.key}/repos")
    assert ids == list(public.repo_ids())


@prefixes
async def test_project_repos_of_a_personal_project_carry_the_owner(
    client: Client, prefix: str
) -> None:
    body = await listing(client, f"{prefix}/projects/~ALICE/repos", "alice")
    assert body["values"]
    for repo in body["values"]:
        assert repo["project"]["key"] == "~ALICE"
        assert repo["project"]["owner"]["slug"] == "alice"
        assert repo["links"]["clone"][0]["href"].endswith(f"/scm/~alice/{repo['slug']}.git")


@prefixes
async def test_project_repos_pages_have_no_gaps_or_duplicates(
    client: Client, store: Store, prefix: str
) -> None:
    values = await walk(client, f"{prefix}/projects/PKG/repos", "alice", 2)
    assert [r["id"] for r in values] == list(store.catalog.projects_by_key["PKG"].repo_ids())


@prefixes
async def test_project_repos_visibility_filter_applies(
    client: Client, store: Store, prefix: str
) -> None:
    catalog = store.catalog
    pkg = catalog.projects_by_key["PKG"]
    ids = await listed_ids(client, f"{prefix}/projects/PKG/repos", "alice", visibility="private")
    assert ids == [r.id for r in catalog.project_repositories(pkg) if not r.public]


@prefixes
async def test_project_repos_state_filter_applies(client: Client, prefix: str) -> None:
    url = f"{prefix}/projects/PKG/repos"
    assert await listed_ids(client, url, "alice", state="INITIALISING") == []
    assert len(await listed_ids(client, url, "alice", state="AVAILABLE")) > 0


@prefixes
async def test_project_repos_of_a_hidden_project_is_401(client: Client, prefix: str) -> None:
    error = await error_of(await client.get(f"{prefix}/projects/PKG/repos"), 401)
    assert error["exceptionName"] == AUTHORISATION
    response = await client.get(f"{prefix}/projects/PKG/repos", headers=basic("jane@example.com"))
    await error_of(response, 401)


@prefixes
async def test_project_repos_of_a_missing_project_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/NOPE/repos", headers=basic("admin"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.project.NoSuchProjectException"


@prefixes
@pytest.mark.parametrize(
    ("name", "value"),
    [("visibility", "x"), ("state", "x"), ("limit", "-1"), ("start", "abc")],
)
async def test_project_repos_bad_parameter_is_400(
    client: Client, prefix: str, name: str, value: str
) -> None:
    response = await client.get(
        f"{prefix}/projects/PKG/repos", headers=basic("alice"), params={name: value}
    )
    error = await error_of(response, 400)
    assert error["context"] == name


@prefixes
async def test_project_repos_before_8_0_list_archived_ones_without_the_field(
    archived_client: Client, prefix: str
) -> None:
    store = store_of(archived_client)
    store.config.patch({"version": "7.21.0"})
    catalog = store.catalog
    project = next(
        p for p in catalog.projects if any(r.archived for r in catalog.project_repositories(p))
    )
    body = await listing(
        archived_client, f"{prefix}/projects/{project.key}/repos", "admin", archived="ACTIVE"
    )
    assert [r["id"] for r in body["values"]] == list(project.repo_ids())
    assert all("archived" not in repo for repo in body["values"])


# -- GET projects/{projectKey}/repos/{repositorySlug} ----------------------------------------


def catalog_repo(catalog: Catalog, key: str, index: int) -> Repository:
    """The index-th repository of a project."""
    return catalog.project_repositories(catalog.projects_by_key[key])[index]


@prefixes
async def test_repository_is_returned_in_bitbucket_shape(
    client: Client, store: Store, prefix: str
) -> None:
    repo = catalog_repo(store.catalog, "PKG", 0)
    response = await client.get(f"{prefix}/projects/PKG/repos/{repo.slug}", headers=basic("bob"))
    assert response.status == 200
    body = validate(await response.json(), "repository.json")
    base = store.base_url
    assert body["slug"] == repo.slug
    assert body["id"] == repo.id
    assert body["scmId"] == "git"
    assert body["state"] == "AVAILABLE"
    assert body["statusMessage"] == "Available"
    assert body["archived"] is False
    assert body["public"] is repo.public
    assert body["project"]["key"] == "PKG"
    assert body["links"] == {
        "clone": [
            {"href": f"{base}/scm/pkg/{repo.slug}.git", "name": "http"},
        ],
        "self": [{"href": f"{base}/projects/PKG/repos/{repo.slug}/browse"}],
    }


@prefixes
async def test_repository_key_and_slug_are_case_insensitive(
    client: Client, store: Store, prefix: str
) -> None:
    repo = catalog_repo(store.catalog, "PKG", 1)
    response = await client.get(
        f"{prefix}/projects/pkg/repos/{repo.slug.upper()}", headers=basic("alice")
    )
    assert response.status == 200
    assert validate(await response.json(), "repository.json")["id"] == repo.id


@prefixes
async def test_repository_without_permission_is_401(
    client: Client, store: Store, prefix: str
) -> None:
    repo = catalog_repo(store.catalog, "PKG", 2)
    url = f"{prefix}/projects/PKG/repos/{repo.slug}"
    error = await error_of(await client.get(url, headers=basic("bob")), 401)
    assert error["exceptionName"] == AUTHORISATION
    await error_of(await client.get(url), 401)


@prefixes
async def test_public_repository_is_readable_anonymously(
    client: Client, store: Store, prefix: str
) -> None:
    repo = next(r for r in all_repos(store.catalog) if r.public)
    response = await client.get(f"{prefix}/projects/{repo.project.key}/repos/{repo.slug}")
    assert response.status == 200
    assert validate(await response.json(), "repository.json")["public"] is True


@prefixes
async def test_personal_repository_carries_the_owner(
    client: Client, store: Store, prefix: str
) -> None:
    repo = catalog_repo(store.catalog, "~ALICE", 0)
    response = await client.get(
        f"{prefix}/projects/~alice/repos/{repo.slug}", headers=basic("alice")
    )
    assert response.status == 200
    body = validate(await response.json(), "repository.json")
    assert body["project"]["owner"]["name"] == "alice"


@prefixes
async def test_missing_repository_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/PKG/repos/no-such-repo", headers=basic("alice"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
    assert error["message"] == "Repository PKG/no-such-repo does not exist."


@prefixes
async def test_repository_of_a_missing_project_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/NOPE/repos/anything", headers=basic("alice"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.project.NoSuchProjectException"


@prefixes
async def test_archived_repository_shows_the_field_only_from_8_0(
    archived_client: Client, prefix: str
) -> None:
    store = store_of(archived_client)
    repo = next(r for r in all_repos(store.catalog) if r.archived)
    url = f"{prefix}/projects/{repo.project.key}/repos/{repo.slug}"
    response = await archived_client.get(url, headers=basic("admin"))
    assert validate(await response.json(), "repository.json")["archived"] is True
    store.config.patch({"version": "7.21.0"})
    response = await archived_client.get(url, headers=basic("admin"))
    assert response.status == 200
    assert "archived" not in validate(await response.json(), "repository.json")
