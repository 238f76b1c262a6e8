"""The system under test (SUT): what the harness asks of a Packagist-like integration.

An implementation is driven either over HTTP (any language; ``docs/driver-protocol.md``) or
in process through an object implementing :class:`Integrator` (``--sut module:factory``).
Both expose the same operations; the step library only ever talks to an ``Integrator``
(the HTTP driver is one), so every feature runs unchanged against either.

The user's browser is not part of this interface: the harness drives it itself
(:mod:`conformance.useragent`) through the SUT's login link and Bitbucket's real pages, and
then hands the browser's cookies for the SUT to :meth:`Integrator.session` and
:meth:`Integrator.repositories`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

PROTOCOL_VERSION = 1

#: The browser's cookies for the SUT (name -> value), as the user agent holds them.
Cookies = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """``GET /capabilities``: what the implementation supports."""

    protocol: int
    name: str
    oauth_versions: tuple[int, ...]
    repositories: bool
    #: Whether the implementation can be told that time passed (``POST /clock``,
    #: :meth:`Clocked.advance_clock`): one that refreshes ahead of ``expires_in`` by its own
    #: clock declares it, so that "an hour passes" moves its clock with Bitbucket's.
    clock: bool = False
    #: Whether the implementation serves the logged-in user's Composer packages
    #: (``GET /packages``, ``POST /packages/sync``; :class:`Packaged`).
    packages: bool = False
    #: Whether it sets up Bitbucket webhooks when given a code credential
    #: (``POST /code-credentials``; :class:`Hooked`). Only with ``packages``.
    webhooks: bool = False


@dataclass(frozen=True, slots=True)
class CreatedIntegration:
    """``POST /integrations``: what the Add Integration form shows after choosing the
    platform, the base URL and the OAuth version (before Client ID and secret are entered)."""

    id: str
    #: The link to create the OAuth application on Bitbucket; None when none is offered
    #: (e.g. OAuth 2 on a server older than 7.21).
    setup_link: str | None
    #: The "Callback URL / Redirect URL" the admin pastes into Bitbucket.
    callback_urls: tuple[str, ...]
    client_id: str
    client_secret: str
    #: What the form tells the admin (warnings, e.g. "OAuth 2 needs Bitbucket 7.21").
    messages: tuple[str, ...]
    #: OAuth 1 only: the generated consumer key, public key and application URL.
    consumer_key: str | None = None
    public_key: str | None = None
    application_url: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """``POST /integrations/{id}/submit``: where the form sends the admin, or its error."""

    redirect_to: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the integration was created."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class IntegrationSummary:
    """One row of ``GET /integrations``."""

    id: str
    platform: str
    base_url: str
    oauth_version: int
    login_link: str


@dataclass(frozen=True, slots=True)
class SessionState:
    """``GET /session`` with the browser's cookies: who the SUT thinks is logged in."""

    authenticated: bool
    username: str | None = None
    #: The error the SUT shows the user (e.g. consent denied, two-factor blocked).
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RepositoryEntry:
    """One row of ``GET /repositories``."""

    project: str
    slug: str
    has_composer_json: bool


@dataclass(frozen=True, slots=True)
class PackageVersion:
    """One version of one package in ``GET /packages`` (the fields of Composer 2 metadata
    the harness reads)."""

    #: The package name, from ``composer.json`` at that ref.
    name: str
    #: As Composer metadata names it: a tag's name (``v1.2.0``, or normalised ``1.2.0``),
    #: ``dev-<branch>`` for a branch (or Composer's ``1.x-dev`` form for numeric branches).
    version: str
    #: ``source.reference``: the commit id the version resolves to.
    reference: str
    #: ``source.url``: where Composer clones it from.
    source_url: str
    #: ``dist.url``: the archive Composer downloads, or None when none is served.
    dist_url: str | None = None


#: ``GET /packages``: package name -> its versions.
Packages = Mapping[str, tuple[PackageVersion, ...]]


