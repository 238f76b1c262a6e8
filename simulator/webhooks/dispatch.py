"""Deliveries, off the request path: a push answers without waiting for any receiver.

:func:`refs_changed` (called by :func:`simulator.git.changes.change` once a change is
recorded) queues one ``repo:refs_changed`` delivery per active webhook of the repository and
of its project subscribed to it. Each delivery is an asyncio task; at most
:data:`CONCURRENCY` send at once, at most :data:`MAX_PENDING` wait (one more is recorded as an
error and not sent), each within ``--webhook-timeout`` (10 s by default). There are no
retries: Bitbucket Data Center's "Manage webhooks" describes no resend, only skipping a
webhook that keeps failing ("circuit breaking", not modelled); the retries of Atlassian's
"Troubleshoot webhooks" page are Bitbucket Cloud's. Redirects are not followed.

Every delivery is logged (the last :data:`MAX_LOG`, secrets redacted) for ``GET
/_sim/webhooks/deliveries``; ``POST /_sim/webhooks/settle`` waits for the queue to drain;
faults (``/_sim/webhooks/faults``) delay deliveries or answer for the receiver. ``POST
/_sim/reset`` cancels what is queued and forgets the log.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from simulator.config import utc_offset_minutes
from simulator.journal import REDACTED, cut, redact_header, redact_url
from simulator.webhooks import REFS_CHANGED, SINCE, payloads
from simulator.webhooks.model import Credentials, Invocation, Outcome, Scope, Webhook
from simulator.webhooks.targets import LoopbackResolver, refusal

if TYPE_CHECKING:
    from simulator.git.changes import RefChange
    from simulator.model import Repository, User
    from simulator.store import Store

log = logging.getLogger("simulator.webhooks")

#: Deliveries sending at once, waiting at most, and kept in the log.
CONCURRENCY = 8
MAX_PENDING = 1_000
MAX_LOG = 1_000
#: What is read of an answer, and what the log keeps of it.
READ_BYTES = 64 * 1024
ANSWER_CHARS = 1_024
#: Payloads larger than this are logged by size only (the log stays within 16 MB).
MAX_LOGGED_PAYLOAD = 16 * 1024
#: Faults in force at once, and the longest delay one may inject.
MAX_FAULTS = 100
MAX_FAULT_DELAY = 30.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how one delivery goes (taken from the webhook when it is queued)."""

    url: str
    secret: str | None = None
    credentials: Credentials | None = None
    verify_tls: bool = True


@dataclass(slots=True)
class DeliveryFault:
    """For deliveries whose URL starts with ``url_prefix``: wait ``delay_seconds``, then
    answer ``status`` for the receiver, or fail with ``error``, without sending."""

    url_prefix: str = ""
    status: int | None = None
    error: str | None = None
    delay_seconds: float = 0.0
    #: How many deliveries it still applies to; None means until reset.
    remaining: int | None = 1

    def to_json(self) -> dict[str, Any]:
        """As the control API shows it (``times`` is what remains)."""
        return {
            "url_prefix": self.url_prefix,
            "status": self.status,
            "error": self.error,
            "delay_seconds": self.delay_seconds,
            "times": self.remaining,
        }


@dataclass(slots=True)
class Attempt:
    """What one request came to: an answer's status, or an error."""

    request_id: str
    headers: dict[str, str]
    start_ms: int
    duration_ms: int = 0
    status: int | None = None
    answer: str | None = None
    answer_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def outcome(self) -> Outcome:
        """SUCCESS (2xx), FAILURE (another status) or ERROR (no answer)."""
        if self.status is None:
            return "ERROR"
        return "SUCCESS" if 200 <= self.status < 300 else "FAILURE"


