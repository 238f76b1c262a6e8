"""``…/webhooks`` at repository and project level: create, list, get, update, delete, search,
their JSON, validation in the envelope, Bitbucket's permission rule (401 for a caller or a
credential below REPO_ADMIN / PROJECT_ADMIN), 404s, the 5.4 gate and ``POST /_sim/reset``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from simulator.model import Repository
from simulator.oauth2.scopes import Scope
from simulator.settings import Settings
from simulator.store import Store
from simulator.version import BitbucketVersion
from simulator.webhooks import model
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.webhooks.support import (
    API,
    hook_body,
    pkg_repo,
    project_hooks,
    repo_hooks,
)

ADMIN = basic("admin")
ALICE = basic("alice")
URL = "http://127.0.0.1:9/hook"


async def _create(
    client: Client, path: str, body: Any, headers: dict[str, str] | None = None
) -> Any:
    answer = await client.post(path, json=body, headers=headers or ADMIN)
    assert answer.status == 200, await answer.text()
    return validate(await answer.json(), "webhook.json")


async def _error(answer: Any, status: int, context: str | None = None) -> dict[str, Any]:
    assert answer.status == status, await answer.text()
    body = validate(await answer.json(), "error.json")
    error: dict[str, Any] = body["errors"][0]
    if context is not None:
        assert error["context"] == context, error
    return error


async def _oauth2_token(client: Client, store: Store, scope: Scope, user: str = "alice") -> str:
    backend = store.oauth2
    redirect = "http://127.0.0.1:9/callback"
    link = backend.create_client(f"hooks {scope.name}", [redirect], (scope,), "admin")
    code = backend.issue_code(
        link,
        redirect_uri=redirect,
        scopes=(scope,),
        user_id=store.catalog.users_by_name[user].id,
        challenge=None,
        method=None,
    )
    answer = await client.post(
        "/rest/oauth2/latest/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": link.client_id,
            "client_secret": link.client_secret,
        },
    )
    assert answer.status == 200, await answer.text()
    return str((await answer.json())["access_token"])


async def _personal_token(client: Client, permissions: list[str]) -> str:
    answer = await client.put(
        "/rest/access-tokens/1.0/users/alice",
        json={"name": f"hooks {'+'.join(permissions)}", "permissions": permissions},
        headers=ALICE,
    )
    assert answer.status == 200, await answer.text()
    return str((await answer.json())["token"])


# -- create, read, list ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/rest/api/1.0", "/rest/api/latest"])
async def test_a_created_webhook_answers_as_bitbucket_shows_it(
    client: Client, store: Store, prefix: str
) -> None:
    repo = pkg_repo(store)
    now = store.clock.now_ms()
    created = await _create(
        client,
        repo_hooks(repo, prefix),
        hook_body(
            URL,
            configuration={"secret": "s3cr3t", "createdBy": "packagist"},
            credentials={"username": "hook", "password": "pw"},
            sslVerificationRequired=False,
        ),
    )
    assert created["id"] == 1
    assert created["name"] == "Packagist"
    assert created["url"] == URL
    assert created["events"] == ["repo:refs_changed"]
    assert created["active"] is True
    assert created["scopeType"] == "repository"
    assert created["sslVerificationRequired"] is False
    assert created["configuration"] == {"secret": "s3cr3t", "createdBy": "packagist"}
    assert created["credentials"] == {"username": "hook"}  # the password is never shown
    assert now <= created["createdDate"] == created["updatedDate"] <= store.clock.now_ms()
    read = await client.get(f"{repo_hooks(repo, prefix)}/1", headers=ADMIN)
    assert await read.json() == created


async def test_defaults_active_and_ssl_verification_and_no_credentials(
    client: Client, store: Store
) -> None:
    created = await _create(client, repo_hooks(pkg_repo(store)), hook_body(URL))
    assert created["active"] is True
    assert created["sslVerificationRequired"] is True
    assert created["configuration"] == {}
    assert "credentials" not in created


async def test_the_list_is_paged_by_id_and_filtered_by_event(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store))
    await _create(client, path, hook_body(URL, name="one"))
    await _create(client, path, hook_body(URL, name="two", events=["pr:opened"]))
    await _create(
        client, path, hook_body(URL, name="three", events=["pr:merged", "repo:refs_changed"])
    )
    page = validate(
        await (await client.get(path + "?limit=2", headers=ADMIN)).json(), "webhooks-page.json"
    )
    assert [hook["name"] for hook in page["values"]] == ["one", "two"]
    assert page["nextPageStart"] == 2
    assert not page["isLastPage"]
    rest = await (await client.get(path + "?start=2", headers=ADMIN)).json()
    assert [hook["name"] for hook in rest["values"]] == ["three"]
    assert rest["isLastPage"]
    pushed = await (await client.get(path + "?event=repo:refs_changed", headers=ADMIN)).json()
    assert [hook["name"] for hook in pushed["values"]] == ["one", "three"]
    either = await (
        await client.get(path + "?event=pr:opened&event=pr:merged", headers=ADMIN)
    ).json()
    assert [hook["name"] for hook in either["values"]] == ["two", "three"]


async def test_statistics_true_adds_counts(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store))
    await _create(client, path, hook_body(URL))
    listed = await (await client.get(path + "?statistics=TRUE", headers=ADMIN)).json()
    validate(listed, "webhooks-page.json")
    assert listed["values"][0]["statistics"] == {
        "counts": {"successes": 0, "failures": 0, "errors": 0}
    }
    plain = await (await client.get(path + "?statistics=yes", headers=ADMIN)).json()
    assert "statistics" not in plain["values"][0]
    one = await (await client.get(path + "/1?statistics=true", headers=ADMIN)).json()
    assert validate(one, "webhook.json")["statistics"]["counts"]["successes"] == 0


async def test_project_webhooks_are_their_own_and_search_shows_both(
    client: Client, store: Store
) -> None:
    repo = pkg_repo(store)
    await _create(client, repo_hooks(repo), hook_body(URL, name="repository hook"))
    project = await _create(client, project_hooks("PKG"), hook_body(URL, name="project hook"))
    assert project["scopeType"] == "project"
    in_repo = await (await client.get(repo_hooks(repo), headers=ADMIN)).json()
    assert [hook["name"] for hook in in_repo["values"]] == ["repository hook"]
    in_project = await (await client.get(project_hooks("pkg"), headers=ADMIN)).json()
    assert [hook["name"] for hook in in_project["values"]] == ["project hook"]
    search = repo_hooks(repo) + "/search"
    both = validate(await (await client.get(search, headers=ADMIN)).json(), "webhooks-page.json")
    assert [hook["scopeType"] for hook in both["values"]] == ["repository", "project"]
    only = await (await client.get(search + "?scopeType=project", headers=ADMIN)).json()
    assert [hook["name"] for hook in only["values"]] == ["project hook"]
    await _error(await client.get(search + "?scopeType=global", headers=ADMIN), 400, "scopeType")
    # A project webhook is not found under a repository's path, nor the reverse.
    await _error(await client.get(f"{repo_hooks(repo)}/{project['id']}", headers=ADMIN), 404)
    await _error(await client.get(f"{project_hooks('PKG')}/1", headers=ADMIN), 404)


async def test_another_repositorys_webhook_is_404(client: Client, store: Store) -> None:
    created = await _create(client, repo_hooks(pkg_repo(store, 0)), hook_body(URL))
    other = repo_hooks(pkg_repo(store, 1))
    error = await _error(await client.get(f"{other}/{created['id']}", headers=ADMIN), 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.webhook.NoSuchWebhookException"
    for missing in ("999", "abc", "1.0"):
        await _error(await client.get(f"{other}/{missing}", headers=ADMIN), 404)


# -- update and delete -----------------------------------------------------------------------


async def test_update_changes_the_fields_given_and_moves_updated_date(
    client: Client, store: Store
) -> None:
    path = repo_hooks(pkg_repo(store))
    created = await _create(
        client,
        path,
        hook_body(URL, configuration={"secret": "old"}, credentials={"username": "u"}),
    )
    store.clock.advance(60)
    answer = await client.put(
        f"{path}/{created['id']}",
        json={"name": "Renamed", "events": ["repo:refs_changed", "pr:opened"], "active": False},
        headers=ADMIN,
    )
    assert answer.status == 200, await answer.text()
    updated = validate(await answer.json(), "webhook.json")
    assert updated["name"] == "Renamed"
    assert updated["events"] == ["repo:refs_changed", "pr:opened"]
    assert updated["active"] is False
    assert updated["url"] == URL
    assert updated["configuration"] == {"secret": "old"}
    assert updated["createdDate"] == created["createdDate"]
    assert updated["updatedDate"] >= created["updatedDate"] + 60_000
    dropped = await client.put(f"{path}/1", json={"credentials": None}, headers=ADMIN)
    assert "credentials" not in await dropped.json()
    await _error(await client.put(f"{path}/1", json={"name": " "}, headers=ADMIN), 400, "name")
    await _error(await client.put(f"{path}/7", json={"name": "x"}, headers=ADMIN), 404)


async def test_delete_answers_204_then_the_webhook_is_gone(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store))
    await _create(client, path, hook_body(URL))
    assert (await client.delete(f"{path}/1", headers=ADMIN)).status == 204
    await _error(await client.get(f"{path}/1", headers=ADMIN), 404)
    await _error(await client.delete(f"{path}/1", headers=ADMIN), 404)
    again = await _create(client, path, hook_body(URL))
    assert again["id"] == 2  # ids are not reused


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"url": URL, "events": ["repo:refs_changed"]}, "name"),
        (hook_body(URL, name="  "), "name"),
        (hook_body(URL, name="x" * 256), "name"),
        ({"name": "n", "events": ["repo:refs_changed"]}, "url"),
        (hook_body("not a url"), "url"),
        (hook_body("ftp://127.0.0.1/x"), "url"),
        (hook_body("http://"), "url"),
        (hook_body("http://127.0.0.1:99999/"), "url"),
        (hook_body("http://127.0.0.1/a b"), "url"),
        ({**hook_body(URL), "url": 12}, "url"),
        ({"name": "n", "url": URL}, "events"),
        (hook_body(URL, events=[]), "events"),
        (hook_body(URL, events=["repo:push"]), "events"),
        (hook_body(URL, events="repo:refs_changed"), "events"),
        (hook_body(URL, active="yes"), "active"),
        (hook_body(URL, configuration={"secret": 1}), "configuration"),
        (hook_body(URL, configuration=["secret"]), "configuration"),
        (hook_body(URL, credentials={"password": "p"}), "credentials"),
        (hook_body(URL, credentials={"username": "u", "token": "t"}), "credentials"),
        (hook_body(URL, sslVerificationRequired="no"), "sslVerificationRequired"),
        (hook_body(URL, colour="red"), "colour"),
    ],
)
async def test_a_bad_field_is_a_400_naming_it(
    client: Client, store: Store, body: Any, context: str
) -> None:
    answer = await client.post(repo_hooks(pkg_repo(store)), json=body, headers=ADMIN)
    error = await _error(answer, 400, context)
    assert error["exceptionName"] == (
        "com.atlassian.bitbucket.validation.ArgumentValidationException"
    )
    assert store.webhooks.hooks == {}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{nope", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"name": "\\ud800"}', "application/json", 400),
        (b'{"name": "n"}', "text/plain", 403),
        (b'{"name": "n"}', "application/xml", 415),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_refused(
    client: Client, store: Store, data: bytes, content_type: str, status: int
) -> None:
    answer = await client.post(
        repo_hooks(pkg_repo(store)), data=data, headers={**ADMIN, "Content-Type": content_type}
    )
    await _error(answer, status)


async def test_the_number_of_webhooks_is_bounded(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model, "MAX_PER_SCOPE", 2)
    path = repo_hooks(pkg_repo(store))
    for _ in range(2):
        await _create(client, path, hook_body(URL))
    await _error(await client.post(path, json=hook_body(URL), headers=ADMIN), 400, "webhooks")
    await _create(client, repo_hooks(pkg_repo(store, 1)), hook_body(URL))  # another scope


# -- permissions -----------------------------------------------------------------------------


Check = Callable[[dict[str, str]], Awaitable[int]]


def _statuses(client: Client, repo: Repository) -> dict[str, Check]:
    """Each operation of both levels, answering its status for some headers."""
    base, project = repo_hooks(repo), project_hooks(repo.project.key)

    async def run(method: str, path: str, headers: dict[str, str], body: Any = None) -> int:
        answer = await client.request(method, path, json=body, headers=headers)
        if answer.status >= 400:
            validate(await answer.json(), "error.json")
        return answer.status

    def each(path: str) -> dict[str, Check]:
        return {
            "list": lambda h: run("GET", path, h),
            "create": lambda h: run("POST", path, h, hook_body(URL)),
            "get": lambda h: run("GET", path + "/1", h),
            "update": lambda h: run("PUT", path + "/1", h, {"name": "x"}),
            "latest": lambda h: run("GET", path + "/1/latest", h),
            "statistics": lambda h: run("GET", path + "/1/statistics", h),
            "summary": lambda h: run("GET", path + "/1/statistics/summary", h),
            "test": lambda h: run("POST", path + "/test?url=http://127.0.0.1:9/", h),
            "delete": lambda h: run("DELETE", path + "/1", h),
        }

    checks = {f"repository {name}": check for name, check in each(base).items()}
    checks |= {f"project {name}": check for name, check in each(project).items()}
    checks["search"] = lambda h: run("GET", base + "/search", h)
    return checks


@pytest.mark.parametrize(
    "who",
    ["anonymous", "bob (REPO_READ)", "alice's REPO_READ OAuth 2 token", "a REPO_READ token"],
)
async def test_callers_below_admin_get_401_on_every_operation(
    client: Client, store: Store, who: str
) -> None:
    repo = pkg_repo(store)  # bob reads it; alice administers its project
    await _create(client, repo_hooks(repo), hook_body(URL))
    await _create(client, project_hooks("PKG"), hook_body(URL))
    headers: dict[str, str] = {}
    if who.startswith("bob"):
        headers = basic("bob")
    elif "OAuth" in who:
        headers = {"Authorization": "Bearer " + await _oauth2_token(client, store, Scope.REPO_READ)}
    elif "token" in who:
        headers = {"Authorization": "Bearer " + await _personal_token(client, ["REPO_READ"])}
    for name, check in _statuses(client, repo).items():
        assert await check(headers) == 401, name
    assert len(store.webhooks.hooks) == 2


async def test_project_admins_and_admin_tokens_may_manage_them(
    client: Client, store: Store
) -> None:
    repo = pkg_repo(store)
    for headers in (
        ALICE,
        {"Authorization": "Bearer " + await _oauth2_token(client, store, Scope.PROJECT_ADMIN)},
        {"Authorization": "Bearer " + await _personal_token(client, ["PROJECT_ADMIN"])},
    ):
        await _create(client, repo_hooks(repo), hook_body(URL), headers)
        await _create(client, project_hooks("PKG"), hook_body(URL), headers)
    repo_only = {"Authorization": "Bearer " + await _oauth2_token(client, store, Scope.REPO_ADMIN)}
    await _create(client, repo_hooks(repo), hook_body(URL), repo_only)
    answer = await client.post(project_hooks("PKG"), json=hook_body(URL), headers=repo_only)
    await _error(answer, 401)


async def test_a_grant_changed_at_runtime_decides_at_once(client: Client, store: Store) -> None:
    repo = pkg_repo(store)
    path = repo_hooks(repo)
    await _error(await client.get(path, headers=basic("bob")), 401)
    grant = f"{path.removesuffix('/webhooks')}/permissions/users?name=bob&permission=REPO_ADMIN"
    assert (await client.put(grant, headers=ALICE)).status == 204
    assert (await client.get(path, headers=basic("bob"))).status == 200
    await _error(await client.get(project_hooks("PKG"), headers=basic("bob")), 401)


async def test_missing_projects_and_repositories_are_404(client: Client, store: Store) -> None:
    repo = pkg_repo(store)
    for path in (
        project_hooks("NOPE"),
        f"{project_hooks('NOPE')}/1",
        f"{API}/projects/PKG/repos/nope/webhooks",
        f"{API}/projects/NOPE/repos/{repo.slug}/webhooks/1",
    ):
        error = await _error(await client.get(path, headers=ADMIN), 404)
        assert error["exceptionName"].endswith(
            ("NoSuchProjectException", "NoSuchRepositoryException")
        )


@pytest.mark.parametrize(
    "settings", [Settings(port=0, bitbucket_version=BitbucketVersion.parse("5.3.0"))]
)
async def test_before_5_4_there_are_no_webhooks(client: Client, store: Store) -> None:
    answer = await client.post(repo_hooks(pkg_repo(store)), json=hook_body(URL), headers=ADMIN)
    error = await _error(answer, 404)
    assert error["exceptionName"] == "com.sun.jersey.api.NotFoundException"
    await _error(await client.get(project_hooks("PKG"), headers=ADMIN), 404)


async def test_reset_forgets_the_webhooks(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store))
    await _create(client, path, hook_body(URL))
    assert (await client.post("/_sim/reset")).status == 200
    listed = await (await client.get(path, headers=ADMIN)).json()
    assert listed["values"] == []
    assert (await _create(client, path, hook_body(URL)))["id"] == 1


async def test_the_secret_stays_out_of_the_journal(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store))
    await _create(
        client,
        path,
        hook_body(
            URL,
            configuration={"secret": "hush-hush"},
            credentials={"username": "u", "password": "pw-pw"},
        ),
    )
    journal = await (await client.get("/_sim/journal")).text()
    assert "hush-hush" not in journal
    assert "pw-pw" not in journal
