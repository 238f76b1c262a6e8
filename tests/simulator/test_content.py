"""Derived git content: determinism, history shape, composer.json, path rules, archives."""

from __future__ import annotations

import io
import json
import tarfile
import time
import zipfile

import pytest

from simulator.content import (
    REQUIREMENTS,
    RepoContent,
    Tree,
    _content,
    archive_prefix,
    blob_id,
    build_archive,
    content_of,
    normalise_path,
)
from simulator.errors import NoSuchCommitError, NoSuchPathError
from simulator.model import Repository
from simulator.seed import Catalog, DatasetSize, build_catalog

SMALL = DatasetSize.named("small")


@pytest.fixture
def catalog() -> Catalog:
    """The default small catalog (seed 1)."""
    return build_catalog(1, SMALL)


def pkg_repos(catalog: Catalog) -> tuple[Repository, ...]:
    """The repositories of project PKG (the last one is the empty repository)."""
    return catalog.project_repositories(catalog.projects_by_key["PKG"])


def all_contents(catalog: Catalog) -> list[RepoContent]:
    """The content of every repository of the catalog."""
    return [
        content_of(catalog, repo)
        for project in catalog.projects
        for repo in catalog.project_repositories(project)
    ]


def test_same_seed_gives_same_commit_ids(catalog: Catalog) -> None:
    fresh = Catalog(1, SMALL)
    for repo, again in zip(pkg_repos(catalog), pkg_repos(fresh), strict=True):
        first, second = content_of(catalog, repo), content_of(fresh, again)
        assert [r.commit.id for r in first.branches] == [r.commit.id for r in second.branches]
        assert [r.commit.id for r in first.tags] == [r.commit.id for r in second.tags]
        assert sorted(first.commits) == sorted(second.commits)


def test_another_seed_gives_other_commit_ids(catalog: Catalog) -> None:
    other = build_catalog(2, SMALL)
    ids = {cid for content in all_contents(catalog) for cid in content.commits}
    other_ids = {cid for content in all_contents(other) for cid in content.commits}
    assert ids
    assert not ids & other_ids


def test_commit_ids_are_40_hex_and_display_ids_11(catalog: Catalog) -> None:
    for content in all_contents(catalog):
        for commit in content.commits.values():
            assert len(commit.id) == 40
            int(commit.id, 16)
            assert commit.display_id == commit.id[:11]


def test_empty_repository_has_no_refs_commits_or_default_branch(catalog: Catalog) -> None:
    empty = pkg_repos(catalog)[-1]
    assert empty.empty
    content = content_of(catalog, empty)
    assert (content.branches, content.tags, dict(content.commits)) == ((), (), {})
    assert content.default_branch is None
    assert content.default_ref_id == "refs/heads/" + empty.default_branch


def test_only_one_repository_is_empty(catalog: Catalog) -> None:
    assert sum(1 for content in all_contents(catalog) if not content.commits) == 1


def test_non_empty_repository_has_default_branch_among_branches(catalog: Catalog) -> None:
    for content in all_contents(catalog):
        if content.repository.empty:
            continue
        assert content.default_branch is not None
        assert content.default_branch in content.branches
        assert content.default_branch.display_id == content.repository.default_branch
        assert [b.display_id for b in content.branches] == sorted(
            b.display_id for b in content.branches
        )


def test_tags_are_versions_in_order_on_the_default_branch_history(catalog: Catalog) -> None:
    for content in all_contents(catalog):
        assert len(content.tags) <= 4
        names = [t.display_id for t in content.tags]
        assert names == ["v1.0.0", "v1.1.0", "v2.0.0", "v2.1.0"][: len(names)]
        if content.default_branch is None:
            continue
        history = []
        commit = content.default_branch.commit
        while True:
            history.append(commit.id)
            if not commit.parents:
                break
            commit = content.commits[commit.parents[0]]
        assert all(tag.commit.id in history for tag in content.tags)
        times = [t.commit.committer_ms for t in content.tags]
        assert times == sorted(times)


