"""The reference's webhooks against a served simulator: made with a code credential on each
repository its packages come from, adopted rather than duplicated, and a receiver that checks
the signature and the date before it reads the repository again."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import requests

from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import TIMEOUT, Browser, Setup, patch_config
from tests.conformance.reference.test_packages import packages_of, sync

API = "/rest/api/1.0"


def personal_token(bitbucket: SimulatorServer, user: str, permission: str) -> str:
    answer = requests.put(
        f"{bitbucket.base_url}/rest/access-tokens/1.0/users/{user}",
        json={"name": "code credential", "permissions": [permission]},
        auth=(user, user),
        timeout=TIMEOUT,
    )
    assert answer.status_code in (200, 201), answer.text
    token: str = answer.json()["token"]
    return token


def give_credential(ref: str, user: str, token: str) -> None:
    answer = requests.post(
        ref + "/code-credentials", json={"username": user, "token": token}, timeout=TIMEOUT
    )
    assert answer.status_code == 204, answer.text


def hooks(bitbucket: SimulatorServer, project: str, slug: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{bitbucket.base_url}{API}/projects/{project}/repos/{slug}/webhooks",
        auth=("admin", "admin"),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["values"]
    return found


def administered(bitbucket: SimulatorServer, token: str) -> set[tuple[str, str]]:
    """The repositories whose webhooks the token may manage."""
    answer = requests.get(
        f"{bitbucket.base_url}{API}/repos",
        params={"permission": "REPO_ADMIN", "limit": "1000"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    return {(r["project"]["key"], r["slug"]) for r in answer.json()["values"]}


def packaged(ref: str, browser: Browser) -> set[tuple[str, str]]:
    """``(project, slug)`` of every repository the user's packages come from."""
    found = set()
    for versions in packages_of(ref, browser).values():
        for version in versions:
            url = version["dist"]["url"]
            project, slug = url.split("/composer/dist/", 1)[1].split("/")[1:3]
            found.add((project, slug))
    return found


def settle(bitbucket: SimulatorServer) -> None:
    answer = requests.post(bitbucket.base_url + "/_sim/webhooks/settle", json={}, timeout=40)
    assert answer.json()["settled"] is True


def deliveries(bitbucket: SimulatorServer) -> list[dict[str, Any]]:
    answer = requests.get(bitbucket.base_url + "/_sim/webhooks/deliveries", timeout=TIMEOUT)
    rows: list[dict[str, Any]] = answer.json()["deliveries"]
    return rows


@pytest.fixture
def alice(ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer) -> str:
    """alice's REPO_ADMIN token given to the reference, then alice logged in (synchronised)."""
    token = personal_token(bitbucket, "alice", "REPO_ADMIN")
    give_credential(ref, "alice", token)
    browser.log_in(setup.login_link, "alice")
    return token


def test_without_a_credential_no_webhook_is_made(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    assert all(hooks(bitbucket, *repo) == [] for repo in packaged(ref, browser))


def test_each_administered_repository_with_packages_gets_one_webhook_for_pushes(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer, alice: str
) -> None:
    receiver = f"{ref}/webhooks/bitbucket/{setup.login_link.rsplit('/', 1)[1]}"
    mine = packaged(ref, browser) & administered(bitbucket, alice)
    assert mine
    for repo in mine:
        (hook,) = hooks(bitbucket, *repo)
        assert hook["url"] == receiver
        assert hook["events"] == ["repo:refs_changed"]
        assert hook["active"] is True
        assert len(hook["configuration"]["secret"]) >= 32
    sync(ref, browser)
    assert all(len(hooks(bitbucket, *repo)) == 1 for repo in mine)


def test_a_webhook_left_from_before_is_adopted_with_a_new_secret(
    ref: str,
    browser: Browser,
    bitbucket: SimulatorServer,
    alice: str,
    reference: ReferenceServer,
) -> None:
    repo = sorted(packaged(ref, browser) & administered(bitbucket, alice))[0]
    (before,) = hooks(bitbucket, *repo)

    async def forget() -> None:
        reference.state.hooks._webhooks.clear()

    reference.call(forget())
    sync(ref, browser)
    (after,) = hooks(bitbucket, *repo)
    assert after["id"] == before["id"]
    assert after["configuration"]["secret"] != before["configuration"]["secret"]


def test_a_pushed_and_a_deleted_tag_reach_the_packages_through_the_webhook(
    ref: str, browser: Browser, bitbucket: SimulatorServer, alice: str
) -> None:
    control = f"{bitbucket.base_url}/_sim/repos/PKG/to-official/tags"
    assert requests.post(control, json={"name": "v9.9.0"}, timeout=TIMEOUT).status_code == 201
    settle(bitbucket)
    assert deliveries(bitbucket)[-1]["state"] == "SUCCESS"
    assert "v9.9.0" in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}
    assert requests.delete(control + "/v9.9.0", timeout=TIMEOUT).status_code == 204
    settle(bitbucket)
    assert "v9.9.0" not in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}


