"""Webhooks: what a delivery costs the simulator, against a bare aiohttp client posting the
same bodies.

Both sides post to one receiver, ``bench/webhook_receiver.py``, a subprocess that answers
204. A round on the simulator is one tag created with the control API (``POST
/_sim/repos/PKG/<slug>/tags``, the change a push makes) followed by ``POST
/_sim/webhooks/settle``, which returns once every delivery is answered. Rounds are timed first
with no webhook on the repository (the cost of the change itself), then with :data:`HOOKS`
signed repository webhooks; the difference, divided by :data:`HOOKS`, is the cost of one
delivery (payload, signature, queue, a new connection, the log). The baseline posts the
bodies the simulator delivered, each signed with HMAC-SHA256 as it is, :data:`CONCURRENCY`
at once on new connections (as the simulator sends them), from an aiohttp client in this
process. Rounds alternate (simulator, baseline, ...) and the medians are compared.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
import uuid
from typing import Any

import aiohttp

from bench.common import (
    BenchError,
    Http,
    Result,
    Server,
    basic_auth,
    fmt_seconds,
    median,
    ratio,
    serving,
    sim_command,
)
from bench.git_clone import _non_empty_repository

NAME = "webhooks"
#: Webhooks on the repository (the simulator's cap for one repository is 100).
HOOKS = 100
ROUNDS = 9
#: The simulator's and the baseline's deliveries in flight at once.
CONCURRENCY = 8
GOAL = 3.0
ADMIN = basic_auth("admin", "admin")
JSON = {"Content-Type": "application/json"}


def _request(client: Http, method: str, path: str, body: Any = None) -> Any:
    """One JSON exchange as admin; its decoded answer (BenchError unless 2xx)."""
    data = None if body is None else json.dumps(body).encode()
    reply = client.request(method, path, {**ADMIN, **JSON}, data)
    if not 200 <= reply.status < 300:
        raise BenchError(f"{method} {path} answered {reply.status}: {reply.body[:300]!r}")
    return json.loads(reply.body) if reply.body else None


def _sim_round(client: Http, slug: str, tag: str) -> float:
    """Create a tag and wait for its deliveries to settle; the seconds it took."""
    started = time.perf_counter()
    _request(client, "POST", f"/_sim/repos/PKG/{slug}/tags", {"name": tag})
    settled = _request(client, "POST", "/_sim/webhooks/settle", {"timeout_seconds": 30})
    if not settled["settled"]:
        raise BenchError(f"deliveries did not settle: {settled}")
    return time.perf_counter() - started


def _add_hooks(client: Http, slug: str, receiver: Server) -> dict[int, str]:
    """:data:`HOOKS` signed repository webhooks to the receiver; their secrets by id."""
    secrets: dict[int, str] = {}
    for index in range(HOOKS):
        secret = f"bench-secret-{index:03d}-" + "s" * 24
        made = _request(
            client,
            "POST",
            f"/rest/api/1.0/projects/PKG/repos/{slug}/webhooks",
            {
                "name": f"bench {index}",
                "url": f"{receiver.url}/hook/{index}",
                "events": ["repo:refs_changed"],
                "active": True,
                "configuration": {"secret": secret},
            },
        )
        secrets[int(made["id"])] = secret
    return secrets


def _delivered(client: Http, since: int) -> list[dict[str, Any]]:
    """The deliveries logged after ``since``."""
    rows: list[dict[str, Any]] = _request(
        client, "GET", f"/_sim/webhooks/deliveries?since={since}"
    )["deliveries"]
    return rows


def _last_id(client: Http) -> int:
    rows = _delivered(client, 0)
    return max((int(row["id"]) for row in rows), default=0)


def _received(client: Http) -> int:
    reply = client.request("GET", "/count")
    count: int = json.loads(reply.body)["received"]
    return count


async def _post_all(session: aiohttp.ClientSession, jobs: list[tuple[str, bytes, str]]) -> float:
    """Post every ``(url, body, secret)``, :data:`CONCURRENCY` at once; the seconds taken."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str, body: bytes, secret: str) -> None:
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            **JSON,
            "X-Event-Key": "repo:refs_changed",
            "X-Request-Id": str(uuid.uuid4()),
            "X-Hub-Signature": f"sha256={signature}",
        }
        async with limit, session.post(url, data=body, headers=headers) as answer:
            await answer.read()
            if answer.status != 204:
                raise BenchError(f"the receiver answered the baseline {answer.status}")

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for url, body, secret in jobs:
            group.create_task(one(url, body, secret))
    return time.perf_counter() - started


def run(rounds: int = ROUNDS) -> Result:
    """Time ``rounds`` bare rounds, then ``rounds`` hooked ones alternating with the
    baseline's, and compare the cost of one delivery."""
    result = Result(NAME, "one webhook delivery, simulator vs a bare aiohttp client")
    receiver_command = [sys.executable, "-m", "bench.webhook_receiver", "--port", "0"]
    loop = asyncio.new_event_loop()
    try:
        with (
            serving(sim_command()) as sim,
            serving(receiver_command) as receiver,
            Http(sim) as client,
            Http(receiver) as counter,
        ):
            slug = str(_non_empty_repository(sim)["slug"])
            _sim_round(client, slug, "bench-warm-up")
            bare = [_sim_round(client, slug, f"bench-bare-{i}") for i in range(rounds)]
            secrets = _add_hooks(client, slug, receiver)
            since = _last_id(client)
            _sim_round(client, slug, "bench-hooked-warm-up")
            rows = _delivered(client, since)
            if len(rows) != HOOKS or any(row["state"] != "SUCCESS" for row in rows):
                raise BenchError(f"the warm-up round delivered {len(rows)} of {HOOKS}")
            jobs = [
                (row["url"], json.dumps(row["payload"]).encode(), secrets[int(row["webhookId"])])
                for row in rows
            ]
            session = loop.run_until_complete(_session())
            hooked, baseline = [], []
            try:
                for index in range(rounds):
                    hooked.append(_sim_round(client, slug, f"bench-hooked-{index}"))
                    baseline.append(loop.run_until_complete(_post_all(session, jobs)))
            finally:
                loop.run_until_complete(session.close())
            expected = HOOKS * (2 * rounds + 1)
            received = _received(counter)
            if received != expected:
                raise BenchError(f"the receiver read {received} deliveries of {expected}")
    finally:
        loop.close()
    per_delivery = max(median(hooked) - median(bare), 0.0) / HOOKS
    per_baseline = median(baseline) / HOOKS
    result.add("repository, webhooks", f"PKG/{slug}, {HOOKS} signed")
    result.add("rounds (each)", str(rounds))
    result.add("tag created, no webhook (median)", fmt_seconds(median(bare)))
    result.add(f"tag created, {HOOKS} deliveries settled (median)", fmt_seconds(median(hooked)))
    result.add(f"baseline: {HOOKS} signed posts (median)", fmt_seconds(median(baseline)))
    result.add("simulator per delivery", fmt_seconds(per_delivery))
    result.add("baseline per delivery", fmt_seconds(per_baseline))
    result.check("ratio simulator/baseline", ratio(per_delivery, per_baseline), GOAL, at_most=True)
    return result


async def _session() -> aiohttp.ClientSession:
    """The baseline's client: new connections each post, as the simulator's deliveries."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY, force_close=True)
    )
