"""Webhooks as Bitbucket keeps them (``RestWebhook``), their validation and their history.

A webhook belongs to one scope: a repository (``scopeType`` ``repository``, by repository
id) or a project (``project``, by project key; inherited by every repository of the project,
as Atlassian's "Manage webhooks" says). :class:`WebhookBackend` holds them on the store,
bounded, until ``POST /_sim/reset``; a state file keeps them (not their history). It never
sees a request: the REST handlers (:mod:`simulator.webhooks.rest`) check permissions and
parse, the backend validates and stores, and its errors are Bitbucket's envelope.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from simulator.errors import BitbucketError, ValidationError
from simulator.webhooks import EVENTS

ScopeType = Literal["repository", "project"]
Outcome = Literal["SUCCESS", "FAILURE", "ERROR"]
OUTCOMES: tuple[Outcome, ...] = ("SUCCESS", "FAILURE", "ERROR")
#: The last invocation of each outcome, by its name in ``…/statistics``.
LAST_NAMES: tuple[tuple[Outcome, str], ...] = (
    ("SUCCESS", "lastSuccess"),
    ("FAILURE", "lastFailure"),
    ("ERROR", "lastError"),
)

#: At most this many webhooks in one scope, and in all (beyond: 400 naming ``webhooks``).
MAX_PER_SCOPE = 100
MAX_WEBHOOKS = 10_000
MAX_NAME_CHARS = 255
MAX_URL_CHARS = 2_000
#: ``configuration`` holds at most this many keys, each value at most this long.
MAX_CONFIGURATION_KEYS = 20
MAX_CONFIGURATION_CHARS = 1_000
MAX_CREDENTIAL_CHARS = 255
#: Invocations remembered per webhook, for ``…/latest`` and ``…/statistics``.
HISTORY = 50
_FIELDS = frozenset(
    {
        "id",
        "name",
        "createdDate",
        "updatedDate",
        "events",
        "configuration",
        "url",
        "active",
        "scopeType",
        "sslVerificationRequired",
        "credentials",
        "statistics",
    }
)


class NoSuchWebhookError(BitbucketError):
    """404 for a webhook id that is not in this scope."""

    status = 404
    exception_name = "com.atlassian.bitbucket.webhook.NoSuchWebhookException"

    def __init__(self, webhook_id: str) -> None:
        super().__init__(f"No webhook with ID {webhook_id} exists.")


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a webhook belongs: a repository (its id) or a project (its key)."""

    type: ScopeType
    id: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """Basic credentials sent with every delivery."""

    username: str
    password: str


@dataclass(slots=True)
class Webhook:
    """One webhook."""

    id: int
    scope: Scope
    name: str
    url: str
    events: tuple[str, ...]
    active: bool
    configuration: dict[str, str]
    ssl_verification_required: bool
    credentials: Credentials | None
    created_ms: int
    updated_ms: int

    @property
    def secret(self) -> str | None:
        """The secret deliveries are signed with (``configuration.secret``), if set."""
        return self.configuration.get("secret") or None

    def to_json(self) -> dict[str, Any]:
        """``RestWebhook``: the secret shown back in ``configuration`` as Bitbucket's own
        fixtures show it; of the credentials only the user name (UNCONFIRMED)."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "createdDate": self.created_ms,
            "updatedDate": self.updated_ms,
            "events": list(self.events),
            "configuration": dict(self.configuration),
            "url": self.url,
            "active": self.active,
            "scopeType": self.scope.type,
            "sslVerificationRequired": self.ssl_verification_required,
        }
        if self.credentials is not None:
            body["credentials"] = {"username": self.credentials.username}
        return body


@dataclass(frozen=True, slots=True)
class Invocation:
    """One delivery's outcome, as ``…/latest`` shows it (``RestDetailedInvocation``)."""

    id: int
    event: str
    scope: Scope
    url: str
    start_ms: int
    duration_ms: int
    outcome: Outcome
    #: The status answered (as text), or what went wrong.
    description: str

    def to_json(self) -> dict[str, Any]:
        """``RestDetailedInvocation`` (``request`` and ``result``'s fields UNCONFIRMED)."""
        return {
            "id": self.id,
            "event": self.event,
            "eventScope": {"type": self.scope.type, "id": self.scope.id},
            "start": self.start_ms,
            "finish": self.start_ms + self.duration_ms,
            "duration": self.duration_ms,
            "request": {"url": self.url, "method": "POST"},
            "result": {"outcome": self.outcome, "description": self.description},
        }