def test_every_parent_is_a_known_commit(catalog: Catalog) -> None:
    for content in all_contents(catalog):
        for commit in content.commits.values():
            assert all(parent in content.commits for parent in commit.parents)
            for parent in commit.parents:
                assert content.commits[parent].author_ms < commit.author_ms


def test_timestamps_are_in_the_past_and_authors_are_seeded_users(catalog: Catalog) -> None:
    emails = {user.email for user in catalog.users}
    now_ms = time.time() * 1000
    for content in all_contents(catalog):
        for commit in content.commits.values():
            assert 1_500_000_000_000 < commit.author_ms <= commit.committer_ms < now_ms
            assert {commit.author.email, commit.committer.email} <= emails


def test_annotated_tags_have_a_hash_and_lightweight_tags_none(catalog: Catalog) -> None:
    tags = [tag for content in all_contents(catalog) for tag in content.tags]
    assert {tag.hash is None for tag in tags} == {True, False}
    for tag in tags:
        assert tag.hash is None or (len(tag.hash) == 40 and tag.hash != tag.commit.id)


def test_tree_has_the_php_package_layout(catalog: Catalog) -> None:
    repo = next(r for r in pkg_repos(catalog) if r.has_composer_json)
    content = content_of(catalog, repo)
    assert content.default_branch is not None
    files = set(content.default_branch.commit.tree.files)
    name = "".join(part.capitalize() for part in repo.slug.split("-"))
    assert files == {
        "README.md",
        "LICENSE",
        ".gitignore",
        "composer.json",
        f"src/{name}.php",
        f"src/Util/{name}Helper.php",
        f"tests/{name}Test.php",
    }


def test_composer_json_is_valid_and_differs_between_tags(catalog: Catalog) -> None:
    content = next(
        c for c in all_contents(catalog) if c.repository.has_composer_json and len(c.tags) >= 2
    )
    repo = content.repository
    manifests = [json.loads(tag.commit.tree.files["composer.json"]) for tag in content.tags]
    assert len({json.dumps(m["require"], sort_keys=True) for m in manifests}) == len(manifests)
    for index, manifest in enumerate(manifests):
        assert manifest["name"] == f"{repo.project.key.lower()}/{repo.slug}"
        assert manifest["type"] == "library"
        assert manifest["description"] == repo.description
        assert manifest["license"] == "MIT"
        assert manifest["require"] == REQUIREMENTS[index]
        assert list(manifest["autoload"]["psr-4"].values()) == ["src/"]


def test_branches_carry_the_newest_composer_json(catalog: Catalog) -> None:
    for content in all_contents(catalog):
        if not content.repository.has_composer_json:
            continue
        for branch in content.branches:
            manifest = json.loads(branch.commit.tree.files["composer.json"])
            assert manifest["require"] == REQUIREMENTS[len(content.tags)]


def test_repository_without_composer_json_has_none_at_any_ref(catalog: Catalog) -> None:
    contents = [
        c for c in all_contents(catalog) if c.commits and not c.repository.has_composer_json
    ]
    assert contents
    for content in contents:
        for commit in content.commits.values():
            assert "composer.json" not in commit.tree.files


def test_content_is_cached_per_repository_and_bounded(catalog: Catalog) -> None:
    repo = pkg_repos(catalog)[0]
    assert content_of(catalog, repo) is content_of(catalog, repo)
    assert _content.cache_info().maxsize == 256


def test_large_catalog_derives_only_the_repository_read() -> None:
    catalog = Catalog(7, DatasetSize(users=8, projects=3, repos=100_000))
    before = _content.cache_info().currsize
    repo = catalog.repository(54_321)
    assert repo is not None
    assert content_of(catalog, repo).repository is repo
    assert _content.cache_info().currsize <= before + 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("/", ""),
        ("README.md", "README.md"),
        ("/src/Util/", "src/Util"),
        ("..", None),
        ("../README.md", None),
        ("src/../../x", None),
        ("src/./Foo.php", None),
        ("src//Foo.php", None),
        ("src\\..\\README.md", None),
        ("README.md\x00", None),
        ("%2e%2e/x", "%2e%2e/x"),  # already decoded once: a literal name that exists nowhere
    ],
)
def test_normalise_path(raw: str, expected: str | None) -> None:
    assert normalise_path(raw) == expected


