"""The control API's repository changes: ``POST /_sim/repos/{key}/{slug}/commits``,
``POST …/tags``, ``DELETE …/tags/{name}``, ``DELETE …/branches/{name}``: each a real git
change the REST API serves at once, each bad body a 400 in the envelope, and ``POST
/_sim/reset`` forgetting all of them."""

from __future__ import annotations

import base64
import shutil
from typing import Any

import pytest

from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.test_control import JSON_TYPE, error_of, ok_json

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
API = "/rest/api/1.0"
_ADMIN = basic("admin")


def _repo(store: Store, index: int = 0) -> Repository:
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])[index]


def _control(repo: Repository, tail: str) -> str:
    return f"/_sim/repos/{repo.project.key}/{repo.slug}/{tail}"


def _rest(repo: Repository, tail: str) -> str:
    return f"{API}/projects/{repo.project.key}/repos/{repo.slug}/{tail}"


async def _get(client: Client, path: str, status: int = 200) -> Any:
    answer = await client.get(path, headers=_ADMIN)
    assert answer.status == status, await answer.text()
    return await answer.json()


async def _post(client: Client, path: str, body: Any) -> Any:
    return await client.post(path, json=body, headers=JSON_TYPE)


async def test_a_commit_changes_files_and_rest_serves_it(client: Client, store: Store) -> None:
    repo = _repo(store)
    before = await _get(client, _rest(repo, "commits/" + repo.default_branch))
    started = int(store.clock.now())
    answer = await _post(
        client,
        _control(repo, "commits"),
        {
            "branch": repo.default_branch,
            "message": "Add docs, drop the test",
            "files": {
                "docs/index.md": "# Docs\n",
                "bin/data": {"base64": base64.b64encode(b"\x00\x01").decode()},
                "README.md": None,
            },
            "author": {"name": "Tess Ter", "email": "tess@example.com"},
        },
    )
    commit = await ok_json(answer, "commit.json", status=201)
    assert commit["parents"] == [{"id": before["id"], "displayId": before["displayId"]}]
    assert commit["author"] == {"name": "Tess Ter", "emailAddress": "tess@example.com"}
    # Git keeps whole seconds of the simulator clock, read during the call.
    assert started * 1000 <= commit["authorTimestamp"] <= int(store.clock.now()) * 1000
    assert commit["authorTimestamp"] % 1000 == 0
    tip = await _get(client, _rest(repo, "commits/" + repo.default_branch))
    assert tip == commit
    raw = await client.get(_rest(repo, "raw/docs/index.md"), headers=_ADMIN)
    assert await raw.read() == b"# Docs\n"
    assert (await client.get(_rest(repo, "raw/bin/data"), headers=_ADMIN)).status == 200
    gone = await client.get(_rest(repo, "raw/README.md"), headers=_ADMIN)
    assert gone.status == 404
    older = await client.get(_rest(repo, f"raw/README.md?at={before['id']}"), headers=_ADMIN)
    assert older.status == 200


async def test_a_commit_on_a_new_branch_starts_at_start_point(client: Client, store: Store) -> None:
    repo = _repo(store)
    tags = (await _get(client, _rest(repo, "tags")))["values"]
    start = tags[0]["latestCommit"] if tags else repo.default_branch
    answer = await _post(
        client,
        _control(repo, "commits"),
        {"branch": "feature/new", "message": "New", "files": {"x.txt": "x"}, "startPoint": start},
    )
    commit = await ok_json(answer, "commit.json", status=201)
    expected = (await _get(client, _rest(repo, "commits/" + start)))["id"]
    assert [parent["id"] for parent in commit["parents"]] == [expected]
    branch = await _get(client, _rest(repo, "branches?filterText=feature/new"))
    assert [b["latestCommit"] for b in branch["values"]] == [commit["id"]]


async def test_the_first_commit_of_an_empty_repository_has_no_parent(
    client: Client, store: Store
) -> None:
    empty = _repo(store, -1)
    assert empty.empty
    answer = await _post(
        client,
        _control(empty, "commits"),
        {"branch": empty.default_branch, "message": "Init", "files": {"README.md": "# Hi\n"}},
    )
    commit = await ok_json(answer, "commit.json", status=201)
    assert commit["parents"] == []
    default = await _get(client, _rest(empty, "branches/default"))
    assert default["latestCommit"] == commit["id"]