def shown_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers with their secrets redacted (the credentials, the signature's value)."""
    out = {}
    for name, value in headers.items():
        if name.lower() == payloads.SIGNATURE_HEADER.lower():
            out[name] = value.partition("=")[0] + "=" + REDACTED
        else:
            out[name] = redact_header(name, value)
    return out


@dataclass(slots=True)
class Delivery:
    """One delivery, as ``GET /_sim/webhooks/deliveries`` shows it."""

    id: int
    webhook_id: int | None
    event: str
    url: str
    queued_ms: int
    payload: Any
    state: str = "QUEUED"
    attempt: Attempt | None = None

    def to_json(self) -> dict[str, Any]:
        """Secrets redacted: credentials, the signature, secret query parameters."""
        attempt = self.attempt
        return {
            "id": self.id,
            "webhookId": self.webhook_id,
            "event": self.event,
            "url": redact_url(self.url),
            "state": self.state,
            "queued": self.queued_ms,
            "requestId": attempt.request_id if attempt else None,
            "headers": shown_headers(attempt.headers) if attempt else {},
            "statusCode": attempt.status if attempt else None,
            "duration": attempt.duration_ms if attempt else None,
            "answer": attempt.answer if attempt else None,
            "error": attempt.error if attempt else None,
            "payload": self.payload,
        }


class Dispatcher:
    """The delivery queue of one store (made on first use, in the server's event loop)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.log: deque[Delivery] = deque(maxlen=MAX_LOG)
        self.faults: list[DeliveryFault] = []
        self._ids = itertools.count(1)
        self._pending: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._generation = 0

    # -- queueing ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Deliveries queued or sending."""
        return len(self._pending)

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or the store serves from a new loop
            self._loop, self._session = loop, None
            self._semaphore = asyncio.Semaphore(CONCURRENCY)
            self._pending = set()
        return loop

    def enqueue(
        self, hook: Webhook, event: str, scope: Scope, payload: dict[str, Any], body: bytes
    ) -> None:
        """Queue one delivery of ``payload`` (encoded as ``body``, shared by the deliveries of
        one event) to ``hook``; recorded as an error, unsent, when :data:`MAX_PENDING` wait
        already."""
        loop = self._bind()
        delivery = Delivery(
            id=next(self._ids),
            webhook_id=hook.id,
            event=event,
            url=hook.url,
            queued_ms=self._store.clock.now_ms(),
            payload=payload if len(body) <= MAX_LOGGED_PAYLOAD else {"bytes": len(body)},
        )
        self.log.append(delivery)
        target = Target(hook.url, hook.secret, hook.credentials, hook.ssl_verification_required)
        if len(self._pending) >= MAX_PENDING:
            attempt = Attempt("", {}, delivery.queued_ms)
            attempt.error = f"not sent: {MAX_PENDING} deliveries are waiting already"
            self._finish(delivery, attempt, hook.id, scope)
            return
        task = loop.create_task(self._deliver(delivery, target, body, hook.id, scope))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(
        self, delivery: Delivery, target: Target, body: bytes, hook_id: int, scope: Scope
    ) -> None:
        generation = self._generation
        assert self._semaphore is not None
        async with self._semaphore:
            if generation != self._generation:
                return
            delivery.state = "SENDING"
            attempt = await self.send(target, delivery.event, body)
            if generation == self._generation:
                self._finish(delivery, attempt, hook_id, scope)

    def _finish(self, delivery: Delivery, attempt: Attempt, hook_id: int, scope: Scope) -> None:
        delivery.attempt = attempt
        delivery.state = attempt.outcome
        backend = self._store.webhooks
        description = str(attempt.status) if attempt.status is not None else attempt.error or ""
        backend.record(
            hook_id,
            Invocation(
                id=backend.next_invocation_id(),
                event=delivery.event,
                scope=scope,
                url=delivery.url,
                start_ms=attempt.start_ms,
                duration_ms=attempt.duration_ms,
                outcome=attempt.outcome,
                description=description,
            ),
        )
        log.debug(
            "webhook %s %s to %s: %s",
            hook_id,
            delivery.event,
            redact_url(delivery.url),
            description,
        )

    # -- sending -------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            settings = self._store.settings
            resolver = None if settings.webhook_remote_targets else LoopbackResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=resolver, limit=CONCURRENCY, force_close=True
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # never through a proxy the environment names
            )
        return self._session

    def _own_address(self) -> tuple[str, int] | None:
        parts = urlsplit(self._store.base_url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        return (parts.hostname or "", port) if port else None

    def _take_fault(self, url: str) -> DeliveryFault | None:
        for fault in self.faults:
            if url.startswith(fault.url_prefix):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def send(self, target: Target, event: str, body: bytes) -> Attempt:
        """Send one request now (faults and the target policy first); what it came to."""
        self._bind()
        store = self._store
        sent = payloads.headers(
            event,
            body,
            version=store.config.version,
            secret=target.secret,
            credentials=target.credentials,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = Attempt(sent["X-Request-Id"], sent, store.clock.now_ms())
        try:
            await self._exchange(target, body, attempt)
        finally:
            attempt.duration_ms = int((loop.time() - started) * 1000)
        return attempt

    async def _exchange(self, target: Target, body: bytes, attempt: Attempt) -> None:
        settings = self._store.settings
        fault = self._take_fault(target.url)
        if fault is not None:
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if fault.status is not None:
                attempt.status, attempt.answer = fault.status, "Injected fault"
                return
            if fault.error is not None:
                attempt.error = fault.error
                return
        refused = refusal(
            target.url, remote_allowed=settings.webhook_remote_targets, own=self._own_address()
        )
        if refused is not None:
            attempt.error = "not sent: " + refused
            return
        timeout = settings.webhook_timeout
        try:
            async with asyncio.timeout(timeout):
                async with self._client().post(
                    target.url,
                    data=body,
                    headers=attempt.headers,
                    allow_redirects=False,
                    ssl=target.verify_tls,
                ) as answer:
                    raw = await answer.content.read(READ_BYTES)
                    attempt.status = answer.status
                    attempt.answer_headers = dict(answer.headers)
                    attempt.answer = cut(raw.decode("utf-8", "replace"), ANSWER_CHARS)
        except TimeoutError:
            attempt.error = f"timed out after {timeout:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS]

    # -- settling, faults, reset ---------------------------------------------------------

    async def settle(self, timeout: float) -> bool:
        """Wait until nothing is queued or sending, at most ``timeout`` seconds; whether it
        settled."""
        loop = self._bind()
        deadline = loop.time() + timeout
        while self._pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._pending), timeout=remaining)
        return True

    def add_fault(self, fault: DeliveryFault) -> None:
        """Put a delivery fault in force; ``ValueError`` beyond :data:`MAX_FAULTS`."""
        if len(self.faults) >= MAX_FAULTS:
            raise ValueError(f"At most {MAX_FAULTS} webhook faults may be in force.")
        self.faults.append(fault)

    def reset(self) -> None:
        """Cancel what is queued or sending, forget the log and the faults (from any
        thread: the cancelling runs in the server's loop)."""
        self._generation += 1
        self.log.clear()
        self.faults.clear()
        tasks, loop = list(self._pending), self._loop
        if not tasks or loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _cancel(tasks)
        else:
            loop.call_soon_threadsafe(_cancel, tasks)

    async def close(self) -> None:
        """Cancel every delivery and close the client (when the server stops)."""
        tasks = list(self._pending)
        _cancel(tasks)
        if tasks:
            await asyncio.wait(tasks)
        if self._session is not None and not self._session.closed:
            await self._session.close()


