"""The reference integration's state: integrations, browser sessions, tokens, its clock, and
the Composer users' packages and webhooks (:mod:`.package_store`).

All of it lives in one :class:`ReferenceState`, owned by the event loop that serves the app;
``reset()`` forgets everything in place.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from conformance.reference import rules
from conformance.reference.package_store import HookStore, PackageStore


class Clock:
    """The integration's own time source (wall clock plus an offset tests may advance)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the integration sees them."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the integration's time forward."""
        self.offset += seconds

    def reset(self) -> None:
        """Back to the wall clock."""
        self.offset = 0.0


@dataclass(frozen=True, slots=True)
class OAuth1Consumer:
    """What an OAuth 1 integration generates: its consumer key and RSA key pair. The admin
    pastes the key and the certificate into the link's Incoming Authentication."""

    consumer_key: str
    #: The RSA private key (PKCS#8 PEM): it signs every request and never leaves here.
    private_key: str
    #: The public key as a self-signed X.509 certificate (PEM), as Packagist supplies it.
    certificate: str


@dataclass(slots=True)
class Integration:
    """One Bitbucket integration, from the Add Integration form."""

    id: str
    platform: str
    base_url: str
    oauth_version: int
    slug: str
    #: The version application-properties reported when the form was filled.
    bitbucket_version: str
    client_id: str = ""
    client_secret: str = ""
    #: OAuth 1 only: the generated consumer (None for OAuth 2).
    consumer: OAuth1Consumer | None = None
    #: Whether "Create Integration" succeeded (only then is it listed and can log users in).
    submitted: bool = False


@dataclass(frozen=True, slots=True)
class Tokens:
    """An OAuth 2 token pair and when the access token expires (integration clock)."""

    access_token: str
    refresh_token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class OAuth1Token:
    """An OAuth 1 access token and its secret (RSA-SHA1 does not sign with the secret, but it
    is the token's other half and is kept with it)."""

    token: str
    secret: str


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """An OAuth 2 login started from a login link and not yet back from Bitbucket."""

    integration_id: str
    state: str
    code_verifier: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class PendingOAuth1Login:
    """An OAuth 1 login waiting for Bitbucket's callback: the request token this browser was
    sent to authorize (the OAuth 1 analogue of ``state``)."""

    integration_id: str
    request_token: str
    request_token_secret: str


@dataclass(frozen=True, slots=True)
class Account:
    """The Bitbucket user a session is logged in as."""

    username: str
    slug: str
    display_name: str


@dataclass(slots=True)
class BrowserSession:
    """Server-side state of one browser (cookie ``REFSESSION``)."""

    id: str
    pending: PendingLogin | PendingOAuth1Login | None = None
    integration_id: str | None = None
    account: Account | None = None
    #: OAuth 2 token pair, or the OAuth 1 access token.
    tokens: Tokens | OAuth1Token | None = None
    #: What the user is shown: why the last login failed or ended.
    error: str | None = None
    #: The page the login link was asked to return to (``?next=``), as given.
    return_to: str | None = None
    #: Serialises token refreshes (refresh tokens rotate: two concurrent refreshes of the
    #: same token would end the login).
    refresh_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def logged_in(self) -> bool:
        """Whether a login completed and has not ended since."""
        return self.account is not None and self.tokens is not None

    def log_out(self, error: str | None) -> None:
        """End the login (if any) and remember why."""
        self.integration_id = None
        self.account = None
        self.tokens = None
        self.error = error


@dataclass(frozen=True, slots=True)
class Repository:
    """One repository the user can read, with what its ``composer.json`` says."""

    project: str
    slug: str
    name: str
    has_composer_json: bool
    #: The ``name`` of its composer.json (None without one, or when it has none).
    package_name: str | None = None


class ReferenceState:
    """Everything the reference remembers."""

    def __init__(self, public_url: str = "http://127.0.0.1") -> None:
        #: The URL browsers reach the reference at (set once the server is bound).
        self.public_url = public_url.rstrip("/")
        self.clock = Clock()
        self.integrations: dict[str, Integration] = {}
        self.sessions: dict[str, BrowserSession] = {}
        #: The Composer users and their packages.
        self.packages = PackageStore(rules.MAX_USERS)
        #: Code credentials and the webhooks made with them.
        self.hooks = HookStore(rules.MAX_CODE_CREDENTIALS, rules.MAX_WEBHOOKS)

    def reset(self) -> None:
        """Forget every integration, session, package and webhook; back to the wall clock."""
        self.integrations.clear()
        self.sessions.clear()
        self.packages.reset()
        self.hooks.reset()
        self.clock.reset()

    def integration_by_slug(self, slug: str) -> Integration | None:
        """The integration whose URLs carry this slug."""
        return next((i for i in self.integrations.values() if i.slug == slug), None)

    def new_session(self) -> BrowserSession:
        """A fresh browser session with an unguessable id."""
        session = BrowserSession(id=secrets.token_urlsafe(32))
        self.sessions[session.id] = session
        return session

    def rotate_session(self, session: BrowserSession) -> BrowserSession:
        """Give a session a new id (after login, against session fixation)."""
        del self.sessions[session.id]
        session.id = secrets.token_urlsafe(32)
        self.sessions[session.id] = session
        return session
