"""Real git against the simulator's smart HTTP: clone and fetch with every credential form a
client sends, the refusals git shows, protocol v2, shallow and partial clones, and the ids
git computes matching the REST API's."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from simulator.oauth2.scopes import Scope
from simulator.settings import Settings
from simulator.testing import SimulatorServer

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
API = "/rest/api/1.0"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


def rest(server: SimulatorServer, path: str, auth: tuple[str, str] = ("admin", "admin")) -> Any:
    answer = requests.get(server.base_url + path, auth=auth, timeout=10)
    answer.raise_for_status()
    return answer.json()


def all_values(server: SimulatorServer, path: str, auth: tuple[str, str]) -> list[Any]:
    joiner = "&" if "?" in path else "?"
    return list(rest(server, f"{path}{joiner}limit=1000", auth)["values"])


def clone_url(repository: dict[str, Any]) -> str:
    return str(
        next(link["href"] for link in repository["links"]["clone"] if link["name"] == "http")
    )


def with_credentials(url: str, user: str, secret: str) -> str:
    scheme, rest_of = url.split("://", 1)
    return f"{scheme}://{quote(user, safe='')}:{quote(secret, safe='')}@{rest_of}"


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def repos(server: SimulatorServer) -> dict[str, dict[str, Any]]:
    """A private repository of PKG (which alice administers) that bob cannot read, and a
    public one."""
    pkg = all_values(server, API + "/projects/PKG/repos", ("alice", "alice"))
    bobs = {repo["id"] for repo in all_values(server, API + "/repos", ("bob", "bob"))}
    private = next(r for r in pkg if not r["public"] and r["id"] not in bobs)
    every = all_values(server, API + "/repos", ("admin", "admin"))
    public = next(r for r in every if r["public"])
    return {"private": private, "public": public}


def personal_token(server: SimulatorServer, permissions: list[str]) -> str:
    answer = requests.put(
        server.base_url + "/rest/access-tokens/1.0/users/alice",
        json={"name": f"git {uuid.uuid4().hex[:8]}", "permissions": permissions},
        auth=("alice", "alice"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def oauth2_token(server: SimulatorServer, scope: Scope = Scope.REPO_READ) -> str:
    """An OAuth 2 access token of alice, from a code redeemed at the real token endpoint."""
    backend = server.store.oauth2
    redirect = "http://127.0.0.1:9/callback"
    name = f"git test {uuid.uuid4().hex[:8]}"
    link = backend.create_client(name, [redirect], (scope,), "admin")
    alice = server.store.catalog.users_by_name["alice"]
    code = backend.issue_code(
        link,
        redirect_uri=redirect,
        scopes=(scope,),
        user_id=alice.id,
        challenge=None,
        method=None,
    )
    answer = requests.post(
        server.base_url + "/rest/oauth2/latest/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": link.client_id,
            "client_secret": link.client_secret,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def assert_clones(url: str, target: Path, *options: str) -> None:
    done = git(*options, "clone", "--quiet", url, str(target))
    assert done.returncode == 0, done.stderr
    assert git("rev-parse", "HEAD", cwd=target).returncode == 0


# -- credentials -----------------------------------------------------------------------------


def test_basic_user_and_password_clones(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "admin", "admin")
    assert_clones(url, tmp_path / "clone")


def test_basic_user_and_personal_token_clones(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    token = personal_token(server, ["REPO_READ"])
    url = with_credentials(clone_url(repos["private"]), "alice", token)
    assert_clones(url, tmp_path / "clone")


def test_bearer_personal_token_in_an_extra_header_clones(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    token = personal_token(server, ["REPO_READ"])
    header = f"http.extraHeader=Authorization: Bearer {token}"
    assert_clones(clone_url(repos["private"]), tmp_path / "clone", "-c", header)


def test_bearer_oauth2_token_in_an_extra_header_clones(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    header = f"http.extraHeader=Authorization: Bearer {oauth2_token(server)}"
    assert_clones(clone_url(repos["private"]), tmp_path / "clone", "-c", header)


def test_oauth2_token_as_basic_password_under_any_name_clones(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    # Git Credential Manager's form: a placeholder user name and the token as the password.
    url = with_credentials(clone_url(repos["private"]), "oauth2", oauth2_token(server))
    assert_clones(url, tmp_path / "clone")


def test_a_public_repository_clones_anonymously(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    assert_clones(clone_url(repos["public"]), tmp_path / "clone")


# -- refusals ----------------------------------------------------------------------------------


def test_anonymous_on_a_private_repository_is_challenged_with_bitbucket_realm(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = clone_url(repos["private"])
    answer = requests.get(url + "/info/refs?service=git-upload-pack", timeout=10)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Atlassian Bitbucket"'
    done = git("clone", url, str(tmp_path / "clone"))
    assert done.returncode != 0
    assert "could not read Username" in done.stderr  # git asked for credentials


def test_a_wrong_password_is_challenged_and_git_says_authentication_failed(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "admin", "wrong")
    done = git("clone", url, str(tmp_path / "clone"))
    assert done.returncode != 0
    assert "Authentication failed" in done.stderr


def test_a_user_who_cannot_read_gets_repository_not_found(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "bob", "bob")
    done = git("clone", url, str(tmp_path / "clone"))
    assert done.returncode != 0
    assert "not found" in done.stderr


def test_an_unknown_repository_is_not_found_for_a_user(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(server.base_url + "/scm/pkg/no-such-repo.git", "admin", "admin")
    done = git("clone", url, str(tmp_path / "clone"))
    assert done.returncode != 0
    assert "not found" in done.stderr


def test_the_dumb_protocol_is_refused(server: SimulatorServer, repos: dict[str, Any]) -> None:
    answer = requests.get(
        clone_url(repos["public"]) + "/info/refs", auth=("admin", "admin"), timeout=10
    )
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/plain")


# -- the protocol ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0", "2"])
def test_both_protocol_versions_clone_and_fetch(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path, version: str
) -> None:
    url = with_credentials(clone_url(repos["private"]), "admin", "admin")
    target = tmp_path / "clone"
    assert_clones(url, target, "-c", f"protocol.version={version}")
    fetched = git("-c", f"protocol.version={version}", "fetch", "--tags", "origin", cwd=target)
    assert fetched.returncode == 0, fetched.stderr


def test_a_shallow_clone_has_one_commit(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "admin", "admin")
    shallow = tmp_path / "shallow"
    done = git("clone", "--quiet", "--depth", "1", url, str(shallow))
    assert done.returncode == 0, done.stderr
    assert git("rev-list", "--count", "HEAD", cwd=shallow).stdout.strip() == "1"


def test_a_partial_clone_fetches_no_blobs_up_front(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    url = with_credentials(clone_url(repos["private"]), "admin", "admin")
    target = tmp_path / "partial"
    done = git("clone", "--quiet", "--filter=blob:none", "--no-checkout", url, str(target))
    assert done.returncode == 0, done.stderr
    assert git("config", "remote.origin.promisor", cwd=target).stdout.strip() == "true"
    missing = git("rev-list", "--objects", "--all", "--missing=print", cwd=target).stdout
    assert any(line.startswith("?") for line in missing.splitlines())


# -- one object store ----------------------------------------------------------------------


def test_every_ref_git_sees_is_the_id_rest_reports(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    repository = repos["private"]
    base = f"{API}/projects/{repository['project']['key']}/repos/{repository['slug']}"
    from_rest = {
        b["id"]: b["latestCommit"]
        for b in all_values(server, base + "/branches", ("admin", "admin"))
    }
    for tag in all_values(server, base + "/tags", ("admin", "admin")):
        from_rest[tag["id"]] = tag["hash"] or tag["latestCommit"]
    url = with_credentials(clone_url(repository), "admin", "admin")
    listed = git("ls-remote", "--heads", "--tags", url)
    assert listed.returncode == 0, listed.stderr
    from_git = {
        name: sha
        for sha, name in (line.split("\t") for line in listed.stdout.splitlines())
        if not name.endswith("^{}")
    }
    assert from_git == from_rest
    target = tmp_path / "clone"
    assert_clones(url, target)
    for tag in all_values(server, base + "/tags", ("admin", "admin")):
        peeled = git("rev-parse", tag["displayId"] + "^{commit}", cwd=target).stdout.strip()
        assert peeled == tag["latestCommit"]
    for head in all_values(server, base + "/branches", ("admin", "admin")):
        commit = rest(server, f"{base}/commits/{head['latestCommit']}")
        shown = git("show", "-s", "--format=%an|%ae|%at|%s", commit["id"], cwd=target).stdout
        assert shown.strip() == "|".join(
            [
                commit["author"]["name"],
                commit["author"]["emailAddress"],
                str(commit["authorTimestamp"] // 1000),
                commit["message"],
            ]
        )


def test_a_file_is_the_same_through_git_and_raw(
    server: SimulatorServer, repos: dict[str, Any], tmp_path: Path
) -> None:
    repository = repos["private"]
    base = f"{API}/projects/{repository['project']['key']}/repos/{repository['slug']}"
    target = tmp_path / "clone"
    assert_clones(with_credentials(clone_url(repository), "admin", "admin"), target)
    for path in all_values(server, base + "/files", ("admin", "admin")):
        raw = requests.get(
            f"{server.base_url}{base}/raw/{path}", auth=("admin", "admin"), timeout=10
        )
        assert raw.content == (target / path).read_bytes(), path


def test_refs_and_annotated_tags_agree_across_repositories(server: SimulatorServer) -> None:
    checked = annotated = 0
    for repository in all_values(server, API + "/projects/PKG/repos", ("alice", "alice"))[:12]:
        base = f"{API}/projects/PKG/repos/{repository['slug']}"
        tags = all_values(server, base + "/tags", ("alice", "alice"))
        expected = {t["id"]: t["hash"] or t["latestCommit"] for t in tags}
        expected.update(
            {
                b["id"]: b["latestCommit"]
                for b in all_values(server, base + "/branches", ("alice", "alice"))
            }
        )
        listed = git("ls-remote", with_credentials(clone_url(repository), "alice", "alice"))
        assert listed.returncode == 0, listed.stderr
        refs: dict[str, str] = {}
        for line in listed.stdout.splitlines():
            sha, name = line.split("\t")
            refs[name] = sha
        assert {k: v for k, v in refs.items() if k in expected} == expected, repository["slug"]
        for tag in tags:
            if tag["hash"]:
                annotated += 1
                assert refs[tag["id"] + "^{}"] == tag["latestCommit"]
        checked += 1
    assert checked >= 5
    assert annotated >= 1


def _pkt(text: str) -> bytes:
    return b"%04x" % (len(text) + 4) + text.encode()


def test_a_gzip_negotiation_is_answered_with_a_pack(
    server: SimulatorServer, repos: dict[str, Any]
) -> None:
    # git gzips large upload-pack requests; aiohttp decodes the body before git sees it.
    url = clone_url(repos["private"])
    head = git("ls-remote", with_credentials(url, "admin", "admin"), "HEAD").stdout.split()[0]
    body = _pkt(f"want {head}\n") + b"0000" + _pkt("done\n")
    answer = requests.post(
        url + "/git-upload-pack",
        data=gzip.compress(body),
        headers={
            "Content-Type": "application/x-git-upload-pack-request",
            "Content-Encoding": "gzip",
        },
        auth=("admin", "admin"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/x-git-upload-pack-result"
    assert answer.content.startswith(b"0008NAK\n")
    assert b"PACK" in answer.content


def test_a_body_that_does_not_decode_is_a_400_not_a_500(
    server: SimulatorServer, repos: dict[str, Any]
) -> None:
    answer = requests.post(
        clone_url(repos["private"]) + "/git-upload-pack",
        data=b"not gzip at all",
        headers={
            "Content-Type": "application/x-git-upload-pack-request",
            "Content-Encoding": "gzip",
        },
        auth=("admin", "admin"),
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"].startswith("The request body could not be read")


def test_a_negotiation_of_another_media_type_is_415(
    server: SimulatorServer, repos: dict[str, Any]
) -> None:
    answer = requests.post(
        clone_url(repos["private"]) + "/git-upload-pack",
        data=b"0000",
        headers={"Content-Type": "text/plain"},
        auth=("admin", "admin"),
        timeout=10,
    )
    assert answer.status_code == 415
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "application/x-git-upload-pack-request" in answer.text
