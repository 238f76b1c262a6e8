"""``GET``/``PUT``/``DELETE …/permissions/users`` at project and repository level: grants and
revocations every permission decision sees at once, administrators only, errors in the
envelope, and ``POST /_sim/reset`` forgetting them."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate

API = "/rest/api/1.0"


def _bobs_repo(store: Store) -> Repository:
    """The first PKG repository, which bob reads through a repository grant."""
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])[0]


def _repo_path(repo: Repository) -> str:
    return f"{API}/projects/{repo.project.key}/repos/{repo.slug}"


async def _status(client: Client, method: str, path: str, user: str | None = "alice") -> int:
    headers = basic(user) if user else {}
    answer = await client.request(method, path, headers=headers)
    if answer.status >= 400:
        validate(await answer.json(), "error.json")
    return answer.status


async def _json(client: Client, path: str, user: str = "alice") -> Any:
    answer = await client.get(path, headers=basic(user))
    assert answer.status == 200, await answer.text()
    return await answer.json()


@pytest.mark.parametrize("prefix", ["/rest/api/1.0", "/rest/api/latest"])
async def test_repository_grants_are_listed(client: Client, store: Store, prefix: str) -> None:
    repo = _bobs_repo(store)
    path = f"{prefix}/projects/PKG/repos/{repo.slug}/permissions/users"
    body = validate(await _json(client, path), "permitted-users-page.json")
    held = {value["user"]["name"]: value["permission"] for value in body["values"]}
    assert held["bob"] == "REPO_READ"


async def test_revoking_a_grant_hides_the_repository_everywhere(
    client: Client, store: Store
) -> None:
    repo = _bobs_repo(store)
    assert await _status(client, "GET", _repo_path(repo), "bob") == 200
    revoke = f"{_repo_path(repo)}/permissions/users?name=bob"
    assert await _status(client, "DELETE", revoke) == 204
    assert await _status(client, "GET", _repo_path(repo), "bob") == 401
    listing = await _json(client, f"{API}/repos?limit=1000", "bob")
    assert repo.id not in {value["id"] for value in listing["values"]}
    users = await _json(client, f"{_repo_path(repo)}/permissions/users")
    assert "bob" not in {value["user"]["name"] for value in users["values"]}


async def test_granting_on_a_repository_and_a_project(client: Client, store: Store) -> None:
    catalog = store.catalog
    repos = catalog.project_repositories(catalog.projects_by_key["PKG"])
    hidden = next(r for r in repos[2:] if not r.public)
    assert await _status(client, "GET", _repo_path(hidden), "bob") == 401
    grant = f"{_repo_path(hidden)}/permissions/users?name=bob&permission=REPO_WRITE"
    assert await _status(client, "PUT", grant) == 204
    assert await _status(client, "GET", _repo_path(hidden), "bob") == 200
    project = f"{API}/projects/PKG/permissions/users"
    assert (
        await _status(
            client, "PUT", project + "?name=bob&name=jane@example.com&permission=PROJECT_READ"
        )
        == 204
    )
    listing = await _json(client, f"{API}/projects/PKG/repos?limit=1000", "bob")
    assert len(listing["values"]) == len(repos)
    holders = await _json(client, project + "?filter=bob")
    assert [(v["user"]["name"], v["permission"]) for v in holders["values"]] == [
        ("bob", "PROJECT_READ")
    ]
    assert await _status(client, "DELETE", project + "?name=bob") == 204
    listing = await _json(client, f"{API}/projects/PKG/repos?limit=1000", "bob")
    assert len(listing["values"]) < len(repos)


async def test_only_administrators_manage_permissions(client: Client, store: Store) -> None:
    repo = _bobs_repo(store)
    path = f"{_repo_path(repo)}/permissions/users"
    assert await _status(client, "GET", path, "bob") == 401
    assert await _status(client, "PUT", path + "?name=bob&permission=REPO_ADMIN", "bob") == 401
    assert await _status(client, "DELETE", path + "?name=bob", None) == 401
    project = f"{API}/projects/PKG/permissions/users"
    assert (
        await _status(client, "PUT", project + "?name=bob&permission=PROJECT_ADMIN", "bob") == 401
    )
    assert await _status(client, "GET", project, "admin") == 200


@pytest.mark.parametrize(
    ("query", "status", "context"),
    [
        ("permission=REPO_READ", 400, "name"),
        ("name=&permission=REPO_READ", 400, "name"),
        ("name=bob", 400, "permission"),
        ("name=bob&permission=PROJECT_READ", 400, "permission"),
        ("name=bob&permission=repo_read", 400, "permission"),
        ("name=nobody-here&permission=REPO_READ", 404, None),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(
    client: Client, store: Store, query: str, status: int, context: str | None
) -> None:
    repo = _bobs_repo(store)
    path = f"{_repo_path(repo)}/permissions/users"
    before = await _json(client, path)
    answer = await client.put(f"{path}?{query}", headers=basic("alice"))
    assert answer.status == status
    assert validate(await answer.json(), "error.json")["errors"][0]["context"] == context
    assert await _json(client, path) == before


async def test_unknown_project_and_repository_are_404(client: Client) -> None:
    assert await _status(client, "GET", f"{API}/projects/NOPE/permissions/users") == 404
    assert await _status(client, "GET", f"{API}/projects/PKG/repos/nope/permissions/users") == 404


async def test_reset_forgets_changed_grants(client: Client, store: Store) -> None:
    repo = _bobs_repo(store)
    assert await _status(client, "DELETE", f"{_repo_path(repo)}/permissions/users?name=bob") == 204
    assert (await client.post("/_sim/reset")).status == 200
    assert await _status(client, "GET", _repo_path(repo), "bob") == 200
