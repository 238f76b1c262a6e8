"""The reference integration's logic: every operation of the driver protocol and the browser's
login, shared by the JSON endpoints, the HTML pages and the in-process Python driver.

:class:`Reference` sequences the rules of :mod:`conformance.reference.rules` and the calls of
:mod:`conformance.reference.bitbucket`; it answers the data types of :mod:`conformance.sut`
so that every way of asking gives the same answer. Its coroutines run on the event loop that
serves the app (the state is not shared across threads).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from conformance.reference import rules
from conformance.reference.bitbucket import Answer, BitbucketClient, BitbucketUnreachableError
from conformance.reference.models import (
    Account,
    BrowserSession,
    Integration,
    PendingLogin,
    ReferenceState,
    Repository,
    Tokens,
)
from conformance.reference.rules import RefusalError
from conformance.sut import (
    Capabilities,
    CreatedIntegration,
    IntegrationSummary,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

Call = Callable[[BitbucketClient, str], Awaitable[Answer]]
#: How many ``composer.json`` files are fetched at once.
COMPOSER_CONCURRENCY = 8


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


def entry(repository: Repository) -> RepositoryEntry:
    """One row of ``GET /repositories``."""
    return RepositoryEntry(
        project=repository.project,
        slug=repository.slug,
        has_composer_json=repository.has_composer_json,
    )


class Reference:
    """The reference integration: state plus an HTTP client for Bitbucket."""

    def __init__(self, state: ReferenceState) -> None:
        self.state = state
        self._http: aiohttp.ClientSession | None = None

    # -- lifecycle (on the serving loop) ----------------------------------------------------

    async def open(self) -> None:
        """Create the HTTP client (call on the loop that will use it)."""
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
            protocol=rules.PROTOCOL_VERSION,
            name=rules.NAME,
            oauth_versions=rules.OAUTH_VERSIONS,
            repositories=rules.OFFERS_REPOSITORIES,
        )

    def reset(self) -> None:
        """Forget every integration and session."""
        self.state.reset()

    # -- the Add Integration form -----------------------------------------------------------

    async def create_integration(
        self, platform: object, base_url: object, oauth_version: object
    ) -> CreatedIntegration:
        """Choose platform, base URL and OAuth version; ask Bitbucket its version."""
        chosen_platform = rules.check_platform(platform)
        base = rules.normalise_base_url(base_url)
        version = rules.check_oauth_version(oauth_version)
        bitbucket_version = await self._bitbucket_version(base)
        integration_id = rules.new_integration_id()
        integration = Integration(
            id=integration_id,
            platform=chosen_platform,
            base_url=base,
            oauth_version=version,
            slug=rules.integration_slug(integration_id),
            bitbucket_version=bitbucket_version,
        )
        self.state.integrations[integration.id] = integration
        return self.form(integration)

    async def _bitbucket_version(self, base_url: str) -> str:
        """The version application-properties reports; 422 when there is no Bitbucket."""
        try:
            answer = await self.bitbucket(base_url).application_properties()
        except BitbucketUnreachableError as exc:
            raise RefusalError(rules.unreachable(base_url, exc.reason)) from None
        body = answer.json()
        version = body.get("version") if isinstance(body, dict) else None
        if answer.status != 200 or not isinstance(version, str) or not rules.parse_version(version):
            reason = f"HTTP {answer.status} from application-properties, without a version"
            raise RefusalError(rules.unreachable(base_url, reason))
        return version

    def form(self, integration: Integration) -> CreatedIntegration:
        """What the form shows once platform, base URL and OAuth version are chosen."""
        prepare = {2: self._oauth2_form}[integration.oauth_version]
        return prepare(integration)

    def _oauth2_form(self, integration: Integration) -> CreatedIntegration:
        urls = rules.callback_urls(self.public_url, integration.slug).as_tuple()
        unavailable = self._oauth2_unavailable(integration)
        return CreatedIntegration(
            id=integration.id,
            setup_link=None if unavailable else rules.setup_link(integration.base_url),
            callback_urls=urls,
            client_id="",
            client_secret="",
            messages=(unavailable,) if unavailable else (),
        )

    @staticmethod
    def _oauth2_unavailable(integration: Integration) -> str | None:
        version = rules.parse_version(integration.bitbucket_version)
        if version is not None and rules.offers_oauth2(version):
            return None
        return rules.oauth2_unavailable(integration.bitbucket_version)

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
        client_id, client_secret = client_id.strip(), client_secret.strip()
        if not client_id or not client_secret:
            return SubmitResult(error=rules.MISSING_CREDENTIALS)
        unavailable = self._oauth2_unavailable(integration)
        if unavailable:
            return SubmitResult(error=unavailable)
        error = await self._check_credentials(integration, client_id, client_secret)
        if error is not None:
            return SubmitResult(error=error)
        integration.client_id, integration.client_secret = client_id, client_secret
        integration.submitted = True
        return SubmitResult(redirect_to=rules.integrations_page(self.public_url))

    async def _check_credentials(
        self, integration: Integration, client_id: str, client_secret: str
    ) -> str | None:
        """The revoke probe (see :mod:`conformance.reference.bitbucket`); the error or None."""
        try:
            answer = await self.bitbucket(integration.base_url).revoke(
                rules.CREDENTIALS_PROBE_TOKEN, client_id, client_secret
            )
        except BitbucketUnreachableError as exc:
            return rules.unreachable(integration.base_url, exc.reason)
        error, _ = answer.oauth_error
        if rules.credentials_rejected(answer.status, error):
            return rules.WRONG_CLIENT_CREDENTIALS
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
                login_link=rules.login_link(self.public_url, i.slug),
            )
            for i in self.state.integrations.values()
            if i.submitted
        ]

    # -- the login ---------------------------------------------------------------------------

    def session_for(self, cookies: Mapping[str, str]) -> BrowserSession | None:
        """The server-side session of a browser holding these cookies."""
        return self.state.sessions.get(cookies.get(rules.SESSION_COOKIE, ""))

    def _login_integration(self, slug: str) -> Integration:
        integration = self.state.integration_by_slug(slug)
        if integration is None or not integration.submitted:
            raise RefusalError(f"No integration has the login link {slug!r}.", 404)
        return integration

    def start_login(self, session: BrowserSession, slug: str) -> str:
        """The login link: remember state and PKCE verifier; the authorize URL to go to."""
        integration = self._login_integration(slug)
        redirect_uri = rules.callback_urls(self.public_url, integration.slug).login
        pending = PendingLogin(
            integration_id=integration.id,
            state=rules.new_state(),
            code_verifier=rules.new_code_verifier(),
            redirect_uri=redirect_uri,
        )
        session.pending = pending
        return rules.authorize_url(
            integration.base_url,
            integration.client_id,
            redirect_uri,
            pending.state,
            rules.code_challenge(pending.code_verifier),
        )

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
                pending.state if pending and pending.integration_id == integration.id else None
            )
            if not rules.state_matches(expected, query.get("state")):
                raise LoginFailedError(rules.STATE_MISMATCH)
            assert pending is not None
            if "error" in query:
                raise LoginFailedError(
                    rules.callback_error(query["error"], query.get("error_description", ""))
                )
            code = query.get("code", "")
            if not code:
                raise LoginFailedError("Bitbucket sent no authorization code; please log in again.")
            tokens = await self._exchange_code(integration, pending, code)
            account = await self._identify(integration, tokens.access_token)
        except LoginFailedError as failure:
            session.log_out(failure.message)
            return session
        session.integration_id = integration.id
        session.account = account
        session.tokens = tokens
        session.error = None
        return self.state.rotate_session(session)

    async def _exchange_code(
        self, integration: Integration, pending: PendingLogin, code: str
    ) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "client_id": integration.client_id,
            "client_secret": integration.client_secret,
            "code_verifier": pending.code_verifier,
        }
        try:
            answer = await self.bitbucket(integration.base_url).token(form)
        except BitbucketUnreachableError as exc:
            raise LoginFailedError(rules.unreachable(integration.base_url, exc.reason)) from None
        if rules.two_factor_blocked(answer.status, answer.error_text):
            raise LoginFailedError(rules.TWO_FACTOR_BLOCKED)
        tokens = parse_tokens(answer, self.state.clock.now())
        if tokens is None:
            error, description = answer.oauth_error
            raise LoginFailedError(rules.token_error(error or f"HTTP {answer.status}", description))
        return tokens

    async def _identify(self, integration: Integration, access_token: str) -> Account:
        """Who the token belongs to: ``X-AUSERNAME``, then the user found by name."""
        client = self.bitbucket(integration.base_url)
        try:
            answer = await client.application_properties(access_token)
            if rules.two_factor_blocked(answer.status, answer.error_text):
                raise LoginFailedError(rules.TWO_FACTOR_BLOCKED)
            if answer.username is None:
                raise LoginFailedError(
                    "Bitbucket did not accept the new access token; log in again."
                )
            account = await self._find_account(client, access_token, answer.username)
        except BitbucketUnreachableError as exc:
            raise LoginFailedError(rules.unreachable(integration.base_url, exc.reason)) from None
        if account is None:
            raise LoginFailedError(f"Bitbucket did not confirm the account {answer.username!r}.")
        return account

    @staticmethod
    async def _find_account(
        client: BitbucketClient, access_token: str, username: str
    ) -> Account | None:
        """Users are addressed by slug, which may differ from the name: search by name,
        then read the user by its slug."""
        start: int | None = 0
        slug: str | None = None
        while start is not None and slug is None:
            page = (await client.users(access_token, username, start)).json()
            if not isinstance(page, dict):
                return None
            for user in page.get("values") or []:
                if isinstance(user, dict) and str(user.get("name", "")).lower() == username.lower():
                    slug = str(user.get("slug", ""))
            start = next_page_start(page, start)
        if not slug:
            return None
        answer = await client.user(access_token, slug)
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
                session.error if session and session.error else rules.NOT_LOGGED_IN, 401
            )
        try:
            listed = await self._list_repositories(session)
            return await self._with_composer(session, listed)
        except LoginProblemError as problem:
            raise RefusalError(problem.message, problem.status) from None

    async def _list_repositories(self, session: BrowserSession) -> list[tuple[str, str, str]]:
        """``(project key, slug, name)`` of every repository, following ``nextPageStart``."""
        found: list[tuple[str, str, str]] = []
        start: int | None = 0
        while start is not None:
            at = start
            answer = await self._authorized(session, repos_page(at))
            page = answer.json()
            if answer.status != 200 or not isinstance(page, dict):
                raise LoginProblemError(f"Bitbucket answered HTTP {answer.status} to repos.", 502)
            for repo in page.get("values") or []:
                project = repo.get("project") if isinstance(repo, dict) else None
                if isinstance(project, dict):
                    found.append((str(project.get("key")), str(repo["slug"]), str(repo["name"])))
            start = next_page_start(page, at)
        return found

    async def _with_composer(
        self, session: BrowserSession, listed: list[tuple[str, str, str]]
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
            return Repository(project, slug, name, True, package_name(answer.json()))

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read(*repo)) for repo in listed]
        return [task.result() for task in tasks]

    async def _authorized(self, session: BrowserSession, call: Call) -> Answer:
        """Make a call with the session's access token: refresh first when it expired by
        our clock, and once more when Bitbucket does not take it; end the login when the
        refresh is refused."""
        integration = self.state.integrations.get(session.integration_id or "")
        tokens = session.tokens
        if integration is None or tokens is None:
            session.log_out(rules.LOGIN_NO_LONGER_VALID)
            raise LoginProblemError(rules.LOGIN_NO_LONGER_VALID)
        client = self.bitbucket(integration.base_url)
        if rules.token_expired(tokens.expires_at, self.state.clock.now()):
            tokens = await self._refresh(session, integration, tokens)
        answer = await self._call(integration, client, call, tokens)
        if rules.token_rejected(answer.status, answer.username):
            tokens = await self._refresh(session, integration, tokens)
            answer = await self._call(integration, client, call, tokens)
            if rules.token_rejected(answer.status, answer.username):
                session.log_out(rules.LOGIN_NO_LONGER_VALID)
                raise LoginProblemError(rules.LOGIN_NO_LONGER_VALID)
        return answer

    @staticmethod
    async def _call(
        integration: Integration, client: BitbucketClient, call: Call, tokens: Tokens
    ) -> Answer:
        try:
            answer = await call(client, tokens.access_token)
        except BitbucketUnreachableError as exc:
            raise LoginProblemError(
                rules.unreachable(integration.base_url, exc.reason), 502
            ) from None
        if rules.two_factor_blocked(answer.status, answer.error_text):
            raise LoginProblemError(rules.TWO_FACTOR_BLOCKED)
        return answer

    async def _refresh(
        self, session: BrowserSession, integration: Integration, used: Tokens
    ) -> Tokens:
        """A new token pair (refresh tokens rotate: the new one replaces the old)."""
        async with session.refresh_lock:
            current = session.tokens
            if current is None:
                raise LoginProblemError(session.error or rules.LOGIN_NO_LONGER_VALID)
            if current.access_token != used.access_token:
                return current  # refreshed meanwhile by a concurrent call
            form = {
                "grant_type": "refresh_token",
                "refresh_token": current.refresh_token,
                "client_id": integration.client_id,
                "client_secret": integration.client_secret,
            }
            try:
                answer = await self.bitbucket(integration.base_url).token(form)
            except BitbucketUnreachableError as exc:
                raise LoginProblemError(
                    rules.unreachable(integration.base_url, exc.reason), 502
                ) from None
            if rules.two_factor_blocked(answer.status, answer.error_text):
                raise LoginProblemError(rules.TWO_FACTOR_BLOCKED)
            tokens = parse_tokens(answer, self.state.clock.now())
            if tokens is None:
                if rules.refresh_failure_logs_out(answer.status):
                    session.log_out(rules.LOGIN_NO_LONGER_VALID)
                    raise LoginProblemError(rules.LOGIN_NO_LONGER_VALID)
                raise LoginProblemError(
                    f"Bitbucket could not refresh the login (HTTP {answer.status}); try later.",
                    502,
                )
            session.tokens = tokens
            return tokens


def repos_page(start: int) -> Call:
    """The call for one page of the user's repositories."""

    async def call(client: BitbucketClient, token: str) -> Answer:
        return await client.repos(token, start, rules.PAGE_LIMIT)

    return call


def next_page_start(page: Mapping[str, Any], start: int) -> int | None:
    """Where the next page starts (Bitbucket's ``nextPageStart``), or None after the last.
    A ``nextPageStart`` that does not move forward ends the listing."""
    following = page.get("nextPageStart")
    if page.get("isLastPage", True) or not isinstance(following, int) or following <= start:
        return None
    return following


def package_name(composer: Any) -> str | None:
    """The ``name`` a composer.json declares."""
    name = composer.get("name") if isinstance(composer, dict) else None
    return name if isinstance(name, str) and name else None
