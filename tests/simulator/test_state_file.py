"""``serve --state-file``: what was answered survives a restart, a SIGKILL under load
included; nothing is half-written; a reset empties it; a file that is not one is refused."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from simulator.oauth2.scopes import Scope
from simulator.persistence import StateFile, StateFileError
from simulator.settings import Settings
from simulator.store import Store

BBDC_SIM = str(Path(sys.executable).parent / "bbdc-sim")


def start(state_file: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [BBDC_SIM, "serve", "--port", "0", "--state-file", str(state_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    assert " ready at " in line, line + (server.stderr.read() if server.stderr else "")
    return server, line.split(" ready at ", 1)[1].strip()


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return answer.status, json.loads(answer.read() or b"null")


def test_every_answered_change_survives_a_sigkill_under_load(tmp_path: Path) -> None:
    state_file = tmp_path / "state.sqlite"
    server, url = start(state_file)
    answered: list[str] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            link = {
                "type": "oauth2",
                "name": f"link-{worker}-{number}",
                "redirect_urls": ["https://x.example/cb"],
            }
            try:
                status, body = call(url + "/_sim/applinks", "POST", link)
            except OSError:
                return  # the server is gone
            if status == 201:
                answered.append(body["client_id"])
            if number == 30 and worker == 0:
                stop.set()

    call(url + "/_sim/clock", "POST", {"advance_seconds": 3600})
    call(url + "/_sim/config", "PATCH", {"version": "8.19.1"})
    workers = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for thread in workers:
        thread.start()
    stop.wait(30)
    server.send_signal(signal.SIGKILL)  # mid-load: some requests are still in flight
    for thread in workers:
        thread.join(10)
    server.communicate(timeout=10)
    assert len(answered) >= 30

    again, url = start(state_file)
    try:
        _, links = call(url + "/_sim/applinks")
        kept = {link["client_id"] for link in links["applinks"]}
        assert set(answered) <= kept  # every answered change is there
        print(  # the figure the issue asks for; shown with -s
            f"SIGKILL under load: {len(answered)} changes answered, "
            f"{len(set(answered) & kept)} found after the restart ({len(kept)} links in all)"
        )
        _, config = call(url + "/_sim/config")
        assert config["version"] == "8.19.1"
        _, clock = call(url + "/_sim/clock")
        assert clock["offset_seconds"] >= 3600
        call(url + "/_sim/reset", "POST")
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=10)
    third, url = start(state_file)
    try:
        assert call(url + "/_sim/applinks")[1]["applinks"] == []  # the reset emptied it
    finally:
        third.send_signal(signal.SIGTERM)
        third.communicate(timeout=10)


def test_sessions_tokens_and_enrolments_come_back(tmp_path: Path) -> None:
    settings = Settings(port=0, state_file=str(tmp_path / "s.sqlite"))
    store = Store(settings)
    state = StateFile(Path(str(settings.state_file)))
    user = store.catalog.users_by_name["alice"]
    session = store.create_session(user)
    client = store.oauth2.create_client(
        "P", ["https://x.example/cb"], (Scope.REPO_READ,), user_key="1"
    )
    store.tfa.secrets[user.id] = "JBSWY3DPEHPK3PXP"
    state.save(store)
    state.close()
    restored = Store(settings)
    assert StateFile(Path(str(settings.state_file))).load(restored) > 0
    assert session.id in restored.sessions
    assert restored.oauth2.clients[client.client_id].client_secret == client.client_secret
    assert restored.tfa.secrets[user.id] == "JBSWY3DPEHPK3PXP"
    assert restored.xsrf_secret == store.xsrf_secret


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not sqlite at all, " * 100, encoding="utf-8")
    with pytest.raises(StateFileError, match="not a state file"):
        StateFile(bogus).load(Store(Settings(port=0)))
    done = subprocess.run(
        [BBDC_SIM, "serve", "--port", "0", "--state-file", str(bogus)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ},
    )
    assert done.returncode == 2
    assert "not a state file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_state_file_naming_foreign_classes_is_refused(tmp_path: Path) -> None:
    import pickle
    import sqlite3

    path = tmp_path / "evil.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE state (part TEXT PRIMARY KEY, value BLOB NOT NULL)")
        db.execute("INSERT INTO state VALUES (?, ?)", ("sessions", pickle.dumps(os.getcwd)))
    with pytest.raises(StateFileError, match="not the simulator's"):
        StateFile(path).load(Store(Settings(port=0)))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_repository_changes_survive_a_sigkill_and_a_reset_forgets_them(tmp_path: Path) -> None:
    """Pushes and control-API changes live in git beside the state file (``<file>.git/``)."""
    state_file = tmp_path / "s.sqlite"
    server, base = start(state_file)
    repo = "/projects/PKG/repos/"
    try:
        slug = _first_pkg_slug(base)
        body = {"branch": "kept", "message": "Kept", "files": {"KEPT.md": "kept\n"}}
        status, commit = call(f"{base}/_sim/repos/PKG/{slug}/commits", "POST", body)
        assert status == 201
    finally:
        server.send_signal(signal.SIGKILL)
        server.communicate(timeout=10)
    server, base = start(state_file)
    branches = f"{base}/rest/api/1.0{repo}{slug}/branches?filterText=kept"
    try:
        assert [b["latestCommit"] for b in _admin(branches)["values"]] == [commit["id"]]
        assert call(base + "/_sim/reset", "POST")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)
    server, base = start(state_file)
    try:
        assert _admin(f"{base}/rest/api/1.0{repo}{slug}/branches?filterText=kept")["values"] == []
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)


def _admin(url: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, headers={"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def _first_pkg_slug(base: str) -> str:
    return str(_admin(base + "/rest/api/1.0/projects/PKG/repos")["values"][0]["slug"])
