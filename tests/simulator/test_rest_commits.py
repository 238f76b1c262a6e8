"""``GET …/commits``: the commit log, newest first, with ``until``, ``since``, ``merges`` and
``path``, paged; checked against the parents the content records and, after real merges
made with git and pushed, against ``git log``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from simulator.content import Commit, RepoContent
from simulator.rest.refs import commit_log, parse_merges, touches
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.test_rest_refs import PREFIXES, get_json, pkg_content, pkg_repos, url


def _chain(content: RepoContent, tip: Commit) -> list[str]:
    """The first-parent chain from ``tip`` (the seed's histories are linear)."""
    ids = []
    commit: Commit | None = tip
    while commit is not None:
        ids.append(commit.id)
        commit = content.commits.get(commit.parents[0]) if commit.parents else None
    return ids


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_log_of_the_default_branch_is_newest_first(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store, lambda c: len(c.commits) > 3)
    assert content.default_branch is not None
    body = await get_json(client, url(content.repository, "commits?limit=1000", prefix))
    validate(body, "commits-page.json")
    assert [c["id"] for c in body["values"]] == _chain(content, content.default_branch.commit)
    assert body["isLastPage"] is True


async def test_until_since_and_paging(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.commits) > 4)
    assert content.default_branch is not None
    chain = _chain(content, content.default_branch.commit)
    repo = content.repository
    since = await get_json(client, url(repo, f"commits?since={chain[2]}"))
    assert [c["id"] for c in since["values"]] == chain[:2]
    until = await get_json(client, url(repo, f"commits?until={chain[1][:12]}&limit=2"))
    assert [c["id"] for c in until["values"]] == chain[1:3]
    assert until["nextPageStart"] == 2
    second = await get_json(client, url(repo, f"commits?until={chain[1]}&limit=2&start=2"))
    assert [c["id"] for c in second["values"]] == chain[3:5]


async def test_a_branch_ahead_of_the_default_one(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 1)
    other = next(b for b in content.branches if b is not content.default_branch)
    body = await get_json(
        client,
        url(content.repository, f"commits?until={other.id}&since={content.default_ref_id}"),
    )
    assert [c["id"] for c in body["values"]] == [other.commit.id]


async def test_path_keeps_the_commits_that_changed_it(client: Client, store: Store) -> None:
    content = pkg_content(
        store, lambda c: "composer.json" in next(iter(c.commits.values())).tree.files
    )
    assert content.default_branch is not None
    expected = [
        commit_id
        for commit_id in _chain(content, content.default_branch.commit)
        if touches(content, content.commits[commit_id], "composer.json")
    ]
    body = await get_json(client, url(content.repository, "commits?path=composer.json&limit=1000"))
    assert [c["id"] for c in body["values"]] == expected
    assert expected[-1] == _chain(content, content.default_branch.commit)[-1]  # the first


async def test_merges_only_on_a_linear_history_is_empty(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: True)
    body = await get_json(client, url(content.repository, "commits?merges=ONLY"))
    assert body["values"] == []
    body = await get_json(client, url(content.repository, "commits?merges=exclude&limit=1"))
    assert len(body["values"]) == 1


async def test_an_empty_repository_has_an_empty_log(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[-1], "commits"))
    assert validate(body, "commits-page.json")["values"] == []


@pytest.mark.parametrize(
    ("query", "status", "context"),
    [
        ("merges=sometimes", 400, "merges"),
        ("path=../x", 400, "path"),
        ("limit=-1", 400, "limit"),
        ("until=0000000", 404, None),
        ("since=no-such-ref", 404, None),
    ],
)
async def test_bad_parameters(
    client: Client, store: Store, query: str, status: int, context: str | None
) -> None:
    content = pkg_content(store, lambda c: True)
    body = await get_json(client, url(content.repository, f"commits?{query}"), status=status)
    assert validate(body, "error.json")["errors"][0]["context"] == context


async def test_a_hidden_repository_is_401_for_bob(client: Client, store: Store) -> None:
    hidden = next(r for r in pkg_repos(store)[2:] if not r.public)
    body = await get_json(client, url(hidden, "commits"), status=401, headers=basic("bob"))
    validate(body, "error.json")


def test_parse_merges_rule() -> None:
    assert parse_merges(None) == parse_merges("") == "include"
    assert parse_merges("Exclude") == "exclude"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
async def test_the_log_after_a_pushed_merge_is_git_log(
    client: Client, store: Store, tmp_path: Path
) -> None:
    """A merge commit made by git and written through the control API's store: the REST log
    is ``git log``'s, and ``merges`` picks it out."""
    import subprocess

    from simulator.git.changes import change

    repo = pkg_content(store, lambda c: True).repository
    folder_holder: list[Path] = []

    async def merge(folder: Path) -> None:
        folder_holder.append(folder)
        script = (
            'set -e; w=$(mktemp -d); git clone -q "$1" "$w"; cd "$w"; git checkout -q -b side;'
            " echo side > side.txt; git add side.txt; git commit -qm side; git checkout -q -;"
            " echo main > main.txt; git add main.txt; git commit -qm main;"
            " git merge -q --no-ff -m merged side; git push -q origin HEAD"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        for role in ("AUTHOR", "COMMITTER"):
            env.update({f"GIT_{role}_NAME": "M", f"GIT_{role}_EMAIL": "m@example.com"})
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
        subprocess.run(
            ["sh", "-c", script, "sh", str(folder)], check=True, capture_output=True, env=env
        )

    await change(store, repo, merge)
    log = subprocess.run(
        ["git", "log", "--format=%H", repo.default_branch],
        cwd=folder_holder[0],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    body = await get_json(client, url(repo, "commits?limit=1000"))
    assert sorted(c["id"] for c in body["values"]) == sorted(log)
    only = await get_json(client, url(repo, "commits?merges=only"))
    assert [c["message"] for c in only["values"]] == ["merged"]
    assert len(only["values"][0]["parents"]) == 2
    content = store.content(repo)
    newest = commit_log(content, content.resolve(None).commit, None, "exclude", "")
    assert all(len(c.parents) < 2 for c in newest)
