"""Validation of control-API input: JSON bodies and query parameters to domain values.

Pure functions: they never see a request. Bad input raises
:class:`~simulator.errors.BadRequestError` (a body that is not a JSON object) or
:class:`~simulator.errors.ValidationError` whose ``context`` names the offending key.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from simulator.config import ConfigError
from simulator.errors import BadRequestError, ValidationError
from simulator.faults import Fault
from simulator.journal import Exchange, is_control_path
from simulator.oauth2.scopes import Scope, ScopeError, parse_scopes

#: The longest single delay a fault may inject, in seconds.
MAX_FAULT_DELAY = 30.0
#: How far simulated time may run ahead of the real clock (about a century), in seconds.
MAX_CLOCK_OFFSET = 100 * 365.25 * 86400
#: Statuses a fault may answer; 1xx are interim in HTTP and would leave clients waiting.
FAULT_STATUSES = range(200, 600)

_FAULT_KEYS = frozenset({"path_prefix", "status", "delay_seconds", "times"})
_CLOCK_KEYS = frozenset({"advance_seconds"})
_JOURNAL_PARAMS = frozenset({"path_prefix", "method", "since"})
_METHOD_RE = re.compile(r"^[A-Za-z]{1,20}$")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequestError("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return value


def reject_unknown(body: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValidationError(
            f"Unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}.",
            unknown[0],
        )


def _number(body: Mapping[str, Any], key: str, minimum: float, maximum: float) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{key} must be a number.", key)
    if not minimum <= value <= maximum or not math.isfinite(value):  # ints first: no overflow
        raise ValidationError(f"{key} must lie between {minimum:g} and {maximum:g}.", key)
    return float(value)


def _path_prefix(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValidationError(f"{key} must be a path starting with '/'.", key)
    if "?" in value or "#" in value:
        raise ValidationError(f"{key} must be a path without query or fragment.", key)
    return value


def advance_seconds(body: Mapping[str, Any], offset: float) -> float:
    """The ``advance_seconds`` of a ``POST /_sim/clock`` body, given the clock's offset."""
    reject_unknown(body, _CLOCK_KEYS)
    if "advance_seconds" not in body:
        raise ValidationError("advance_seconds is required.", "advance_seconds")
    seconds = _number(body, "advance_seconds", 0, MAX_CLOCK_OFFSET)
    if offset + seconds > MAX_CLOCK_OFFSET:
        raise ValidationError(
            f"advance_seconds would put the clock more than {MAX_CLOCK_OFFSET:g} s ahead.",
            "advance_seconds",
        )
    return seconds


def fault(body: Mapping[str, Any]) -> Fault:
    """The :class:`Fault` a ``POST /_sim/faults`` body describes."""
    reject_unknown(body, _FAULT_KEYS)
    if "path_prefix" not in body:
        raise ValidationError("path_prefix is required.", "path_prefix")
    prefix = _path_prefix(body["path_prefix"], "path_prefix")
    if is_control_path(prefix):
        raise ValidationError("The control API (/_sim/) cannot be faulted.", "path_prefix")
    status = body.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or status not in FAULT_STATUSES
    ):
        raise ValidationError("status must be an integer from 200 to 599, or null.", "status")
    delay = 0.0
    if body.get("delay_seconds") is not None:
        delay = _number(body, "delay_seconds", 0, MAX_FAULT_DELAY)
    times = body.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValidationError("times must be a positive integer, or null (until reset).", "times")
    if status is None and delay == 0:
        raise ValidationError("A fault needs a status, a delay, or both.", "status")
    return Fault(path_prefix=prefix, status=status, delay_seconds=delay, remaining=times)


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Which journal entries ``GET /_sim/journal`` answers."""

    path_prefix: str | None = None
    method: str | None = None
    #: Only entries whose id is greater (ids grow for the life of the server).
    since: int = 0

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> JournalFilter:
        """Parse ``?path_prefix=&method=&since=``; unknown or repeated parameters are
        rejected."""
        reject_unknown(query, _JOURNAL_PARAMS)
        values: dict[str, str] = {}
        for name in sorted(_JOURNAL_PARAMS):
            given = query.getall(name, [])
            if len(given) > 1:
                raise ValidationError(f"{name} may be given only once.", name)
            if given:
                values[name] = given[0]
        prefix = values.get("path_prefix")
        method = values.get("method")
        if prefix is not None:
            _path_prefix(prefix, "path_prefix")
        if method is not None and not _METHOD_RE.match(method):
            raise ValidationError("method must be an HTTP method such as GET.", "method")
        since = values.get("since", "0")
        if not since.isascii() or not since.isdigit() or len(since) > 18:
            raise ValidationError("since must be an entry id: a whole number, 0 or more.", "since")
        return cls(path_prefix=prefix, method=method.upper() if method else None, since=int(since))

    def admits(self, entry: Exchange) -> bool:
        """Whether an entry passes the filter (the prefix applies to the recorded path)."""
        if entry.id <= self.since:
            return False
        if self.method is not None and entry.method.upper() != self.method:
            return False
        return self.path_prefix is None or entry.path.startswith(self.path_prefix)


def config_error_context(error: ConfigError) -> str | None:
    """The config key a :class:`ConfigError` is about, for the error's ``context``."""
    return error.key


