"""A bounded record of the exchanges the simulator served, with secrets redacted.

Tests read it through ``GET /_sim/journal`` to see what a client sent: method, path, query,
form fields and selected headers, and the status answered. Secret values (passwords, client
secrets, codes, tokens, verifiers, signatures) are replaced by ``"<redacted>"`` so that their
*presence* stays visible while their value never reaches the journal or the log.
``Authorization`` keeps its scheme (``Basic <redacted>``) and ``Cookie`` its cookie names.

The control API's own exchanges (``/_sim/...`` under the context path) are never recorded.
Entry ids grow monotonically for the life of the server, across clears, so a poller that
remembers the last id it saw never mistakes a new entry for an old one.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

REDACTED = "<redacted>"
CONTROL_PREFIX = "/_sim/"

#: Parameter names whose values are secrets (matched case-insensitively, whole name):
#: passwords and secrets anywhere in the name; tokens, signatures and verifiers at its end
#: (``refresh_token``, ``oauth_signature``, ``code_verifier``), but not ``token_type_hint`` or
#: ``oauth_signature_method``; OAuth codes and one-time passwords by their exact names.
SECRET_NAMES = re.compile(
    r"^(?:.*(?:password|passwd|secret).*"
    r"|(?:.*_)?(?:token|signature|verifier|assertion)"
    r"|code|otp|totp|passcode|pin|oauth_session_handle)$",
    re.IGNORECASE,
)
#: Request headers the journal keeps; Authorization and Cookie are reduced to their shape.
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


def is_secret(name: str) -> bool:
    """Whether a query or form parameter of this name carries a secret."""
    return SECRET_NAMES.match(name) is not None


def redact_pairs(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Turn query or form pairs into a dict, redacting secret values; repeats become lists.

    An empty secret stays empty, so that "sent but blank" remains distinguishable.
    """
    out: dict[str, str | list[str]] = {}
    for given, value in pairs[:MAX_PAIRS]:
        shown = REDACTED if value and is_secret(given) else cut(value, MAX_VALUE_CHARS)
        name = cut(given, MAX_NAME_CHARS)
        if name in out:
            existing = out[name]
            out[name] = [*existing, shown] if isinstance(existing, list) else [existing, shown]
        else:
            out[name] = shown
    return out


#: What one entry keeps at most: form or query pairs, characters of a name and of a value
#: (longer ones are cut and marked), and characters of a kept header.
MAX_PAIRS = 64
MAX_NAME_CHARS = 128
MAX_VALUE_CHARS = 1024
MAX_HEADER_CHARS = 2048
#: The journal's budget in (approximate) bytes, besides its number of entries.
DEFAULT_BYTE_BUDGET = 8 * 1024 * 1024
#: Where a form declared in a charset that is not ASCII-compatible would have been.
UNREADABLE_FORM = "(form)"


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text)} chars)"


