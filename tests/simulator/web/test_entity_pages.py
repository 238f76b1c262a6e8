"""The web pages behind the REST API's links: a repository's ``links.self`` (its browse
page), a file at ``?at=``, a project, a user. Real HTML, escaped, permission-checked."""

from __future__ import annotations

import pytest

from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic


def _pkg(store: Store) -> tuple[Repository, ...]:
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])


async def _html(client: Client, path: str, user: str | None = "alice", status: int = 200) -> str:
    answer = await client.get(path, headers=basic(user) if user else {}, allow_redirects=False)
    assert answer.status == status, await answer.text()
    assert answer.headers["Content-Type"].startswith("text/html")
    return await answer.text()


async def test_a_repositorys_self_link_is_its_file_list(client: Client, store: Store) -> None:
    repo = _pkg(store)[0]
    body = await (
        await client.get(f"/rest/api/1.0/projects/PKG/repos/{repo.slug}", headers=basic("alice"))
    ).json()
    href = body["links"]["self"][0]["href"]
    page = await _html(client, href.removeprefix(store.base_url))
    for entry in store.content(repo).resolve(None).commit.tree.children(""):
        assert f">{entry.name}</a>" in page
    assert "Bitbucket" in page


async def test_a_file_at_a_tag_shows_its_text_escaped(client: Client, store: Store) -> None:
    repo = next(r for r in _pkg(store) if store.content(r).tags)
    tag = store.content(repo).tags[0]
    page = await _html(client, f"/projects/PKG/repos/{repo.slug}/browse/src?at={tag.id}")
    name = next(e.name for e in tag.commit.tree.children("src") if e.type == "FILE")
    assert f"?at={tag.id.replace('/', '%2F')}" in page
    page = await _html(client, f"/projects/PKG/repos/{repo.slug}/browse/src/{name}?at={tag.id}")
    text = tag.commit.tree.files[f"src/{name}"].decode()
    assert "&lt;?php" in page
    assert "<?php" not in page.split('id="file-content">', 1)[1]
    assert text.splitlines()[2] in page  # "declare(strict_types=1);"


async def test_the_repository_root_redirects_to_browse(client: Client, store: Store) -> None:
    repo = _pkg(store)[0]
    answer = await client.get(
        f"/projects/PKG/repos/{repo.slug}", headers=basic("alice"), allow_redirects=False
    )
    assert answer.status == 302
    assert answer.headers["Location"].endswith(f"/projects/PKG/repos/{repo.slug}/browse")


async def test_a_project_page_lists_only_what_the_visitor_sees(
    client: Client, store: Store
) -> None:
    repos = _pkg(store)
    alices = await _html(client, "/projects/PKG")
    bobs = await _html(client, "/projects/pkg", "bob")
    assert all(f">{repo.name}</a>" in alices for repo in repos)
    hidden = next(r for r in repos[2:] if not r.public)
    assert f">{hidden.name}</a>" not in bobs
    assert f">{repos[0].name}</a>" in bobs


async def test_a_user_page(client: Client) -> None:
    page = await _html(client, "/users/alice", "bob")
    assert 'id="user-name" class="description">alice<' in page


@pytest.mark.parametrize(
    "path",
    [
        "/projects/NOPE",
        "/projects/PKG/repos/nope/browse",
        "/projects/PKG/repos/{slug}/browse/no/such/file",
        "/projects/PKG/repos/{slug}/browse?at=no-such-ref",
        "/projects/PKG/repos/{slug}/browse/%0A",
        "/users/nobody-here",
    ],
)
async def test_missing_things_are_404_pages(client: Client, store: Store, path: str) -> None:
    await _html(client, path.format(slug=_pkg(store)[0].slug), status=404)


async def test_hidden_things(client: Client, store: Store) -> None:
    hidden = next(r for r in _pkg(store)[2:] if not r.public)
    path = f"/projects/PKG/repos/{hidden.slug}/browse?at=master"
    await _html(client, path, "bob", status=404)
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == 302
    location = answer.headers["Location"]
    assert "/login?next=" in location
    assert "browse%3Fat%3Dmaster" in location
    answer = await client.get("/users/alice", allow_redirects=False)
    assert answer.status == 302
