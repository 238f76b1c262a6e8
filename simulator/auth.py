"""Who is calling: request -> :class:`Principal` (session, Basic, Bearer access token, ...).

The pipeline (:mod:`simulator.pipeline`) resolves the principal before any handler runs
(:func:`authenticate`) and adds Bitbucket's ``X-AUSERNAME``/``X-AUSERID`` headers to the
answer when a user was authenticated (:func:`stamp_headers`). Wrong
Basic credentials fail at once with Bitbucket's 401; an unknown Bearer token counts as
anonymous (as reported for real Bitbucket), so protected endpoints answer 401 later.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.errors import IncorrectPasswordError
from simulator.git import SCM_PREFIX
from simulator.journal import app_path, is_control_path, note
from simulator.model import AccessToken, GlobalLevel, ProjectLevel, RepoLevel, User
from simulator.oauth1.problems import OAuth1ProblemError
from simulator.oauth1.resource import resolve_oauth1
from simulator.oauth2.scopes import caps_for
from simulator.resource_tokens import SINCE as RESOURCE_TOKENS_SINCE
from simulator.resource_tokens import TokenScope
from simulator.store import SESSION_COOKIE, Store
from simulator.tfa import policy as tfa_policy
from simulator.tfa.paths import BLOCKED_PATH
from simulator.tfa.policy import OAUTH_METHODS as TFA_OAUTH_METHODS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request and the ceiling its credential puts on what it may do."""

    user: User | None
    #: anonymous, session, basic, access-token, project-token, repository-token, oauth2, oauth1
    method: str = "anonymous"
    repo_cap: RepoLevel = RepoLevel.REPO_ADMIN
    project_cap: ProjectLevel = ProjectLevel.PROJECT_ADMIN
    #: whether the credential may use global admin rights the user has
    admin_allowed: bool = True
    token_id: str | None = None
    #: A project or repository token's reach (its service user holds no grants of its own).
    scope: TokenScope | None = None

    @property
    def authenticated(self) -> bool:
        """True when a user is known."""
        return self.user is not None

    @property
    def is_sysadmin(self) -> bool:
        """A system administrator acting with a credential that allows it."""
        return (
            self.user is not None
            and self.admin_allowed
            and self.user.global_level >= GlobalLevel.SYS_ADMIN
        )

    @property
    def is_admin(self) -> bool:
        """An administrator (ADMIN or SYS_ADMIN) acting with a credential that allows it."""
        return (
            self.user is not None
            and self.admin_allowed
            and self.user.global_level >= GlobalLevel.ADMIN
        )


ANONYMOUS = Principal(user=None)
#: Endpoints where an HTTP Basic header carries OAuth 2 client credentials, not a user login.
CLIENT_AUTH_PATHS = re.compile(r"^/rest/oauth2/(?:latest|1\.0)/(?:token|revoke)$")
principal_key = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal:
    """The principal the auth middleware resolved for this request."""
    principal = request.get(principal_key)
    return principal if isinstance(principal, Principal) else ANONYMOUS


def access_token_principal(token: AccessToken, user: User) -> Principal:
    """The principal of a personal access token: its user capped by its permissions."""
    repo_cap = RepoLevel.NONE
    project_cap = ProjectLevel.NONE
    for permission in token.permissions:
        if permission in RepoLevel.__members__:
            repo_cap = max(repo_cap, RepoLevel[permission])
        elif permission in ProjectLevel.__members__:
            project_cap = max(project_cap, ProjectLevel[permission])
    # A project permission on a token also grants the repository permission of its rank.
    repo_cap = max(repo_cap, RepoLevel(int(project_cap)) if project_cap else RepoLevel.NONE)
    return Principal(
        user=user,
        method="access-token",
        repo_cap=repo_cap,
        project_cap=project_cap,
        admin_allowed=False,
        token_id=token.id,
    )


def resolve_principal(request: web.Request, store: Store) -> Principal:
    """Work out who is calling; raise :class:`IncorrectPasswordError` for bad Basic auth."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "basic":
        git = app_path(request, store.settings.context_path).startswith(SCM_PREFIX)
        return _basic(credentials, store, oauth2_password=git)
    if scheme == "bearer" and credentials:
        return _bearer(credentials, store)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        session = store.live_session(session_id)
        user = store.user_by_id(session.user_id) if session else None
        if user is not None and user.active:
            return Principal(user=user, method="session")
    return ANONYMOUS


def _basic(credentials: str, store: Store, *, oauth2_password: bool = False) -> Principal:
    """HTTP Basic: a password, a personal access token of the named user, or (with
    ``oauth2_password``, on git paths) an OAuth 2 access token under any user name, as Git
    Credential Manager sends it."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise IncorrectPasswordError() from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise IncorrectPasswordError()
    user = store.authenticate_password(username, password)
    if user is not None:
        return Principal(user=user, method="basic")
    # Bitbucket also takes a personal access token as the Basic password.
    token = store.find_access_token(password)
    if token is not None:
        owner = store.user_by_id(token.user_id)
        if owner is not None and owner.name.lower() == username.lower() and owner.active:
            token.last_authenticated_ms = store.clock.now_ms()
            return access_token_principal(token, owner)
    if oauth2_password:
        principal = _bearer(password, store)
        if principal.method == "oauth2":
            return principal
    raise IncorrectPasswordError()


