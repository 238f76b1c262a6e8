"""Bitbucket's side of a scenario: what the integration sent to the simulated Bitbucket and
what Bitbucket answered, read from the simulator's journal.

The journal records every request the simulator served (secrets redacted). The harness's own
requests carry a ``User-Agent`` starting with :data:`HARNESS_USER_AGENT` (the user's and the
admin's browsers, and the harness's checks as a user), so everything else is the
integration's. The browser's authorization requests are kept too: the integration wrote
them (its login link redirects the browser there), and their scope, state and PKCE are facts
about the integration.

:class:`Wire` gathers the journal step by step (``GET /_sim/journal?since=<id>`` after each
step), so each exchange is shown under the step during which it happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from conformance.useragent import HARNESS_USER_AGENT, REDACTED, is_secret

#: The User-Agent of the harness's checks as a user (ground truth through Bitbucket's REST).
CHECK_USER_AGENT: Final = HARNESS_USER_AGENT + "1 (the harness's check)"
#: Paths (after the context path) of authorization requests, sent by the user's browser but
#: composed by the integration.
AUTHORIZE_PATHS: Final = (
    "/rest/oauth2/latest/authorize",
    "/rest/oauth2/1.0/authorize",
    "/plugins/servlet/oauth/authorize",
)
#: Query and form fields worth showing, in this order (others are left out of the line).
SHOWN_FIELDS: Final = (
    "grant_type",
    "response_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "refresh_token",
    "token",
    "oauth_token",
    "oauth_verifier",
    "permission",
    "start",
    "limit",
    "filter",
)
#: Facts the simulator notes in ``extra``, in this order, and how they are labelled.
SHOWN_FACTS: Final = (
    ("client_auth", "client authentication"),
    ("oauth_signature_method", "signature"),
    ("oauth_consumer_key", "consumer"),
    ("decision", "decision"),
    ("tfa", "two-factor plugin"),
    ("error", "error"),
    ("oauth_problem", "oauth_problem"),
)
#: Characters of a field's value shown (URLs are long).
VALUE_CHARS: Final = 120


class JournalSource(Protocol):
    """Where the wire reads a simulator's journal (:class:`SimulatorControl`)."""

    def journal(
        self, path_prefix: str | None = None, method: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """Entries with an id above ``since``, oldest first."""
        ...


def is_harness(entry: Mapping[str, Any]) -> bool:
    """Whether a journal entry is a request of the harness (a browser or a check)."""
    agent = str(entry.get("headers", {}).get("User-Agent", ""))
    return agent.startswith(HARNESS_USER_AGENT)


def is_authorization_request(entry: Mapping[str, Any], context_path: str) -> bool:
    """Whether the entry is a browser's authorization request (OAuth 2 or OAuth 1)."""
    path = str(entry.get("path", ""))
    if context_path and path.startswith(context_path):
        path = path[len(context_path) :]
    return path in AUTHORIZE_PATHS and entry.get("method") == "GET"


def _short(value: object) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _fields(pairs: Mapping[str, Any]) -> list[str]:
    """The shown fields as ``name=value``; a secret's value (``state`` included, as in the
    browser's trace) is ``<redacted>``, an empty one stays empty."""
    shown = []
    for name in SHOWN_FIELDS:
        if name in pairs:
            value = pairs[name]
            text = REDACTED if value and is_secret(name) else _short(value)
            shown.append(f"{name}={text}")
    return shown


@dataclass(frozen=True, slots=True)
class WireEntry:
    """One exchange of the integration with Bitbucket, as the report shows it."""

    #: The step during which it happened (``When the user "alice" opens ...``).
    step: str
    #: ``integration`` (its own request) or ``browser`` (an authorization request it wrote).
    who: str
    method: str
    path: str
    status: int
    #: Shown query and form fields (``name=value``, secrets already redacted).
    fields: tuple[str, ...] = ()
    #: Facts the simulator noted (``error=invalid_client``).
    facts: tuple[str, ...] = ()
    #: The ``Authorization`` header's scheme (``Bearer``, ``Basic``, ``OAuth``), or ''.
    scheme: str = ""
    #: The user Bitbucket ran the request as ('' when anonymous).
    user: str = ""

    @classmethod
    def from_journal(cls, entry: Mapping[str, Any], step: str, who: str) -> WireEntry:
        """Build one from a journal entry (``GET /_sim/journal``)."""
        query = entry.get("query") or {}
        form = entry.get("form") or {}
        extra = entry.get("extra") or {}
        authorization = str((entry.get("headers") or {}).get("Authorization", ""))
        facts = []
        for name, label in SHOWN_FACTS:
            value = extra.get(name)
            if value not in (None, "", False):
                facts.append(f"{label} {_short(value)}")
        if extra.get("has_code_verifier") is False and form.get("grant_type") == (
            "authorization_code"
        ):
            facts.append("no code_verifier")
        return cls(
            step=step,
            who=who,
            method=str(entry.get("method", "?")),
            path=str(entry.get("path", "?")),
            status=int(entry.get("status", 0)),
            fields=tuple(_fields(query) + _fields(form)),
            facts=tuple(facts),
            scheme=authorization.split(" ", 1)[0] if authorization else "",
            user=str(extra.get("user") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for the reports (and pytest-xdist)."""
        return {
            "step": self.step,
            "who": self.who,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "fields": list(self.fields),
            "facts": list(self.facts),
            "scheme": self.scheme,
            "user": self.user,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WireEntry:
        """Back from :meth:`to_json`."""
        return cls(
            step=str(data.get("step", "")),
            who=str(data.get("who", "integration")),
            method=str(data.get("method", "?")),
            path=str(data.get("path", "?")),
            status=int(data.get("status", 0)),
            fields=tuple(str(f) for f in data.get("fields", ())),
            facts=tuple(str(f) for f in data.get("facts", ())),
            scheme=str(data.get("scheme", "")),
            user=str(data.get("user", "")),
        )

    def line(self) -> str:
        """``POST /rest/oauth2/latest/token -> 401`` and what matters, on one line."""
        parts = [f"{self.method} {self.path} -> {self.status}"]
        if self.who == "browser":
            parts.append("(the user's browser, sent there by the integration)")
        elif self.scheme and self.user:
            parts.append(f"[{self.scheme}, as {self.user}]")
        elif self.scheme and "/rest/api/" in self.path:
            parts.append(f"[{self.scheme}, anonymous: Bitbucket did not take it]")
        elif self.scheme:
            parts.append(f"[{self.scheme}]")
        elif self.user:
            parts.append(f"[as {self.user}]")
        elif "/rest/api/" in self.path:
            parts.append("[no credentials: anonymous]")
        text = " ".join(parts)
        details = [*self.fields, *self.facts]
        return text + ("; " + "; ".join(details) if details else "")


@dataclass
class Wire:
    """The integration's exchanges with each simulator of a scenario, gathered step by step."""

    #: base URL -> the last journal id read.
    marks: dict[str, int] = field(default_factory=dict)
    entries: list[WireEntry] = field(default_factory=list)

    def collect(
        self, sources: Iterable[tuple[str, str, JournalSource]], step: str
    ) -> list[WireEntry]:
        """Read what each simulator journaled since the last call, as happened during
        ``step``; ``sources`` are ``(base URL, context path, control API)``. Answers the new
        entries."""
        found: list[WireEntry] = []
        for base_url, context_path, source in sources:
            since = self.marks.get(base_url, 0)
            journal = source.journal(since=since)
            for entry in journal:
                self.marks[base_url] = max(self.marks.get(base_url, 0), int(entry["id"]))
                if not is_harness(entry):
                    found.append(WireEntry.from_journal(entry, step, "integration"))
                elif is_authorization_request(entry, context_path):
                    found.append(WireEntry.from_journal(entry, step, "browser"))
        self.entries += found
        return found


def wire_lines(
    entries: Sequence[WireEntry], indent: str = "", numbers: Sequence[int] | None = None
) -> list[str]:
    """The entries as text, grouped under the step during which they happened, numbered
    from 1 (or by ``numbers``, their places in the whole scenario)."""
    lines: list[str] = []
    step: str | None = None
    for place, entry in enumerate(entries):
        if entry.step != step:
            step = entry.step
            lines.append(f"{indent}during: {step}")
        number = numbers[place] if numbers is not None else place + 1
        lines.append(f"{indent}  {number}. {entry.line()}")
    return lines


def is_telling(entry: WireEntry) -> bool:
    """Whether an exchange usually explains a failure: an OAuth call, or an error answer
    other than 404 (a missing ``composer.json`` is routine)."""
    refused = entry.status >= 400 and entry.status != 404
    return refused or entry.who == "browser" or "/oauth" in entry.path


def head_of(entries: Sequence[WireEntry], steps: Sequence[str], limit: int) -> list[int]:
    """The places (from 1) of at most ``limit`` entries worth showing first, among those
    recorded during ``steps`` (the failed step, then the one before it): the OAuth calls and
    error answers first, then the failed step's others, then the rest, latest first; shown
    in their order. With no entry during ``steps``, the scenario's last ``limit``."""
    during = [n for n, e in enumerate(entries, start=1) if e.step in steps]
    if not during:
        return list(range(max(len(entries) - limit, 0) + 1, len(entries) + 1))
    failed = steps[0] if steps else None

    def priority(number: int) -> tuple[int, int]:
        entry = entries[number - 1]
        rank = 0 if is_telling(entry) else 1 if entry.step == failed else 2
        return (rank, -number)

    return sorted(sorted(during, key=priority)[:limit])