async def test_tags_lightweight_and_annotated_then_deleted(client: Client, store: Store) -> None:
    repo = _repo(store)
    light = await ok_json(
        await _post(client, _control(repo, "tags"), {"name": "v9.0.0"}), "tag.json", status=201
    )
    head = await _get(client, _rest(repo, "commits/" + repo.default_branch))
    assert (light["latestCommit"], light["hash"]) == (head["id"], None)
    annotated = await ok_json(
        await _post(client, _control(repo, "tags"), {"name": "v9.1.0", "message": "Release 9.1.0"}),
        "tag.json",
        status=201,
    )
    assert annotated["hash"] not in (None, head["id"])
    assert await _get(client, _rest(repo, "tags/v9.1.0")) == annotated
    duplicate = await _post(client, _control(repo, "tags"), {"name": "v9.0.0"})
    await error_of(duplicate, 409)
    assert (await client.delete(_control(repo, "tags/v9.0.0"))).status == 204
    await _get(client, _rest(repo, "tags/v9.0.0"), status=404)
    missing = await client.delete(_control(repo, "tags/v9.0.0"))
    assert "does not exist" in await error_of(missing, 404)


async def test_deleting_a_branch(client: Client, store: Store) -> None:
    repo = _repo(store)
    await _post(
        client,
        _control(repo, "commits"),
        {"branch": "doomed", "message": "m", "files": {"a": "a"}},
    )
    assert (await client.delete(_control(repo, "branches/doomed"))).status == 204
    listing = await _get(client, _rest(repo, "branches?filterText=doomed"))
    assert listing["values"] == []
    missing = await client.delete(_control(repo, "branches/doomed"))
    body = validate(await missing.json(), "error.json")
    assert body["errors"][0]["exceptionName"].endswith("NoSuchBranchException")


async def test_reset_forgets_every_change(client: Client, store: Store) -> None:
    repo = _repo(store)
    before = await _get(client, _rest(repo, "branches"))
    await _post(
        client, _control(repo, "commits"), {"branch": "x", "message": "m", "files": {"a": "a"}}
    )
    await _post(client, _control(repo, "tags"), {"name": "v9.9.9"})
    assert await _get(client, _rest(repo, "branches")) != before
    assert (await client.post("/_sim/reset")).status == 200
    assert await _get(client, _rest(repo, "branches")) == before
    await _get(client, _rest(repo, "tags/v9.9.9"), status=404)


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"message": "m", "files": {"a": "a"}}, "branch"),
        ({"branch": "b", "files": {"a": "a"}}, "message"),
        ({"branch": "b", "message": " ", "files": {"a": "a"}}, "message"),
        ({"branch": "b", "message": "m"}, "files"),
        ({"branch": "b", "message": "m", "files": {}}, "files"),
        ({"branch": "b", "message": "m", "files": {"../x": "a"}}, "files"),
        ({"branch": "b", "message": "m", "files": {"a": 1}}, "files"),
        ({"branch": "b", "message": "m", "files": {"a": {"base64": "!!"}}}, "files"),
        ({"branch": "b", "message": "m", "files": {"nothing-here": None}}, "files"),
        ({"branch": "bad..name", "message": "m", "files": {"a": "a"}}, "branch"),
        ({"branch": "b", "message": "m", "files": {"a": "a"}, "author": {"name": "x"}}, "author"),
        ({"branch": "b", "message": "m", "files": {"a": "a"}, "colour": 1}, "colour"),
    ],
)
async def test_bad_commit_bodies_are_400_with_context(
    client: Client, store: Store, body: dict[str, Any], context: str
) -> None:
    await error_of(await _post(client, _control(_repo(store), "commits"), body), 400, context)


async def test_bad_tag_bodies_and_unknown_targets(client: Client, store: Store) -> None:
    repo = _repo(store)
    await error_of(await _post(client, _control(repo, "tags"), {}), 400, "name")
    await error_of(await _post(client, _control(repo, "tags"), {"name": "a b"}), 400, "name")
    unknown = await _post(client, _control(repo, "tags"), {"name": "t", "startPoint": "nope"})
    assert unknown.status == 404
    not_json = await client.post(_control(repo, "tags"), data=b"[", headers=JSON_TYPE)
    await error_of(not_json, 400)


async def test_an_unknown_repository_is_404(client: Client) -> None:
    answer = await _post(
        client, "/_sim/repos/NOPE/nope/commits", {"branch": "b", "message": "m", "files": {"a": ""}}
    )
    assert "does not exist" in await error_of(answer, 404)


async def test_changed_repositories_are_bounded(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator.git import changes

    monkeypatch.setattr(changes, "MAX_CHANGED_REPOSITORIES", 1)
    body = {"branch": "b", "message": "m", "files": {"a": "a"}}
    assert (await _post(client, _control(_repo(store, 0), "commits"), body)).status == 201
    again = {**body, "files": {"a": "b"}}
    assert (await _post(client, _control(_repo(store, 0), "commits"), again)).status == 201
    refused = await _post(client, _control(_repo(store, 1), "commits"), body)
    assert "POST /_sim/reset" in await error_of(refused, 507)