@dataclass(slots=True)
class History:
    """A webhook's last invocations and its counts since it was made (or the last reset)."""

    recent: deque[Invocation] = field(default_factory=lambda: deque(maxlen=HISTORY))
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    last: dict[Outcome, Invocation] = field(default_factory=dict)

    def add(self, invocation: Invocation) -> None:
        """Remember an invocation."""
        self.recent.append(invocation)
        self.counts[invocation.outcome] += 1
        self.last[invocation.outcome] = invocation

    def latest(self, event: str | None, outcome: Outcome | None) -> Invocation | None:
        """The newest invocation of that event and outcome (either may be any)."""
        for invocation in reversed(self.recent):
            if event is not None and invocation.event != event:
                continue
            if outcome is not None and invocation.outcome != outcome:
                continue
            return invocation
        return None

    def counts_json(self) -> dict[str, int]:
        """The counts by outcome."""
        return {
            "successes": self.counts["SUCCESS"],
            "failures": self.counts["FAILURE"],
            "errors": self.counts["ERROR"],
        }

    def statistics_json(self, *, detailed: bool) -> dict[str, Any]:
        """``RestInvocationHistory``: counts, and (detailed) the last of each outcome
        (field names after atlassian-webhooks' ``InvocationHistory``; UNCONFIRMED)."""
        body: dict[str, Any] = {"counts": self.counts_json()}
        if detailed:
            for outcome, name in LAST_NAMES:
                invocation = self.last.get(outcome)
                if invocation is not None:
                    body[name] = invocation.to_json()
        return body


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A checked ``POST``/``PUT`` body: each field ``None`` when absent."""

    name: str | None = None
    url: str | None = None
    events: tuple[str, ...] | None = None
    active: bool | None = None
    configuration: dict[str, str] | None = None
    ssl_verification_required: bool | None = None
    credentials: Credentials | None = None
    #: ``credentials: null`` given: remove them.
    drop_credentials: bool = False


def _text(body: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string.", key)
    if len(value) > limit:
        raise ValidationError(f"{key} must be at most {limit} characters long.", key)
    return value


def _flag(body: Mapping[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ValidationError(f"{key} must be true or false.", key)


def check_url(raw: str) -> str:
    """An absolute http(s) URL with a host, or a 400 naming ``url``."""
    text = raw.strip()
    if not text:
        raise ValidationError("A webhook needs a URL.", "url")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ValidationError(f"'{text}' is not a valid URL.", "url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"'{text}' is not a valid http or https URL.", "url")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise ValidationError(f"'{text.strip()}' is not a valid URL.", "url")
    return text


def _events(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(event, str) for event in value):
        raise ValidationError("events must be a list of event keys.", "events")
    if not value:
        raise ValidationError("A webhook needs at least one event.", "events")
    for event in value:
        if event not in EVENTS:
            raise ValidationError(f"'{event[:100]}' is not a webhook event.", "events")
    return tuple(dict.fromkeys(value))  # unique, in the order given


def _configuration(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("configuration must be an object of strings.", "configuration")
    if len(value) > MAX_CONFIGURATION_KEYS:
        raise ValidationError(
            f"configuration holds at most {MAX_CONFIGURATION_KEYS} keys.", "configuration"
        )
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 255 or len(item) > MAX_CONFIGURATION_CHARS:
            raise ValidationError(
                f"configuration values must be strings of at most {MAX_CONFIGURATION_CHARS} "
                "characters.",
                "configuration",
            )
        out[key] = item
    return out


def parse_credentials(value: Any) -> Credentials | None:
    """``{"username", "password"}``, or a 400 naming ``credentials``."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"username", "password"}:
        raise ValidationError('credentials must be {"username", "password"}.', "credentials")
    username = _text(value, "username", MAX_CREDENTIAL_CHARS)
    password = _text(value, "password", MAX_CREDENTIAL_CHARS)
    if not username:
        raise ValidationError("credentials need a username.", "credentials")
    return Credentials(username, password or "")


