"""``browse`` of a file pages its lines as Bitbucket does: 500 without ``limit``, at most
5,000 a page (BSERV-4836), so a client asking ``limit=20000`` (Renovate) reads a 5,000-line
file in one page and a longer one in several."""

from __future__ import annotations

import shutil

import pytest

from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.test_rest_refs import get_json, pkg_repos, url

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
LINES = 12_000


async def _long_file(client: Client, store: Store) -> str:
    """Commit a file of LINES numbered lines through the control API; its browse URL."""
    repo = pkg_repos(store)[0]
    text = "".join(f"line {number}\n" for number in range(LINES))
    answer = await client.post(
        f"/_sim/repos/{repo.project.key}/{repo.slug}/commits",
        json={"branch": "long", "message": "A long file", "files": {"long.txt": text}},
    )
    assert answer.status == 201, await answer.text()
    return url(repo, "browse/long.txt?at=long")


async def test_without_limit_a_page_is_500_lines(client: Client, store: Store) -> None:
    body = validate(await get_json(client, await _long_file(client, store)), "browse-file.json")
    assert (body["size"], body["isLastPage"]) == (500, False)
    assert body["nextPageStart"] == 500
    assert body["lines"][-1] == {"text": "line 499"}


async def test_a_page_is_capped_at_5000_lines(client: Client, store: Store) -> None:
    target = await _long_file(client, store)
    body = await get_json(client, target + "&limit=20000")
    assert (body["size"], body["nextPageStart"]) == (5000, 5000)
    last = await get_json(client, target + "&limit=20000&start=10000")
    assert (last["size"], last["isLastPage"]) == (2000, True)
    assert "nextPageStart" not in last
    assert last["lines"][0] == {"text": "line 10000"}


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "start=x", "limit=99999999999"])
async def test_bad_line_paging_is_400(client: Client, store: Store, query: str) -> None:
    repo = pkg_repos(store)[0]
    body = await get_json(client, url(repo, f"browse/README.md?{query}"), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] in ("start", "limit")


async def test_directories_keep_the_ordinary_page(client: Client, store: Store) -> None:
    repo = pkg_repos(store)[0]
    answer = await client.get(url(repo, "browse?limit=5000"), headers=basic("alice"))
    body = await answer.json()
    assert body["children"]["limit"] == store.config.max_page_limit
