"""The scenario context: everything one scenario has set up and seen, passed to every step.

The pytest plugin creates one :class:`ScenarioContext` per scenario (the ``ctx`` fixture),
after resetting the simulator and the system under test; steps read and extend it. Nothing
is shared between scenarios, and nothing lives in module globals.

It also keeps the scenario's **timeline**: every request a browser of the scenario sent
(:class:`conformance.useragent.TraceEntry`, secrets redacted) and every call to the system
under test (an HTTP exchange of the driver protocol, or a call of a Python driver), in
order, so that the report can show the HTTP trace of the step that failed.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from conformance.drivers.http import DriverExchange
from conformance.simulator_control import SimulatorControl
from conformance.sut import (
    Capabilities,
    Clocked,
    Cookies,
    CreatedIntegration,
    DriverError,
    Hooked,
    IntegrationSummary,
    Integrator,
    Packaged,
    Packages,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)
from conformance.useragent import Form, Page, TraceEntry, UserAgent, redact_url
from conformance.wire import Wire, WireEntry

#: Where the admin and the users log in (the seeded accounts' password is their username).
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 - the simulator's seeded account


class FeatureFileError(Exception):
    """A feature file uses the step library wrongly (a step out of order, an unknown name).

    Unlike a failed expectation, it fails the run even in a ``@should`` scenario."""


def password_of(username: str) -> str:
    """The password of a seeded Bitbucket account: its username."""
    return username


# -- the timeline ----------------------------------------------------------------------------------


class Timeline:
    """The scenario's requests and SUT calls in order, as JSON-ready trace entries."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def mark(self) -> int:
        """A position, for :meth:`since`."""
        return len(self.entries)

    def since(self, mark: int) -> list[dict[str, Any]]:
        """The entries recorded after ``mark``."""
        return self.entries[mark:]

    def add(self, entry: Mapping[str, Any]) -> None:
        """Record one entry (keys of ``TraceEntry.to_json``)."""
        self.entries.append(dict(entry))

    def add_hop(self, who: str, hop: TraceEntry) -> None:
        """Record one request of a browser."""
        self.add({**hop.to_json(), "who": who})

    def add_exchange(self, exchange: DriverExchange) -> None:
        """Record one exchange of the HTTP driver with the SUT."""
        request = exchange.request
        form = (
            [[key, _short(value)] for key, value in request.items()]
            if isinstance(request, Mapping)
            else []
        )
        response = [["Content-Type", exchange.content_type or ""]]
        if exchange.response:
            response.append(["(body)", _short(exchange.response, 400)])
        self.add(
            {
                "who": "driver",
                "method": exchange.method,
                "url": exchange.url,
                "status": exchange.status if exchange.status is not None else 0,
                "reason": "",
                "location": None,
                "request_headers": [
                    ["Cookie", f"{name}=<redacted>"] for name in exchange.cookie_names
                ],
                "response_headers": response,
                "form": form or None,
                "error": exchange.error,
            }
        )


