"""Real ``git push`` to the simulator: every credential form that may write, the refusals git
prints, and the pushed objects served back by the REST API, later clones and fetches, until
``POST /_sim/reset`` forgets them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.oauth2.scopes import Scope
from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.simulator.git.test_clone import (
    API,
    clone_url,
    git,
    oauth2_token,
    personal_token,
    repos,
    rest,
    with_credentials,
)

__all__ = ["repos"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def _forget_pushes(server: SimulatorServer) -> Iterator[None]:
    """Each test starts from the seed: ``POST /_sim/reset`` forgets the last one's pushes."""
    yield
    assert requests.post(server.base_url + "/_sim/reset", timeout=10).status_code == 200


def _clone(url: str, target: Path, *options: str) -> Path:
    done = git(*options, "clone", "--quiet", url, str(target))
    assert done.returncode == 0, done.stderr
    for key, value in (("user.name", "Pusher"), ("user.email", "pusher@example.com")):
        assert git("config", key, value, cwd=target).returncode == 0
    return target


def _commit(work: Path, name: str, text: str, message: str) -> str:
    (work / name).write_text(text)
    assert git("add", name, cwd=work).returncode == 0
    done = git("commit", "--quiet", "-m", message, cwd=work)
    assert done.returncode == 0, done.stderr
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def _repo_path(repository: dict[str, Any]) -> str:
    return f"{API}/projects/{repository['project']['key']}/repos/{repository['slug']}"


def test_a_pushed_commit_and_tag_are_what_rest_and_a_new_clone_see(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    private = repos["private"]
    url = with_credentials(clone_url(private), "alice", "alice")
    work = _clone(url, tmp_path / "work")
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).stdout.strip()
    pushed = _commit(work, "CHANGELOG.md", "# Changes\n\n- pushed\n", "Add a changelog")
    assert git("tag", "-a", "v9.0.0", "-m", "Release 9.0.0", cwd=work).returncode == 0
    done = git("push", "--quiet", "origin", branch, "v9.0.0", cwd=work)
    assert done.returncode == 0, done.stderr

    base = _repo_path(private)
    branches = rest(server, f"{base}/branches?filterText={branch}", ("alice", "alice"))
    assert {b["displayId"]: b["latestCommit"] for b in branches["values"]}[branch] == pushed
    tag = rest(server, f"{base}/tags/v9.0.0", ("alice", "alice"))
    tag_object = git("rev-parse", "v9.0.0", cwd=work).stdout.strip()
    assert (tag["latestCommit"], tag["hash"]) == (pushed, tag_object)
    commit = rest(server, f"{base}/commits/{pushed}", ("alice", "alice"))
    assert commit["message"] == "Add a changelog"
    assert commit["author"] == {"name": "Pusher", "emailAddress": "pusher@example.com"}
    raw = requests.get(
        server.base_url + f"{base}/raw/CHANGELOG.md?at={pushed}",
        auth=("alice", "alice"),
        timeout=10,
    )
    assert raw.content == b"# Changes\n\n- pushed\n"

    again = _clone(url, tmp_path / "again")
    assert git("rev-parse", "v9.0.0^{commit}", cwd=again).stdout.strip() == pushed


def test_a_fetch_sees_a_push_from_another_clone(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "alice", "alice")
    first = _clone(url, tmp_path / "first")
    second = _clone(url, tmp_path / "second")
    pushed = _commit(first, "NOTES.md", "notes\n", "Add notes")
    assert git("push", "--quiet", "origin", "HEAD", cwd=first).returncode == 0
    assert git("fetch", "--quiet", "origin", cwd=second).returncode == 0
    assert git("rev-parse", "FETCH_HEAD", cwd=second).stdout.strip() == pushed


