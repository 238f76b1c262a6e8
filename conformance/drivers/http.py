"""The HTTP driver: an :class:`~conformance.sut.Integrator` over the driver protocol.

An implementation in any language serves the protocol (``docs/driver-protocol.md``) as JSON
under a base URL given as ``--sut http://...``. Every answer is checked, in this order: the
connection (refused, timed out, not HTTP), the status, the ``Content-Type``
(``application/json``), that the body is JSON, and the body against its JSON Schema
(``conformance/schemas/driver/``, the same files as ``fixtures/schemas/driver/``). Any
departure raises :class:`~conformance.sut.DriverError` naming the endpoint (e.g.
``POST http://127.0.0.1:5000/integrations``) and what was wrong.

Synchronous and standard library only (``http.client``): the harness's steps are synchronous
and users of the harness do not need the dev extra. Each request opens its own connection,
so an instance may be shared between threads; redirects are not followed (a 3xx answer is
off-protocol).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final
from urllib.parse import quote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from conformance.sut import (
    PROTOCOL_VERSION,
    Capabilities,
    Cookies,
    CreatedIntegration,
    DriverError,
    IntegrationSummary,
    Packages,
    RepositoryEntry,
    SessionState,
    SubmitResult,
    packages_from_metadata,
)

#: The driver protocol versions this harness speaks.
SUPPORTED_PROTOCOLS: Final = (PROTOCOL_VERSION,)
#: Seconds to wait for the connection and for each answer.
DEFAULT_TIMEOUT: Final = 10.0
#: How much of an unexpected body a diagnosis quotes.
EXCERPT_CHARS: Final = 200
#: Where the protocol is written down, quoted in diagnoses.
PROTOCOL_DOC: Final = "docs/driver-protocol.md"
USER_AGENT: Final = "bbdc-sim-conformance (driver protocol 1)"
JSON_MEDIA_TYPE: Final = "application/json"
REDACTED: Final = "<redacted>"
_SECRET_KEYS: Final = frozenset({"client_secret", "token"})


# --- schemas -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    """Every driver schema, registered as ``driver/<file>`` (their ``$id``)."""
    folder = resources.files("conformance").joinpath("schemas").joinpath("driver")
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    return Registry().with_resources(
        (f"driver/{entry.name}", Resource.from_contents(json.loads(entry.read_text("utf-8"))))
        for entry in entries
    )


def schema_names() -> list[str]:
    """The file names of the driver protocol's schemas (``capabilities.json``, ...)."""
    return [uri.removeprefix("driver/") for uri in sorted(_registry())]


def validate_body(where: str, body: object, schema: str) -> None:
    """Raise :class:`DriverError` at ``where`` unless ``body`` matches ``driver/<schema>``."""
    registry = _registry()
    validator = Draft202012Validator(registry.contents(f"driver/{schema}"), registry=registry)
    error = best_match(validator.iter_errors(body))
    if error is None:
        return
    raise DriverError(
        where,
        f"answered JSON that does not match the protocol (driver/{schema}): "
        f"{_shorten(error.message)}",
        (
            f"at {error.json_path}",
            f"body: {_shorten(json.dumps(body, default=repr), EXCERPT_CHARS)}",
        ),
    )


def check_protocol(where: str, body: Any) -> None:
    """Refuse a capabilities answer declaring a protocol version this harness does not speak.

    Checked before the schema, so a future protocol's different shape is diagnosed as a
    version mismatch rather than as a malformed answer.
    """
    if not isinstance(body, dict):
        return
    version = body.get("protocol")
    is_number = isinstance(version, int) and not isinstance(version, bool)
    if is_number and version not in SUPPORTED_PROTOCOLS:
        spoken = ", ".join(str(v) for v in SUPPORTED_PROTOCOLS)
        raise DriverError(
            where,
            f"speaks driver protocol {version}; this harness speaks protocol {spoken}",
            (f"see {PROTOCOL_DOC}",),
        )


_OAUTH1_FIELDS: Final = ("consumer_key", "public_key", "application_url")


def check_oauth_fields(where: str, oauth_version: int, body: Mapping[str, Any]) -> None:
    """OAuth 1 integrations carry ``consumer_key``, ``public_key`` and ``application_url``;
    OAuth 2 integrations carry none of them."""
    present = [name for name in _OAUTH1_FIELDS if body.get(name) is not None]
    if oauth_version == 1 and len(present) < len(_OAUTH1_FIELDS):
        missing = [name for name in _OAUTH1_FIELDS if name not in present]
        raise DriverError(
            where,
            f"answered an OAuth 1 integration without {', '.join(missing)}",
            (f"OAuth 1 adds {', '.join(_OAUTH1_FIELDS)}; see {PROTOCOL_DOC}",),
        )
    if oauth_version == 2 and present:
        raise DriverError(
            where,
            f"answered an OAuth 2 integration with OAuth 1 fields ({', '.join(present)})",
            (f"only OAuth 1 integrations carry them; see {PROTOCOL_DOC}",),
        )