def _short(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _RecordedTrace(list[TraceEntry]):
    """A browser's trace that also feeds the scenario's timeline."""

    def __init__(self, who: str, timeline: Timeline) -> None:
        super().__init__()
        self.who = who
        self.timeline = timeline

    def append(self, hop: TraceEntry) -> None:
        super().append(hop)
        self.timeline.add_hop(self.who, hop)


class Browser(UserAgent):
    """A person's browser (:class:`UserAgent`) whose requests go into the timeline."""

    def __init__(
        self, who: str, timeline: Timeline, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(ssl_context=ssl_context)
        self.who = who
        self.trace = _RecordedTrace(who, timeline)


class RecordingIntegrator:
    """Wraps an in-process :class:`Integrator` and records each call in the timeline."""

    def __init__(self, inner: Integrator, timeline: Timeline) -> None:
        self.inner = inner
        self.timeline = timeline

    def _call(self, name: str, arguments: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "who": "driver",
            "method": "CALL",
            "url": f"{name}({arguments})",
            "status": "",
            "location": None,
            "request_headers": [],
            "response_headers": [],
            "form": None,
            "error": None,
        }
        try:
            result = call()
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            raise
        else:
            entry["reason"] = f"returned {_short(result, 300)}"
            return result
        finally:
            entry["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self.timeline.add(entry)

    def capabilities(self) -> Capabilities:
        """Recorded :meth:`Integrator.capabilities`."""
        result: Capabilities = self._call("capabilities", "", self.inner.capabilities)
        return result

    def reset(self) -> None:
        """Recorded :meth:`Integrator.reset`."""
        self._call("reset", "", self.inner.reset)

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """Recorded :meth:`Integrator.create_integration`."""
        arguments = f"{platform!r}, {base_url!r}, {oauth_version}"
        result: CreatedIntegration = self._call(
            "create_integration",
            arguments,
            lambda: self.inner.create_integration(platform, base_url, oauth_version),
        )
        return result

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """Recorded :meth:`Integrator.submit` (the secret is not recorded)."""
        arguments = f"{integration_id!r}, {client_id!r}, <redacted>"
        result: SubmitResult = self._call(
            "submit", arguments, lambda: self.inner.submit(integration_id, client_id, client_secret)
        )
        return result

    def integrations(self) -> list[IntegrationSummary]:
        """Recorded :meth:`Integrator.integrations`."""
        result: list[IntegrationSummary] = self._call("integrations", "", self.inner.integrations)
        return result

    def session(self, cookies: Cookies) -> SessionState:
        """Recorded :meth:`Integrator.session` (cookie names only)."""
        result: SessionState = self._call(
            "session", _cookie_names(cookies), lambda: self.inner.session(cookies)
        )
        return result

    def advance_clock(self, seconds: int) -> None:
        """Recorded :meth:`Clocked.advance_clock` (an integration declaring ``clock``)."""
        inner = self.inner
        if not isinstance(inner, Clocked):
            raise DriverError(
                "advance_clock()",
                "the integration declares capabilities.clock but its driver cannot move its clock",
            )
        self._call("advance_clock", str(seconds), lambda: inner.advance_clock(seconds))

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """Recorded :meth:`Integrator.repositories` (cookie names only)."""
        result: list[RepositoryEntry] = self._call(
            "repositories", _cookie_names(cookies), lambda: self.inner.repositories(cookies)
        )
        return result

    def packages(self, cookies: Cookies) -> Packages:
        """Recorded :meth:`Packaged.packages` (an integration declaring ``packages``)."""
        inner = self._packaged("packages()")
        result: Packages = self._call(
            "packages", _cookie_names(cookies), lambda: inner.packages(cookies)
        )
        return result

    def synchronise(self, cookies: Cookies) -> None:
        """Recorded :meth:`Packaged.synchronise`."""
        inner = self._packaged("synchronise()")
        self._call("synchronise", _cookie_names(cookies), lambda: inner.synchronise(cookies))

    def add_code_credential(self, username: str, token: str) -> None:
        """Recorded :meth:`Hooked.add_code_credential` (the token is not recorded)."""
        inner = self.inner
        if not isinstance(inner, Hooked):
            raise DriverError(
                "add_code_credential()",
                "the integration declares capabilities.webhooks but its driver cannot take "
                "a code credential",
            )
        self._call(
            "add_code_credential",
            f"{username!r}, <redacted>",
            lambda: inner.add_code_credential(username, token),
        )

    def _packaged(self, where: str) -> Packaged:
        inner = self.inner
        if not isinstance(inner, Packaged):
            raise DriverError(
                where,
                "the integration declares capabilities.packages but its driver serves no "
                "package list",
            )
        return inner


def _cookie_names(cookies: Cookies) -> str:
    return "cookies: " + (", ".join(sorted(cookies)) or "none")


# -- what a scenario builds ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkCredentials:
    """What Bitbucket showed once the admin saved the application link."""

    client_id: str
    client_secret: str
    #: The link's id in Bitbucket (from the credentials page's address).
    link_id: str
    name: str


@dataclass(slots=True)
class Integration:
    """One integration: its Add Integration form, its application link, its listing."""

    form: CreatedIntegration
    credentials: LinkCredentials | None = None
    submitted: SubmitResult | None = None
    summary: IntegrationSummary | None = None

    @property
    def login_link(self) -> str:
        """The login link the integrations list shows (the setup must be finished)."""
        if self.summary is None:
            raise FeatureFileError(
                "the integration is not set up yet: it has no login link (a step such as "
                "'an integration set up with OAuth 2 as the guide describes' must come first)"
            )
        return self.summary.login_link


@dataclass(slots=True)
class LoginAttempt:
    """A user's login through the login link: their browser and where it ended."""

    username: str
    browser: Browser
    integration: Integration
    #: The simulator's journal position before the attempt.
    journal_mark: int
    #: The page the browser ended on (on the SUT, unless the flow stopped on Bitbucket).
    page: Page | None = None
    #: The callback address Bitbucket sent the browser to (redacted), if it got that far.
    callback_url: str | None = None
    #: The same address unredacted, when the browser stopped before it (a scenario replays
    #: it in another browser).
    kept_callback: str | None = None
    #: Where the login link sent the browser on Bitbucket (the authorization request),
    #: unredacted, when the browser stopped there.
    authorize_url: str | None = None

    def cookies(self) -> dict[str, str]:
        """The browser's cookies for the SUT (the login link's origin and path)."""
        return self.browser.cookies_for(self.integration.login_link)


class Bitbucket(Protocol):
    """A simulated Bitbucket the scenario uses: one the harness started
    (:class:`~simulator.testing.SimulatorServer`) or one already running (``--bitbucket``)."""

    @property
    def base_url(self) -> str:
        """Its base URL, as the integration and the browser reach it."""
        ...

    @property
    def control_token(self) -> str | None:
        """The token of its control API (None: none needed)."""
        ...

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate to trust for it (HTTPS with a certificate it made), or None."""
        ...


class SimulatorPool(Protocol):
    """Where a scenario gets its simulated Bitbucket servers (started once per run)."""

    def simulator(self, context_path: str = "") -> Bitbucket:
        """The simulator serving under ``context_path`` ('' for the root)."""
        ...


# -- the context -----------------------------------------------------------------------------------


@dataclass(eq=False)
class ScenarioContext:
    """One scenario's state. Steps receive it as the ``ctx`` fixture."""

    pool: SimulatorPool
    sut: Integrator
    capabilities: Capabilities
    #: ``--sut`` as given.
    sut_spec: str = "reference"
    #: ``--bitbucket-version``: the version of a server whose scenario does not set one.
    default_version: str | None = None
    timeline: Timeline = field(default_factory=Timeline)
    bitbucket: Bitbucket = field(init=False)
    #: Every Add Integration form the admin opened, in order.
    forms: list[CreatedIntegration] = field(default_factory=list)
    #: The integrations set up (or being set up), in order; the last is "the integration".
    integrations: list[Integration] = field(default_factory=list)
    #: Whether the admin has opened the Add Integration form (before choosing anything).
    form_open: bool = False
    #: The page the admin's browser shows on Bitbucket, and the form being filled there.
    admin_page: Page | None = None
    admin_form: Form | None = None
    logins: list[LoginAttempt] = field(default_factory=list)
    #: TOTP secrets of users who enrolled with the two-factor plugin.
    totp_secrets: dict[str, str] = field(default_factory=dict)
    #: Journal position when the simulated clock was last moved.
    clock_mark: int | None = None
    #: Free room for project-specific steps.
    notes: dict[str, Any] = field(default_factory=dict)
    #: The integration's exchanges with Bitbucket, gathered after each step.
    wire: Wire = field(default_factory=Wire)
    _admin_browser: Browser | None = field(default=None, init=False)
    _controls: dict[str, SimulatorControl] = field(default_factory=dict, init=False)
    _ready: set[str] = field(default_factory=set, init=False)
    _browsers: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.bitbucket = self.use_bitbucket("")

    # -- Bitbucket

    def use_bitbucket(self, context_path: str = "") -> Bitbucket:
        """Make the simulator under ``context_path`` "the server" of this scenario; the
        first time in a scenario it is reset (and given ``--bitbucket-version``)."""
        server = self.pool.simulator(context_path)
        if context_path not in self._ready:
            control = self.control(server)
            control.reset()
            if self.default_version:
                control.set_version(self.default_version)
            self._ready.add(context_path)
        self.bitbucket = server
        return server

    def control(self, server: Bitbucket | None = None) -> SimulatorControl:
        """The control API of ``server`` (default: the scenario's server)."""
        chosen = server or self.bitbucket
        base = chosen.base_url
        if base not in self._controls:
            ca = chosen.ca_file
            context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
            self._controls[base] = SimulatorControl(
                base, token=chosen.control_token, ssl_context=context
            )
        return self._controls[base]

    @property
    def sim(self) -> SimulatorControl:
        """The control API of the scenario's server."""
        return self.control()

    @property
    def base_url(self) -> str:
        """The scenario's Bitbucket base URL (with its context path)."""
        return self.bitbucket.base_url

    @property
    def context_path(self) -> str:
        """The server's context path ('' at the root)."""
        return urlsplit(self.base_url).path.rstrip("/")

    def collect_wire(self, step: str) -> list[WireEntry]:
        """Read what the integration sent to each Bitbucket of the scenario since the last
        step (the journal), as happened during ``step``."""
        sources = []
        for context_path in sorted(self._ready):
            server = self.pool.simulator(context_path)
            sources.append((server.base_url, context_path, self.control(server)))
        return self.wire.collect(sources, step)

    def journal_mark(self) -> int:
        """The id of the server's latest journal entry (0 when empty)."""
        return max((int(entry["id"]) for entry in self.sim.journal()), default=0)

    def journal_since(
        self, mark: int, endpoint: str, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Journal entries after ``mark`` for an OAuth 2 endpoint (``authorize``, ``token``,
        ``revoke``) under any API version (``latest``, ``1.0``), oldest first."""
        prefix = self.context_path + "/rest/oauth2/"
        entries = self.sim.journal(path_prefix=prefix, method=method)
        return [
            entry
            for entry in entries
            if int(entry["id"]) > mark and str(entry["path"]).endswith("/" + endpoint)
        ]

    # -- people

    def browser(self, who: str) -> Browser:
        """A new browser for ``who`` (empty cookie jar), recorded in the timeline."""
        self._browsers += 1
        return Browser(who, self.timeline, ssl_context=self.ssl_context)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context trusting the scenario's simulator's CA (None: the system's)."""
        ca = self.bitbucket.ca_file
        return ssl.create_default_context(cafile=str(ca)) if ca is not None else None

    @property
    def admin_browser(self) -> Browser:
        """The admin's browser (one per scenario)."""
        if self._admin_browser is None:
            self._admin_browser = self.browser("admin")
        return self._admin_browser

    # -- the integration

    @property
    def form(self) -> CreatedIntegration:
        """The Add Integration form opened last."""
        if not self.forms:
            raise FeatureFileError(
                "no Add Integration form is open: a step such as 'the admin has opened the "
                "Add Integration form for that server with OAuth 2' must come first"
            )
        return self.forms[-1]

    @property
    def integration(self) -> Integration:
        """The integration set up last."""
        if not self.integrations:
            raise FeatureFileError(
                "no integration: a step such as 'the admin has opened the Add Integration "
                "form for that server with OAuth 2' must come first"
            )
        return self.integrations[-1]

    def integration_of(self, form: CreatedIntegration) -> Integration:
        """The integration of a form (created on first use)."""
        for integration in self.integrations:
            if integration.form.id == form.id:
                return integration
        integration = Integration(form)
        self.integrations.append(integration)
        return integration

    @property
    def login(self) -> LoginAttempt:
        """The latest login attempt."""
        if not self.logins:
            raise FeatureFileError(
                'no user has opened the login link yet: a step such as \'the user "alice" '
                "opens the login link, logs in to Bitbucket and allows access' must come first"
            )
        return self.logins[-1]

    def describe_page(self, page: Page | None) -> str:
        """``URL (status, "title")`` of a page, for messages (secrets redacted)."""
        if page is None:
            return "no page"
        title = f", {page.title!r}" if page.title else ""
        return f"{redact_url(page.url)} ({page.status}{title})"