def _cancel(tasks: Iterable[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()


def dispatcher_of(store: Store) -> Dispatcher:
    """The store's dispatcher, made on first use."""
    backend = store.webhooks
    if backend.dispatcher is None:
        backend.dispatcher = Dispatcher(store)
    dispatcher = backend.dispatcher
    assert isinstance(dispatcher, Dispatcher)
    return dispatcher


def refs_changed(
    store: Store, repo: Repository, actor: User | None, moved: list[RefChange]
) -> None:
    """Queue ``repo:refs_changed`` for every active webhook of the repository and its
    project subscribed to it; ``actor`` None is the seeded ``admin`` (the control API)."""
    backend = store.webhooks
    if not backend.hooks or not moved or store.config.version < SINCE:
        return
    scope = Scope("repository", str(repo.id))
    hooks = list(backend.subscribed((scope, Scope("project", repo.project.key)), REFS_CHANGED))
    if not hooks:
        return
    from simulator.rest.repos import render_repository
    from simulator.rest.serializers import user_json

    catalog, base_url = store.catalog, store.base_url
    user = actor or catalog.users_by_name["admin"]
    payload = payloads.refs_changed(
        payloads.bitbucket_date(store.clock.now(), utc_offset_minutes(store.config.time_zone) or 0),
        user_json(user, base_url),
        render_repository(catalog, repo, base_url, store.config.version),
        [change.to_json() for change in moved],
    )
    body = payloads.encode(payload)
    dispatcher = dispatcher_of(store)
    for hook in hooks:
        dispatcher.enqueue(hook, REFS_CHANGED, scope, payload, body)