# --- data types of the protocol --------------------------------------------------------------


def capabilities_of(body: Mapping[str, Any]) -> Capabilities:
    """A validated ``GET /capabilities`` body as :class:`Capabilities`."""
    return Capabilities(
        protocol=body["protocol"],
        name=body["name"],
        oauth_versions=tuple(body["oauth_versions"]),
        repositories=body["repositories"],
        clock=bool(body.get("clock", False)),
        packages=bool(body.get("packages", False)),
        webhooks=bool(body.get("webhooks", False)),
    )


def created_integration_of(body: Mapping[str, Any]) -> CreatedIntegration:
    """A validated ``POST /integrations`` body as :class:`CreatedIntegration`."""
    return CreatedIntegration(
        id=body["id"],
        setup_link=body["setup_link"],
        callback_urls=tuple(body["callback_urls"]),
        client_id=body["client_id"],
        client_secret=body["client_secret"],
        messages=tuple(body["messages"]),
        consumer_key=body.get("consumer_key"),
        public_key=body.get("public_key"),
        application_url=body.get("application_url"),
    )


def integrations_of(body: list[Mapping[str, Any]]) -> list[IntegrationSummary]:
    """A validated ``GET /integrations`` body."""
    return [
        IntegrationSummary(
            id=row["id"],
            platform=row["platform"],
            base_url=row["base_url"],
            oauth_version=row["oauth_version"],
            login_link=row["login_link"],
        )
        for row in body
    ]


def session_of(body: Mapping[str, Any]) -> SessionState:
    """A validated ``GET /session`` body."""
    return SessionState(
        authenticated=body["authenticated"], username=body["username"], error=body["error"]
    )


def repositories_of(body: list[Mapping[str, Any]]) -> list[RepositoryEntry]:
    """A validated ``GET /repositories`` body."""
    return [
        RepositoryEntry(
            project=row["project"], slug=row["slug"], has_composer_json=row["has_composer_json"]
        )
        for row in body
    ]


def packages_of(body: Mapping[str, Any]) -> Packages:
    """A validated ``GET /packages`` body."""
    return packages_from_metadata(body["packages"])


# --- transport ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriverExchange:
    """One request to the SUT and its outcome, for a report's trace (secrets redacted)."""

    method: str
    url: str
    #: The JSON request body, ``client_secret`` redacted.
    request: object
    #: The names of the cookies sent (never their values).
    cookie_names: tuple[str, ...]
    #: None when no answer came (see ``error``).
    status: int | None
    content_type: str | None
    #: The start of the answer's body, ``client_secret`` redacted when it is JSON.
    response: str
    elapsed_ms: float
    #: The diagnosis when the exchange failed off-protocol, else None.
    error: str | None = None


Observer = Callable[[DriverExchange], None]
#: A check of a parsed body at an endpoint (raises :class:`DriverError`).
Check = Callable[[str, Any], None]


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    content_type: str
    location: str | None
    data: bytes


