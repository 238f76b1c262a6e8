"""The reference integration's logic: every operation of the driver protocol and the browser's
login, shared by the JSON endpoints, the HTML pages and the in-process Python driver.

:class:`Reference` sequences the rules of :mod:`conformance.reference.rules` and the calls of
:mod:`conformance.reference.bitbucket`; it answers the data types of :mod:`conformance.sut`
so that every way of asking gives the same answer. Its coroutines run on the event loop that
serves the app (the state is not shared across threads).

OAuth 2 and OAuth 1 integrations share the form, the listing, the identification of the user
and the REST calls; they differ in what the form shows (OAuth 1: a generated consumer key and
certificate, nothing to paste back), in how "Create Integration" checks the link (OAuth 1: a
signed request-token call), in the login (authorization code with state and PKCE, or request
token, Allow, verifier and access token) and in how calls authenticate (Bearer, refreshed;
or signed with the access token, which does not expire within a session).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, NamedTuple, Protocol

import aiohttp

from conformance.reference import rules as default_rules
from conformance.reference.bitbucket import (
    Answer,
    BitbucketClient,
    BitbucketUnreachableError,
    Credential,
)
from conformance.reference.models import (
    Account,
    BrowserSession,
    Integration,
    OAuth1Consumer,
    OAuth1Token,
    PendingLogin,
    PendingOAuth1Login,
    ReferenceState,
    Repository,
    Tokens,
)
from conformance.reference.oauth1 import OAuth1Signer, generate_consumer
from conformance.reference.packages import PackageSync
from conformance.reference.polling import Poller
from conformance.reference.rules import RefusalError, declared_name
from conformance.reference.webhooks import WebhookSetup
from conformance.sut import (
    Capabilities,
    CreatedIntegration,
    IntegrationSummary,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

Call = Callable[[BitbucketClient, Credential], Awaitable[Answer]]
#: How many ``composer.json`` files are fetched at once.
COMPOSER_CONCURRENCY = 8


class RuleBook(Protocol):
    """The rules the flow asks: :mod:`conformance.reference.rules` itself, or a variant of it
    with one rule changed (a mutant, :mod:`conformance.mutants`)."""

    PROTOCOL_VERSION: int
    NAME: str
    OAUTH_VERSIONS: tuple[int, ...]
    OFFERS_REPOSITORIES: bool
    OFFERS_CLOCK: bool
    OFFERS_PACKAGES: bool
    OFFERS_WEBHOOKS: bool
    PAGE_LIMIT: int
    REF_PAGE_LIMIT: int
    MAX_REPOSITORIES_PER_USER: int
    MAX_VERSIONS_PER_REPOSITORY: int
    MAX_COMPOSER_JSON_BYTES: int
    MAX_DELIVERY_BYTES: int
    POLL_CHECK_SECONDS: float
    COMPOSER_FIELDS: tuple[str, ...]
    COMPOSER_REALM: str
    CREDENTIALS_PROBE_TOKEN: str
    SESSION_COOKIE: str
    RETURN_PARAMETER: str
    REDIRECT_AFTER_CALLBACK: bool
    STATE_MISMATCH: str
    ACCESS_DENIED: str
    TWO_FACTOR_BLOCKED: str
    LOGIN_NO_LONGER_VALID: str
    WRONG_CLIENT_CREDENTIALS: str
    NOT_LOGGED_IN: str
    MISSING_CREDENTIALS: str
    OAUTH1_CALLBACK_MISMATCH: str

    # -- the Add Integration form
    def check_platform(self, platform: object) -> str: ...
    def check_oauth_version(self, version: object) -> int: ...
    def normalise_base_url(self, raw: object) -> str: ...
    def parse_version(self, text: str) -> tuple[int, int, int] | None: ...
    def offers_oauth2(self, version: tuple[int, int, int]) -> bool: ...
    def oauth2_unavailable(self, version_text: str) -> str: ...
    def unreachable(self, base_url: str, reason: str) -> str: ...
    def setup_link(self, base_url: str) -> str: ...
    def new_integration_id(self) -> str: ...
    def integration_slug(self, integration_id: str) -> str: ...
    def callback_urls(self, public_url: str, slug: str) -> default_rules.CallbackUrls: ...
    def login_link(self, public_url: str, slug: str) -> str: ...
    def oauth1_callback_url(self, public_url: str, slug: str) -> str: ...
    def application_url(self, public_url: str) -> str: ...
    def consumer_key(self, integration_id: str) -> str: ...
    def oauth1_messages(self, version: tuple[int, int, int] | None) -> tuple[str, ...]: ...
    def link_problem(self, problem: str, key: str) -> str: ...
    def integrations_page(self, public_url: str) -> str: ...
    def home_page(self, public_url: str) -> str: ...
    def after_login_page(self, public_url: str, requested: str | None) -> str: ...
    def credentials_rejected(self, status: int, error: str) -> bool: ...

    # -- the login
    def new_state(self) -> str: ...
    def new_code_verifier(self) -> str: ...
    def code_challenge(self, verifier: str) -> str: ...
    def authorize_url(
        self, base_url: str, client_id: str, redirect_uri: str, state: str, challenge: str
    ) -> str: ...
    def state_matches(self, expected: str | None, given: str | None) -> bool: ...
    def callback_error(self, error: str, description: str) -> str: ...
    def code_grant(
        self, code: str, redirect_uri: str, client_id: str, client_secret: str, code_verifier: str
    ) -> dict[str, str]: ...
    def token_error(self, error: str, description: str) -> str: ...
    def two_factor_blocked(self, status: int, error_text: str) -> bool: ...
    def callback_confirmed(self, pairs: Mapping[str, str]) -> bool: ...
    def oauth1_authorize_url(self, base_url: str, request_token: str) -> str: ...
    def request_token_matches(self, expected: str | None, given: str | None) -> bool: ...
    def oauth1_denied(self, verifier: str) -> bool: ...
    def oauth1_login_problem(self, problem: str, advice: str) -> str: ...

    # -- a logged-in session
    def token_expired(self, expires_at: float, now: float) -> bool: ...
    def token_rejected(self, status: int, username: str | None) -> bool: ...
    def refresh_grant(
        self, refresh_token: str, client_id: str, client_secret: str
    ) -> dict[str, str]: ...
    def next_refresh_token(self, used: str, issued: str) -> str: ...
    def refresh_failure_logs_out(self, status: int) -> bool: ...
    def next_page_start(self, page: Mapping[str, Any], start: int) -> int | None: ...

    # -- packages and webhooks
    def new_composer_token(self) -> str: ...
    def composer_password_matches(self, expected: str, given: str) -> bool: ...
    def package_name(self, composer: object) -> str | None: ...
    def tag_version(self, tag: str) -> tuple[str, str] | None: ...
    def branch_version(self, branch: str) -> tuple[str, str]: ...
    def kept_versions(self, held: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]: ...
    def still_readable(
        self, repository: tuple[str, str], listed: frozenset[tuple[str, str]]
    ) -> bool: ...
    def poll_due(self, synchronised_at: float, now: float) -> bool: ...
    def webhook_url(self, public_url: str, slug: str) -> str: ...
    def new_webhook_secret(self) -> str: ...
    def webhook_definition(self, name: str, url: str, secret: str) -> dict[str, Any]: ...
    def signature_valid(self, secret: str, body: bytes, header: str | None) -> bool: ...
    def parse_webhook_date(self, text: object) -> float | None: ...
    def webhook_stale(self, date: float | None, now: float) -> bool: ...


#: The variable naming a CA certificate the reference trusts besides the system's.
CA_FILE_VARIABLE = "BBDC_SIM_CA_FILE"


class LoginProblemError(Exception):
    """A logged-in session cannot use Bitbucket now. ``status`` is 401 when the login ended
    or is blocked, 502 when Bitbucket failed."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LoginFailedError(Exception):
    """The login through the callback did not complete; the message is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_tokens(answer: Answer, now: float) -> Tokens | None:
    """The token pair of a successful token answer, or None when the answer has none."""
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict):
        return None
    access, refresh, expires_in = (
        body.get("access_token"),
        body.get("refresh_token"),
        body.get("expires_in"),
    )
    if not isinstance(access, str) or not access or not isinstance(refresh, str):
        return None
    lifetime = expires_in if isinstance(expires_in, int | float) else 3600
    return Tokens(access_token=access, refresh_token=refresh, expires_at=now + lifetime)


def request_token_failure(answer: Answer) -> tuple[str, str]:
    """Why no request token came: ``(problem, advice)``, the problem being Bitbucket's
    ``oauth_problem``, an unconfirmed callback, or the HTTP status."""
    problem, advice = answer.oauth1_problem
    if problem:
        return problem, advice
    if answer.status == 200 and answer.form().get("oauth_token"):
        return "oauth_callback_confirmed missing", ""
    return f"HTTP {answer.status}", ""


class ListedRepository(NamedTuple):
    """A repository of the user's listing: where it is, its name and its http clone URL."""

    project: str
    slug: str
    name: str
    clone_url: str