def _bearer(secret: str, store: Store) -> Principal:
    token = store.find_access_token(secret)
    if token is not None:
        owner = store.user_by_id(token.user_id)
        if owner is not None and owner.active:
            token.last_authenticated_ms = store.clock.now_ms()
            return access_token_principal(token, owner)
    scoped = _resource_token(secret, store)
    if scoped is not None:
        return scoped
    issued = (
        store.oauth2.lookup_access_token(secret) if store.config.version.supports_oauth2 else None
    )
    if issued is not None:
        owner = store.user_by_id(issued.user_id)
        if owner is not None and owner.active:
            caps = caps_for(issued.scopes)
            return Principal(
                user=owner,
                method="oauth2",
                repo_cap=caps.repo_cap,
                project_cap=caps.project_cap,
                admin_allowed=caps.admin_allowed,
                token_id=issued.id,
            )
    return ANONYMOUS


def _resource_token(secret: str, store: Store) -> Principal | None:
    """A project or repository token (Bearer only): its service user, within its scope."""
    if store.config.version < RESOURCE_TOKENS_SINCE:
        return None
    backend = store.resource_tokens
    token = backend.find(secret, store.clock.now_ms())
    user = backend.user_of(token) if token is not None else None
    if token is None or user is None:
        return None
    token.last_authenticated_ms = store.clock.now_ms()
    return Principal(
        user=user,
        method=f"{token.kind}-token",
        admin_allowed=False,
        token_id=token.id,
        scope=token.scope(),
    )


def tfa_gate(request: web.Request, store: Store, principal: Principal) -> web.Response | None:
    """The "U2F & TOTP" plugin's check of OAuth-authenticated requests (see simulator.tfa).

    An OAuth token (OAuth 2 Bearer, or OAuth 1 once it resolves to ``method="oauth1"``) of a
    user to whom 2FA applies is refused unless the plugin's OAuth whitelist is on: on REST
    paths the envelope error is raised here, where the principal is resolved; elsewhere the
    browser answer is returned. Personal access tokens, Basic and sessions pass untouched.
    """
    user = principal.user
    if user is None or principal.method not in TFA_OAUTH_METHODS:
        return None
    if not tfa_policy.oauth_blocked(store, user, request):
        return None
    note(request, tfa="oauth-blocked")
    if tfa_policy.is_api_path(app_path(request, store.settings.context_path)):
        raise tfa_policy.blocked_error(store.config.tfa)
    return tfa_policy.browser_blocked_answer(store)


async def authenticate(request: web.Request, store: Store, path: str) -> web.StreamResponse | None:
    """Resolve the principal of a request to a context-relative ``path`` and keep it on the
    request; an answer instead where the request ends here (an OAuth 1 problem, a 2FA
    block). Bad Basic credentials raise 401."""
    if path == BLOCKED_PATH:
        # The page a blocked request is sent to is never itself blocked: a client that
        # follows redirects and resends its Bearer token or OAuth 1 signature (which no
        # longer matches this URL) must end here, not loop or get a signature error.
        request[principal_key] = ANONYMOUS
        return None
    try:
        principal = await resolve_oauth1(request, store)
        if principal is None:
            principal = resolve_principal(request, store)
    except OAuth1ProblemError as problem:
        return problem.to_response(store.base_url)
    except IncorrectPasswordError:
        # The token and revoke endpoints read Basic as *client* credentials (when the
        # setting allows it) or ignore it; it is not a user login there.
        if not CLIENT_AUTH_PATHS.search(path):
            raise
        principal = ANONYMOUS
    if principal.user is not None:
        note(request, auth=principal.method, user=principal.user.name)
    # The 2FA plugin guards Bitbucket's own paths; the control API is not one of them.
    blocked = None if is_control_path(path) else tfa_gate(request, store, principal)
    if blocked is not None:
        return blocked
    request[principal_key] = principal
    return None


def stamp_headers(request: web.Request, headers: Any, request_id: str) -> None:
    """Bitbucket's ``X-AREQUESTID`` on every answer, and the user headers on authenticated
    ones (``X-AUSERNAME``, ``X-AUSERID``)."""
    headers["X-AREQUESTID"] = request_id
    user = principal_of(request).user
    if user is not None:
        headers["X-AUSERNAME"] = quote(user.name, safe="@._-~")
        headers["X-AUSERID"] = str(user.id)