def webhook_request(body: Mapping[str, Any]) -> WebhookRequest:
    """Check a ``RestWebhook`` body (unknown fields are a 400 naming the first)."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field '{unknown[0][:100]}'.", unknown[0][:100])
    name = _text(body, "name", MAX_NAME_CHARS)
    url = _text(body, "url", MAX_URL_CHARS)
    return WebhookRequest(
        name=name,
        url=None if url is None else check_url(url),
        events=_events(body.get("events")),
        active=_flag(body, "active"),
        configuration=_configuration(body.get("configuration")),
        ssl_verification_required=_flag(body, "sslVerificationRequired"),
        credentials=parse_credentials(body.get("credentials")),
        drop_credentials="credentials" in body and body["credentials"] is None,
    )


class Resettable(Protocol):
    """What the backend resets with it (the delivery queue, :mod:`.dispatch`)."""

    def reset(self) -> None: ...


class WebhookBackend:
    """The webhooks of one simulator, their history, and ids."""

    def __init__(self) -> None:
        self.hooks: dict[int, Webhook] = {}
        self.history: dict[int, History] = {}
        self._invocation_ids = itertools.count(1)
        #: The next id to hand out (kept by a state file with the hooks).
        self.next_id = 1
        #: The delivery queue, made on the first delivery (simulator.webhooks.dispatch).
        self.dispatcher: Resettable | None = None

    def reset(self) -> None:
        """Forget every webhook and its history; cancel the deliveries queued."""
        self.hooks.clear()
        self.history.clear()
        self.next_id = 1
        if self.dispatcher is not None:
            self.dispatcher.reset()

    def in_scope(self, scope: Scope) -> list[Webhook]:
        """The webhooks of one scope, by id."""
        return sorted(
            (hook for hook in self.hooks.values() if hook.scope == scope), key=lambda h: h.id
        )

    def get(self, scope: Scope, webhook_id: str) -> Webhook:
        """The webhook with this id in this scope; 404 otherwise."""
        known = webhook_id.isascii() and webhook_id.isdigit() and len(webhook_id) < 12
        hook = self.hooks.get(int(webhook_id)) if known else None
        if hook is None or hook.scope != scope:
            raise NoSuchWebhookError(webhook_id[:100])
        return hook

    def create(self, scope: Scope, wanted: WebhookRequest, now_ms: int) -> Webhook:
        """A new webhook; 400 naming the missing or bad field, or ``webhooks`` when full."""
        if not wanted.name or not wanted.name.strip():
            raise ValidationError("A webhook needs a name.", "name")
        if wanted.url is None:
            raise ValidationError("A webhook needs a URL.", "url")
        if wanted.events is None:
            raise ValidationError("A webhook needs at least one event.", "events")
        if len(self.hooks) >= MAX_WEBHOOKS or len(self.in_scope(scope)) >= MAX_PER_SCOPE:
            raise ValidationError(
                f"At most {MAX_PER_SCOPE} webhooks per repository or project, and "
                f"{MAX_WEBHOOKS} in all, until POST /_sim/reset.",
                "webhooks",
            )
        hook = Webhook(
            id=self.next_id,
            scope=scope,
            name=wanted.name,
            url=wanted.url,
            events=wanted.events,
            active=True if wanted.active is None else wanted.active,
            configuration=wanted.configuration or {},
            ssl_verification_required=wanted.ssl_verification_required is not False,
            credentials=wanted.credentials,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        self.next_id += 1
        self.hooks[hook.id] = hook
        return hook

    def update(self, hook: Webhook, wanted: WebhookRequest, now_ms: int) -> Webhook:
        """Change the fields given (a blank name is a 400); ``updatedDate`` moves."""
        if wanted.name is not None:
            if not wanted.name.strip():
                raise ValidationError("A webhook needs a name.", "name")
            hook.name = wanted.name
        if wanted.url is not None:
            hook.url = wanted.url
        if wanted.events is not None:
            hook.events = wanted.events
        if wanted.active is not None:
            hook.active = wanted.active
        if wanted.configuration is not None:
            hook.configuration = wanted.configuration
        if wanted.ssl_verification_required is not None:
            hook.ssl_verification_required = wanted.ssl_verification_required
        if wanted.credentials is not None:
            hook.credentials = wanted.credentials
        elif wanted.drop_credentials:
            hook.credentials = None
        hook.updated_ms = max(now_ms, hook.created_ms)
        return hook

    def delete(self, hook: Webhook) -> None:
        """Remove a webhook and its history."""
        self.hooks.pop(hook.id, None)
        self.history.pop(hook.id, None)

    def subscribed(self, scopes: tuple[Scope, ...], event: str) -> Iterator[Webhook]:
        """Active webhooks of these scopes subscribed to ``event``, by id."""
        for hook in sorted(self.hooks.values(), key=lambda h: h.id):
            if hook.active and hook.scope in scopes and event in hook.events:
                yield hook

    def record(self, hook_id: int, invocation: Invocation) -> None:
        """Remember an invocation of a webhook that still exists."""
        if hook_id in self.hooks:
            self.history.setdefault(hook_id, History()).add(invocation)

    def history_of(self, hook: Webhook) -> History:
        """A webhook's history (empty if it has none)."""
        return self.history.get(hook.id) or History()

    def next_invocation_id(self) -> int:
        """A new invocation id."""
        return next(self._invocation_ids)
