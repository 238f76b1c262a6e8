"""raw, browse, files and archive: content at a revision, paging, path traversal, archives."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from yarl import URL

from simulator.content import RepoContent, content_of
from simulator.model import Repository
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate, validate_def

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
ALICE = basic("alice")
TEXT = "text/plain;charset=UTF-8"


def pkg_repos(store: Store) -> tuple[Repository, ...]:
    """The repositories of PKG: alice administers all, bob reads the first two."""
    catalog = store.catalog
    return catalog.project_repositories(catalog.projects_by_key["PKG"])


def pkg_content(store: Store, where: Callable[[RepoContent], bool] = bool) -> RepoContent:
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
    client: Client, target: str | URL, status: int = 200, headers: dict[str, str] | None = None
) -> Any:
    """GET, check the status and the JSON content type, return the body."""
    response = await client.get(target, headers=ALICE if headers is None else headers)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    return await response.json()


async def get_bytes(client: Client, target: str, status: int = 200) -> tuple[bytes, Any]:
    """GET as alice, check the status, return the body and the headers."""
    response = await client.get(target, headers=ALICE)
    assert response.status == status, await response.text()
    return await response.read(), response.headers


def default_files(content: RepoContent) -> dict[str, bytes]:
    """The files on the default branch."""
    assert content.default_branch is not None
    return content.default_branch.commit.tree.files


# -- raw -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_raw_serves_file_bytes_of_default_branch_as_text(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store)
    body, headers = await get_bytes(client, url(content.repository, "raw/README.md", prefix))
    assert headers["Content-Type"] == TEXT
    assert body == default_files(content)["README.md"]
    assert content.repository.description.encode() in body


async def test_raw_serves_nested_file(client: Client, store: Store) -> None:
    content = pkg_content(store)
    path = next(p for p in default_files(content) if p.startswith("src/Util/"))
    body, _ = await get_bytes(client, url(content.repository, f"raw/{path}"))
    assert body.startswith(b"<?php")


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_raw_composer_json_is_valid_and_differs_between_two_tags(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store, lambda c: c.repository.has_composer_json and len(c.tags) >= 2)
    repo = content.repository
    manifests = []
    for tag in content.tags[:2]:
        body, headers = await get_bytes(
            client, url(repo, f"raw/composer.json?at={tag.display_id}", prefix)
        )
        assert headers["Content-Type"] == TEXT
        manifests.append(json.loads(body))
    first, second = manifests
    assert first != second
    assert first["require"] != second["require"]
    for manifest in manifests:
        assert manifest["name"] == f"pkg/{repo.slug}"
        assert manifest["type"] == "library"
        assert set(manifest) >= {"description", "license", "require", "autoload"}
        assert all(isinstance(v, str) and v for v in manifest["require"].values())


async def test_raw_composer_json_on_default_branch_is_the_newest(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: c.repository.has_composer_json and bool(c.tags))
    branch, _ = await get_bytes(client, url(content.repository, "raw/composer.json"))
    newest_tag, _ = await get_bytes(
        client, url(content.repository, f"raw/composer.json?at={content.tags[-1].id}")
    )
    assert json.loads(branch)["require"] != json.loads(newest_tag)["require"]


async def test_raw_resolves_every_form_of_at(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: bool(c.tags) and len(c.branches) > 1)
    tag = content.tags[0]
    expected = tag.commit.tree.files["README.md"]
    for at in (tag.display_id, tag.id, tag.commit.id, tag.commit.id[:11]):
        body, _ = await get_bytes(client, url(content.repository, f"raw/README.md?at={at}"))
        assert body == expected
    branch = next(b for b in content.branches if b is not content.default_branch)
    for at in (branch.display_id, branch.id):
        body, _ = await get_bytes(client, url(content.repository, f"raw/README.md?at={at}"))
        assert body == branch.commit.tree.files["README.md"]


async def test_raw_composer_json_missing_is_404_no_such_path(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: not c.repository.has_composer_json)
    body = await get_json(client, url(content.repository, "raw/composer.json"), status=404)
    error = validate(body, "error.json")["errors"][0]
    assert error["exceptionName"] == "com.atlassian.bitbucket.content.NoSuchPathException"
    assert '"composer.json"' in error["message"]


@pytest.mark.parametrize("tail", ["raw/nope.txt", "raw/src", "raw/src/"])
async def test_raw_missing_file_or_directory_is_404_no_such_path(
    client: Client, store: Store, tail: str
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], tail), status=404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchPathException"
    )


@pytest.mark.parametrize("at", ["nope", "refs/heads/nope", "refs/tags/v9.9.9", "0" * 40])
async def test_raw_unknown_at_is_404_no_such_commit(client: Client, store: Store, at: str) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], f"raw/README.md?at={at}"), 404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchCommitException"
    )


@pytest.mark.parametrize("tail", ["raw", "raw/", "raw//"])
async def test_raw_without_path_is_400_naming_path(client: Client, store: Store, tail: str) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], tail), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "path"


# -- path traversal ------------------------------------------------------------------------------


TRAVERSALS = (
    "raw/../README.md",
    "raw/src/../../x",
    "raw/%2e%2e/README.md",
    "raw/%2E%2E/%2e%2e/{other}/raw/README.md",
    "raw/..%2fREADME.md",
    "raw/..%2f..%2f{other}%2fraw%2fREADME.md",
    "raw/src%2f..%2f..%2fx",
    "raw/src%2f..%2fREADME.md",
    "raw/%2e/README.md",
    "raw/src%5c..%5cREADME.md",
    "raw/..%5cREADME.md",
    "raw/%252e%252e/README.md",
    "browse/%2e%2e",
    "browse/src%2f..%2f..",
    "files/%2e%2e",
    "files/src%2f..%2f..%2f{other}",
    "archive?path=../README.md",
    "archive?path=%2e%2e/{other}",
    "archive?path=src%2f..%2f..%2fx",
    "archive?path=src%5c..%5cREADME.md",
)


@pytest.mark.parametrize("tail", TRAVERSALS)
async def test_path_traversal_is_404_and_never_other_content(
    client: Client, store: Store, tail: str
) -> None:
    repo, other = pkg_repos(store)[0], pkg_repos(store)[1]
    target = URL(url(repo, tail.format(other=other.slug)), encoded=True)
    response = await client.get(target, headers=ALICE)
    assert response.status == 404
    body = validate(await response.json(), "error.json")
    assert other.description not in json.dumps(body)
    assert repo.description not in json.dumps(body)


# -- browse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("tail", ["browse", "browse/"])
async def test_browse_root_lists_directories_then_files(
    client: Client, store: Store, prefix: str, tail: str
) -> None:
    content = pkg_content(store, lambda c: c.repository.has_composer_json)
    body = await get_json(client, url(content.repository, tail, prefix))
    validate(body, "browse-directory.json")
    assert body["path"] == {"components": [], "parent": "", "name": "", "toString": ""}
    assert body["revision"] == "refs/heads/" + content.repository.default_branch
    children = body["children"]["values"]
    assert [(c["path"]["name"], c["type"]) for c in children] == [
        ("src", "DIRECTORY"),
        ("tests", "DIRECTORY"),
        (".gitignore", "FILE"),
        ("LICENSE", "FILE"),
        ("README.md", "FILE"),
        ("composer.json", "FILE"),
    ]
    files = default_files(content)
    composer = children[-1]
    assert composer["size"] == len(files["composer.json"])
    assert composer["path"] == {
        "components": ["composer.json"],
        "parent": "",
        "name": "composer.json",
        "extension": "json",
        "toString": "composer.json",
    }


async def test_browse_directory_at_a_ref_has_relative_children(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: bool(c.tags))
    tag = content.tags[0]
    body = await get_json(client, url(content.repository, f"browse/src/Util?at={tag.display_id}"))
    validate(body, "browse-directory.json")
    assert body["revision"] == tag.display_id
    assert body["path"]["components"] == ["src", "Util"]
    assert body["path"]["parent"] == "src"
    assert body["path"]["toString"] == "src/Util"
    [child] = body["children"]["values"]
    assert child["path"]["components"] == [child["path"]["name"]]
    assert child["path"]["name"].endswith("Helper.php")


async def test_browse_directory_children_are_paged(client: Client, store: Store) -> None:
    repo = pkg_content(store).repository
    first = await get_json(client, url(repo, "browse?limit=4"))
    validate(first, "browse-directory.json")
    assert first["children"]["isLastPage"] is False
    assert first["children"]["nextPageStart"] == 4
    rest = await get_json(client, url(repo, "browse?limit=4&start=4"))
    validate(rest, "browse-directory.json")
    assert rest["children"]["isLastPage"] is True
    assert "nextPageStart" not in rest["children"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_browse_file_returns_a_page_of_lines(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store)
    lines = default_files(content)["LICENSE"].decode().split("\n")[:-1]
    collected: list[str] = []
    start = 0
    while True:
        target = url(content.repository, f"browse/LICENSE?limit=5&start={start}", prefix)
        body = validate(await get_json(client, target), "browse-file.json")
        assert body["start"] == start
        assert "limit" not in body  # as BSERV-12725 shows a real answer
        assert body["size"] == len(body["lines"])
        collected += [line["text"] for line in body["lines"]]
        if body["isLastPage"]:
            break
        start = body["nextPageStart"]
    assert collected == lines


async def test_browse_file_in_one_page(client: Client, store: Store) -> None:
    content = pkg_content(store)
    body = await get_json(client, url(content.repository, "browse/.gitignore"))
    validate(body, "browse-file.json")
    assert body["isLastPage"] is True
    assert [line["text"] for line in body["lines"]] == [
        "/vendor/",
        "/composer.lock",
        "/.phpunit.result.cache",
    ]


async def test_browse_size_true_gives_sizes(client: Client, store: Store) -> None:
    content = pkg_content(store)
    body = await get_json(client, url(content.repository, "browse/README.md?size=true"))
    assert validate_def(body, "browse-file.json", "size") == {
        "size": len(default_files(content)["README.md"])
    }
    directory = await get_json(client, url(content.repository, "browse/src?size=TRUE&type=true"))
    assert validate_def(directory, "browse-file.json", "size")["size"] > 0


@pytest.mark.parametrize(
    ("path", "kind"), [("README.md", "FILE"), ("src", "DIRECTORY"), ("", "DIRECTORY")]
)
async def test_browse_type_true_gives_the_kind(
    client: Client, store: Store, path: str, kind: str
) -> None:
    repo = pkg_content(store).repository
    body = await get_json(client, url(repo, f"browse/{path}?type=true"))
    assert validate_def(body, "browse-file.json", "type") == {"type": kind}


async def test_browse_size_without_true_is_ignored(client: Client, store: Store) -> None:
    repo = pkg_content(store).repository
    body = await get_json(client, url(repo, "browse/README.md?size&type=false"))
    validate(body, "browse-file.json")


async def test_browse_missing_path_is_404(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "browse/nope/x.php"), status=404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchPathException"
    )


async def test_browse_unknown_at_is_404_no_such_commit(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "browse?at=nope"), status=404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchCommitException"
    )


async def test_browse_bad_limit_is_400(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "browse?limit=abc"), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "limit"


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_files_lists_every_file_path(client: Client, store: Store, prefix: str) -> None:
    content = pkg_content(store)
    body = validate(
        await get_json(client, url(content.repository, "files", prefix)), "files-page.json"
    )
    assert body["values"] == sorted(default_files(content))
    assert body["isLastPage"] is True


async def test_files_under_a_directory_are_relative_to_it(client: Client, store: Store) -> None:
    content = pkg_content(store)
    body = validate(await get_json(client, url(content.repository, "files/src")), "files-page.json")
    name = content.repository.slug.replace("-", " ").title().replace(" ", "")
    assert body["values"] == [f"{name}.php", f"Util/{name}Helper.php"]


async def test_files_are_paged(client: Client, store: Store) -> None:
    content = pkg_content(store)
    seen: list[str] = []
    start = 0
    while True:
        body = await get_json(client, url(content.repository, f"files?limit=2&start={start}"))
        validate(body, "files-page.json")
        seen += body["values"]
        if body["isLastPage"]:
            break
        assert body["nextPageStart"] == start + 2
        start = body["nextPageStart"]
    assert seen == sorted(default_files(content))


async def test_files_at_a_tag_of_a_repository_without_composer_json(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: not c.repository.has_composer_json)
    body = await get_json(client, url(content.repository, "files?at=" + content.branches[0].id))
    assert "composer.json" not in validate(body, "files-page.json")["values"]


@pytest.mark.parametrize("tail", ["files/README.md", "files/nope"])
async def test_files_of_a_file_or_missing_path_is_404(
    client: Client, store: Store, tail: str
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], tail), status=404)
    validate(body, "error.json")


# -- empty repository ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail", ["raw/README.md", "browse", "browse/README.md", "files", "archive"]
)
async def test_empty_repository_has_no_content(client: Client, store: Store, tail: str) -> None:
    body = await get_json(client, url(pkg_repos(store)[-1], tail), status=404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchCommitException"
    )


# -- archive -------------------------------------------------------------------------------------


def zip_names(data: bytes) -> list[str]:
    """The entry names of a zip archive."""
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def tree_entries(files: dict[str, bytes], prefix: str = "") -> set[str]:
    """The file and directory entries ``git archive`` would write (directories end in /)."""
    names = {prefix + path for path in files}
    for path in files:
        parts = path.split("/")
        names.update(prefix + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts)))
    if prefix:
        names.add(prefix)
    return names


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_archive_default_is_zip_of_default_branch(
    client: Client, store: Store, prefix: str
) -> None:
    content = pkg_content(store, lambda c: c.repository.has_composer_json)
    repo = content.repository
    data, headers = await get_bytes(client, url(repo, "archive", prefix))
    assert headers["Content-Type"] == "application/zip"
    assert content.default_branch is not None
    short = content.default_branch.commit.id[:11]
    assert headers["Content-Disposition"] == (
        f'attachment; filename="{repo.slug}-{repo.default_branch}@{short}.zip"'
    )
    files = default_files(content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert set(archive.namelist()) == tree_entries(files)
    assert archive.read("composer.json") == files["composer.json"]


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("tar", "application/x-tar"), ("tar.gz", "application/x-gzip"), ("tgz", "application/x-gzip")],
)
async def test_archive_tar_formats_read_back(
    client: Client, store: Store, fmt: str, mime: str
) -> None:
    content = pkg_content(store)
    repo = content.repository
    data, headers = await get_bytes(client, url(repo, f"archive?format={fmt}"))
    assert headers["Content-Type"] == mime
    assert headers["Content-Disposition"].endswith(f'.{fmt}"')
    files = default_files(content)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {m.name + ("/" if m.isdir() else "") for m in archive.getmembers()}
        assert members == tree_entries(files)
        readme = archive.extractfile("README.md")
        assert readme is not None
        assert readme.read() == files["README.md"]


@pytest.mark.parametrize(
    ("given", "expected"), [("pkg", "pkg/"), ("pkg/", "pkg/"), ("a/b", "a/b/")]
)
async def test_archive_prefix_puts_every_entry_in_a_directory(
    client: Client, store: Store, given: str, expected: str
) -> None:
    content = pkg_content(store)
    data, _ = await get_bytes(client, url(content.repository, f"archive?prefix={given}"))
    assert set(zip_names(data)) == tree_entries(default_files(content), expected)


async def test_archive_paths_restrict_to_subtrees(client: Client, store: Store) -> None:
    content = pkg_content(store)
    target = url(content.repository, "archive?format=tar&path=src/Util&path=README.md&prefix=x")
    data, _ = await get_bytes(client, target)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    selected = {p: b for p, b in default_files(content).items() if p.startswith("src/Util/")}
    selected["README.md"] = b""
    assert {n + "/" if n in ("x", "x/src", "x/src/Util") else n for n in names} == tree_entries(
        selected, "x/"
    )


async def test_archive_of_a_tag_holds_that_tags_composer_json(client: Client, store: Store) -> None:
    content = pkg_content(store, lambda c: c.repository.has_composer_json and bool(c.tags))
    tag = content.tags[0]
    data, headers = await get_bytes(
        client, url(content.repository, f"archive?at={tag.id}&format=tar.gz")
    )
    assert headers["Content-Disposition"] == (
        f'attachment; filename="{content.repository.slug}-{tag.display_id}@'
        f'{tag.commit.id[:11]}.tar.gz"'
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("composer.json")
        assert member is not None
        assert member.read() == tag.commit.tree.files["composer.json"]


async def test_archive_filename_of_a_branch_turns_slashes_into_hyphens(
    client: Client, store: Store
) -> None:
    content = pkg_content(store, lambda c: any("/" in b.display_id for b in c.branches))
    branch = next(b for b in content.branches if "/" in b.display_id)
    expected = (
        f'attachment; filename="{content.repository.slug}-'
        f'{branch.display_id.replace("/", "-")}@{branch.commit.id[:11]}.zip"'
    )
    for at in (branch.display_id, branch.id):
        _, headers = await get_bytes(client, url(content.repository, f"archive?at={at}"))
        assert headers["Content-Disposition"] == expected


async def test_archive_filename_of_a_commit_id_is_slug_and_id(client: Client, store: Store) -> None:
    content = pkg_content(store)
    assert content.default_branch is not None
    sha = content.default_branch.commit.id
    _, headers = await get_bytes(client, url(content.repository, f"archive?at={sha}&format=tgz"))
    assert headers["Content-Disposition"] == (
        f'attachment; filename="{content.repository.slug}-{sha}.tgz"'
    )


async def test_archive_explicit_filename_is_used(client: Client, store: Store) -> None:
    _, headers = await get_bytes(
        client, url(pkg_repos(store)[0], "archive?filename=dist.zip&prefix=p")
    )
    assert headers["Content-Disposition"] == 'attachment; filename="dist.zip"'


async def test_archive_filename_with_quotes_and_unicode_is_escaped(
    client: Client, store: Store
) -> None:
    _, headers = await get_bytes(client, url(pkg_repos(store)[0], 'archive?filename=a"€.zip'))
    assert headers["Content-Disposition"] == (
        'attachment; filename="a\\"_.zip"; filename*=UTF-8\'\'a%22%E2%82%AC.zip'
    )


async def test_archive_filename_with_control_characters_is_400(
    client: Client, store: Store
) -> None:
    target = URL(url(pkg_repos(store)[0], "archive?filename=a%0d%0aX-Evil:%201"), encoded=True)
    body = await get_json(client, target, status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "filename"


@pytest.mark.parametrize("name", ["..", ".", "../evil.zip", "dir/a.zip", "/a.zip", "a%5Cb.zip"])
async def test_archive_filename_that_is_a_path_is_400(
    client: Client, store: Store, name: str
) -> None:
    target = URL(url(pkg_repos(store)[0], f"archive?filename={name}"), encoded=True)
    body = await get_json(client, target, status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "filename"


async def test_archive_is_the_same_bytes_every_time(client: Client, store: Store) -> None:
    target = url(pkg_repos(store)[0], "archive?format=tar.gz")
    first, _ = await get_bytes(client, target)
    second, _ = await get_bytes(client, target)
    assert first == second


@pytest.mark.parametrize("fmt", ["rar", "7z", "tar.bz2", "ZIPX"])
async def test_archive_unsupported_format_is_400_naming_format(
    client: Client, store: Store, fmt: str
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], f"archive?format={fmt}"), status=400)
    assert validate(body, "error.json")["errors"][0]["context"] == "format"


@pytest.mark.parametrize("prefix", ["../x", "a/../../x", "/abs"])
async def test_archive_prefix_climbing_out_is_400_naming_prefix(
    client: Client, store: Store, prefix: str
) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], f"archive?prefix={prefix}"), 400)
    assert validate(body, "error.json")["errors"][0]["context"] == "prefix"


async def test_archive_unknown_at_is_404(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "archive?at=" + "f" * 40), 404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchCommitException"
    )


async def test_archive_missing_path_is_404(client: Client, store: Store) -> None:
    body = await get_json(client, url(pkg_repos(store)[0], "archive?path=nope"), 404)
    validate(body, "error.json")


# -- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tail", ["raw/README.md", "browse", "files", "archive"])
async def test_anonymous_and_unpermitted_callers_are_401(
    client: Client, store: Store, tail: str
) -> None:
    repo = next(r for r in pkg_repos(store)[2:-1] if not r.public)
    for headers in ({}, basic("bob")):
        body = await get_json(client, url(repo, tail), status=401, headers=headers)
        validate(body, "error.json")


async def test_user_with_repository_grant_reads_raw(client: Client, store: Store) -> None:
    response = await client.get(url(pkg_repos(store)[1], "raw/README.md"), headers=basic("bob"))
    assert response.status == 200


@pytest.mark.parametrize("tail", ["raw/README.md", "browse", "files", "archive"])
async def test_missing_repository_is_404(client: Client, tail: str) -> None:
    body = await get_json(client, f"{PREFIXES[0]}/projects/PKG/repos/no-such/{tail}", 404)
    assert validate(body, "error.json")["errors"][0]["exceptionName"].endswith(
        "NoSuchRepositoryException"
    )