def test_resolve_accepts_branch_tag_qualified_names_and_commit_ids(catalog: Catalog) -> None:
    content = next(c for c in all_contents(catalog) if c.tags and len(c.branches) > 1)
    default = content.default_branch
    assert default is not None
    assert content.resolve(None).commit is default.commit
    assert content.resolve(None).revision == default.id
    tag = content.tags[0]
    for at in (tag.display_id, tag.id):
        assert content.resolve(at).ref is tag
    branch = content.branches[0]
    for at in (branch.display_id, branch.id):
        assert content.resolve(at).ref is branch
    commit = tag.commit
    for at in (commit.id, commit.id[:12], commit.id.upper()):
        resolved = content.resolve(at)
        assert resolved.commit is commit
        assert resolved.ref is None


@pytest.mark.parametrize("at", ["nope", "refs/heads/nope", "refs/tags/v9.9.9", "0" * 40, "abc"])
def test_resolve_unknown_raises_no_such_commit(catalog: Catalog, at: str) -> None:
    content = content_of(catalog, pkg_repos(catalog)[0])
    with pytest.raises(NoSuchCommitError):
        content.resolve(at)


def test_resolve_in_empty_repository_raises_no_such_commit(catalog: Catalog) -> None:
    content = content_of(catalog, pkg_repos(catalog)[-1])
    with pytest.raises(NoSuchCommitError):
        content.resolve(None)


@pytest.mark.parametrize("raw", ["nope.txt", "../README.md", "src/../README.md", "a\\b"])
def test_path_kind_of_missing_or_traversing_path_raises_no_such_path(
    catalog: Catalog, raw: str
) -> None:
    content = content_of(catalog, pkg_repos(catalog)[0])
    with pytest.raises(NoSuchPathError):
        content.path_kind(content.resolve(None), raw)


def test_blob_ids_and_tree_sizes_are_gits() -> None:
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    tree = Tree({"a": b"", "d/b": b"hello\n"})
    assert tree.kind("d") == "DIRECTORY"
    assert tree.kind("d/b") == "FILE"
    assert tree.kind("x") is None
    assert tree.size("d/b") == 6
    assert tree.size("d") == len("100644 b\0") + 20
    assert [(e.name, e.type) for e in tree.children("")] == [("d", "DIRECTORY"), ("a", "FILE")]
    assert tree.files_under("d") == ["b"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("pkg", "pkg/"),
        ("pkg/", "pkg/"),
        ("a/b", "a/b/"),
        ("../x", None),
        ("a/../../x", None),
        ("/abs", None),
        ("a\\b", None),
        ("a//b", None),
    ],
)
def test_archive_prefix(raw: str | None, expected: str | None) -> None:
    assert archive_prefix(raw) == expected


def test_build_archive_zip_and_tar_hold_the_same_entries() -> None:
    tree = Tree({"README.md": b"# x\n", "src/A.php": b"<?php\n"})
    zipped = build_archive(tree, tree.select([]), "p/", "zip", 1_600_000_000_000)
    names = zipfile.ZipFile(io.BytesIO(zipped)).namelist()
    assert names == ["p/", "p/src/", "p/README.md", "p/src/A.php"]
    for fmt in ("tar", "tar.gz", "tgz"):
        data = build_archive(tree, tree.select(["src"]), "", fmt, 1_600_000_000_000)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            assert archive.getnames() == ["src", "src/A.php"]
            member = archive.extractfile("src/A.php")
            assert member is not None
            assert member.read() == b"<?php\n"


def test_build_archive_is_deterministic() -> None:
    tree = Tree({"README.md": b"# x\n"})
    for fmt in ("zip", "tar", "tar.gz"):
        first = build_archive(tree, tree.select([]), "", fmt, 1_600_000_000_000)
        assert first == build_archive(tree, tree.select([]), "", fmt, 1_600_000_000_000)