def test_deleting_a_tag_by_push_removes_it_from_rest(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    private = repos["private"]
    url = with_credentials(clone_url(private), "alice", "alice")
    work = _clone(url, tmp_path / "work")
    assert git("tag", "doomed", cwd=work).returncode == 0
    assert git("push", "--quiet", "origin", "doomed", cwd=work).returncode == 0
    tag_url = server.base_url + f"{_repo_path(private)}/tags/doomed"
    assert requests.get(tag_url, auth=("alice", "alice"), timeout=10).status_code == 200
    assert git("push", "--quiet", "origin", ":refs/tags/doomed", cwd=work).returncode == 0
    gone = requests.get(tag_url, auth=("alice", "alice"), timeout=10)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["exceptionName"].endswith("NoSuchTagException")


@pytest.mark.parametrize("form", ["basic token", "bearer token", "oauth2 as basic password"])
def test_tokens_that_may_write_push_and_read_only_ones_are_refused(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path, form: str
) -> None:
    """A REPO_WRITE personal token pushes (Basic or Bearer); a REPO_READ one and the guide's
    REPO_READ OAuth 2 token clone and get Bitbucket's 403."""
    plain = clone_url(repos["private"])
    writer = personal_token(server, ["REPO_WRITE"])
    reader = personal_token(server, ["REPO_READ"])
    if form == "basic token":
        can, cannot = (
            [with_credentials(plain, "alice", writer)],
            [with_credentials(plain, "alice", reader)],
        )
        options: list[list[str]] = [[], []]
    elif form == "bearer token":
        can = cannot = [plain]
        options = [
            ["-c", f"http.extraHeader=Authorization: Bearer {writer}"],
            ["-c", f"http.extraHeader=Authorization: Bearer {reader}"],
        ]
    else:
        can = []
        cannot = [with_credentials(plain, "x-token-auth", oauth2_token(server))]
        options = [[], []]
    for index, url in enumerate(can):
        work = _clone(url, tmp_path / f"can{index}", *options[0])
        _commit(work, "PUSHED.md", "yes\n", "Pushed with a token")
        done = git(*options[0], "push", "--quiet", "origin", "HEAD", cwd=work)
        assert done.returncode == 0, done.stderr
    for index, url in enumerate(cannot):
        work = _clone(url, tmp_path / f"cannot{index}", *options[1])
        _commit(work, "REFUSED.md", "no\n", "Refused")
        done = git(*options[1], "push", "--quiet", "origin", "HEAD", cwd=work)
        assert done.returncode != 0
        assert "403" in done.stderr or "not permitted" in done.stderr, done.stderr


def test_a_reader_who_cannot_write_is_refused_with_bitbucket_words(
    server: SimulatorServer, tmp_path: Path
) -> None:
    """bob reads a public repository he has no grant on, and may not push to it."""
    every = rest(server, API + "/repos?limit=1000", ("admin", "admin"))["values"]
    public = next(r for r in every if r["public"] and r["project"]["key"] != "~BOB")
    work = _clone(with_credentials(clone_url(public), "bob", "bob"), tmp_path / "work")
    _commit(work, "BOB.md", "bob\n", "bob was here")
    done = git("push", "--quiet", "origin", "HEAD", cwd=work)
    assert done.returncode != 0
    assert "not permitted to push" in done.stderr or "403" in done.stderr, done.stderr


def test_anonymous_push_to_a_public_repository_is_challenged(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    work = _clone(clone_url(repos["public"]), tmp_path / "work")
    _commit(work, "ANON.md", "anon\n", "anonymous")
    done = git("push", "--quiet", "origin", "HEAD", cwd=work)
    assert done.returncode != 0
    assert "Authentication failed" in done.stderr or "could not read Username" in done.stderr


def test_reset_forgets_pushes(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    private = repos["private"]
    url = with_credentials(clone_url(private), "alice", "alice")
    before = git("ls-remote", url).stdout
    work = _clone(url, tmp_path / "work")
    _commit(work, "GONE.md", "gone\n", "To be forgotten")
    assert (
        git("push", "--quiet", "origin", "HEAD", "HEAD:refs/heads/extra", cwd=work).returncode == 0
    )
    assert git("ls-remote", url).stdout != before
    assert requests.post(server.base_url + "/_sim/reset", timeout=10).status_code == 200
    assert git("ls-remote", url).stdout == before
    branches = rest(server, _repo_path(private) + "/branches?filterText=extra", ("alice", "alice"))
    assert branches["values"] == []


def test_a_submodule_push_is_refused_with_the_reason(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "alice", "alice")
    work = _clone(url, tmp_path / "work")
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    done = git("update-index", "--add", "--cacheinfo", f"160000,{head},vendor/lib", cwd=work)
    assert done.returncode == 0, done.stderr
    assert git("commit", "--quiet", "-m", "Add a submodule", cwd=work).returncode == 0
    done = git("push", "origin", "HEAD", cwd=work)
    assert done.returncode != 0
    assert "Submodules are not served" in done.stderr, done.stderr


def test_a_push_to_an_empty_repository_gives_it_a_history(
    server: SimulatorServer, tmp_path: Path
) -> None:
    catalog = server.store.catalog
    empty = catalog.project_repositories(catalog.projects_by_key["PKG"])[-1]
    assert empty.empty
    base = f"{API}/projects/{empty.project.key}/repos/{empty.slug}"
    assert rest(server, base + "/branches")["values"] == []
    url = with_credentials(clone_url(rest(server, base)), "admin", "admin")
    work = tmp_path / "work"
    assert git("init", "--quiet", str(work)).returncode == 0
    for key, value in (("user.name", "Pusher"), ("user.email", "pusher@example.com")):
        assert git("config", key, value, cwd=work).returncode == 0
    first = _commit(work, "README.md", "# hello\n", "First")
    done = git("push", "--quiet", url, f"HEAD:refs/heads/{empty.default_branch}", cwd=work)
    assert done.returncode == 0, done.stderr
    assert rest(server, base + "/branches/default")["latestCommit"] == first
    assert rest(server, base + "/browse/README.md")["lines"] == [{"text": "# hello"}]


@pytest.mark.parametrize("form", ["bearer", "basic password under any name"])
def test_a_repo_write_oauth2_token_pushes(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path, form: str
) -> None:
    token = oauth2_token(server, Scope.REPO_WRITE)
    plain = clone_url(repos["private"])
    if form == "bearer":
        url, options = plain, ["-c", f"http.extraHeader=Authorization: Bearer {token}"]
    else:
        url, options = with_credentials(plain, "x-token-auth", token), []
    work = _clone(url, tmp_path / "work", *options)
    pushed = _commit(work, "OAUTH.md", "oauth\n", "Pushed with OAuth 2")
    done = git(*options, "push", "--quiet", "origin", "HEAD", cwd=work)
    assert done.returncode == 0, done.stderr
    assert git(*options, "ls-remote", url, "HEAD", cwd=work).stdout.split()[0] == pushed
