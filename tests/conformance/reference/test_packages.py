"""The reference's Composer packages against a served simulator: what a synchronisation
keeps, the driver endpoints, and the Composer repository with its per-user Basic login."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
import requests

from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import TIMEOUT, Browser, Setup
from tests.schemas import validate

API = "/rest/api/1.0"
ALICE = ("alice", "alice")
ADMIN = ("admin", "admin")


def packages_of(ref: str, browser: Browser) -> dict[str, list[dict[str, Any]]]:
    answer = requests.get(ref + "/packages", cookies=browser.cookies(), timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    validate(body, "driver/packages.json")
    packages: dict[str, list[dict[str, Any]]] = body["packages"]
    return packages


def sync(ref: str, browser: Browser) -> None:
    answer = requests.post(ref + "/packages/sync", cookies=browser.cookies(), timeout=TIMEOUT)
    assert answer.status_code == 204, answer.text


def token_of(home: requests.Response) -> str:
    found = re.search(r'id="composer-token">([^<]+)<', home.text)
    assert found, home.text
    return found.group(1)


def bitbucket_json(bitbucket: SimulatorServer, path: str, auth: tuple[str, str] = ALICE) -> Any:
    answer = requests.get(bitbucket.base_url + path, auth=auth, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def expected_tags(bitbucket: SimulatorServer, project: str, slug: str) -> dict[str, str]:
    """Tag name -> commit, for the tags whose composer.json names a package."""
    base = f"{API}/projects/{project}/repos/{slug}"
    found = {}
    for tag in bitbucket_json(bitbucket, f"{base}/tags?limit=1000")["values"]:
        raw = requests.get(
            f"{bitbucket.base_url}{base}/raw/composer.json",
            params={"at": tag["latestCommit"]},
            auth=ALICE,
            timeout=TIMEOUT,
        )
        if raw.status_code == 200 and "name" in raw.json():
            found[tag["displayId"]] = tag["latestCommit"]
    return found


def test_the_login_synchronises_a_version_per_tag_and_branch_of_alices_repositories(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    packages = packages_of(ref, browser)
    core = packages["pkg/to-official"]
    tags = {v["version"]: v for v in core if not v["version"].startswith("dev-")}
    assert {k: v["source"]["reference"] for k, v in tags.items()} == expected_tags(
        bitbucket, "PKG", "to-official"
    )
    assert tags["v1.0.0"]["version_normalized"] == "1.0.0.0"
    assert tags["v1.0.0"]["source"]["url"] == f"{bitbucket.base_url}/scm/pkg/to-official.git"
    assert tags["v1.0.0"]["dist"]["url"].startswith(ref + "/composer/dist/")
    assert "require" in tags["v1.0.0"]
    assert "autoload" in tags["v1.0.0"]
    branches = bitbucket_json(bitbucket, f"{API}/projects/PKG/repos/to-official/branches")
    dev = {v["version"]: v for v in core if v["version"].startswith("dev-")}
    assert set(dev) == {f"dev-{b['displayId']}" for b in branches["values"]}
    assert dev["dev-main"].get("default-branch") is True
    readable = {
        f"{r['project']['key']}/{r['slug']}"
        for r in bitbucket_json(bitbucket, f"{API}/repos?permission=REPO_READ&limit=1000")["values"]
    }
    for versions in packages.values():
        for version in versions:
            url = version["source"]["url"]
            key, slug = url.rsplit("/scm/", 1)[1].removesuffix(".git").split("/")
            assert any(r.lower() == f"{key}/{slug}" for r in readable), url


def test_a_pushed_tag_appears_and_a_deleted_one_goes_at_the_next_sync(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    control = f"{bitbucket.base_url}/_sim/repos/PKG/to-official/tags"
    assert requests.post(control, json={"name": "v9.9.0"}, timeout=TIMEOUT).status_code == 201
    assert "v9.9.0" not in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}
    sync(ref, browser)
    assert "v9.9.0" in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}
    assert requests.delete(control + "/v1.0.0", timeout=TIMEOUT).status_code == 204
    sync(ref, browser)
    versions = {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}
    assert "v1.0.0" not in versions
    assert "v9.9.0" in versions


def test_a_repository_the_user_can_no_longer_read_disappears(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    assert "pkg/to-official" in packages_of(ref, browser)
    answer = requests.delete(
        f"{bitbucket.base_url}{API}/projects/PKG/permissions/users",
        params={"name": "alice"},
        auth=ADMIN,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 204, answer.text
    sync(ref, browser)
    assert not [name for name in packages_of(ref, browser) if name.startswith("pkg/")]


def test_without_a_login_packages_and_sync_answer_401(ref: str) -> None:
    for method, path in (("GET", "/packages"), ("POST", "/packages/sync")):
        answer = requests.request(method, ref + path, timeout=TIMEOUT)
        assert answer.status_code == 401
        validate(answer.json(), "driver/error.json")


def test_the_composer_repository_needs_the_users_composer_token(
    ref: str, setup: Setup, browser: Browser
) -> None:
    token = token_of(browser.log_in(setup.login_link, "alice"))
    url = ref + "/composer/packages.json"
    for auth in (None, ("alice", "alice"), ("bob", token), ("alice", token + "x")):
        answer = requests.get(url, auth=auth, timeout=TIMEOUT)
        assert answer.status_code == 401, auth
        assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
    answer = requests.get(url, auth=("alice", token), timeout=TIMEOUT)
    assert answer.status_code == 200
    root = answer.json()
    assert root["metadata-url"] == "/composer/p2/%package%.json"
    assert "pkg/to-official" in root["available-packages"]


def test_p2_serves_tags_and_dev_json_the_branches_and_dist_streams_the_archive(
    ref: str, setup: Setup, browser: Browser
) -> None:
    auth = ("alice", token_of(browser.log_in(setup.login_link, "alice")))
    tagged = requests.get(ref + "/composer/p2/pkg/to-official.json", auth=auth, timeout=TIMEOUT)
    dev = requests.get(ref + "/composer/p2/pkg/to-official~dev.json", auth=auth, timeout=TIMEOUT)
    tags = tagged.json()["packages"]["pkg/to-official"]
    branches = dev.json()["packages"]["pkg/to-official"]
    assert tags
    assert all(not v["version"].startswith("dev-") for v in tags)
    assert branches
    assert all(v["version"].startswith("dev-") for v in branches)
    missing = requests.get(ref + "/composer/p2/no/such.json", auth=auth, timeout=TIMEOUT)
    assert missing.status_code == 404
    v1 = next(v for v in tags if v["version"] == "v1.0.0")
    archive = requests.get(v1["dist"]["url"], auth=auth, timeout=TIMEOUT)
    assert archive.status_code == 200
    assert archive.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert any(name.endswith("composer.json") for name in names)
    assert requests.get(v1["dist"]["url"], timeout=TIMEOUT).status_code == 401
    other = v1["dist"]["url"].replace(v1["dist"]["reference"], "0" * 40)
    assert requests.get(other, auth=auth, timeout=TIMEOUT).status_code == 404


def test_each_user_gets_their_own_token_and_packages(
    ref: str, setup: Setup, bitbucket: SimulatorServer
) -> None:
    alice, bob = Browser(), Browser()
    try:
        alice_token = token_of(alice.log_in(setup.login_link, "alice"))
        bob_token = token_of(bob.log_in(setup.login_link, "bob"))
        assert alice_token != bob_token
        assert packages_of(ref, alice) != packages_of(ref, bob)
        again = token_of(alice.get(ref + "/"))
        assert again == alice_token
    finally:
        alice.close()
        bob.close()


def test_the_in_process_driver_gives_the_same_packages(
    ref: str, setup: Setup, browser: Browser, integrator: ReferenceIntegrator
) -> None:
    browser.log_in(setup.login_link, "alice")
    integrator.synchronise(browser.cookies())
    held = integrator.packages(browser.cookies())
    over_http = packages_of(ref, browser)
    assert set(held) == set(over_http)
    assert {v.version for v in held["pkg/to-official"]} == {
        v["version"] for v in over_http["pkg/to-official"]
    }
    capabilities = integrator.capabilities()
    assert (capabilities.packages, capabilities.webhooks) == (True, True)


def test_the_stores_are_bounded(reference: ReferenceServer) -> None:
    from conformance.reference.models import BrowserSession
    from conformance.reference.package_store import PackageStore

    store = PackageStore(max_users=2)
    for name in ("a", "b", "c"):
        store.logged_in("i", name, BrowserSession(id=name), f"t-{name}")
    assert len(store) == 2
    assert store.with_password("t-a", str.__eq__) == []
    assert [u.username for u in store.with_password("t-c", str.__eq__)] == ["c"]


@pytest.mark.parametrize("path", ["/composer/p2/pkg/to-official.json", "/composer/packages.json"])
def test_the_bitbucket_password_is_not_a_composer_credential(
    ref: str, setup: Setup, browser: Browser, path: str
) -> None:
    browser.log_in(setup.login_link, "alice")
    assert requests.get(ref + path, auth=ALICE, timeout=TIMEOUT).status_code == 401


def test_a_repository_bitbucket_fails_to_answer_for_keeps_what_was_read(
    setup: Setup,
    browser: Browser,
    bitbucket: SimulatorServer,
    reference: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conformance.reference import packages

    ref = reference.base_url
    browser.log_in(setup.login_link, "alice")
    before = packages_of(ref, browser)
    control = f"{bitbucket.base_url}/_sim/repos/PKG/to-official/tags"
    assert requests.post(control, json={"name": "v9.9.0"}, timeout=TIMEOUT).status_code == 201
    sync_of = reference.reference.composer
    manifest = sync_of._manifest

    async def failing(session: Any, project: str, slug: str, commit: str, limit: Any) -> Any:
        if slug == "to-official":
            raise packages.RepositoryUnchangedError
        return await manifest(session, project, slug, commit, limit)

    monkeypatch.setattr(sync_of, "_manifest", failing)
    sync(ref, browser)
    after = packages_of(ref, browser)
    assert after["pkg/to-official"] == before["pkg/to-official"]
    assert set(after) == set(before)
