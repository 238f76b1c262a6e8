"""Project and repository HTTP access tokens: /rest/access-tokens/1.0/projects/{projectKey}
[/repos/{repositorySlug}][/{tokenId}], who may manage them, and what their Bearer secret
reaches on REST and on git smart HTTP (as the resource's service user, within its scope)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.logredact import redact
from simulator.model import Repository
from simulator.oauth2.scopes import Scope
from simulator.persistence import StateFile
from simulator.settings import Settings
from simulator.store import Store
from simulator.testing import SimulatorServer
from simulator.version import BitbucketVersion
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.git.test_clone import clone_url, git
from tests.simulator.oauth2.test_oauth2_flow import make_link, obtain_tokens
from tests.simulator.test_contract_rest import conforms, document_of

TOKENS = "/rest/access-tokens/1.0"
API = "/rest/api/1.0"
DAY_MS = 86_400_000
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"
VALIDATION = "com.atlassian.bitbucket.validation.ArgumentValidationException"
NO_SUCH_PROJECT = "com.atlassian.bitbucket.project.NoSuchProjectException"
NO_SUCH_REPO = "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
NO_SUCH_ENTITY = "com.atlassian.bitbucket.NoSuchEntityException"
NOT_FOUND = "com.sun.jersey.api.NotFoundException"
INCORRECT_PASSWORD = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
ALICE = basic("alice")  # PROJECT_ADMIN of PKG
PROJECT_READ = {"name": "ci", "permissions": ["PROJECT_READ"]}
REPO_READ = {"name": "ci", "permissions": ["REPO_READ"]}


def private_repos(store: Store, key: str = "PKG") -> list[Repository]:
    """The project's repositories that are not public (so only a grant reaches them)."""
    catalog = store.catalog
    project = catalog.projects_by_key[key]
    found = [catalog.repository(repo_id) for repo_id in project.repo_ids()]
    return [repo for repo in found if repo is not None and not repo.public]


def other_private_repo(store: Store) -> Repository:
    """A private repository outside PKG."""
    for project in store.catalog.projects:
        if project.key != "PKG" and project.type == "NORMAL":
            repos = private_repos(store, project.key)
            if repos:
                return repos[0]
    raise AssertionError("no private repository outside PKG")


def repo_path(repo: Repository) -> str:
    return f"/projects/{repo.project.key}/repos/{repo.slug}"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def error_of(response: Any, status: int, exception: str) -> dict[str, Any]:
    """Assert an error envelope and return its first error."""
    assert response.status == status, await response.text()
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["exceptionName"] == exception
    first: dict[str, Any] = body["errors"][0]
    return first