def cookie_header(cookies: Cookies) -> str:
    """The ``Cookie`` header value for the browser's cookies (``a=1; b=2``)."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class HttpIntegrator:
    """An :class:`~conformance.sut.Integrator` speaking the driver protocol to ``base_url``.

    ``base_url`` may carry a path (``http://host:8080/driver``): endpoints are appended to it.
    ``observer``, when given, receives a :class:`DriverExchange` for every request, after its
    answer was checked (with the diagnosis when the check failed).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        observer: Observer | None = None,
    ) -> None:
        where = f"--sut {base_url}"
        parts = urlsplit(base_url)
        try:
            port = parts.port
        except ValueError as exc:
            raise DriverError(where, f"is not a usable URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DriverError(where, "is not an http:// or https:// URL with a host")
        if parts.query or parts.fragment:
            raise DriverError(where, "must not carry a query or a fragment: give the base URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.observer = observer
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = port
        self._prefix = parts.path.rstrip("/")

    def __repr__(self) -> str:
        return f"HttpIntegrator({self.base_url!r})"

    def close(self) -> None:
        """Nothing to release (each request has its own connection); for symmetry with
        :meth:`CheckedIntegrator.close <conformance.drivers.python.CheckedIntegrator.close>`."""

    # --- the protocol -------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """``GET /capabilities``; refuses protocol versions other than 1."""
        _, body = self._request(
            "GET", "/capabilities", expect={200: "capabilities.json"}, before=check_protocol
        )
        return capabilities_of(body)

    def reset(self) -> None:
        """``POST /reset``: 204."""
        self._request("POST", "/reset", expect={204: None})

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """``POST /integrations``: 201 with what the form shows."""

        def oauth_fields(where: str, body: Any) -> None:
            check_oauth_fields(where, oauth_version, body)

        request = {"platform": platform, "base_url": base_url, "oauth_version": oauth_version}
        _, body = self._request(
            "POST",
            "/integrations",
            body=request,
            expect={201: "created-integration.json"},
            after=oauth_fields,
        )
        return created_integration_of(body)

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """``POST /integrations/{id}/submit``: 200 ``redirect_to`` or 422 ``error``."""
        status, body = self._request(
            "POST",
            f"/integrations/{quote(integration_id, safe='')}/submit",
            body={"client_id": client_id, "client_secret": client_secret},
            expect={200: "submit-result.json", 422: "error.json"},
        )
        if status == 422:
            return SubmitResult(error=body["error"])
        return SubmitResult(redirect_to=body["redirect_to"])

    def integrations(self) -> list[IntegrationSummary]:
        """``GET /integrations``: 200 with the listing."""
        _, body = self._request("GET", "/integrations", expect={200: "integrations.json"})
        return integrations_of(body)

    def session(self, cookies: Cookies) -> SessionState:
        """``GET /session`` with the browser's cookies."""
        _, body = self._request("GET", "/session", cookies=cookies, expect={200: "session.json"})
        return session_of(body)

    def advance_clock(self, seconds: int) -> None:
        """``POST /clock`` ``{"advance_seconds": N}``: 204 (only when it declares ``clock``)."""
        self._request("POST", "/clock", body={"advance_seconds": seconds}, expect={204: None})

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """``GET /repositories`` with the browser's cookies."""
        _, body = self._request(
            "GET", "/repositories", cookies=cookies, expect={200: "repositories.json"}
        )
        return repositories_of(body)

    def packages(self, cookies: Cookies) -> Packages:
        """``GET /packages`` with the browser's cookies (only when it declares ``packages``)."""
        _, body = self._request("GET", "/packages", cookies=cookies, expect={200: "packages.json"})
        return packages_of(body)

    def synchronise(self, cookies: Cookies) -> None:
        """``POST /packages/sync`` with the browser's cookies: 204 once synchronised."""
        self._request("POST", "/packages/sync", cookies=cookies, expect={204: None})

    def add_code_credential(self, username: str, token: str) -> None:
        """``POST /code-credentials`` ``{"username", "token"}``: 204 (only when it declares
        ``webhooks``)."""
        self._request(
            "POST",
            "/code-credentials",
            body={"username": username, "token": token},
            expect={204: None},
        )

    # --- one request, checked -----------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        expect: Mapping[int, str | None],
        body: Mapping[str, object] | None = None,
        cookies: Cookies | None = None,
        before: Check | None = None,
        after: Check | None = None,
    ) -> tuple[int, Any]:
        """Send one request and check its answer against ``expect`` (status -> schema, or
        None for no body); return the status and the parsed body."""
        url = self.base_url + path
        where = f"{method} {url}"
        started = time.perf_counter()
        answer: _Answer | None = None
        error: str | None = None
        try:
            answer = self._send(where, method, path, body, cookies)
            schema = self._expect_status(where, answer, expect)
            if schema is None:
                return answer.status, None
            parsed = _parse_json(where, answer)
            if before is not None:
                before(where, parsed)
            validate_body(where, parsed, schema)
            if after is not None:
                after(where, parsed)
            return answer.status, parsed
        except DriverError as exc:
            error = str(exc)
            raise
        finally:
            if self.observer is not None:
                self.observer(
                    _exchange(
                        method, url, body, cookies, started=started, answer=answer, error=error
                    )
                )

    def _send(
        self,
        where: str,
        method: str,
        path: str,
        body: Mapping[str, object] | None,
        cookies: Cookies | None,
    ) -> _Answer:
        """Send one request; raise :class:`DriverError` when no HTTP answer comes back."""
        headers = {"Accept": JSON_MEDIA_TYPE, "User-Agent": USER_AGENT}
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = JSON_MEDIA_TYPE
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        connection_type = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = connection_type(self._host, self._port, timeout=self.timeout)
        try:
            connection.request(method, self._prefix + path, body=payload, headers=headers)
            response = connection.getresponse()
            return _Answer(
                status=response.status,
                reason=response.reason,
                content_type=response.getheader("Content-Type", ""),
                location=response.getheader("Location"),
                data=response.read(),
            )
        except (OSError, http.client.HTTPException) as exc:
            raise DriverError(where, *_unreachable(exc, self.base_url, self.timeout)) from exc
        finally:
            connection.close()

    def _expect_status(
        self, where: str, answer: _Answer, expect: Mapping[int, str | None]
    ) -> str | None:
        """The schema for the answer's status; :class:`DriverError` for any other status."""
        if answer.status in expect:
            return expect[answer.status]
        wanted = " or ".join(str(status) for status in expect)
        details: list[str] = []
        if 300 <= answer.status < 400:
            details.append(f"redirect to {answer.location or '(no Location)'}, not followed")
        if answer.status in (404, 405):
            details.append(f"is {self.base_url} the base URL of the driver protocol?")
        error = _error_message(answer)
        if error is not None:
            details.append(f"error: {error}")
        elif answer.data:
            details.append(_excerpt(answer))
        raise DriverError(
            where, f"answered {answer.status} {answer.reason}, expected {wanted}", tuple(details)
        )


def _exchange(
    method: str,
    url: str,
    body: Mapping[str, object] | None,
    cookies: Cookies | None,
    *,
    started: float,
    answer: _Answer | None,
    error: str | None,
) -> DriverExchange:
    return DriverExchange(
        method=method,
        url=url,
        request=_redact(body),
        cookie_names=tuple(cookies or ()),
        status=None if answer is None else answer.status,
        content_type=None if answer is None else answer.content_type,
        response="" if answer is None else _redacted_text(answer.data),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        error=error,
    )


def _unreachable(
    exc: OSError | http.client.HTTPException, base_url: str, timeout: float
) -> tuple[str, tuple[str, ...]]:
    """The problem and details of a request that got no HTTP answer."""
    hint = (f"is the implementation running and serving the driver protocol at {base_url}?",)
    if isinstance(exc, ConnectionRefusedError):
        return "unreachable: connection refused", hint
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s (timed out)", hint
    if isinstance(exc, socket.gaierror):
        return f"unreachable: cannot resolve the host ({exc.strerror or exc})", hint
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed the connection without answering", hint
    if isinstance(exc, http.client.HTTPException):
        return f"did not answer in HTTP ({type(exc).__name__}: {_shorten(str(exc))})", hint
    return f"unreachable: {exc.strerror or exc}", hint


def _parse_json(where: str, answer: _Answer) -> Any:
    media_type = answer.content_type.split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        shown = answer.content_type or "none"
        kind = "HTML" if "html" in media_type or _looks_like_html(answer.data) else "a body"
        raise DriverError(
            where,
            f"answered {kind} with Content-Type {shown}, expected {JSON_MEDIA_TYPE}",
            (_excerpt(answer),),
        )
    if not answer.data.strip():
        raise DriverError(where, "answered an empty body, expected JSON")
    try:
        return json.loads(answer.data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DriverError(where, f"answered a body that is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        problem = (
            f"answered a body that is not JSON ({exc.msg}: line {exc.lineno} column {exc.colno})"
        )
        if _looks_like_html(answer.data):
            problem = "answered HTML labelled application/json, expected JSON"
        raise DriverError(where, problem, (_excerpt(answer),)) from None


def _looks_like_html(data: bytes) -> bool:
    start = data.lstrip()[:100].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--"))


def _error_message(answer: _Answer) -> str | None:
    """The ``error`` of a ``{"error": str}`` body, when the answer is one."""
    if not answer.content_type.lower().startswith(JSON_MEDIA_TYPE):
        return None
    try:
        body = json.loads(answer.data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return _shorten(body["error"])
    return None


def _excerpt(answer: _Answer) -> str:
    text = answer.data.decode("utf-8", errors="replace")
    shown = text[:EXCERPT_CHARS].replace("\r", "\\r").replace("\n", "\\n")
    if len(text) > EXCERPT_CHARS:
        return f"body (first {EXCERPT_CHARS} of {len(text)} characters): {shown}"
    return f"body: {shown}"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact(body: object) -> object:
    if isinstance(body, Mapping):
        return {
            key: REDACTED if key in _SECRET_KEYS and value else _redact(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_redact(item) for item in body]
    return body


def _redacted_text(data: bytes) -> str:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return data[:2000].decode("utf-8", errors="replace")
    return _shorten(json.dumps(_redact(body)), 2000)
