"""Branches, default branch, tags and commits of a repository."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simulator.content import RepoContent, content_of
from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
ALICE = basic("alice")


def pkg_repos(store: Store) -> tuple[Repository, ...]:
    """The repositories of PKG: alice administers all, bob reads the first two."""
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])


def pkg_content(store: Store, where: Callable[[RepoContent], bool]) -> RepoContent:
    """The content of the first non-empty PKG repository that satisfies ``where``."""
    for repo in pkg_repos(store):
        content = content_of(store.catalog, repo)
        if content.commits and where(content):
            return content
    raise AssertionError("no PKG repository fits this test")


def url(repo: Repository, tail: str, prefix: str = PREFIXES[0]) -> str:
    """A URL under the repository."""
    return f"{prefix}/projects/{repo.project.key}/repos/{repo.slug}/{tail}"


async def get_json(
    client: Client, target: str, status: int = 200, headers: dict[str, str] | None = None
) -> Any:
    """GET, check the status and the JSON content type, return the body."""
    response = await client.get(target, headers=ALICE if headers is None else headers)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    return await response.json()


def names(body: dict[str, Any]) -> list[str]:
    """The displayIds of a page of refs."""
    return [value["displayId"] for value in body["values"]]


# -- branches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_branches_lists_every_branch_with_one_default(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 1)
    body = validate(
        await get_json(client, url(content.repository, "branches", prefix)), "branches-page.json"
    )
    assert sorted(names(body)) == [b.display_id for b in content.branches]
    defaults = [v for v in body["values"] if v["isDefault"]]
    assert [d["displayId"] for d in defaults] == [content.repository.default_branch]
    for value in body["values"]:
        assert value["id"] == "refs/heads/" + value["displayId"]
        assert value["latestCommit"] == value["latestChangeset"]
        branch = content.branch(value["displayId"])
        assert branch is not None
        assert value["latestCommit"] == branch.commit.id


async def test_branches_order_alphabetical_sorts_by_name(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 2)
    body = await get_json(client, url(content.repository, "branches?orderBy=ALPHABETICAL"))
    validate(body, "branches-page.json")
    assert names(body) == sorted(names(body))


async def test_branches_order_modification_puts_latest_commit_first(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 2)
    body = await get_json(client, url(content.repository, "branches?orderBy=modification"))
    validate(body, "branches-page.json")
    expected = sorted(content.branches, key=lambda b: (-b.commit.committer_ms, b.display_id))
    assert names(body) == [b.display_id for b in expected]
    assert names(body) != sorted(names(body))


async def test_branches_default_order_is_modification(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 2)
    plain = await get_json(client, url(content.repository, "branches"))
    by_modification = await get_json(
        client, url(content.repository, "branches?orderBy=MODIFICATION")
    )
    assert names(plain) == names(by_modification)


@pytest.mark.parametrize("order", ["X", "NAME", "1"])
async def test_branches_unknown_order_is_400_naming_orderby(
    client: Client, store: Store, order: str
) -> None:
    repo = pkg_repos(store)[0]
    body = await get_json(client, url(repo, f"branches?orderBy={order}"), status=400)
    validate(body, "error.json")
    assert body["errors"][0]["context"] == "orderBy"


async def test_branches_filter_text_matches_substrings_ignoring_case(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: any("/" in b.display_id for b in c.branches))
    branch = next(b for b in content.branches if "/" in b.display_id)
    part = branch.display_id.split("/")[1][1:4].upper()
    body = await get_json(client, url(content.repository, f"branches?filterText={part}"))
    validate(body, "branches-page.json")
    assert branch.display_id in names(body)
    assert all(part.lower() in name.lower() for name in names(body))


async def test_branches_filter_text_without_match_is_an_empty_page(
    client: Client, store: Store
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "branches?filterText=zzzz-none"))
    validate(body, "branches-page.json")
    assert (body["size"], body["values"], body["isLastPage"]) == (0, [], True)


async def test_branches_accept_details_base_context_and_boost(client: Client, store: Store) -> None:
    repo = pkg_repos(store)[0]
    plain = await get_json(client, url(repo, "branches"))
    extra = await get_json(
        client, url(repo, "branches?details=true&base=main&context=x&boostMatches=true")
    )
    validate(extra, "branches-page.json")
    assert extra == plain


async def test_branches_page_through_with_next_page_start(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.branches) > 2)
    seen: list[str] = []
    start = 0
    while True:
        body = await get_json(
            client, url(content.repository, f"branches?orderBy=ALPHABETICAL&limit=2&start={start}")
        )
        validate(body, "branches-page.json")
        seen += names(body)
        if body["isLastPage"]:
            break
        start = body["nextPageStart"]
    assert seen == [b.display_id for b in content.branches]


async def test_branches_bad_limit_is_400(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "branches?limit=-1"), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "limit"


async def test_branches_of_empty_repository_is_an_empty_page(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[-1], "branches"))
    validate(body, "branches-page.json")
    assert body["values"] == []


# -- default branch ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_default_branch_is_a_minimal_ref(client: Client, store: Store, prefix: str) -> None:
    repo = pkg_repos(store)[0]
    body = await get_json(client, url(repo, "default-branch", prefix))
    validate(body, "minimal-ref.json")
    assert body == {
        "id": "refs/heads/" + repo.default_branch,
        "displayId": repo.default_branch,
        "type": "BRANCH",
    }


async def test_default_branch_of_empty_repository_is_the_configured_one(
    client: Client, store: Store
) -> None:
    repo = pkg_repos(store)[-1]
    body = validate(await get_json(client, url(repo, "default-branch")), "minimal-ref.json")
    assert body["displayId"] == repo.default_branch


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_branches_default_is_the_default_branch(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store, lambda c: True)
    body = validate(
        await get_json(client, url(content.repository, "branches/default", prefix)), "branch.json"
    )
    assert content.default_branch is not None
    assert body["displayId"] == content.repository.default_branch
    assert body["isDefault"] is True
    assert body["latestCommit"] == content.default_branch.commit.id


async def test_branches_default_of_empty_repository_is_204_without_body(
    client: Client, store: Store
) -> None:
    response = await client.get(url(pkg_repos(store)[-1], "branches/default"), headers=ALICE)
    assert response.status == 204
    assert await response.read() == b""


# -- tags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_tags_lists_every_tag(client: Client, store: Store, prefix: str) -> None:
    content = pkg_content(store, lambda c: len(c.tags) >= 2)
    body = await get_json(client, url(content.repository, "tags?orderBy=ALPHABETICAL", prefix))
    validate(body, "tags-page.json")
    assert names(body) == [t.display_id for t in content.tags]
    for value, tag in zip(body["values"], content.tags, strict=True):
        assert value["id"] == "refs/tags/" + tag.display_id
        assert value["latestCommit"] == value["latestChangeset"] == tag.commit.id
        assert value["hash"] == tag.hash


async def test_tags_default_order_puts_newest_first(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.tags) >= 2)
    body = validate(await get_json(client, url(content.repository, "tags")), "tags-page.json")
    assert names(body) == [t.display_id for t in reversed(content.tags)]


async def test_tags_filter_text_selects_matching_tags(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: len(c.tags) >= 2)
    body = await get_json(client, url(content.repository, "tags?filterText=V1.1"))
    validate(body, "tags-page.json")
    assert names(body) == ["v1.1.0"]


async def test_tags_unknown_order_is_400_naming_orderby(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "tags?orderBy=NEWEST"), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "orderBy"


async def test_tags_of_repository_without_tags_is_an_empty_page(
    client: Client, store: Store
) -> None:
    repo = pkg_repos(store)[-1]
    body = validate(await get_json(client, url(repo, "tags")), "tags-page.json")
    assert body["values"] == []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("qualified", [False, True])
async def test_tag_by_name(client: Client, store: Store, prefix: str, qualified: bool) -> None:
    content = pkg_content(store, lambda c: bool(c.tags))
    tag = content.tags[0]
    name = tag.id if qualified else tag.display_id
    body = validate(
        await get_json(client, url(content.repository, f"tags/{name}", prefix)), "tag.json"
    )
    assert body["displayId"] == tag.display_id
    assert body["latestCommit"] == tag.commit.id


async def test_missing_tag_is_404_no_such_tag(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "tags/v9.9.9"), status=404)
    validate(body, "error.json")
    assert body["errors"][0]["exceptionName"] == (
        "com.atlassian.bitbucket.repository.NoSuchTagException"
    )


# -- commits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_commit_by_id(client: Client, store: Store, prefix: str) -> None:
    content = pkg_content(store, lambda c: True)
    assert content.default_branch is not None
    commit = content.default_branch.commit
    body = validate(
        await get_json(client, url(content.repository, f"commits/{commit.id}", prefix)),
        "commit.json",
    )
    assert body["id"] == commit.id
    assert body["displayId"] == commit.id[:11]
    assert body["author"] == {"name": commit.author.name, "emailAddress": commit.author.email}
    assert body["authorTimestamp"] == commit.author_ms
    assert body["committerTimestamp"] == commit.committer_ms
    assert body["message"] == commit.message
    assert [p["id"] for p in body["parents"]] == list(commit.parents)


async def test_parents_can_be_followed_to_the_initial_commit(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: True)
    assert content.default_branch is not None
    commit_id = content.default_branch.commit.id
    seen = 0
    while True:
        body = validate(
            await get_json(client, url(content.repository, f"commits/{commit_id}")), "commit.json"
        )
        seen += 1
        if not body["parents"]:
            break
        assert body["parents"][0]["displayId"] == body["parents"][0]["id"][:11]
        commit_id = body["parents"][0]["id"]
    assert body["message"] == "Initial commit"
    assert seen >= 2


async def test_commit_by_abbreviated_id_or_branch_name(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: True)
    assert content.default_branch is not None
    commit = content.default_branch.commit
    for ref in (commit.id[:11], content.repository.default_branch):
        body = await get_json(client, url(content.repository, f"commits/{ref}"))
        assert validate(body, "commit.json")["id"] == commit.id


@pytest.mark.parametrize("commit_id", ["0" * 40, "nope", "zz"])
async def test_unknown_commit_is_404_no_such_commit(
    client: Client, store: Store, commit_id: str
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], f"commits/{commit_id}"), status=404)
    validate(body, "error.json")
    assert body["errors"][0]["exceptionName"] == (
        "com.atlassian.bitbucket.commit.NoSuchCommitException"
    )


async def test_commit_of_another_repository_is_404(client: Client, store: Store) -> None:
    first, second = pkg_repos(store)[:2]
    other = content_of(store.catalog, second)
    assert other.default_branch is not None
    body = await get_json(client, url(first, f"commits/{other.default_branch.commit.id}"), 404)
    validate(body, "error.json")


# -- permissions ---------------------------------------------------------------------------------


def private_pkg_repo_bob_cannot_read(store: Store) -> Repository:
    """A private PKG repository outside bob's two."""
    return next(repo for repo in pkg_repos(store)[2:-1] if not repo.public)