_APPLINK_KEYS = frozenset({"type", "name", "redirect_urls", "scope"})
_OAUTH1_LINK_KEYS = frozenset(
    {
        "type",
        "name",
        "consumer_key",
        "public_key",
        "callback_url",
        "consumer_name",
        "description",
        "two_legged",
        "execute_as",
        "impersonation",
    }
)
APPLINK_TYPES = ("oauth2", "oauth1")


@dataclass(frozen=True, slots=True)
class AppLinkRequest:
    """``POST /_sim/applinks`` for an OAuth 2 incoming link."""

    name: str
    redirect_urls: list[str]
    scopes: tuple[Scope, ...]


@dataclass(frozen=True, slots=True)
class OAuth1LinkRequest:
    """``POST /_sim/applinks`` for an OAuth 1 link ("Atlassian product", Incoming
    Authentication)."""

    name: str
    consumer_key: str
    public_key: str
    callback_url: str | None = None
    consumer_name: str | None = None
    description: str = ""
    two_legged: bool = False
    execute_as: str | None = None
    impersonation: bool = False


def string_field(body: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        qualifier = "" if required else " or null"
        raise ValidationError(f"{key} must be a string{qualifier}.", key)
    return value


def _flag(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ValidationError(f"{key} must be true or false.", key)
    return value


def applink(body: Mapping[str, Any]) -> AppLinkRequest | OAuth1LinkRequest:
    """Check an application-link request; ``type`` is ``oauth2`` or ``oauth1``."""
    kind = body.get("type")
    if kind not in APPLINK_TYPES:
        raise ValidationError('type must be "oauth2" or "oauth1".', "type")
    if kind == "oauth1":
        return oauth1_link(body)
    reject_unknown(body, _APPLINK_KEYS)
    name = body.get("name")
    if not isinstance(name, str):
        raise ValidationError("name must be a string.", "name")
    urls = body.get("redirect_urls")
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise ValidationError("redirect_urls must be a list of strings.", "redirect_urls")
    raw_scope = body.get("scope", "REPO_READ")
    if not isinstance(raw_scope, str):
        raise ValidationError("scope must be a space-separated string.", "scope")
    try:
        scopes = parse_scopes(raw_scope)
    except ScopeError as exc:
        raise ValidationError(str(exc), "scope") from None
    return AppLinkRequest(name=name, redirect_urls=list(urls), scopes=scopes)


def oauth1_link(body: Mapping[str, Any]) -> OAuth1LinkRequest:
    """Check the fields of an OAuth 1 link request (their values are the backend's to judge)."""
    reject_unknown(body, _OAUTH1_LINK_KEYS)
    return OAuth1LinkRequest(
        name=string_field(body, "name", required=True) or "",
        consumer_key=string_field(body, "consumer_key", required=True) or "",
        public_key=string_field(body, "public_key", required=True) or "",
        callback_url=string_field(body, "callback_url", required=False),
        consumer_name=string_field(body, "consumer_name", required=False),
        description=string_field(body, "description", required=False) or "",
        two_legged=_flag(body, "two_legged"),
        execute_as=string_field(body, "execute_as", required=False),
        impersonation=_flag(body, "impersonation"),
    )