def packages_from_metadata(metadata: Mapping[str, Any]) -> Packages:
    """Composer 2 metadata (package name -> its version objects, as ``GET /packages``'s
    ``packages`` holds it, already validated) as :data:`Packages`."""
    return {
        name: tuple(
            PackageVersion(
                name=entry["name"],
                version=entry["version"],
                reference=entry["source"]["reference"],
                source_url=entry["source"]["url"],
                dist_url=entry["dist"]["url"] if isinstance(entry.get("dist"), dict) else None,
            )
            for entry in entries
        )
        for name, entries in metadata.items()
    }


class DriverError(Exception):
    """The SUT answered off-protocol or could not be reached; ``where`` names the endpoint."""

    def __init__(self, where: str, problem: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(where, problem)
        self.where = where
        self.problem = problem
        self.details = details

    def __str__(self) -> str:
        extra = "".join(f"\n  {line}" for line in self.details)
        return f"{self.where}: {self.problem}{extra}"


@runtime_checkable
class Integrator(Protocol):
    """A Packagist-like integration with Bitbucket Data Center, as the harness drives it.

    Every method corresponds to one endpoint of the HTTP driver protocol. Methods raise
    :class:`DriverError` when the implementation cannot answer as specified.
    """

    def capabilities(self) -> Capabilities:
        """What the implementation supports. ``GET /capabilities``.

        Must answer without side effects. Used by every feature to skip scenarios that need an
        OAuth version or the repository listing the implementation does not offer.
        """
        ...

    def reset(self) -> None:
        """Forget every integration and every user session. ``POST /reset``.

        Called before every scenario.
        """
        ...

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """Open the Add Integration form, choose the platform, enter the base URL and pick the
        OAuth version. ``POST /integrations``.

        Must not store credentials yet; the Client ID and secret fields stay empty for OAuth 2.
        Used by "Open the Add Integration form" and every later section.
        """
        ...

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """Enter the Client ID and secret and press "Create Integration".
        ``POST /integrations/{id}/submit``.

        Returns where the admin is sent (the integrations list), or the error the form shows
        (e.g. credentials Bitbucket rejects). Used by "Finish the Setup".
        """
        ...

    def integrations(self) -> list[IntegrationSummary]:
        """The integrations listing with each one's login link. ``GET /integrations``.

        Used by "Share the login link".
        """
        ...

    def session(self, cookies: Cookies) -> SessionState:
        """Who is logged in for the browser holding ``cookies``. ``GET /session``.

        Must reflect the SUT's live view: a login whose tokens no longer work (link deleted)
        is reported as not authenticated. Used by the login scenarios.
        """
        ...

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """The logged-in user's repositories and whether each has a ``composer.json``.
        ``GET /repositories``; only when ``capabilities().repositories`` is true."""
        ...


@runtime_checkable
class Clocked(Protocol):
    """The optional part of :class:`Integrator` for ``capabilities().clock``."""

    def advance_clock(self, seconds: int) -> None:
        """Time passed: move the implementation's clock ``seconds`` on (as far as its token
        lifetimes are concerned). ``POST /clock``; only when ``capabilities().clock``."""
        ...


@runtime_checkable
class Packaged(Protocol):
    """The optional part of :class:`Integrator` for ``capabilities().packages``."""

    def packages(self, cookies: Cookies) -> Packages:
        """The Composer packages the implementation serves the logged-in user, as it holds
        them now (no synchronisation is implied). ``GET /packages``."""
        ...

    def synchronise(self, cookies: Cookies) -> None:
        """Synchronise the logged-in user's packages with Bitbucket now, and return when
        done. ``POST /packages/sync``."""
        ...


@runtime_checkable
class Hooked(Protocol):
    """The optional part of :class:`Integrator` for ``capabilities().webhooks``."""

    def add_code_credential(self, username: str, token: str) -> None:
        """Give the implementation a Bitbucket personal access token of ``username`` to set
        up webhooks with (Private Packagist's "code credentials"). ``POST /code-credentials``.
        Webhooks are expected from the next synchronisation on."""
        ...
