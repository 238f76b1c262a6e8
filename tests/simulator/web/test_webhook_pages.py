"""A repository's webhook settings page: list, create and delete through real HTML forms,
REPO_ADMIN only, validated as the REST API validates, XSRF-checked."""

from __future__ import annotations

import re

from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic
from tests.simulator.test_auth import cookie, login

NO_CHECK = {"X-Atlassian-Token": "no-check"}


def _repo(store: Store) -> Repository:
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])[0]


def _page(repo: Repository) -> str:
    return f"/plugins/servlet/webhooks/projects/PKG/repos/{repo.slug}"


async def _hooks(client: Client, repo: Repository) -> list[dict[str, object]]:
    answer = await client.get(
        f"/rest/api/1.0/projects/PKG/repos/{repo.slug}/webhooks", headers=basic("alice")
    )
    assert answer.status == 200
    values: list[dict[str, object]] = (await answer.json())["values"]
    return values


async def test_an_admin_sees_the_form_and_no_webhooks(client: Client, store: Store) -> None:
    answer = await client.get(_page(_repo(store)), headers=basic("alice"))
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = await answer.text()
    assert 'id="create-webhook-form"' in page
    assert "No webhooks yet." in page
    assert 'value="repo:refs_changed" checked' in page


async def test_creating_a_webhook_through_the_form(client: Client, store: Store) -> None:
    repo = _repo(store)
    form = {
        "name": "ci <hook>",
        "url": "http://127.0.0.1:9/hook",
        "secret": "s3cret-value",
        "events": "repo:refs_changed",
        "active": "on",
    }
    answer = await client.post(
        _page(repo), data=form, headers={**basic("alice"), **NO_CHECK}, allow_redirects=False
    )
    assert answer.status == 303
    assert answer.headers["Location"].endswith(_page(repo) + "?saved=created")
    [hook] = await _hooks(client, repo)
    assert hook["name"] == "ci <hook>"
    assert hook["events"] == ["repo:refs_changed"]
    assert hook["active"] is True
    saved = await client.get(_page(repo) + "?saved=created", headers=basic("alice"))
    listing = await saved.text()
    assert "ci &lt;hook&gt;" in listing
    assert "Webhook created." in listing
    assert "s3cret-value" not in listing


async def test_a_bad_url_re_renders_the_form_and_creates_nothing(
    client: Client, store: Store
) -> None:
    repo = _repo(store)
    form = {"name": "ci", "url": "not a url", "events": "repo:refs_changed"}
    answer = await client.post(_page(repo), data=form, headers={**basic("alice"), **NO_CHECK})
    assert answer.status == 400
    page = await answer.text()
    assert 'id="webhook-url-error"' in page
    assert 'value="ci"' in page
    assert await _hooks(client, repo) == []


async def test_deleting_a_webhook(client: Client, store: Store) -> None:
    repo = _repo(store)
    form = {"name": "ci", "url": "http://127.0.0.1:9/hook", "events": "repo:refs_changed"}
    await client.post(
        _page(repo), data=form, headers={**basic("alice"), **NO_CHECK}, allow_redirects=False
    )
    [hook] = await _hooks(client, repo)
    delete = f"{_page(repo)}/{hook['id']}/delete"
    answer = await client.post(
        delete, data={}, headers={**basic("alice"), **NO_CHECK}, allow_redirects=False
    )
    assert answer.status == 303
    assert await _hooks(client, repo) == []
    again = await client.post(delete, data={}, headers={**basic("alice"), **NO_CHECK})
    assert again.status == 404


async def test_only_a_repository_admin_may_see_it(client: Client, store: Store) -> None:
    repo = _repo(store)
    refused = await client.get(_page(repo), headers=basic("bob"))
    assert refused.status == 401
    assert "repository admin" in await refused.text()
    anonymous = await client.get(_page(repo), allow_redirects=False)
    assert anonymous.status == 302
    assert "/login" in anonymous.headers["Location"]
    missing = await client.get(
        "/plugins/servlet/webhooks/projects/PKG/repos/nope", headers=basic("alice")
    )
    assert missing.status == 404


async def test_a_browser_form_needs_its_atl_token(client: Client, store: Store) -> None:
    repo = _repo(store)
    session = await login(client, "alice")
    page = await (await client.get(_page(repo), headers=cookie(session))).text()
    match = re.search(r'name="atl_token" value="([0-9a-f]+)"', page)
    assert match is not None
    form = {"name": "ci", "url": "http://127.0.0.1:9/hook", "events": "repo:refs_changed"}
    forged = await client.post(_page(repo), data=form, headers={**cookie(session), **NO_CHECK})
    assert forged.status == 403
    assert await _hooks(client, repo) == []
    sent = await client.post(
        _page(repo),
        data={**form, "atl_token": match.group(1)},
        headers=cookie(session),
        allow_redirects=False,
    )
    assert sent.status == 303
    assert len(await _hooks(client, repo)) == 1
