"""End to end: a simulator and a receiver each in a thread of its own, both on 127.0.0.1
(port 0); a real ``git push`` and the control API's commits, tags and deletions each reach
the receiver as ``repo:refs_changed``, signed, with the pusher (or the seeded admin) as the
actor and exactly the refs that moved."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.schemas import validate
from tests.simulator.git.test_clone import clone_url, git, personal_token, with_credentials
from tests.simulator.webhooks.support import API, ThreadedReceiver

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
ZERO = "0" * 40
SECRET = "end-to-end"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


@pytest.fixture
def receiver(server: SimulatorServer) -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver() as running:
        yield running
    assert requests.post(server.base_url + "/_sim/reset", timeout=10).status_code == 200


def _call(server: SimulatorServer, method: str, path: str, **options: Any) -> Any:
    answer = requests.request(
        method, server.base_url + path, auth=("alice", "alice"), timeout=30, **options
    )
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


def _private_repository(server: SimulatorServer) -> dict[str, Any]:
    pkg = _call(server, "GET", API + "/projects/PKG/repos?limit=100")["values"]
    return next(repo for repo in pkg if not repo["public"] and not repo["archived"])


def _settled(server: SimulatorServer, receiver: ThreadedReceiver, count: int) -> list[Any]:
    done = requests.post(server.base_url + "/_sim/webhooks/settle", timeout=40).json()
    assert done["settled"], done
    received = receiver.inbox.take()
    assert len(received) == count, received
    for got in received:
        signature = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["X-Hub-Signature"] == "sha256=" + signature
    return [validate(json.loads(got.body), "webhook-refs-changed.json") for got in received]


def test_a_git_push_reaches_the_receiver(
    server: SimulatorServer, receiver: ThreadedReceiver, tmp_path: Path
) -> None:
    repository = _private_repository(server)
    key, slug = repository["project"]["key"], repository["slug"]
    _call(
        server,
        "POST",
        f"{API}/projects/{key}/webhooks",
        json={
            "name": "CI",
            "url": receiver.inbox.url("/bitbucket"),
            "events": ["repo:refs_changed"],
            "configuration": {"secret": SECRET},
        },
    )
    work = tmp_path / "work"
    url = with_credentials(clone_url(repository), "alice", personal_token(server, ["REPO_WRITE"]))
    assert git("clone", "--quiet", url, str(work)).returncode == 0
    for name, value in (("user.name", "Pusher"), ("user.email", "pusher@example.com")):
        git("config", name, value, cwd=work)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).stdout.strip()
    before = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    (work / "pushed.txt").write_text("pushed\n")
    git("add", "pushed.txt", cwd=work)
    assert git("commit", "--quiet", "-m", "Push me", cwd=work).returncode == 0
    after = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert git("tag", "v77.0.0", cwd=work).returncode == 0
    done = git("push", "--quiet", "origin", branch, "v77.0.0", cwd=work)
    assert done.returncode == 0, done.stderr
    [payload] = _settled(server, receiver, 1)
    assert payload["actor"]["name"] == "alice"
    assert payload["repository"]["slug"] == slug
    assert sorted(
        (c["refId"], c["fromHash"], c["toHash"], c["type"]) for c in payload["changes"]
    ) == [
        (f"refs/heads/{branch}", before, after, "UPDATE"),
        ("refs/tags/v77.0.0", ZERO, after, "ADD"),
    ]
    assert receiver.inbox.take()[0].path == "/bitbucket"


def test_the_control_apis_changes_reach_the_receiver(
    server: SimulatorServer, receiver: ThreadedReceiver
) -> None:
    repository = _private_repository(server)
    key, slug = repository["project"]["key"], repository["slug"]
    _call(
        server,
        "POST",
        f"{API}/projects/{key}/repos/{slug}/webhooks",
        json={
            "name": "CI",
            "url": receiver.inbox.url(),
            "events": ["repo:refs_changed"],
            "configuration": {"secret": SECRET},
        },
    )
    control = f"/_sim/repos/{key}/{slug}"
    commit = requests.post(
        server.base_url + control + "/commits",
        json={"branch": "hooked", "message": "Hook", "files": {"a.txt": "a"}},
        timeout=30,
    ).json()
    tag = requests.post(server.base_url + control + "/tags", json={"name": "v78.0.0"}, timeout=30)
    assert tag.status_code == 201
    for tail in ("/tags/v78.0.0", "/branches/hooked"):
        assert requests.delete(server.base_url + control + tail, timeout=30).status_code == 204
    payloads = _settled(server, receiver, 4)
    assert {payload["actor"]["name"] for payload in payloads} == {"admin"}
    assert [(p["changes"][0]["refId"], p["changes"][0]["type"]) for p in payloads] == [
        ("refs/heads/hooked", "ADD"),
        ("refs/tags/v78.0.0", "ADD"),
        ("refs/tags/v78.0.0", "DELETE"),
        ("refs/heads/hooked", "DELETE"),
    ]
    assert payloads[0]["changes"][0]["toHash"] == commit["id"]
    assert payloads[3]["changes"][0] == {
        "ref": {"id": "refs/heads/hooked", "displayId": "hooked", "type": "BRANCH"},
        "refId": "refs/heads/hooked",
        "fromHash": commit["id"],
        "toHash": ZERO,
        "type": "DELETE",
    }
