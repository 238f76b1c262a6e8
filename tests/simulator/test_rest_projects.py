"""``GET projects`` and ``GET projects/{projectKey}``."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.model import ProjectLevel
from simulator.seed import Catalog
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
prefixes = pytest.mark.parametrize("prefix", PREFIXES)
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"
NO_SUCH_PROJECT = "com.atlassian.bitbucket.project.NoSuchProjectException"


async def list_keys(
    client: Client, url: str, headers: dict[str, str] | None = None, **params: str
) -> list[str]:
    """The keys of one (large) page of projects."""
    response = await client.get(url, headers=headers, params={"limit": "1000", **params})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "projects-page.json")
    assert body["isLastPage"] is True
    return [project["key"] for project in body["values"]]


async def error_of(response: Any, status: int) -> dict[str, Any]:
    """The single error of an enveloped error response with the given status."""
    assert response.status == status
    body = validate(await response.json(), "error.json")
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    return error


def normal_keys(catalog: Catalog) -> list[str]:
    """Every non-personal project key, in listing order."""
    return [p.key for p in catalog.projects if p.type == "NORMAL"]


def granted_keys(catalog: Catalog, username: str, level: ProjectLevel) -> list[str]:
    """Non-personal projects where the seed grants ``username`` at least ``level``."""
    user = catalog.users_by_name[username]
    grants = catalog.project_grants[user.id]
    return [key for key in normal_keys(catalog) if grants.get(key, ProjectLevel.NONE) >= level]


def anonymously_visible_keys(catalog: Catalog) -> list[str]:
    """Non-personal projects that are public or hold a public repository."""
    return [
        p.key
        for p in catalog.projects
        if p.type == "NORMAL" and (p.public or catalog.public_repo_ids(p))
    ]


# -- GET projects ----------------------------------------------------------------------------


@prefixes
async def test_admin_sees_every_non_personal_project(
    client: Client, store: Store, prefix: str
) -> None:
    keys = await list_keys(client, f"{prefix}/projects", basic("admin"))
    assert keys == normal_keys(store.catalog)
    assert not any(key.startswith("~") for key in keys)


@prefixes
async def test_alice_sees_her_granted_projects_and_public_ones(
    client: Client, store: Store, prefix: str
) -> None:
    keys = await list_keys(client, f"{prefix}/projects", basic("alice"))
    catalog = store.catalog
    granted = granted_keys(catalog, "alice", ProjectLevel.PROJECT_READ)
    assert "PKG" in granted
    assert keys == [
        k for k in normal_keys(catalog) if k in granted or k in anonymously_visible_keys(catalog)
    ]
    assert "~ALICE" not in keys


@prefixes
async def test_bob_sees_the_project_of_repositories_granted_to_him(
    client: Client, store: Store, prefix: str
) -> None:
    keys = await list_keys(client, f"{prefix}/projects", basic("bob"))
    assert "PKG" in keys
    assert "~BOB" not in keys


@prefixes
async def test_anonymous_caller_sees_only_projects_with_public_content(
    client: Client, store: Store, prefix: str
) -> None:
    keys = await list_keys(client, f"{prefix}/projects")
    assert keys == anonymously_visible_keys(store.catalog)
    assert "PKG" not in keys
    assert any(p.public for p in store.catalog.projects if p.key in keys)


@prefixes
async def test_permission_filter_keeps_projects_held_at_that_level(
    client: Client, store: Store, prefix: str
) -> None:
    url = f"{prefix}/projects"
    catalog = store.catalog
    for level in ProjectLevel:
        if level is ProjectLevel.NONE:
            continue
        keys = await list_keys(client, url, basic("alice"), permission=level.name)
        assert keys == granted_keys(catalog, "alice", level)
    assert await list_keys(client, url, basic("alice"), permission="PROJECT_ADMIN") == ["PKG"]


@prefixes
async def test_permission_filter_ignores_repository_grants(client: Client, prefix: str) -> None:
    keys = await list_keys(client, f"{prefix}/projects", basic("bob"), permission="PROJECT_READ")
    assert keys == []


@prefixes
async def test_permission_filter_gives_anonymous_callers_nothing(
    client: Client, prefix: str
) -> None:
    assert await list_keys(client, f"{prefix}/projects", permission="PROJECT_READ") == []


@prefixes
async def test_admin_holds_project_admin_everywhere(
    client: Client, store: Store, prefix: str
) -> None:
    keys = await list_keys(client, f"{prefix}/projects", basic("admin"), permission="PROJECT_ADMIN")
    assert keys == normal_keys(store.catalog)


@prefixes
@pytest.mark.parametrize("permission", ["FOO", "REPO_READ", "project_read", "PROJECT_VIEW"])
async def test_bad_permission_filter_is_400(client: Client, prefix: str, permission: str) -> None:
    response = await client.get(
        f"{prefix}/projects", headers=basic("alice"), params={"permission": permission}
    )
    error = await error_of(response, 400)
    assert error["context"] == "permission"


@prefixes
async def test_name_filter_is_a_case_insensitive_substring(client: Client, prefix: str) -> None:
    url = f"{prefix}/projects"
    assert await list_keys(client, url, basic("alice"), name="ACKAGE") == ["PKG"]
    assert await list_keys(client, url, basic("alice"), name="packages") == ["PKG"]
    assert await list_keys(client, url, basic("alice"), name="no such project") == []


@prefixes
async def test_name_filter_never_reveals_hidden_projects(client: Client, prefix: str) -> None:
    assert await list_keys(client, f"{prefix}/projects", name="Packages") == []


@prefixes
async def test_projects_pages_have_no_gaps_or_duplicates(
    client: Client, store: Store, prefix: str
) -> None:
    keys: list[str] = []
    start = 0
    while True:
        response = await client.get(
            f"{prefix}/projects", headers=basic("admin"), params={"start": start, "limit": 2}
        )
        body = validate(await response.json(), "projects-page.json")
        assert body["start"] == start
        assert body["size"] == len(body["values"]) <= 2
        keys.extend(project["key"] for project in body["values"])
        if body["isLastPage"]:
            assert "nextPageStart" not in body
            break
        assert body["nextPageStart"] == start + 2
        start = body["nextPageStart"]
    assert keys == normal_keys(store.catalog)


@prefixes
async def test_projects_start_beyond_the_end_is_an_empty_last_page(
    client: Client, prefix: str
) -> None:
    response = await client.get(
        f"{prefix}/projects", headers=basic("admin"), params={"start": "500"}
    )
    body = validate(await response.json(), "projects-page.json")
    assert body == {"size": 0, "limit": 25, "isLastPage": True, "values": [], "start": 500}


@prefixes
@pytest.mark.parametrize(("name", "value"), [("limit", "-1"), ("start", "abc")])
async def test_projects_bad_paging_is_400(
    client: Client, prefix: str, name: str, value: str
) -> None:
    response = await client.get(f"{prefix}/projects", params={name: value})
    error = await error_of(response, 400)
    assert error["context"] == name


# -- GET projects/{projectKey} ---------------------------------------------------------------


@prefixes
async def test_project_is_returned_in_bitbucket_shape(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/projects/PKG", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "project.json")
    project = store.catalog.projects_by_key["PKG"]
    assert body == {
        "key": "PKG",
        "id": project.id,
        "name": "Packages",
        "description": project.description,
        "public": False,
        "type": "NORMAL",
        "links": {"self": [{"href": f"{store.base_url}/projects/PKG"}]},
    }


@prefixes
async def test_project_key_is_case_insensitive(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/pkg", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "project.json")
    assert body["key"] == "PKG"


@prefixes
async def test_project_is_visible_through_a_repository_grant(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/PKG", headers=basic("bob"))
    assert response.status == 200
    validate(await response.json(), "project.json")


@prefixes
async def test_hidden_project_is_401_for_an_authenticated_user(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/PKG", headers=basic("jane@example.com"))
    error = await error_of(response, 401)
    assert error["exceptionName"] == AUTHORISATION


@prefixes
async def test_hidden_project_is_401_for_anonymous_callers(client: Client, prefix: str) -> None:
    error = await error_of(await client.get(f"{prefix}/projects/PKG"), 401)
    assert error["exceptionName"] == AUTHORISATION


@prefixes
async def test_public_project_is_visible_to_anonymous_callers(
    client: Client, store: Store, prefix: str
) -> None:
    public = next(p for p in store.catalog.projects if p.public)
    response = await client.get(f"{prefix}/projects/{public.key}")
    assert response.status == 200
    body = validate(await response.json(), "project.json")
    assert body["public"] is True


@prefixes
async def test_missing_project_is_404(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/NOPE", headers=basic("admin"))
    error = await error_of(response, 404)
    assert error["exceptionName"] == NO_SUCH_PROJECT
    assert error["message"] == "Project NOPE does not exist."


@prefixes
async def test_missing_project_is_404_for_anonymous_callers_too(
    client: Client, prefix: str
) -> None:
    await error_of(await client.get(f"{prefix}/projects/NOPE"), 404)


@prefixes
async def test_personal_project_carries_its_owner(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/projects/~alice", headers=basic("alice"))
    assert response.status == 200
    body = validate(await response.json(), "project.json")
    assert body["key"] == "~ALICE"
    assert body["type"] == "PERSONAL"
    assert body["owner"]["name"] == "alice"
    assert body["owner"]["slug"] == "alice"
    assert body["links"]["self"][0]["href"] == f"{store.base_url}/users/alice"


@prefixes
async def test_personal_project_is_visible_to_an_admin(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/projects/~BOB", headers=basic("admin"))
    assert response.status == 200
    body = validate(await response.json(), "project.json")
    assert body["owner"]["name"] == "bob"


@prefixes
async def test_personal_project_is_visible_to_others_only_with_public_content(
    client: Client, store: Store, prefix: str
) -> None:
    bob_project = store.catalog.projects_by_key["~BOB"]
    expected = 200 if store.catalog.public_repo_ids(bob_project) else 401
    response = await client.get(f"{prefix}/projects/~BOB", headers=basic("jane@example.com"))
    assert response.status == expected
    validate(await response.json(), "project.json" if expected == 200 else "error.json")