async def create(
    client: Client,
    resource: str = "/projects/PKG",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create a token (by default a PROJECT_READ one of PKG, as alice); the validated answer."""
    if body is None:
        body = PROJECT_READ if "/repos/" not in resource else REPO_READ
    response = await client.put(TOKENS + resource, json=body, headers=headers or ALICE)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    token: dict[str, Any] = validate(await response.json(), "resource-token-created.json")
    return token


# -- creating -------------------------------------------------------------------------------


async def test_a_project_token_acts_as_the_projects_service_user(
    client: Client, store: Store
) -> None:
    before = store.clock.now_ms()
    token = await create(client)
    project = store.catalog.projects_by_key["PKG"]
    assert before <= token["createdDate"] <= store.clock.now_ms()
    assert token["name"] == "ci"
    assert token["permissions"] == ["PROJECT_READ"]
    user = token["user"]
    assert user["name"] == f"access-token-user/1/{project.id}"
    assert user["slug"] == f"access-token-user_1_{project.id}"
    assert user["displayName"] == f"Access Token User - {project.name}"
    assert user["type"] == "SERVICE"
    assert user["emailAddress"] is None
    assert user["id"] > len(store.catalog.users)
    assert user["links"]["self"][0]["href"] == f"{store.base_url}/bots/{user['slug']}"
    assert "expiryDays" not in token


async def test_a_repository_token_has_its_repositorys_service_user(
    client: Client, store: Store
) -> None:
    repo = private_repos(store)[0]
    first = await create(client, repo_path(repo), {**REPO_READ, "expiryDays": 30})
    second = await create(client, repo_path(repo), {"name": "two", "permissions": ["REPO_ADMIN"]})
    project = await create(client)
    assert first["user"]["name"] == f"access-token-user/2/{repo.id}"
    assert first["user"] == second["user"]
    assert project["user"]["id"] != first["user"]["id"]
    assert first["expiryDays"] == 30
    assert first["expiryDate"] == first["createdDate"] + 30 * DAY_MS
    assert len({first["id"], second["id"], project["id"]}) == 3
    assert len({first["token"], second["token"], project["token"]}) == 3


async def test_the_latest_prefix_serves_the_same_api(client: Client) -> None:
    response = await client.put(
        "/rest/access-tokens/latest/projects/PKG", json=PROJECT_READ, headers=ALICE
    )
    created = validate(await response.json(), "resource-token-created.json")
    listed = await client.get(TOKENS + "/projects/PKG", headers=ALICE)
    assert [t["id"] for t in (await listed.json())["values"]] == [created["id"]]


@pytest.mark.parametrize(
    ("resource", "permissions"),
    [
        ("project", ["PROJECT_READ", "REPO_WRITE"]),
        ("project", ["PROJECT_WRITE", "REPO_WRITE"]),
        ("project", ["PROJECT_ADMIN", "REPO_ADMIN"]),
        ("project", ["PROJECT_ADMIN"]),
        ("repository", ["REPO_WRITE"]),
    ],
)
async def test_the_permissions_each_kind_takes(
    client: Client, store: Store, resource: str, permissions: list[str]
) -> None:
    path = "/projects/PKG" if resource == "project" else repo_path(private_repos(store)[0])
    token = await create(client, path, {"name": "x", "permissions": permissions})
    assert token["permissions"] == permissions


@pytest.mark.parametrize(
    ("resource", "permissions"),
    [
        ("repository", ["PROJECT_READ"]),
        ("repository", ["PROJECT_READ", "REPO_READ"]),
        ("project", ["REPO_READ"]),
        ("project", ["PROJECT_WRITE", "REPO_READ"]),
        ("project", ["PROJECT_ADMIN", "REPO_WRITE"]),
        ("project", ["PROJECT_READ", "PROJECT_WRITE"]),
        ("project", ["SYS_ADMIN"]),
    ],
)
async def test_permissions_a_kind_does_not_take_are_400(
    client: Client, store: Store, resource: str, permissions: list[str]
) -> None:
    path = "/projects/PKG" if resource == "project" else repo_path(private_repos(store)[0])
    response = await client.put(
        TOKENS + path, json={"name": "x", "permissions": permissions}, headers=ALICE
    )
    error = await error_of(response, 400, VALIDATION)
    assert error["context"] == "permissions"
    assert store.resource_tokens.tokens == {}


async def test_a_blank_name_and_malformed_json_are_400(client: Client) -> None:
    blank = await client.put(
        TOKENS + "/projects/PKG", json={"name": " ", "permissions": ["PROJECT_READ"]}, headers=ALICE
    )
    assert (await error_of(blank, 400, VALIDATION))["context"] == "name"
    malformed = await client.put(
        TOKENS + "/projects/PKG",
        data=b"{nope",
        headers={**ALICE, "Content-Type": "application/json"},
    )
    await error_of(malformed, 400, "com.atlassian.bitbucket.rest.exception.BadRequestException")


async def test_creation_stops_at_the_maximum_per_resource_and_overall(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator.rest import resource_tokens

    monkeypatch.setattr(resource_tokens, "MAX_TOKENS_PER_RESOURCE", 2)
    monkeypatch.setattr(resource_tokens, "MAX_TOKENS", 3)
    await create(client)
    await create(client)
    full = await client.put(TOKENS + "/projects/PKG", json=PROJECT_READ, headers=ALICE)
    assert (await error_of(full, 400, VALIDATION))["context"] is None
    repo = private_repos(store)[0]
    await create(client, repo_path(repo))
    over = await client.put(TOKENS + repo_path(repo), json=REPO_READ, headers=ALICE)
    assert "maximum" in (await error_of(over, 400, VALIDATION))["message"]
    assert len(store.resource_tokens.tokens) == 3


# -- who may manage them --------------------------------------------------------------------


async def test_anonymous_is_401(client: Client, store: Store) -> None:
    await error_of(await client.get(TOKENS + "/projects/PKG"), 401, AUTHORISATION)
    repo = private_repos(store)[0]
    await error_of(await client.put(TOKENS + repo_path(repo), json=REPO_READ), 401, AUTHORISATION)


async def test_a_user_who_does_not_administer_the_project_is_401(
    client: Client, store: Store
) -> None:
    bob = basic("bob")  # REPO_READ on PKG's first two repositories, no project permission
    for method in ("GET", "PUT"):
        response = await client.request(
            method, TOKENS + "/projects/PKG", json=PROJECT_READ, headers=bob
        )
        await error_of(response, 401, AUTHORISATION)
    readable = store.catalog.repository(store.catalog.projects_by_key["PKG"].first_repo_id)
    assert readable is not None
    response = await client.put(TOKENS + repo_path(readable), json=REPO_READ, headers=bob)
    await error_of(response, 401, AUTHORISATION)
    assert store.resource_tokens.tokens == {}


async def test_a_project_admins_tokens_are_not_readable_by_a_repository_reader(
    client: Client, store: Store
) -> None:
    created = await create(client)
    response = await client.get(f"{TOKENS}/projects/PKG/{created['id']}", headers=basic("bob"))
    await error_of(response, 401, AUTHORISATION)


async def test_a_system_administrator_manages_any_projects_tokens(client: Client) -> None:
    token = await create(client, headers=basic("admin"))
    listed = await client.get(TOKENS + "/projects/PKG", headers=ALICE)
    assert [t["id"] for t in (await listed.json())["values"]] == [token["id"]]


async def test_unknown_project_and_repository_are_404(client: Client) -> None:
    await error_of(await client.get(TOKENS + "/projects/NOPE", headers=ALICE), 404, NO_SUCH_PROJECT)
    await error_of(
        await client.put(TOKENS + "/projects/PKG/repos/nope", json=REPO_READ, headers=ALICE),
        404,
        NO_SUCH_REPO,
    )


async def test_a_repo_read_oauth_token_cannot_manage_tokens(client: Client, store: Store) -> None:
    link = make_link(store, scopes=(Scope.REPO_READ,))
    tokens = await obtain_tokens(client, store, link, "alice", scope="REPO_READ")
    headers = bearer(tokens["access_token"])
    listed = await client.get(TOKENS + "/projects/PKG", headers=headers)
    await error_of(listed, 401, AUTHORISATION)
    created = await client.put(TOKENS + "/projects/PKG", json=PROJECT_READ, headers=headers)
    await error_of(created, 401, AUTHORISATION)
    repo = private_repos(store)[0]
    on_repo = await client.put(TOKENS + repo_path(repo), json=REPO_READ, headers=headers)
    await error_of(on_repo, 401, AUTHORISATION)
    assert store.resource_tokens.tokens == {}


async def test_a_project_admin_oauth_token_reads_but_cannot_create(
    client: Client, store: Store
) -> None:
    link = make_link(store, scopes=(Scope.PROJECT_ADMIN,))
    tokens = await obtain_tokens(client, store, link, "alice", scope="PROJECT_ADMIN")
    headers = bearer(tokens["access_token"])
    assert (await client.get(TOKENS + "/projects/PKG", headers=headers)).status == 200
    created = await client.put(TOKENS + "/projects/PKG", json=PROJECT_READ, headers=headers)
    error = await error_of(created, 401, AUTHORISATION)
    assert error["message"] == "An OAuth access token cannot be used to manage access tokens."


@pytest.mark.parametrize(
    "permissions", [["REPO_READ"], ["PROJECT_READ", "REPO_READ"], ["PROJECT_ADMIN", "REPO_ADMIN"]]
)
async def test_a_personal_token_cannot_create_project_tokens(
    client: Client, store: Store, permissions: list[str]
) -> None:
    response = await client.put(
        TOKENS + "/users/alice", json={"name": "pat", "permissions": permissions}, headers=ALICE
    )
    pat = (await response.json())["token"]
    created = await client.put(TOKENS + "/projects/PKG", json=PROJECT_READ, headers=bearer(pat))
    await error_of(created, 401, AUTHORISATION)
    listed = await client.get(TOKENS + "/projects/PKG", headers=bearer(pat))
    assert listed.status == (200 if "PROJECT_ADMIN" in permissions else 401)
    assert store.resource_tokens.tokens == {}


async def test_a_project_token_cannot_mint_tokens(client: Client, store: Store) -> None:
    admin_token = await create(client, body={"name": "x", "permissions": ["PROJECT_ADMIN"]})
    headers = bearer(admin_token["token"])
    assert (await client.get(TOKENS + "/projects/PKG", headers=headers)).status == 200
    created = await client.put(TOKENS + "/projects/PKG", json=PROJECT_READ, headers=headers)
    error = await error_of(created, 401, AUTHORISATION)
    assert error["message"] == "An access token cannot be used to manage access tokens."
    revoked = await client.delete(f"{TOKENS}/projects/PKG/{admin_token['id']}", headers=headers)
    await error_of(revoked, 401, AUTHORISATION)
    assert list(store.resource_tokens.tokens) == [admin_token["id"]]


# -- listing, reading, changing, revoking ---------------------------------------------------


async def test_list_is_a_page_newest_first_without_secrets(client: Client, store: Store) -> None:
    ids = []
    for _ in range(3):
        ids.append((await create(client))["id"])
        store.clock.advance(1)
    await create(client, repo_path(private_repos(store)[0]))  # another resource's
    response = await client.get(TOKENS + "/projects/PKG", headers=ALICE)
    page = validate(await response.json(), "resource-tokens-page.json")
    assert [t["id"] for t in page["values"]] == ids[::-1]
    assert all("token" not in t for t in page["values"])
    first = validate(
        await (await client.get(TOKENS + "/projects/PKG?limit=1", headers=ALICE)).json(),
        "resource-tokens-page.json",
    )
    assert first["isLastPage"] is False
    assert first["nextPageStart"] == 1
    bad = await client.get(TOKENS + "/projects/PKG?limit=-1", headers=ALICE)
    await error_of(bad, 400, VALIDATION)


async def test_get_one_and_the_404s(client: Client, store: Store) -> None:
    token = await create(client)
    one = await client.get(f"{TOKENS}/projects/PKG/{token['id']}", headers=ALICE)
    body = validate(await one.json(), "resource-token.json")
    assert body["id"] == token["id"]
    assert "token" not in body
    missing = await client.get(f"{TOKENS}/projects/PKG/000000000000", headers=ALICE)
    await error_of(missing, 404, NO_SUCH_ENTITY)
    elsewhere = f"{TOKENS}{repo_path(private_repos(store)[0])}/{token['id']}"
    await error_of(await client.get(elsewhere, headers=ALICE), 404, NO_SUCH_ENTITY)


async def test_update_changes_name_and_permissions_and_keeps_the_expiry(
    client: Client, store: Store
) -> None:
    repo = private_repos(store)[0]
    token = await create(client, repo_path(repo), {**REPO_READ, "expiryDays": 5})
    path = f"{TOKENS}{repo_path(repo)}/{token['id']}"
    change = {"name": "renamed", "permissions": ["REPO_ADMIN"], "expiryDays": 99}
    changed = validate(
        await (await client.post(path, json=change, headers=ALICE)).json(), "resource-token.json"
    )
    assert changed["name"] == "renamed"
    assert changed["permissions"] == ["REPO_ADMIN"]
    assert changed["expiryDate"] == token["expiryDate"]
    refused = await client.post(path, json={"permissions": ["PROJECT_READ"]}, headers=ALICE)
    await error_of(refused, 400, VALIDATION)
    assert store.resource_tokens.tokens[token["id"]].permissions == ("REPO_ADMIN",)


async def test_updated_permissions_take_effect_on_the_secret(client: Client, store: Store) -> None:
    repo = private_repos(store)[0]
    token = await create(client, repo_path(repo))
    hooks = f"{API}{repo_path(repo)}/webhooks"  # REPO_ADMIN
    await error_of(await client.get(hooks, headers=bearer(token["token"])), 401, AUTHORISATION)
    path = f"{TOKENS}{repo_path(repo)}/{token['id']}"
    assert (
        await client.post(path, json={"permissions": ["REPO_ADMIN"]}, headers=ALICE)
    ).status == 200
    assert (await client.get(hooks, headers=bearer(token["token"]))).status == 200


async def test_delete_revokes_and_forgets_the_service_user(client: Client, store: Store) -> None:
    token = await create(client)
    repo = private_repos(store)[0]
    path = f"{TOKENS}/projects/PKG/{token['id']}"
    assert (await client.delete(path, headers=basic("bob"))).status == 401
    assert (await client.delete(path, headers=ALICE)).status == 204
    await error_of(await client.delete(path, headers=ALICE), 404, NO_SUCH_ENTITY)
    used = await client.get(API + repo_path(repo), headers=bearer(token["token"]))
    await error_of(used, 401, AUTHORISATION)
    assert store.resource_tokens.service_users == {}


# -- using them -----------------------------------------------------------------------------


async def test_a_project_token_reads_its_projects_repositories_only(
    client: Client, store: Store
) -> None:
    token = await create(client)
    headers = bearer(token["token"])
    mine = private_repos(store)[0]
    answer = await client.get(API + repo_path(mine), headers=headers)
    assert answer.status == 200, await answer.text()
    assert answer.headers["X-AUSERNAME"] == token["user"]["name"].replace("/", "%2F")
    assert answer.headers["X-AUSERID"] == str(token["user"]["id"])
    other = other_private_repo(store)
    await error_of(await client.get(API + repo_path(other), headers=headers), 401, AUTHORISATION)
    listed = await client.get(API + "/repos?limit=1000", headers=headers)
    values = (await listed.json())["values"]
    assert {r["slug"] for r in values if r["project"]["key"] == "PKG"} >= {
        r.slug for r in private_repos(store)
    }
    assert all(r["project"]["key"] == "PKG" or r["public"] for r in values)


async def test_a_repository_token_reaches_its_repository_only(client: Client, store: Store) -> None:
    mine, sibling = private_repos(store)[:2]
    token = await create(client, repo_path(mine))
    headers = bearer(token["token"])
    assert (await client.get(API + repo_path(mine) + "/branches", headers=headers)).status == 200
    await error_of(await client.get(API + repo_path(sibling), headers=headers), 401, AUTHORISATION)
    listed = await client.get(API + "/projects/PKG/repos?limit=1000", headers=headers)
    slugs = {r["slug"] for r in (await listed.json())["values"]}
    assert mine.slug in slugs
    assert sibling.slug not in slugs


async def test_basic_with_a_project_token_is_refused_as_a_bad_password(
    client: Client, store: Store
) -> None:
    token = await create(client)
    repo = private_repos(store)[0]
    for user in (token["user"]["name"], "alice", "x-token-auth"):
        response = await client.get(API + repo_path(repo), headers=basic(user, token["token"]))
        await error_of(response, 401, INCORRECT_PASSWORD)


async def test_an_expired_token_stops_authenticating_but_stays_listed(
    client: Client, store: Store
) -> None:
    token = await create(client, body={**PROJECT_READ, "expiryDays": 1})
    repo = private_repos(store)[0]
    assert (await client.get(API + repo_path(repo), headers=bearer(token["token"]))).status == 200
    store.clock.advance(86_400)
    expired = await client.get(API + repo_path(repo), headers=bearer(token["token"]))
    await error_of(expired, 401, AUTHORISATION)
    listed = await client.get(TOKENS + "/projects/PKG", headers=ALICE)
    body = (await listed.json())["values"][0]
    assert body["id"] == token["id"]
    assert "lastAuthenticated" in body


async def test_the_secret_is_redacted_in_the_journal_and_the_log(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = await create(client)
    await client.get(API + "/projects/PKG/repos", headers=bearer(token["token"]))
    journal = await (await client.get("/_sim/journal")).text()
    assert token["token"] not in journal
    assert "Bearer <redacted>" in journal
    assert token["token"] not in redact(f"GET / HTTP/1.1\r\nAuthorization: Bearer {token['token']}")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("simulator").warning("Authorization: Bearer %s", token["token"])
    assert token["token"] not in caplog.text


# -- the OpenAPI document --------------------------------------------------------------------


@pytest.mark.parametrize("level", ["project", "repository"])
async def test_answers_are_as_the_document_describes(
    client: Client, store: Store, level: str
) -> None:
    document = await document_of(client)
    if level == "project":
        template = TOKENS + "/projects/{projectKey}"
        base, body = TOKENS + "/projects/PKG", PROJECT_READ
    else:
        template = TOKENS + "/projects/{projectKey}/repos/{repositorySlug}"
        base, body = TOKENS + repo_path(private_repos(store)[0]), REPO_READ
    one = template + "/{tokenId}"
    created = await conforms(
        client, document, "PUT", template, base, headers=ALICE, status=200, body=body
    )
    bad = {"name": "x", "permissions": ["NOPE"]}
    await conforms(client, document, "PUT", template, base, headers=ALICE, status=400, body=bad)
    await conforms(client, document, "PUT", template, base, headers={}, status=401, body=body)
    await conforms(client, document, "GET", template, base + "?limit=1", headers=ALICE, status=200)
    await conforms(client, document, "GET", template, base, headers=basic("bob"), status=401)
    missing = TOKENS + "/projects/NOPE" + ("/repos/x" if level == "repository" else "")
    await conforms(client, document, "GET", template, missing, headers=ALICE, status=404)
    token = f"{base}/{created['id']}"
    await conforms(client, document, "GET", one, token, headers=ALICE, status=200)
    await conforms(client, document, "GET", one, base + "/000000000000", headers=ALICE, status=404)
    change = {"name": "renamed"}
    await conforms(client, document, "POST", one, token, headers=ALICE, status=200, body=change)
    wrong = {"permissions": ["REPO_READ", "REPO_WRITE"]}
    await conforms(client, document, "POST", one, token, headers=ALICE, status=400, body=wrong)
    pat = bearer(created["token"])
    await conforms(client, document, "DELETE", one, token, headers=pat, status=401)
    await conforms(client, document, "DELETE", one, token, headers=ALICE, status=204)
    await conforms(client, document, "DELETE", one, token, headers=ALICE, status=404)


# -- versions, reset, state file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/projects/PKG"),
        ("PUT", "/projects/PKG"),
        ("GET", "/projects/PKG/123456789012"),
        ("POST", "/projects/PKG/123456789012"),
        ("DELETE", "/projects/PKG/123456789012"),
        ("PUT", "/projects/PKG/repos/any"),
        ("DELETE", "/projects/PKG/repos/any/123456789012"),
    ],
)
async def test_before_7_12_every_path_is_404(
    client: Client, store: Store, method: str, path: str
) -> None:
    store.config.version = BitbucketVersion.parse("7.11.2")
    response = await client.request(method, TOKENS + path, json=PROJECT_READ, headers=ALICE)
    await error_of(response, 404, NOT_FOUND)


async def test_from_7_12_tokens_exist_and_an_older_version_ignores_them(
    client: Client, store: Store
) -> None:
    store.config.version = BitbucketVersion.parse("7.12.0")
    token = await create(client)
    repo = private_repos(store)[0]
    store.config.version = BitbucketVersion.parse("7.11.0")
    old = await client.get(API + repo_path(repo), headers=bearer(token["token"]))
    await error_of(old, 401, AUTHORISATION)


async def test_a_reset_forgets_every_token(client: Client, store: Store) -> None:
    token = await create(client)
    assert (await client.post("/_sim/reset")).status == 200
    assert store.resource_tokens.tokens == {}
    assert store.resource_tokens.service_users == {}
    repo = private_repos(store)[0]
    used = await client.get(API + repo_path(repo), headers=bearer(token["token"]))
    await error_of(used, 401, AUTHORISATION)


async def test_tokens_and_service_users_survive_in_the_state_file(
    client: Client, store: Store, tmp_path: Path
) -> None:
    project_token = await create(client)
    repo = private_repos(store)[0]
    repo_token = await create(client, repo_path(repo))
    state = StateFile(tmp_path / "s.sqlite")
    state.save(store)
    state.close()
    restored = Store(Settings(port=0))
    assert StateFile(tmp_path / "s.sqlite").load(restored) > 0
    for created in (project_token, repo_token):
        found = restored.resource_tokens.find(created["token"], restored.clock.now_ms())
        assert found is not None
        user = restored.resource_tokens.user_of(found)
        assert user is not None
        assert user.id == created["user"]["id"]
    assert restored.resource_tokens.next_user_offset == store.resource_tokens.next_user_offset


# -- git over smart HTTP --------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture
def fresh(server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The server, reset after the test (which forgets its tokens and pushes)."""
    yield server
    assert requests.post(server.base_url + "/_sim/reset", timeout=10).status_code == 200


def rest_token(server: SimulatorServer, resource: str, permissions: list[str]) -> str:
    answer = requests.put(
        server.base_url + TOKENS + resource,
        json={"name": "git", "permissions": permissions},
        auth=("alice", "alice"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def repository_json(server: SimulatorServer, repo: Repository) -> dict[str, Any]:
    answer = requests.get(
        server.base_url + API + repo_path(repo), auth=("admin", "admin"), timeout=10
    )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def header(secret: str) -> tuple[str, str]:
    return ("-c", f"http.extraHeader=Authorization: Bearer {secret}")


def commit_in(work: Path) -> None:
    for key, value in (("user.name", "Bot"), ("user.email", "bot@example.com")):
        assert git("config", key, value, cwd=work).returncode == 0
    (work / "BOT.md").write_text("pushed by a token\n")
    assert git("add", "BOT.md", cwd=work).returncode == 0
    assert git("commit", "--quiet", "-m", "Bot", cwd=work).returncode == 0


@needs_git
def test_git_clone_and_push_with_a_project_token(fresh: SimulatorServer, tmp_path: Path) -> None:
    repo = private_repos(fresh.store)[0]
    url = clone_url(repository_json(fresh, repo))
    secret = rest_token(fresh, "/projects/PKG", ["PROJECT_READ", "REPO_WRITE"])
    work = tmp_path / "work"
    done = git(*header(secret), "clone", "--quiet", url, str(work))
    assert done.returncode == 0, done.stderr
    commit_in(work)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).stdout.strip()
    pushed = git(*header(secret), "push", "--quiet", "origin", branch, cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    branches = requests.get(
        f"{fresh.base_url}{API}{repo_path(repo)}/branches?filterText={branch}",
        headers=bearer(secret),
        timeout=10,
    ).json()
    assert {b["displayId"]: b["latestCommit"] for b in branches["values"]}[branch] == head


@needs_git
def test_git_with_a_repo_read_token_clones_but_cannot_push(
    fresh: SimulatorServer, tmp_path: Path
) -> None:
    repo = private_repos(fresh.store)[0]
    url = clone_url(repository_json(fresh, repo))
    secret = rest_token(fresh, repo_path(repo), ["REPO_READ"])
    work = tmp_path / "work"
    done = git(*header(secret), "clone", "--quiet", url, str(work))
    assert done.returncode == 0, done.stderr
    commit_in(work)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).stdout.strip()
    refused = git(*header(secret), "push", "--quiet", "origin", branch, cwd=work)
    assert refused.returncode != 0
    assert "not permitted to push" in refused.stderr or "403" in refused.stderr, refused.stderr


@needs_git
def test_git_with_a_token_outside_its_scope_is_not_found(
    fresh: SimulatorServer, tmp_path: Path
) -> None:
    mine, sibling = private_repos(fresh.store)[:2]
    secret = rest_token(fresh, repo_path(mine), ["REPO_ADMIN"])
    for repo in (sibling, other_private_repo(fresh.store)):
        url = clone_url(repository_json(fresh, repo))
        done = git(*header(secret), "clone", "--quiet", url, str(tmp_path / repo.slug))
        assert done.returncode != 0
        assert "not found" in done.stderr.lower(), done.stderr


@needs_git
def test_git_with_a_project_token_as_a_basic_password_fails(
    fresh: SimulatorServer, tmp_path: Path
) -> None:
    repo = private_repos(fresh.store)[0]
    secret = rest_token(fresh, "/projects/PKG", ["PROJECT_READ"])
    scheme, rest_of = clone_url(repository_json(fresh, repo)).split("://", 1)
    url = f"{scheme}://x-token-auth:{secret}@{rest_of}"
    done = git("clone", "--quiet", url, str(tmp_path / "clone"))
    assert done.returncode != 0
    assert "Authentication failed" in done.stderr or "401" in done.stderr, done.stderr