def test_a_push_dated_in_another_time_zone_is_taken(
    ref: str, browser: Browser, bitbucket: SimulatorServer, alice: str
) -> None:
    patch_config(bitbucket, {"time_zone": "-08:00"})
    control = f"{bitbucket.base_url}/_sim/repos/PKG/to-official/tags"
    assert requests.post(control, json={"name": "v9.9.0"}, timeout=TIMEOUT).status_code == 201
    settle(bitbucket)
    (row,) = [r for r in deliveries(bitbucket) if r["event"] == "repo:refs_changed"]
    assert row["payload"]["date"].endswith("-0800")
    assert row["state"] == "SUCCESS"
    assert "v9.9.0" in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}


def refuse_deliveries(bitbucket: SimulatorServer, ref: str) -> None:
    """Bitbucket's deliveries to the reference fail from now on (a delivery fault)."""
    requests.post(
        bitbucket.base_url + "/_sim/webhooks/faults",
        json={"url_prefix": ref, "error": "connection refused"},
        timeout=TIMEOUT,
    ).raise_for_status()


def _delivery(ref: str, bitbucket: SimulatorServer) -> tuple[str, bytes, str]:
    """A push to PKG/to-official that failed to arrive: the receiver, its body, its secret."""
    refuse_deliveries(bitbucket, ref)
    control = f"{bitbucket.base_url}/_sim/repos/PKG/to-official/tags"
    assert requests.post(control, json={"name": "v9.9.0"}, timeout=TIMEOUT).status_code == 201
    settle(bitbucket)
    (row,) = [r for r in deliveries(bitbucket) if r["event"] == "repo:refs_changed"]
    (hook,) = hooks(bitbucket, "PKG", "to-official")
    body = json.dumps(row["payload"], separators=(",", ":")).encode()
    return row["url"], body, hook["configuration"]["secret"]


def _post(url: str, body: bytes, signature: str | None, event: str = "repo:refs_changed") -> int:
    headers = {"Content-Type": "application/json", "X-Event-Key": event}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return requests.post(url, data=body, headers=headers, timeout=TIMEOUT).status_code


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc"])
def test_a_delivery_without_the_right_signature_is_refused_and_changes_nothing(
    ref: str,
    browser: Browser,
    bitbucket: SimulatorServer,
    alice: str,
    signature: str | None,
) -> None:
    url, body, _ = _delivery(ref, bitbucket)
    assert _post(url, body, signature) == 401
    assert "v9.9.0" not in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}


def test_a_signed_delivery_is_acted_on_but_a_stale_one_is_not(
    ref: str, browser: Browser, bitbucket: SimulatorServer, alice: str
) -> None:
    url, body, secret = _delivery(ref, bitbucket)
    payload = json.loads(body)
    stale = json.dumps({**payload, "date": "2017-09-19T09:58:11-0800"}).encode()
    assert _post(url, stale, _sign(secret, stale)) == 400
    assert "v9.9.0" not in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}
    assert _post(url, body, _sign(secret, body)) == 204
    assert "v9.9.0" in {v["version"] for v in packages_of(ref, browser)["pkg/to-official"]}


def test_a_ping_is_answered_and_unknown_receivers_are_404(
    ref: str, setup: Setup, alice: str
) -> None:
    receiver = f"{ref}/webhooks/bitbucket/{setup.login_link.rsplit('/', 1)[1]}"
    assert _post(receiver, b'{"test": true}', None, "diagnostics:ping") == 200
    assert _post(ref + "/webhooks/bitbucket/nobody", b"{}", None) == 404


def test_a_credential_that_may_not_make_webhooks_leaves_the_sync_alone(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    give_credential(ref, "bob", personal_token(bitbucket, "bob", "REPO_READ"))
    browser.log_in(setup.login_link, "alice")
    sync(ref, browser)
    assert all(hooks(bitbucket, *repo) == [] for repo in packaged(ref, browser))


@pytest.mark.parametrize("body", [{"username": "alice"}, {"username": "", "token": "t"}, []])
def test_a_malformed_code_credential_is_400(ref: str, body: object) -> None:
    answer = requests.post(ref + "/code-credentials", json=body, timeout=TIMEOUT)
    assert answer.status_code == 400
