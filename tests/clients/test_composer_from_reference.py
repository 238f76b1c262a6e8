"""A real Composer installs from the reference's Composer repository: ``alice`` logs in
through the guide's OAuth 2 integration, her Composer token (from the reference's home page)
goes into ``auth.json`` ``http-basic`` for the reference, and Composer installs a tag from its
dist (Bitbucket's archive, streamed by the reference) and a branch from its source (cloned from
the simulated Bitbucket over git, with ``alice``'s Bitbucket credentials for that host)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from conformance.reference.server import ReferenceServer
from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.clients.composer import metapackages, needs_composer, run_composer
from tests.conformance.reference.support import Browser, set_up_integration

pytestmark = needs_composer
API = "/rest/api/1.0"
ALICE = ("alice", "alice")
TIMEOUT = 10
PROJECT, SLUG, PACKAGE = "PKG", "to-official", "pkg/to-official"


@dataclass(frozen=True)
class Servers:
    """The simulator, the reference, and alice's Composer credentials for the reference."""

    bitbucket: SimulatorServer
    reference: ReferenceServer
    token: str


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with (
        SimulatorServer(Settings(port=0)) as bitbucket,
        ReferenceServer() as reference,
    ):
        setup = set_up_integration(reference.base_url, bitbucket)
        browser = Browser()
        try:
            home = browser.log_in(setup.login_link, "alice")
        finally:
            browser.close()
        found = re.search(r'id="composer-token">([^<]+)<', home.text)
        assert found, home.text
        yield Servers(bitbucket, reference, found.group(1))


def _bitbucket(servers: Servers, path: str) -> Any:
    answer = requests.get(servers.bitbucket.base_url + path, auth=ALICE, timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()


def _tree(servers: Servers, commit: str) -> dict[str, bytes]:
    """Every file of the repository at ``commit`` with its content, as Bitbucket serves it."""
    base = f"{API}/projects/{PROJECT}/repos/{SLUG}"
    paths = _bitbucket(servers, f"{base}/files?at={commit}&limit=1000")["values"]
    files = {}
    for path in paths:
        answer = requests.get(
            f"{servers.bitbucket.base_url}{base}/raw/{path}",
            params={"at": commit},
            auth=ALICE,
            timeout=TIMEOUT,
        )
        answer.raise_for_status()
        files[path] = answer.content
    return files


def _installed_tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def _project(tmp_path: Path, servers: Servers, version: str) -> Path:
    """A project requiring the package at ``version`` from the reference alone, with
    ``auth.json``: the Composer token for the reference, alice's password for Bitbucket."""
    project = tmp_path / "app"
    project.mkdir()
    manifest = {
        "name": "test/app",
        "repositories": [
            {"type": "composer", "url": servers.reference.base_url + "/composer"},
            {"type": "package", "package": metapackages()},
            {"packagist.org": False},
        ],
        "require": {PACKAGE: version},
        "minimum-stability": "dev",
        "prefer-stable": True,
        "config": {"secure-http": False},
    }
    (project / "composer.json").write_text(json.dumps(manifest))
    reference_host = urlsplit(servers.reference.base_url).netloc
    bitbucket_host = urlsplit(servers.bitbucket.base_url).netloc
    auth = {
        "http-basic": {
            reference_host: {"username": "alice", "password": servers.token},
            bitbucket_host: {"username": "alice", "password": "alice"},
        }
    }
    (project / "auth.json").write_text(json.dumps(auth))
    return project


def _installed(project: Path) -> dict[str, Any]:
    installed = json.loads((project / "vendor/composer/installed.json").read_text())
    package: dict[str, Any] = next(p for p in installed["packages"] if p["name"] == PACKAGE)
    return package


def test_composer_installs_a_tag_from_the_reference_dist(servers: Servers, tmp_path: Path) -> None:
    tag = _bitbucket(servers, f"{API}/projects/{PROJECT}/repos/{SLUG}/tags/v1.0.0")
    project = _project(tmp_path, servers, "v1.0.0")

    done = run_composer(project, "install", "--prefer-dist")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    package = _installed(project)
    assert package["version"] == "v1.0.0"
    assert package["dist"]["type"] == "zip"
    assert package["dist"]["url"].startswith(servers.reference.base_url + "/composer/dist/")
    assert package["installation-source"] == "dist"
    assert package["source"]["reference"] == tag["latestCommit"]
    assert _installed_tree(project / "vendor" / PACKAGE) == _tree(servers, tag["latestCommit"])


def test_composer_clones_a_branch_from_the_source_url(servers: Servers, tmp_path: Path) -> None:
    branch = next(
        b
        for b in _bitbucket(servers, f"{API}/projects/{PROJECT}/repos/{SLUG}/branches")["values"]
        if b["displayId"] == "main"
    )
    project = _project(tmp_path, servers, "dev-main")

    done = run_composer(project, "install", "--prefer-source")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    package = _installed(project)
    assert package["version"] == "dev-main"
    assert package["installation-source"] == "source"
    assert package["source"]["url"] == f"{servers.bitbucket.base_url}/scm/pkg/{SLUG}.git"
    folder = project / "vendor" / PACKAGE
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() == branch["latestCommit"]
    assert _installed_tree(folder) == _tree(servers, branch["latestCommit"])


def test_without_the_composer_token_composer_is_refused(servers: Servers, tmp_path: Path) -> None:
    project = _project(tmp_path, servers, "v1.0.0")
    (project / "auth.json").unlink()
    done = run_composer(project, "install")
    assert done.returncode != 0
    assert not (project / "vendor" / PACKAGE).exists()
