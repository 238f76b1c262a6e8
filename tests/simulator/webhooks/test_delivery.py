"""Deliveries to a real receiver on 127.0.0.1 (port 0, in the test's loop): what every ref
change of the control API sends, its headers and payload, who gets it, that a change answers
without waiting, the loopback rule, timeouts, the bounded queue, faults, ``…/latest`` and
``…/statistics``, the ping of ``…/webhooks/test``, and ``/_sim/webhooks/…``. No test sleeps:
each waits with ``POST /_sim/webhooks/settle``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.model import Repository
from simulator.settings import Settings
from simulator.store import Store
from simulator.webhooks import dispatch
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.webhooks.support import (
    JSON,
    Inbox,
    Received,
    deliveries,
    hook_body,
    pkg_repo,
    project_hooks,
    receiver_app,
    repo_hooks,
    settle,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
ADMIN = basic("admin")
ZERO = "0" * 40
ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def inbox(aiohttp_server: ServerFactory) -> Inbox:
    """A receiver in this loop; ``inbox.url`` is where it listens."""
    box = Inbox()
    server = await aiohttp_server(receiver_app(box), host="127.0.0.1")
    box.base_url = f"http://127.0.0.1:{server.port}"
    return box


def url_of(inbox: Inbox, path: str = "/hook") -> str:
    return inbox.url(path)


async def _hook(client: Client, path: str, url: str, **fields: Any) -> dict[str, Any]:
    answer = await client.post(path, json=hook_body(url, **fields), headers=ADMIN)
    assert answer.status == 200, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


def _control(repo: Repository, tail: str) -> str:
    return f"/_sim/repos/{repo.project.key}/{repo.slug}/{tail}"


async def _commit(client: Client, repo: Repository, branch: str | None = None) -> dict[str, Any]:
    body = {"branch": branch or repo.default_branch, "message": "Hooked", "files": {"h.txt": "h"}}
    answer = await client.post(_control(repo, "commits"), json=body, headers=JSON)
    assert answer.status == 201, await answer.text()
    commit: dict[str, Any] = await answer.json()
    return commit


async def _tip(client: Client, repo: Repository) -> str:
    path = f"/rest/api/1.0/projects/{repo.project.key}/repos/{repo.slug}/commits/"
    answer = await client.get(path + repo.default_branch, headers=ADMIN)
    return str((await answer.json())["id"])


def _payload(received: Received) -> Any:
    return validate(json.loads(received.body), "webhook-refs-changed.json")


# -- what a change sends ------------------------------------------------------------------


async def test_a_commit_sends_refs_changed_as_bitbucket_does(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox))
    before = await _tip(client, repo)
    commit = await _commit(client, repo)
    await settle(client)
    [got] = inbox.take()
    assert got.method == "POST"
    assert got.path == "/hook"
    headers = got.headers
    assert headers["X-Event-Key"] == "repo:refs_changed"
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", headers["X-Request-Id"]
    )
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == (
        f"Atlassian HttpClient 4.2.0 / Bitbucket-9.4.16 ({9_004_016}) / Default"
    )
    assert "X-Hub-Signature" not in headers
    assert "Authorization" not in headers
    payload = _payload(got)
    assert payload["actor"]["name"] == "admin"
    assert payload["repository"]["id"] == repo.id
    assert payload["repository"]["links"]["clone"][0]["name"] == "http"
    assert payload["date"].endswith("+0000")
    assert payload["changes"] == [
        {
            "ref": {
                "id": "refs/heads/" + repo.default_branch,
                "displayId": repo.default_branch,
                "type": "BRANCH",
            },
            "refId": "refs/heads/" + repo.default_branch,
            "fromHash": before,
            "toHash": commit["id"],
            "type": "UPDATE",
        }
    ]
    repository = await client.get(
        f"/rest/api/1.0/projects/{repo.project.key}/repos/{repo.slug}", headers=ADMIN
    )
    assert payload["repository"] == await repository.json()  # as the REST API shows it


async def test_the_date_is_the_simulator_clocks(client: Client, store: Store, inbox: Inbox) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox))
    store.clock.advance(10 * 365 * 86400)
    await _commit(client, repo)
    await settle(client)
    year = int(_payload(inbox.take()[0])["date"][:4])
    assert year >= 2035


async def test_the_date_is_in_the_configured_time_zone(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox))
    patched = await client.patch("/_sim/config", json={"time_zone": "-08:00"})
    assert (await patched.json())["time_zone"] == "-08:00"
    await _commit(client, repo)
    await settle(client)
    date = _payload(inbox.take()[0])["date"]
    moment = datetime.strptime(date, "%Y-%m-%dT%H:%M:%S%z")
    assert date.endswith("-0800")
    assert abs(moment.timestamp() - store.clock.now()) < 5


async def test_new_branches_tags_and_deletions_are_add_and_delete(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox))
    branch = await _commit(client, repo, "feature/hook")
    tag = await client.post(_control(repo, "tags"), json={"name": "v9.9.9"}, headers=JSON)
    assert tag.status == 201
    assert (await client.delete(_control(repo, "tags/v9.9.9"))).status == 204
    assert (await client.delete(_control(repo, "branches/feature/hook"))).status == 204
    await settle(client)
    changes = [_payload(got)["changes"] for got in inbox.take()]
    tip = (await tag.json())["latestCommit"]
    assert [(c[0]["ref"]["type"], c[0]["type"]) for c in changes] == [
        ("BRANCH", "ADD"),
        ("TAG", "ADD"),
        ("TAG", "DELETE"),
        ("BRANCH", "DELETE"),
    ]
    assert (changes[0][0]["fromHash"], changes[0][0]["toHash"]) == (ZERO, branch["id"])
    assert changes[1][0] == {
        "ref": {"id": "refs/tags/v9.9.9", "displayId": "v9.9.9", "type": "TAG"},
        "refId": "refs/tags/v9.9.9",
        "fromHash": ZERO,
        "toHash": tip,
        "type": "ADD",
    }
    assert changes[2][0]["toHash"] == ZERO
    assert changes[3][0]["ref"]["displayId"] == "feature/hook"


async def test_project_webhooks_hear_every_repository_and_only_subscribers_hear(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, project_hooks("PKG"), url_of(inbox, "/project"))
    await _hook(client, repo_hooks(repo), url_of(inbox, "/inactive"), active=False)
    await _hook(client, repo_hooks(repo), url_of(inbox, "/prs"), events=["pr:opened"])
    await _hook(client, repo_hooks(pkg_repo(store, 1)), url_of(inbox, "/other"))
    await _commit(client, repo)
    await settle(client)
    assert [got.path for got in inbox.take()] == ["/project"]


async def test_a_secret_signs_and_credentials_authenticate(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(
        client,
        repo_hooks(repo),
        url_of(inbox),
        configuration={"secret": "s3cr3t"},
        credentials={"username": "hook", "password": "p:w"},
    )
    await _commit(client, repo)
    await settle(client)
    [got] = inbox.take()
    expected = hmac.new(b"s3cr3t", got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Hub-Signature"] == "sha256=" + expected
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(b"hook:p:w").decode()
    [logged] = await deliveries(client)
    assert logged["headers"]["X-Hub-Signature"] == "sha256=<redacted>"
    assert logged["headers"]["Authorization"] == "Basic <redacted>"
    assert "s3cr3t" not in json.dumps(logged)


# -- off the request path ------------------------------------------------------------------


@pytest.fixture
async def held(aiohttp_server: ServerFactory) -> tuple[str, asyncio.Event]:
    """A receiver that answers only once the test sets the event."""
    release = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_post("/held", receive)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}/held", release


async def test_a_change_answers_without_waiting_for_the_receiver(
    client: Client, store: Store, held: tuple[str, asyncio.Event]
) -> None:
    url, release = held
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url)
    await _commit(client, repo)  # answered while the receiver holds the delivery
    answer = await client.post("/_sim/webhooks/settle", json={"timeout_seconds": 0.05})
    assert await answer.json() == {"settled": False, "pending": 1}
    [waiting] = await deliveries(client)
    assert waiting["state"] in ("QUEUED", "SENDING")
    release.set()
    await settle(client)
    [done] = await deliveries(client)
    assert done["state"] == "SUCCESS"
    assert done["answer"] == "late"


@pytest.mark.parametrize("settings", [Settings(port=0, webhook_timeout=0.2)])
async def test_a_receiver_too_slow_is_an_error_after_the_timeout(
    client: Client, store: Store, held: tuple[str, asyncio.Event]
) -> None:
    url, release = held
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url)
    await _commit(client, repo)
    await settle(client)
    release.set()
    [done] = await deliveries(client)
    assert done["state"] == "ERROR"
    assert done["error"] == "timed out after 0.2 s"


async def test_the_queue_is_bounded(
    client: Client, store: Store, held: tuple[str, asyncio.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "MAX_PENDING", 1)
    url, release = held
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url)
    await _commit(client, repo)
    await _commit(client, repo)
    _, second = await deliveries(client)
    assert second["state"] == "ERROR"
    assert second["error"] == "not sent: 1 deliveries are waiting already"
    release.set()
    await settle(client)
    assert (await deliveries(client))[0]["state"] == "SUCCESS"


async def test_reset_cancels_what_is_queued(
    client: Client, store: Store, held: tuple[str, asyncio.Event]
) -> None:
    url, _ = held
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url)
    await _commit(client, repo)
    assert (await client.post("/_sim/reset")).status == 200
    assert (await settle(client))["pending"] == 0
    assert await deliveries(client) == []


# -- where deliveries may go ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://packagist.example/api/bitbucket?token=abc",
        "http://10.0.0.1/hook",
        "http://0.0.0.0:1/hook",
        "http://[::]:1/hook",
        "http://2130706433/hook",
        "http://127.1/hook",
        "http://[::ffff:10.0.0.1]/hook",
    ],
)
async def test_targets_off_loopback_are_accepted_but_never_sent_to(
    client: Client, store: Store, url: str
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url)  # created, as Bitbucket accepts any URL
    await _commit(client, repo)
    await settle(client)
    [done] = await deliveries(client)
    assert done["state"] == "ERROR"
    assert done["error"].startswith("not sent: ")
    assert "--webhook-remote-targets" in done["error"]
    assert "token=abc" not in done["url"]
    latest = await client.get(f"{repo_hooks(repo)}/1/latest", headers=ADMIN)
    invocation = validate(await latest.json(), "webhook-invocation.json")
    assert invocation["result"]["outcome"] == "ERROR"


async def test_localhost_and_ipv4_mapped_loopback_are_delivered(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    port = inbox.base_url.rsplit(":", 1)[1]
    await _hook(client, repo_hooks(repo), f"http://localhost:{port}/a")
    await _hook(client, repo_hooks(repo), f"http://LocalHost.:{port}/b")
    await _commit(client, repo)
    await settle(client)
    assert sorted(got.path for got in inbox.take()) == ["/a", "/b"]


async def test_the_simulators_own_address_is_refused(client: Client, store: Store) -> None:
    assert client.server is not None
    own = f"http://127.0.0.1:{client.server.port}"
    store.base_url = own
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), own + "/_sim/reset")
    await _commit(client, repo)
    await settle(client)
    [done] = await deliveries(client)
    assert done["error"] == "not sent: the URL is the simulator's own address"
    assert len(store.webhooks.hooks) == 1  # not reset by its own delivery


async def test_a_closed_port_is_an_error(client: Client, store: Store) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), "http://127.0.0.1:9/hook")
    await _commit(client, repo)
    await settle(client)
    [done] = await deliveries(client)
    assert done["state"] == "ERROR"
    assert done["statusCode"] is None
    assert done["error"]


# -- answers, history, statistics ------------------------------------------------------------


async def test_latest_and_statistics_follow_the_outcomes(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    base = f"{repo_hooks(repo)}/1"
    await _hook(client, repo_hooks(repo), url_of(inbox))
    assert (await client.get(base + "/latest", headers=ADMIN)).status == 204
    await _commit(client, repo)
    await settle(client)
    inbox.status = 500
    await _commit(client, repo)
    await settle(client)
    latest = validate(
        await (await client.get(base + "/latest", headers=ADMIN)).json(),
        "webhook-invocation.json",
    )
    assert latest["result"] == {"outcome": "FAILURE", "description": "500"}
    assert latest["eventScope"] == {"type": "repository", "id": str(repo.id)}
    assert latest["event"] == "repo:refs_changed"
    assert latest["request"] == {"url": url_of(inbox), "method": "POST"}
    assert latest["finish"] - latest["start"] == latest["duration"]
    success = await (await client.get(base + "/latest?outcome=SUCCESS", headers=ADMIN)).json()
    assert success["result"]["description"] == "200"
    assert (await client.get(base + "/latest?outcome=ERROR", headers=ADMIN)).status == 204
    assert (await client.get(base + "/latest?event=pr:opened", headers=ADMIN)).status == 204
    bad = await client.get(base + "/latest?outcome=success", headers=ADMIN)
    assert bad.status == 400
    statistics = validate(
        await (await client.get(base + "/statistics", headers=ADMIN)).json(),
        "webhook-statistics.json",
    )
    assert statistics["counts"] == {"successes": 1, "failures": 1, "errors": 0}
    assert statistics["lastSuccess"]["id"] < statistics["lastFailure"]["id"]
    assert "lastError" not in statistics
    summary = await (await client.get(base + "/statistics/summary", headers=ADMIN)).json()
    assert validate(summary, "webhook-statistics.json") == {"counts": statistics["counts"]}
    none = await (await client.get(base + "/statistics?event=pr:opened", headers=ADMIN)).json()
    assert none == {"counts": statistics["counts"]}
    [first, second] = await deliveries(client)
    assert (first["statusCode"], second["statusCode"]) == (200, 500)
    assert (first["state"], second["state"]) == ("SUCCESS", "FAILURE")
    assert second["answer"] == "thanks"


async def test_deliveries_filter_by_id_and_webhook(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox, "/one"))
    await _hook(client, project_hooks("PKG"), url_of(inbox, "/two"))
    await _commit(client, repo)
    await settle(client)
    every = await deliveries(client)
    assert [d["webhookId"] for d in every] == [1, 2]
    assert [d["id"] for d in await deliveries(client, since=str(every[0]["id"]))] == [
        every[1]["id"]
    ]
    assert [d["webhookId"] for d in await deliveries(client, webhookId="2")] == [2]
    for query in ({"since": "-1"}, {"webhookId": "x"}, {"colour": "red"}):
        answer = await client.get("/_sim/webhooks/deliveries", params=query)
        assert answer.status == 400
    document = await (await client.get("/_sim/openapi.json")).json()
    schema = document["paths"]["/_sim/webhooks/deliveries"]["get"]["responses"]["200"]
    from jsonschema import Draft202012Validator

    Draft202012Validator(
        {**schema["content"]["application/json"]["schema"], "components": document["components"]}
    ).validate(await (await client.get("/_sim/webhooks/deliveries")).json())


# -- faults --------------------------------------------------------------------------------


async def test_faults_answer_for_the_receiver_or_fail_or_delay(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    await _hook(client, repo_hooks(repo), url_of(inbox))
    for fault in (
        {"status": 503},
        {"error": "Connection reset by peer", "url_prefix": url_of(inbox, "")},
        {"delay_seconds": 0.01},
    ):
        answer = await client.post("/_sim/webhooks/faults", json=fault)
        assert answer.status == 201, await answer.text()
    listed = await (await client.get("/_sim/webhooks/faults")).json()
    assert listed["size"] == 3
    for _ in range(3):
        await _commit(client, repo)
        await settle(client)
    states = [(d["state"], d["statusCode"], d["error"]) for d in await deliveries(client)]
    assert states == [
        ("FAILURE", 503, None),
        ("ERROR", None, "Connection reset by peer"),
        ("SUCCESS", 200, None),
    ]
    assert len(inbox.take()) == 1  # only the delayed one was sent
    assert (await (await client.get("/_sim/webhooks/faults")).json())["size"] == 0
    await client.post("/_sim/webhooks/faults", json={"status": 500, "times": None})
    assert (await client.delete("/_sim/webhooks/faults")).status == 204
    assert (await (await client.get("/_sim/webhooks/faults")).json())["faults"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": 99},
        {"status": "500"},
        {"status": 500, "error": "both"},
        {"error": ""},
        {"delay_seconds": 31},
        {"delay_seconds": -1},
        {"status": 500, "times": 0},
        {"status": 500, "url_prefix": 5},
        {"status": 500, "path_prefix": "/x"},
    ],
)
async def test_a_bad_fault_is_a_400(client: Client, body: dict[str, Any]) -> None:
    answer = await client.post("/_sim/webhooks/faults", json=body)
    assert answer.status == 400
    validate(await answer.json(), "error.json")


@pytest.mark.parametrize(
    "body", [b'{"timeout_seconds": 31}', b'{"timeout_seconds": "1"}', b'{"wait": 1}', b"[]"]
)
async def test_a_bad_settle_is_a_400(client: Client, body: bytes) -> None:
    answer = await client.post("/_sim/webhooks/settle", data=body, headers=JSON)
    assert answer.status == 400


async def test_settle_without_a_body_or_deliveries_answers_at_once(client: Client) -> None:
    answer = await client.post("/_sim/webhooks/settle")
    assert await answer.json() == {"settled": True, "pending": 0}


# -- the test ping -------------------------------------------------------------------------


async def test_the_test_endpoint_sends_a_ping_and_shows_the_answer(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    path = repo_hooks(repo) + "/test"
    answer = await client.post(path, params={"url": url_of(inbox, "/ping")}, headers=ADMIN)
    assert answer.status == 200, await answer.text()
    result = validate(await answer.json(), "webhook-test-result.json")
    assert result["response"]["statusCode"] == 200
    assert result["response"]["body"] == "thanks"
    assert result["request"]["body"] == '{"test":true}'
    [got] = inbox.take()
    assert json.loads(got.body) == {"test": True}
    assert got.headers["X-Event-Key"] == "diagnostics:ping"
    assert "X-Hub-Signature" not in got.headers
    assert await deliveries(client) == []  # a test is answered, not queued


async def test_a_test_for_a_webhook_uses_its_secret_and_given_credentials(
    client: Client, store: Store, inbox: Inbox
) -> None:
    repo = pkg_repo(store)
    hook = await _hook(client, project_hooks("PKG"), url_of(inbox), configuration={"secret": "k"})
    path = project_hooks("PKG") + "/test"
    answer = await client.post(
        path,
        params={"webhookId": str(hook["id"])},
        json={"username": "u", "password": "p"},
        headers=ADMIN,
    )
    result = validate(await answer.json(), "webhook-test-result.json")
    assert result["request"]["headers"]["X-Hub-Signature"] == "sha256=<redacted>"
    [got] = inbox.take()
    assert (
        got.headers["X-Hub-Signature"] == "sha256=" + hmac.new(b"k", got.body, "sha256").hexdigest()
    )
    assert got.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert repo.project.key == "PKG"


async def test_a_test_that_cannot_be_sent_answers_the_error(client: Client, store: Store) -> None:
    path = repo_hooks(pkg_repo(store)) + "/test"
    for url in ("http://example.com/", "http://127.0.0.1:9/"):
        answer = await client.post(path, params={"url": url}, headers=ADMIN)
        result = validate(await answer.json(), "webhook-test-result.json")
        assert result["error"]
        assert "response" not in result


@pytest.mark.parametrize(
    ("query", "body", "status"),
    [
        ({}, None, 400),
        ({"url": "nope"}, None, 400),
        ({"webhookId": "42"}, None, 404),
        ({"url": "http://127.0.0.1:9/"}, {"password": "p"}, 400),
        ({"url": "http://127.0.0.1:9/"}, {"username": "u", "extra": 1}, 400),
    ],
)
async def test_a_bad_test_request_is_refused(
    client: Client, store: Store, query: dict[str, str], body: Any, status: int
) -> None:
    path = repo_hooks(pkg_repo(store)) + "/test"
    answer = await client.post(path, params=query, json=body, headers=ADMIN)
    assert answer.status == status, await answer.text()
    validate(await answer.json(), "error.json")