def clone_url(repo: Mapping[str, Any]) -> str:
    """The ``http`` clone link of a repository as the REST API shows it ('' if none)."""
    links = repo.get("links")
    clones = links.get("clone") if isinstance(links, dict) else None
    for link in clones if isinstance(clones, list) else []:
        if isinstance(link, dict) and link.get("name") == "http":
            return str(link.get("href", ""))
    return ""


def entry(repository: Repository) -> RepositoryEntry:
    """One row of ``GET /repositories``."""
    return RepositoryEntry(
        project=repository.project,
        slug=repository.slug,
        has_composer_json=repository.has_composer_json,
    )


class Reference:
    """The reference integration: state plus an HTTP client for Bitbucket."""

    def __init__(self, state: ReferenceState, rules: RuleBook = default_rules) -> None:
        self.state = state
        #: Every decision the flow takes (a mutant of the reference replaces one).
        self.rules = rules
        self._http: aiohttp.ClientSession | None = None
        #: The users' Composer packages (:mod:`.packages`) and webhooks (:mod:`.webhooks`).
        self.composer = PackageSync(self)
        self.webhooks = WebhookSetup(self)
        #: The 12-hourly synchronisation where no webhook reports pushes (:mod:`.polling`).
        self.poller = Poller(self)

    # -- lifecycle (on the serving loop) ----------------------------------------------------

    async def open(self) -> None:
        """Create the HTTP client (call on the loop that will use it). It trusts the CA
        certificate ``BBDC_SIM_CA_FILE`` names too (a simulator serving HTTPS with a CA it
        made: ``bbdc-sim conform --bitbucket-tls`` sets it)."""
        ca_file = os.environ.get(CA_FILE_VARIABLE)
        if ca_file:
            context = ssl.create_default_context()
            context.load_verify_locations(cafile=ca_file)
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
        else:
            self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def bitbucket(self, base_url: str) -> BitbucketClient:
        """A client of the Bitbucket at ``base_url``."""
        if self._http is None:
            raise RuntimeError("the reference app is not running")
        return BitbucketClient(self._http, base_url)

    @property
    def public_url(self) -> str:
        """Where browsers reach the reference."""
        return self.state.public_url

    # -- capabilities, reset ----------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """What the reference supports."""
        return Capabilities(
            protocol=self.rules.PROTOCOL_VERSION,
            name=self.rules.NAME,
            oauth_versions=self.rules.OAUTH_VERSIONS,
            repositories=self.rules.OFFERS_REPOSITORIES,
            clock=self.rules.OFFERS_CLOCK,
            packages=self.rules.OFFERS_PACKAGES,
            webhooks=self.rules.OFFERS_PACKAGES and self.rules.OFFERS_WEBHOOKS,
        )

    def reset(self) -> None:
        """Forget every integration and session."""
        self.state.reset()

    def advance_clock(self, seconds: int) -> None:
        """Time passed: move the integration's own clock on (and look for due polls)."""
        self.state.clock.advance(seconds)
        self.poller.wake()

    # -- the Add Integration form -----------------------------------------------------------

    async def create_integration(
        self, platform: object, base_url: object, oauth_version: object
    ) -> CreatedIntegration:
        """Choose platform, base URL and OAuth version; ask Bitbucket its version."""
        chosen_platform = self.rules.check_platform(platform)
        base = self.rules.normalise_base_url(base_url)
        version = self.rules.check_oauth_version(oauth_version)
        bitbucket_version = await self._bitbucket_version(base)
        integration_id = self.rules.new_integration_id()
        integration = Integration(
            id=integration_id,
            platform=chosen_platform,
            base_url=base,
            oauth_version=version,
            slug=self.rules.integration_slug(integration_id),
            bitbucket_version=bitbucket_version,
        )
        if version == 1:
            integration.consumer = await asyncio.to_thread(
                generate_consumer,
                self.rules.consumer_key(integration_id),
                self.rules.NAME,
                self.state.clock.now(),
            )
        self.state.integrations[integration.id] = integration
        return self.form(integration)

    async def _bitbucket_version(self, base_url: str) -> str:
        """The version application-properties reports; 422 when there is no Bitbucket."""
        try:
            answer = await self.bitbucket(base_url).application_properties()
        except BitbucketUnreachableError as exc:
            raise RefusalError(self.rules.unreachable(base_url, exc.reason)) from None
        body = answer.json()
        version = body.get("version") if isinstance(body, dict) else None
        if (
            answer.status != 200
            or not isinstance(version, str)
            or not self.rules.parse_version(version)
        ):
            reason = f"HTTP {answer.status} from application-properties, without a version"
            raise RefusalError(self.rules.unreachable(base_url, reason))
        return version

    def form(self, integration: Integration) -> CreatedIntegration:
        """What the form shows once platform, base URL and OAuth version are chosen."""
        prepare = {1: self._oauth1_form, 2: self._oauth2_form}[integration.oauth_version]
        return prepare(integration)

    def _oauth1_form(self, integration: Integration) -> CreatedIntegration:
        """The generated consumer key and certificate, the Application URL, the callback
        (informational: the Consumer Callback URL stays empty) and the version's warning."""
        consumer = self._consumer(integration)
        return CreatedIntegration(
            id=integration.id,
            setup_link=self.rules.setup_link(integration.base_url),
            callback_urls=(self.rules.oauth1_callback_url(self.public_url, integration.slug),),
            client_id="",
            client_secret="",
            messages=self.rules.oauth1_messages(
                self.rules.parse_version(integration.bitbucket_version)
            ),
            consumer_key=consumer.consumer_key,
            public_key=consumer.certificate,
            application_url=self.rules.application_url(self.public_url),
        )

    @staticmethod
    def _consumer(integration: Integration) -> OAuth1Consumer:
        if integration.consumer is None:
            raise RuntimeError(f"integration {integration.id} has no OAuth 1 consumer")
        return integration.consumer

    def _signer(
        self,
        integration: Integration,
        token: OAuth1Token | None = None,
        *,
        callback: str | None = None,
        verifier: str | None = None,
    ) -> OAuth1Signer:
        """Signs as the integration's consumer (with a token when given), on our clock."""
        consumer = self._consumer(integration)
        return OAuth1Signer(
            consumer_key=consumer.consumer_key,
            private_key=consumer.private_key,
            now=self.state.clock.now,
            token=token.token if token else None,
            token_secret=token.secret if token else None,
            callback=callback,
            verifier=verifier,
        )

    def _oauth2_form(self, integration: Integration) -> CreatedIntegration:
        urls = self.rules.callback_urls(self.public_url, integration.slug).as_tuple()
        unavailable = self._oauth2_unavailable(integration)
        return CreatedIntegration(
            id=integration.id,
            setup_link=None if unavailable else self.rules.setup_link(integration.base_url),
            callback_urls=urls,
            client_id="",
            client_secret="",
            messages=(unavailable,) if unavailable else (),
        )

    def _oauth2_unavailable(self, integration: Integration) -> str | None:
        version = self.rules.parse_version(integration.bitbucket_version)
        if version is not None and self.rules.offers_oauth2(version):
            return None
        return self.rules.oauth2_unavailable(integration.bitbucket_version)

    def integration(self, integration_id: str) -> Integration:
        """The integration with this id; 404 otherwise."""
        integration = self.state.integrations.get(integration_id)
        if integration is None:
            raise RefusalError(f"No integration has the id {integration_id!r}.", 404)
        return integration

    async def submit(
        self, integration_id: str, client_id: object, client_secret: object
    ) -> SubmitResult:
        """The "Create Integration" button: check the credentials with Bitbucket, then keep them."""
        integration = self.integration(integration_id)
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise RefusalError("client_id and client_secret must be strings.", 400)
        if integration.oauth_version == 1:
            return await self._submit_oauth1(integration)
        client_id, client_secret = client_id.strip(), client_secret.strip()
        if not client_id or not client_secret:
            return SubmitResult(error=self.rules.MISSING_CREDENTIALS)
        unavailable = self._oauth2_unavailable(integration)
        if unavailable:
            return SubmitResult(error=unavailable)
        error = await self._check_credentials(integration, client_id, client_secret)
        if error is not None:
            return SubmitResult(error=error)
        integration.client_id, integration.client_secret = client_id, client_secret
        integration.submitted = True
        return SubmitResult(redirect_to=self.rules.integrations_page(self.public_url))

    async def _submit_oauth1(self, integration: Integration) -> SubmitResult:
        """OAuth 1 has nothing to paste back: ask Bitbucket for a request token, signed as
        the consumer, to prove the link exists with our key (the token is dropped)."""
        try:
            answer, token = await self._request_token(integration)
        except BitbucketUnreachableError as exc:
            return SubmitResult(error=self.rules.unreachable(integration.base_url, exc.reason))
        if token is None:
            problem, _ = request_token_failure(answer)
            key = self._consumer(integration).consumer_key
            return SubmitResult(error=self.rules.link_problem(problem, key))
        integration.submitted = True
        return SubmitResult(redirect_to=self.rules.integrations_page(self.public_url))

    async def _request_token(self, integration: Integration) -> tuple[Answer, OAuth1Token | None]:
        """A request token for the integration's OAuth 1 callback; None when Bitbucket did
        not issue one or did not confirm the callback (an OAuth 1.0 answer)."""
        callback = self.rules.oauth1_callback_url(self.public_url, integration.slug)
        answer = await self.bitbucket(integration.base_url).request_token(
            self._signer(integration, callback=callback)
        )
        pairs = answer.form()
        token = pairs.get("oauth_token", "")
        if answer.status != 200 or not token or not self.rules.callback_confirmed(pairs):
            return answer, None
        return answer, OAuth1Token(token=token, secret=pairs.get("oauth_token_secret", ""))

    async def _check_credentials(
        self, integration: Integration, client_id: str, client_secret: str
    ) -> str | None:
        """The revoke probe (see :mod:`conformance.reference.bitbucket`); the error or None."""
        try:
            answer = await self.bitbucket(integration.base_url).revoke(
                self.rules.CREDENTIALS_PROBE_TOKEN, client_id, client_secret
            )
        except BitbucketUnreachableError as exc:
            return self.rules.unreachable(integration.base_url, exc.reason)
        error, _ = answer.oauth_error
        if self.rules.credentials_rejected(answer.status, error):
            return self.rules.WRONG_CLIENT_CREDENTIALS
        if answer.status != 200:
            detail = f"HTTP {answer.status} {error}".strip()
            return (
                f"Bitbucket did not confirm the Client ID / Client Secret ({detail}); "
                "check the base URL and try again."
            )
        return None

    def integrations(self) -> list[IntegrationSummary]:
        """The created integrations with their login links."""
        return [
            IntegrationSummary(
                id=i.id,
                platform=i.platform,
                base_url=i.base_url,
                oauth_version=i.oauth_version,
                login_link=self.rules.login_link(self.public_url, i.slug),
            )
            for i in self.state.integrations.values()
            if i.submitted
        ]

    # -- the login ---------------------------------------------------------------------------

    def session_for(self, cookies: Mapping[str, str]) -> BrowserSession | None:
        """The server-side session of a browser holding these cookies."""
        return self.state.sessions.get(cookies.get(self.rules.SESSION_COOKIE, ""))

    def _login_integration(self, slug: str) -> Integration:
        integration = self.state.integration_by_slug(slug)
        if integration is None or not integration.submitted:
            raise RefusalError(f"No integration has the login link {slug!r}.", 404)
        return integration

    async def start_login(self, session: BrowserSession, slug: str) -> str:
        """The login link: remember state and PKCE verifier (OAuth 2) or the request token
        (OAuth 1); the authorize URL to go to (the home page when OAuth 1 could not start)."""
        integration = self._login_integration(slug)
        if integration.oauth_version == 1:
            return await self._start_oauth1_login(session, integration)
        redirect_uri = self.rules.callback_urls(self.public_url, integration.slug).login
        pending = PendingLogin(
            integration_id=integration.id,
            state=self.rules.new_state(),
            code_verifier=self.rules.new_code_verifier(),
            redirect_uri=redirect_uri,
        )
        session.pending = pending
        verifier = pending.code_verifier
        return self.rules.authorize_url(
            integration.base_url,
            integration.client_id,
            redirect_uri,
            pending.state,
            self.rules.code_challenge(verifier) if verifier else "",
        )

    async def _start_oauth1_login(self, session: BrowserSession, integration: Integration) -> str:
        """A request token for this browser (callback: the integration's OAuth 1 callback)."""
        session.pending = None
        try:
            answer, token = await self._request_token(integration)
        except BitbucketUnreachableError as exc:
            session.log_out(self.rules.unreachable(integration.base_url, exc.reason))
            return self.rules.home_page(self.public_url)
        if token is None:
            session.log_out(self.rules.oauth1_login_problem(*request_token_failure(answer)))
            return self.rules.home_page(self.public_url)
        session.pending = PendingOAuth1Login(
            integration_id=integration.id,
            request_token=token.token,
            request_token_secret=token.secret,
        )
        return self.rules.oauth1_authorize_url(integration.base_url, token.token)

    async def finish_oauth1_login(
        self, session: BrowserSession, slug: str, query: Mapping[str, str]
    ) -> BrowserSession:
        """The OAuth 1 callback: check the request token is this browser's, then the
        verifier, get the access token and identify the user. Answers the session (under a
        new id after a successful login); on failure it is logged out with the reason."""
        integration = self._login_integration(slug)
        pending, session.pending = session.pending, None
        try:
            expected = (
                pending.request_token
                if isinstance(pending, PendingOAuth1Login)
                and pending.integration_id == integration.id
                else None
            )
            if not self.rules.request_token_matches(expected, query.get("oauth_token")):
                raise LoginFailedError(self.rules.OAUTH1_CALLBACK_MISMATCH)
            assert isinstance(pending, PendingOAuth1Login)
            verifier = query.get("oauth_verifier", "")
            if self.rules.oauth1_denied(verifier):
                raise LoginFailedError(self.rules.ACCESS_DENIED)
            if not verifier:
                raise LoginFailedError("Bitbucket sent no verifier; please log in again.")
            token = await self._oauth1_access_token(integration, pending, verifier)
            account = await self._identify(integration, self._signer(integration, token))
        except LoginFailedError as failure:
            session.log_out(failure.message)
            return session
        return self._logged_in(session, integration, account, token)

    async def _oauth1_access_token(
        self, integration: Integration, pending: PendingOAuth1Login, verifier: str
    ) -> OAuth1Token:
        """Exchange the authorized request token and verifier for an access token."""
        request_token = OAuth1Token(pending.request_token, pending.request_token_secret)
        signer = self._signer(integration, request_token, verifier=verifier)
        try:
            answer = await self.bitbucket(integration.base_url).access_token(signer)
        except BitbucketUnreachableError as exc:
            raise LoginFailedError(
                self.rules.unreachable(integration.base_url, exc.reason)
            ) from None
        if self.rules.two_factor_blocked(answer.status, answer.error_text):
            raise LoginFailedError(self.rules.TWO_FACTOR_BLOCKED)
        pairs = answer.form()
        token = pairs.get("oauth_token", "")
        if answer.status != 200 or not token:
            problem, advice = answer.oauth1_problem
            raise LoginFailedError(
                self.rules.oauth1_login_problem(problem or f"HTTP {answer.status}", advice)
            )
        return OAuth1Token(token=token, secret=pairs.get("oauth_token_secret", ""))

    def _logged_in(
        self,
        session: BrowserSession,
        integration: Integration,
        account: Account,
        tokens: Tokens | OAuth1Token,
    ) -> BrowserSession:
        """The login completed: remember who and how, under a new session id."""
        session.integration_id = integration.id
        session.account = account
        session.tokens = tokens
        session.error = None
        return self.state.rotate_session(session)

    async def finish_login(
        self, session: BrowserSession, slug: str, query: Mapping[str, str]
    ) -> BrowserSession:
        """The callback: check state, exchange the code, identify the user. Answers the
        session (under a new id after a successful login); on failure it is logged out with
        the reason."""
        integration = self._login_integration(slug)
        pending, session.pending = session.pending, None
        try:
            expected = (
                pending.state
                if isinstance(pending, PendingLogin) and pending.integration_id == integration.id
                else None
            )
            if not self.rules.state_matches(expected, query.get("state")):
                raise LoginFailedError(self.rules.STATE_MISMATCH)
            assert isinstance(pending, PendingLogin)
            if "error" in query:
                raise LoginFailedError(
                    self.rules.callback_error(query["error"], query.get("error_description", ""))
                )
            code = query.get("code", "")
            if not code:
                raise LoginFailedError("Bitbucket sent no authorization code; please log in again.")
            tokens = await self._exchange_code(integration, pending, code)
            account = await self._identify(integration, tokens.access_token)
        except LoginFailedError as failure:
            session.log_out(failure.message)
            return session
        return self._logged_in(session, integration, account, tokens)

    async def _exchange_code(
        self, integration: Integration, pending: PendingLogin, code: str
    ) -> Tokens:
        form = self.rules.code_grant(
            code,
            pending.redirect_uri,
            integration.client_id,
            integration.client_secret,
            pending.code_verifier,
        )
        try:
            answer = await self.bitbucket(integration.base_url).token(form)
        except BitbucketUnreachableError as exc:
            raise LoginFailedError(
                self.rules.unreachable(integration.base_url, exc.reason)
            ) from None
        if self.rules.two_factor_blocked(answer.status, answer.error_text):
            raise LoginFailedError(self.rules.TWO_FACTOR_BLOCKED)
        tokens = parse_tokens(answer, self.state.clock.now())
        if tokens is None:
            error, description = answer.oauth_error
            raise LoginFailedError(
                self.rules.token_error(error or f"HTTP {answer.status}", description)
            )
        return tokens

    async def _identify(self, integration: Integration, auth: Credential) -> Account:
        """Who the token belongs to: ``X-AUSERNAME``, then the user found by name."""
        client = self.bitbucket(integration.base_url)
        try:
            answer = await self._whoami(client, auth)
            if self.rules.two_factor_blocked(answer.status, answer.error_text):
                raise LoginFailedError(self.rules.TWO_FACTOR_BLOCKED)
            if answer.username is None:
                raise LoginFailedError(
                    "Bitbucket did not accept the new access token; log in again."
                )
            account = await self._find_account(client, auth, answer.username)
        except BitbucketUnreachableError as exc:
            raise LoginFailedError(
                self.rules.unreachable(integration.base_url, exc.reason)
            ) from None
        if account is None:
            raise LoginFailedError(f"Bitbucket did not confirm the account {answer.username!r}.")
        return account

    async def _whoami(self, client: BitbucketClient, auth: Credential) -> Answer:
        """A call that names the token's user in ``X-AUSERNAME``: application-properties,
        made with the token (an anonymous call names nobody)."""
        return await client.application_properties(auth)

    async def _find_account(
        self, client: BitbucketClient, auth: Credential, username: str
    ) -> Account | None:
        """Users are addressed by slug, which may differ from the name: search by name,
        then read the user by its slug."""
        start: int | None = 0
        slug: str | None = None
        while start is not None and slug is None:
            page = (await client.users(auth, username, start)).json()
            if not isinstance(page, dict):
                return None
            for user in page.get("values") or []:
                if isinstance(user, dict) and str(user.get("name", "")).lower() == username.lower():
                    slug = str(user.get("slug", ""))
            start = self.rules.next_page_start(page, start)
        if not slug:
            return None
        answer = await client.user(auth, slug)
        user = answer.json()
        if answer.status != 200 or not isinstance(user, dict) or user.get("active") is False:
            return None
        return Account(
            username=str(user.get("name", username)),
            slug=str(user.get("slug", slug)),
            display_name=str(user.get("displayName", username)),
        )

    # -- a logged-in session -------------------------------------------------------------------

    async def session_state(self, session: BrowserSession | None) -> SessionState:
        """Who is logged in, checked live with Bitbucket (refreshing the token if needed)."""
        if session is None:
            return SessionState(authenticated=False)
        if not session.logged_in or session.account is None:
            return SessionState(authenticated=False, error=session.error)
        try:
            await self._authorized(
                session, lambda client, token: client.application_properties(token)
            )
        except LoginProblemError as problem:
            return SessionState(authenticated=False, error=problem.message)
        return SessionState(authenticated=True, username=session.account.username)

    async def repositories(self, session: BrowserSession | None) -> list[Repository]:
        """The user's readable repositories and their composer.json; 401 when not logged in."""
        if session is None or not session.logged_in:
            raise RefusalError(
                session.error if session and session.error else self.rules.NOT_LOGGED_IN, 401
            )
        try:
            listed = await self._list_repositories(session)
            return await self._with_composer(session, listed)
        except LoginProblemError as problem:
            raise RefusalError(problem.message, problem.status) from None

    async def _list_repositories(self, session: BrowserSession) -> list[ListedRepository]:
        """Every repository the user reads, following ``nextPageStart``."""
        found: list[ListedRepository] = []
        start: int | None = 0
        while start is not None:
            at = start
            answer = await self._authorized(session, repos_page(at, self.rules.PAGE_LIMIT))
            page = answer.json()
            if answer.status != 200 or not isinstance(page, dict):
                raise LoginProblemError(f"Bitbucket answered HTTP {answer.status} to repos.", 502)
            for repo in page.get("values") or []:
                project = repo.get("project") if isinstance(repo, dict) else None
                if isinstance(project, dict):
                    found.append(
                        ListedRepository(
                            str(project.get("key")),
                            str(repo["slug"]),
                            str(repo["name"]),
                            clone_url(repo),
                        )
                    )
            start = self.rules.next_page_start(page, at)
        return found

    async def _with_composer(
        self, session: BrowserSession, listed: list[ListedRepository]
    ) -> list[Repository]:
        limit = asyncio.Semaphore(COMPOSER_CONCURRENCY)

        async def read(project: str, slug: str, name: str) -> Repository:
            async with limit:
                answer = await self._authorized(
                    session,
                    lambda client, token: client.raw(token, project, slug, "composer.json"),
                )
            if answer.status == 404:
                return Repository(project, slug, name, has_composer_json=False)
            if answer.status != 200:
                raise LoginProblemError(
                    f"Bitbucket answered HTTP {answer.status} for {project}/{slug} composer.json.",
                    502,
                )
            return Repository(project, slug, name, True, declared_name(answer.json()))

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read(repo.project, repo.slug, repo.name)) for repo in listed]
        return [task.result() for task in tasks]

    async def _authorized(self, session: BrowserSession, call: Call) -> Answer:
        """Make a call with the session's access token. OAuth 2: refresh first when it expired
        by our clock, and once more when Bitbucket does not take it; end the login when the
        refresh is refused. OAuth 1: sign with the access token; end the login when
        Bitbucket does not take it (there is nothing to refresh)."""
        integration = self.state.integrations.get(session.integration_id or "")
        tokens = session.tokens
        if integration is None or tokens is None:
            session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
            raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)
        client = self.bitbucket(integration.base_url)
        if isinstance(tokens, OAuth1Token):
            answer = await self._call(integration, client, call, self._signer(integration, tokens))
            if self.rules.token_rejected(answer.status, answer.username):
                session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
                raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)
            return answer
        if self.rules.token_expired(tokens.expires_at, self.state.clock.now()):
            tokens = await self._refresh(session, integration, tokens)
        answer = await self._call(integration, client, call, tokens.access_token)
        if self.rules.token_rejected(answer.status, answer.username):
            tokens = await self._refresh(session, integration, tokens)
            answer = await self._call(integration, client, call, tokens.access_token)
            if self.rules.token_rejected(answer.status, answer.username):
                session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
                raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)
        return answer

    async def _call(
        self, integration: Integration, client: BitbucketClient, call: Call, auth: Credential
    ) -> Answer:
        try:
            answer = await call(client, auth)
        except BitbucketUnreachableError as exc:
            raise LoginProblemError(
                self.rules.unreachable(integration.base_url, exc.reason), 502
            ) from None
        if self.rules.two_factor_blocked(answer.status, answer.error_text):
            raise LoginProblemError(self.rules.TWO_FACTOR_BLOCKED)
        return answer

    async def _refresh(
        self, session: BrowserSession, integration: Integration, used: Tokens
    ) -> Tokens:
        """A new token pair (refresh tokens rotate: the new one replaces the old)."""
        async with session.refresh_lock:
            current = session.tokens
            if not isinstance(current, Tokens):
                raise LoginProblemError(session.error or self.rules.LOGIN_NO_LONGER_VALID)
            if current.access_token != used.access_token:
                return current  # refreshed meanwhile by a concurrent call
            form = self.rules.refresh_grant(
                current.refresh_token, integration.client_id, integration.client_secret
            )
            try:
                answer = await self.bitbucket(integration.base_url).token(form)
            except BitbucketUnreachableError as exc:
                raise LoginProblemError(
                    self.rules.unreachable(integration.base_url, exc.reason), 502
                ) from None
            if self.rules.two_factor_blocked(answer.status, answer.error_text):
                raise LoginProblemError(self.rules.TWO_FACTOR_BLOCKED)
            tokens = parse_tokens(answer, self.state.clock.now())
            if tokens is None:
                if self.rules.refresh_failure_logs_out(answer.status):
                    session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
                    raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)
                raise LoginProblemError(
                    f"Bitbucket could not refresh the login (HTTP {answer.status}); try later.",
                    502,
                )
            kept = self.rules.next_refresh_token(current.refresh_token, tokens.refresh_token)
            session.tokens = tokens = replace(tokens, refresh_token=kept)
            return tokens


def repos_page(start: int, limit: int) -> Call:
    """The call for one page of the user's repositories."""

    async def call(client: BitbucketClient, auth: Credential) -> Answer:
        return await client.repos(auth, start, limit)

    return call


#: Where the next page starts: a rule (:func:`conformance.reference.rules.next_page_start`),
#: also importable from here.
next_page_start = default_rules.next_page_start
