"""A bounded record of the exchanges the simulator served, with secrets redacted.

Tests read it through ``GET /_sim/journal`` to see what a client sent: method, path, query,
form fields and selected headers, and the status answered. Secret values (passwords, client
secrets, tokens, verifiers, signatures) are replaced by ``"<redacted>"`` so that their
*presence* stays visible while their value never reaches the journal or the log.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

REDACTED = "<redacted>"

#: Parameter names whose values are secrets (matched case-insensitively, whole name).
SECRET_NAMES = re.compile(
    r"^(j_password|password|client_secret|code|code_verifier|access_token|refresh_token|token|"
    r"oauth_signature|oauth_token_secret|oauth_verifier|oauth_token|oauth_session_handle|"
    r"atl_token|secret|totp|otp)$",
    re.IGNORECASE,
)
#: Request headers the journal keeps; Authorization and Cookie are reduced to their scheme.
KEPT_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Referer",
    "User-Agent",
    "X-Atlassian-Token",
    "X-Forwarded-For",
    "Cookie",
)


def redact_pairs(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Turn query or form pairs into a dict, redacting secret values; repeats become lists."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        shown = REDACTED if SECRET_NAMES.match(name) and value else value
        if name in out:
            existing = out[name]
            out[name] = [*existing, shown] if isinstance(existing, list) else [existing, shown]
        else:
            out[name] = shown
    return out


def redact_header(name: str, value: str) -> str:
    """Keep a header's shape but not its secret: ``Basic <redacted>``, cookie names only."""
    lowered = name.lower()
    if lowered == "authorization":
        scheme, _, _ = value.partition(" ")
        return f"{scheme} {REDACTED}"
    if lowered == "cookie":
        names = [part.split("=", 1)[0].strip() for part in value.split(";") if part.strip()]
        return "; ".join(f"{n}={REDACTED}" for n in names)
    return value


@dataclass(slots=True)
class Exchange:
    """One request and the status it got."""

    id: int
    time: float
    method: str
    path: str
    query: dict[str, str | list[str]]
    form: dict[str, str | list[str]]
    headers: dict[str, str]
    status: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by the control API."""
        return asdict(self)


class Journal:
    """A ring buffer of the last ``size`` exchanges."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._next_id = 1

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
        headers: Mapping[str, str],
        status: int,
        extra: dict[str, Any] | None = None,
    ) -> Exchange:
        """Add an exchange (redacting as it goes) and return it."""
        kept = {
            name: redact_header(name, headers[name]) for name in KEPT_HEADERS if name in headers
        }
        entry = Exchange(
            id=self._next_id,
            time=time,
            method=method,
            path=path,
            query=redact_pairs(query),
            form=redact_pairs(form),
            headers=kept,
            status=status,
            extra=extra or {},
        )
        self._next_id += 1
        self._entries.append(entry)
        return entry

    def entries(self) -> list[Exchange]:
        """Every exchange still held, oldest first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every exchange."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


journal_extra_key = web.RequestKey("journal_extra", dict[str, Any])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def note(request: web.Request, **facts: Any) -> None:
    """Attach facts (never secrets) to the journal entry of this request, e.g. pkce_method."""
    extra = request.get(journal_extra_key)
    if extra is None:
        extra = {}
        request[journal_extra_key] = extra
    extra.update(facts)


def make_journal_middleware(journal: Journal, now: Callable[[], float]) -> Any:
    """A middleware recording every exchange except the control API's own."""

    @web.middleware
    async def journal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        form: list[tuple[str, str]] = []
        if request.content_type == "application/x-www-form-urlencoded" and request.can_read_body:
            body = await request.read()  # cached by aiohttp; handlers can still read it
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if "/_sim/" not in request.path:
                journal.record(
                    time=now(),
                    method=request.method,
                    path=request.path,
                    query=list(request.query.items()),
                    form=form,
                    headers=request.headers,
                    status=status,
                    extra=request.get(journal_extra_key),
                )

    return journal_middleware
