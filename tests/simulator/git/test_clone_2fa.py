"""Git over HTTP under the "U2F & TOTP" plugin: a forced user's password is refused, their
personal access token clones, and their OAuth token only with the OAuth whitelist on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.simulator.git.test_clone import (
    all_values,
    assert_clones,
    clone_url,
    git,
    oauth2_token,
    personal_token,
    pytestmark,
    with_credentials,
)

__all__ = ["pytestmark"]


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


def configure(server: SimulatorServer, **tfa: Any) -> None:
    answer = requests.patch(server.base_url + "/_sim/config", json={"tfa": tfa}, timeout=10)
    assert answer.status_code == 200, answer.text


def private_repo(server: SimulatorServer) -> dict[str, Any]:
    repos = all_values(server, "/rest/api/1.0/projects/PKG/repos", ("alice", "alice"))
    return next(r for r in repos if not r["public"])


def test_a_forced_users_password_is_refused_with_the_reason(
    server: SimulatorServer, tmp_path: Path
) -> None:
    repository = private_repo(server)
    configure(server, installed=True)
    done = git("clone", with_credentials(clone_url(repository), "alice", "alice"), str(tmp_path))
    assert done.returncode != 0
    assert "personal access token" in done.stderr  # git prints the server's text


def test_a_forced_users_personal_token_clones(server: SimulatorServer, tmp_path: Path) -> None:
    repository = private_repo(server)
    token = personal_token(server, ["REPO_READ"])
    configure(server, installed=True)
    assert_clones(with_credentials(clone_url(repository), "alice", token), tmp_path / "c")


def test_a_forced_users_oauth_token_needs_the_whitelist(
    server: SimulatorServer, tmp_path: Path
) -> None:
    repository = private_repo(server)
    header = f"http.extraHeader=Authorization: Bearer {oauth2_token(server)}"
    configure(server, installed=True)
    refused = git("-c", header, "clone", clone_url(repository), str(tmp_path / "refused"))
    assert refused.returncode != 0
    configure(server, oauth_whitelist=True)
    assert_clones(clone_url(repository), tmp_path / "allowed", "-c", header)