@pytest.mark.parametrize(
    "tail", ["branches", "default-branch", "branches/default", "tags", "tags/v1.0.0", "commits/abc"]
)
async def test_anonymous_caller_on_private_repository_is_401(
    client: Client, store: Store, tail: str
) -> None:
    body = await get_json(client, url(private_pkg_repo_bob_cannot_read(store), tail), 401, {})
    validate(body, "error.json")


async def test_user_without_permission_is_401(client: Client, store: Store) -> None:
    repo = private_pkg_repo_bob_cannot_read(store)
    body = await get_json(client, url(repo, "branches"), 401, basic("bob"))
    validate(body, "error.json")


async def test_user_with_repository_grant_reads_branches(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "branches"), headers=basic("bob"))
    validate(body, "branches-page.json")


async def test_anonymous_caller_reads_public_repository(client: Client, store: Store) -> None:
    catalog = store.catalog
    repo = next(
        r
        for project in catalog.projects
        for r in catalog.project_repositories(project)
        if r.public and not r.empty
    )
    validate(await get_json(client, url(repo, "branches"), headers={}), "branches-page.json")


@pytest.mark.parametrize(
    ("path", "exception"),
    [
        ("/projects/PKG/repos/no-such-repo/branches", "NoSuchRepositoryException"),
        ("/projects/NOPE/repos/x/tags", "NoSuchProjectException"),
        ("/projects/NOPE/repos/x/default-branch", "NoSuchProjectException"),
    ],
)
async def test_missing_repository_or_project_is_404(
    client: Client, path: str, exception: str
) -> None:
    body = await get_json(client, PREFIXES[0] + path, status=404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(exception)
