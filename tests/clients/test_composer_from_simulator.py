"""A real Composer (Debian's ``composer`` on ``php-cli``) installs a package straight from the
simulator: the repository's clone URL as a ``vcs`` repository, credentials in ``auth.json``
``http-basic``. Composer's git driver clones it over smart HTTP (asked for credentials by
Bitbucket's 401 challenge), reads ``composer.json`` at every tag and branch, and installs the
version asked for at the commit the REST API reports for that tag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.clients.composer import metapackages, needs_composer, run_composer

pytestmark = needs_composer
API = "/rest/api/1.0"
ALICE = ("alice", "alice")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


def _get(server: SimulatorServer, path: str) -> requests.Response:
    answer = requests.get(server.base_url + path, auth=ALICE, timeout=10)
    answer.raise_for_status()
    return answer


def _package(server: SimulatorServer) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A private PKG repository with a composer.json and a tag: (repository, tag, manifest)."""
    for repo in _get(server, f"{API}/projects/PKG/repos?limit=100").json()["values"]:
        if repo["public"]:
            continue
        base = f"{API}/projects/PKG/repos/{repo['slug']}"
        tags = _get(server, f"{base}/tags").json()["values"]
        manifest = requests.get(
            server.base_url + f"{base}/raw/composer.json", auth=ALICE, timeout=10
        )
        if tags and manifest.status_code == 200:
            tag = sorted(tags, key=lambda t: t["displayId"])[0]
            at = _get(server, f"{base}/raw/composer.json?at={tag['id']}").json()
            return repo, tag, at
    raise AssertionError("no private PKG repository has a composer.json and a tag")


def _app(tmp_path: Path, clone: str, package: str, version: str) -> Path:
    """A project requiring ``package`` at ``version`` from the simulator's clone URL only."""
    project = tmp_path / "app"
    project.mkdir()
    manifest = {
        "name": "test/app",
        "repositories": [
            {"type": "vcs", "url": clone},
            {"type": "package", "package": metapackages()},
            {"packagist.org": False},
        ],
        "require": {package: version},
        "config": {"secure-http": False},
    }
    (project / "composer.json").write_text(json.dumps(manifest))
    return project


def test_composer_installs_a_tag_over_git_smart_http_with_http_basic(
    server: SimulatorServer, tmp_path: Path
) -> None:
    repo, tag, manifest = _package(server)
    clone = next(link["href"] for link in repo["links"]["clone"] if link["name"] == "http")
    host = urlsplit(clone).netloc
    version = tag["displayId"].lstrip("v")
    project = _app(tmp_path, clone, manifest["name"], version)
    credentials = {"username": "alice", "password": "alice"}
    hosts = {host: credentials, host.split(":")[0]: credentials}
    (project / "auth.json").write_text(json.dumps({"http-basic": hosts}))

    done = run_composer(project, "install", "--prefer-source")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    installed = json.loads((project / "vendor/composer/installed.json").read_text())
    package = next(p for p in installed["packages"] if p["name"] == manifest["name"])
    assert package["version"] == tag["displayId"]  # Composer keeps the tag's own spelling
    assert package["version_normalized"] == version + ".0"
    assert package["source"]["type"] == "git"
    assert package["source"]["reference"] == tag["latestCommit"]
    on_disk = json.loads((project / "vendor" / manifest["name"] / "composer.json").read_text())
    assert on_disk == manifest


def test_without_credentials_composer_is_refused(server: SimulatorServer, tmp_path: Path) -> None:
    """No auth.json, no prompt: Bitbucket's 401 challenge stops the clone."""
    repo, tag, manifest = _package(server)
    clone = next(link["href"] for link in repo["links"]["clone"] if link["name"] == "http")
    project = _app(tmp_path, clone, manifest["name"], tag["displayId"].lstrip("v"))
    done = run_composer(project, "install", "--prefer-source")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Authentication required" in output or "Authentication failed" in output, output
    assert not (project / "vendor" / manifest["name"]).exists()