def redact_url(url: str) -> str:
    """A URL with the values of its secret query parameters redacted (a ``Referer`` carries
    the page's address: an OAuth 1 ``oauth_token``, a ``code``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    shown = [(name, REDACTED if value and is_secret(name) else value) for name, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(shown, safe="<>")))


def redact_header(name: str, value: str) -> str:
    """Keep a header's shape but not its secret: ``Basic <redacted>``, cookie names only,
    a ``Referer`` without the values of its secret parameters."""
    lowered = name.lower()
    if lowered == "referer":
        return cut(redact_url(value), MAX_HEADER_CHARS)
    if lowered == "authorization":
        stripped = value.strip()
        scheme, sep, _ = stripped.partition(" ")
        if not stripped:
            return ""
        return f"{scheme} {REDACTED}" if sep else REDACTED  # a bare credential has no scheme
    if lowered == "cookie":
        names = [part.split("=", 1)[0].strip() for part in value.split(";") if part.strip()]
        return "; ".join(f"{n}={REDACTED}" for n in names)
    return cut(value, MAX_HEADER_CHARS)


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

    def weight(self) -> int:
        """About how many bytes the entry holds (its strings' lengths and a fixed part)."""
        total = 200 + len(self.path)
        for values in (self.query, self.form):
            for name, value in values.items():
                total += len(name)
                if isinstance(value, list):
                    for item in value:
                        total += len(item)
                else:
                    total += len(value)
        for name, text in self.headers.items():
            total += len(name) + len(text)
        for key, fact in self.extra.items():
            total += len(str(key)) + len(str(fact))
        return total


class Journal:
    """A ring buffer of the last ``size`` exchanges, within ``byte_budget`` bytes as well
    (the oldest go first; each entry is cut to a bounded size as it is recorded)."""

    def __init__(self, size: int, byte_budget: int = DEFAULT_BYTE_BUDGET) -> None:
        self._entries: deque[Exchange] = deque(maxlen=size)
        self._weights: deque[int] = deque(maxlen=size)
        self._bytes = 0
        self.byte_budget = byte_budget
        self._next_id = 1

    @property
    def bytes(self) -> int:
        """About how many bytes the entries held take."""
        return self._bytes

    @property
    def capacity(self) -> int:
        """How many exchanges the journal holds at most."""
        return self._entries.maxlen or 0

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
        kept = {}
        for name in KEPT_HEADERS:
            value = headers.get(name)
            if value is not None:
                kept[name] = redact_header(name, value)
        entry = Exchange(
            id=self._next_id,
            time=time,
            method=method,
            path=path,
            query=redact_pairs(query) if query else {},
            form=redact_pairs(form) if form else {},
            headers=kept,
            status=status,
            extra=dict(extra or {}),
        )
        self._next_id += 1
        if len(self._entries) == self._entries.maxlen:
            self._bytes -= self._weights[0]
        weight = entry.weight()
        self._entries.append(entry)
        self._weights.append(weight)
        self._bytes += weight
        while self._bytes > self.byte_budget and len(self._entries) > 1:
            self._entries.popleft()
            self._bytes -= self._weights.popleft()
        return entry

    def entries(self) -> list[Exchange]:
        """Every exchange still held, oldest first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every exchange (ids keep growing)."""
        self._entries.clear()
        self._weights.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


journal_extra_key = web.RequestKey("journal_extra", dict[str, Any])
#: The request's context-relative path, set once by the pipeline (see :func:`app_path`).
app_path_key = web.RequestKey("app_path", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def note(request: web.Request, **facts: Any) -> None:
    """Attach facts (never secrets) to the journal entry of this request, e.g. pkce_method."""
    extra = request.get(journal_extra_key)
    if extra is None:
        extra = {}
        request[journal_extra_key] = extra
    extra.update(facts)


def context_path_of(request: web.Request) -> str:
    """The context path the simulator is served under ('' at the root or outside create_app)."""
    from simulator.keys import settings_key  # keys imports store, which imports this module

    settings = request.config_dict.get(settings_key)
    return settings.context_path if settings is not None else ""


def app_path(request: web.Request, context_path: str | None = None) -> str:
    """The request's path relative to the context path (aiohttp gives sub-apps the full path).

    The simulator's pipeline works it out once per request and keeps it on the request."""
    known: str | None = request.get(app_path_key)
    if known is not None:
        return known
    context = context_path_of(request) if context_path is None else context_path
    return relative_path(request.path, context)


def relative_path(path: str, context: str) -> str:
    """A request path relative to a context path (``""`` for none)."""
    if context and (path == context or path.startswith(context + "/")):
        path = path[len(context) :]
    return path or "/"


def is_control_path(path: str) -> bool:
    """Whether a context-relative path addresses the control API."""
    return path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX)


async def _read_form(request: web.Request) -> list[tuple[str, str]]:
    if not request.body_exists or request.content_type != "application/x-www-form-urlencoded":
        return []
    body = await request.read()  # cached by aiohttp: request.post() and read() still work
    charset = request.charset or "utf-8"
    if not known_charset(charset):  # an unknown charset: read it as UTF-8, never fail
        charset = "utf-8"
    if not ascii_compatible(charset):
        # UTF-16 and the like hide the parameter names from redaction: keep nothing of it.
        return [(UNREADABLE_FORM, f"{REDACTED}: a form in {charset}")]
    if charset == (request.charset or "utf-8"):
        try:
            # Parsed once: aiohttp keeps the result, and the handler's post() reuses it.
            posted = await request.post()
        except (UnicodeDecodeError, ValueError):
            posted = None
        if posted is not None:
            return [(name, value) for name, value in posted.items() if isinstance(value, str)]
    text = body.decode(charset, "replace")
    return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace")


def known_charset(charset: str) -> bool:
    """Whether Python knows the charset."""
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def ascii_compatible(charset: str) -> bool:
    """Whether a known charset writes a form's names and separators as ASCII does (``utf-8``,
    ``latin-1``: yes; ``utf-16``, ``utf-32``: no)."""
    probe = "client_secret=a&b%"
    return probe.encode(charset, "replace") == probe.encode("ascii")


def make_journal_middleware(journal: Journal, now: Callable[[], float]) -> Any:
    """A middleware recording every exchange except the control API's own.

    It reads URL-encoded form bodies before the handler runs; aiohttp caches the bytes, so
    handlers still get them from ``await request.post()``, ``read()`` or ``text()``.
    """

    @web.middleware
    async def journal_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control_path(app_path(request)):
            return await handler(request)
        return await recorded(journal, now, request, handler)

    return journal_middleware


async def recorded(
    journal: Journal,
    now: Callable[[], float],
    request: web.Request,
    respond: Handler,
    read_form: bool = True,
) -> web.StreamResponse:
    """``respond(request)``, recorded in the journal with its status (500 if it failed);
    without ``read_form`` (a body that could not be read) no form is kept."""
    form: list[tuple[str, str]] = []
    status = 500
    extra: dict[str, Any] = {}
    request[journal_extra_key] = extra  # set now: a missing key costs an exception to read
    try:
        if read_form:
            form = await _read_form(request)
        response = await respond(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        journal.record(
            time=now(),
            method=request.method,
            path=request.path,
            query=list(request.query.items()) if request.query_string else [],
            form=form,
            headers=request.headers,
            status=status,
            extra=extra,
        )
