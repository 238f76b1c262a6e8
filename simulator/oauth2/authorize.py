"""``/rest/oauth2/{latest,1.0}/authorize``: the two hops of Bitbucket's authorization endpoint.

Every answer is a **303** with ``Cache-Control: no-store`` and ``Pragma: no-cache``. It goes to
the consent page, to Bitbucket's own error page (``/plugins/servlet/oauth2/error``), to the
login page, or back to the client as ``{redirect_uri}?code=...`` / ``?error=...``.

``GET`` is the first hop (the client sends the user here), in the decompiled plugin's order:

1. **Scope pre-check, before ``redirect_uri`` is checked (a quirk of the real code, kept on
   purpose).** When ``client_id`` names a client and the requested scope is blank, names an
   unknown scope or lies outside the closure of the client's scope, the user is sent to
   ``{redirect_uri}?error=invalid_scope&error_description=...[&state=...]`` even when that
   ``redirect_uri`` is not one of the client's registered redirects. The simulator only
   needs the value to be an absolute ``http(s)`` URL to redirect there; anything else (blank,
   relative, ``javascript:``) falls through to the checks below and so to the error page.
2. ``client_id``, ``redirect_uri``, ``response_type`` and ``scope`` must be non-blank, else the
   error page with ``errorName=invalid_request``.
3. The simulator then also checks, already on the first hop, what the real plugin checks on
   the second one: an unknown client (``invalid_client``), a ``redirect_uri`` that is not
   *exactly* one of the registered redirects (``invalid_request``; whole strings are compared,
   so prefixes, suffixes, case, trailing slashes and comma-joined lists never match) and a
   malformed PKCE challenge or method (``invalid_request``) go to the error page, so that the
   user never sees a consent page for a request that cannot succeed.
4. Otherwise: the consent page with the same parameters.

``POST`` is the second hop, the user's decision submitted by the consent page's form. It needs
a browser session (anything else goes to the login page); then the "U2F & TOTP" plugin may
block the decision (:mod:`simulator.tfa`: when 2FA applies to the user and the OAuth whitelist
is off, a 303 to the plugin's page, or that page as 401/403); then: a missing or stale XSRF token,
an unknown client, an unregistered ``redirect_uri`` or malformed PKCE go to the error page (the
user is not sent back to the client); then back to the client with ``error=``: blank
``response_type`` -> ``invalid_request``, ``response_type`` other than ``code`` ->
``unsupported_response_type``, scope problems -> ``invalid_scope``, a refusal (``decision``
other than ``allow``) -> ``access_denied``. Success -> ``{redirect_uri}?code=...[&state=...]``.
``state`` is echoed only when non-blank; parameters are appended with ``&`` when
``redirect_uri`` already has a query.
"""

from __future__ import annotations

import codecs
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from aiohttp import web

from simulator.auth import principal_of
from simulator.journal import note
from simulator.keys import store_key
from simulator.model import User
from simulator.oauth2 import pkce
from simulator.oauth2.backend import OAuth2Backend
from simulator.oauth2.errors import NO_STORE
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.paths import CONSENT_PATH, ERROR_PATH
from simulator.oauth2.scopes import Scope, ScopeError, parse_scopes
from simulator.store import Store
from simulator.tfa import policy as tfa_policy
from simulator.web.pages import ascii_location, xsrf_ok

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

LOGIN_PATH = "/login"
UNKNOWN_CLIENT = "Unable to find client with that Id"
#: Printable ASCII except space: what may stand unencoded in a Location header we build.
_LOCATION_SAFE = "".join(ch for ch in string.printable if 32 < ord(ch) < 127)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- parameters -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizeParams:
    """The authorization request's parameters, as sent (first value of repeats)."""

    client_id: str = ""
    redirect_uri: str = ""
    response_type: str = ""
    scope: str = ""
    state: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> AuthorizeParams:
        """Pick the parameters out of a query or a form."""
        return cls(
            client_id=values.get("client_id", ""),
            redirect_uri=values.get("redirect_uri", ""),
            response_type=values.get("response_type", ""),
            scope=values.get("scope", ""),
            state=values.get("state", ""),
            code_challenge=values.get("code_challenge", ""),
            code_challenge_method=values.get("code_challenge_method", ""),
        )

    def to_query(self) -> str:
        """The query string of the consent page, in the plugin's order (blanks left out)."""
        pairs = [
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("response_type", self.response_type),
            ("scope", self.scope),
            ("state", self.state),
            ("code_challenge_method", self.code_challenge_method),
            ("code_challenge", self.code_challenge),
        ]
        return urlencode([(name, value) for name, value in pairs if value])

    def pkce_method(self) -> str | None:
        """The PKCE method as it would be stored (``S256``/``PLAIN``), or as sent if invalid."""
        try:
            return pkce.normalise_method(self.code_challenge_method, self.code_challenge)
        except pkce.PkceError:
            return self.code_challenge_method or None


# -- URLs ---------------------------------------------------------------------------------------


def safe_location(url: str) -> str:
    """Percent-encode what may not stand raw in a header (controls, spaces, non-ASCII)."""
    return quote(url, safe=_LOCATION_SAFE)


def append_query(url: str, params: list[tuple[str, str]]) -> str:
    """``url`` with ``params`` added to its query (``&`` when it already has one)."""
    parts = urlsplit(url)
    added = urlencode(params)
    query = f"{parts.query}&{added}" if parts.query else added
    return safe_location(urlunsplit(parts._replace(query=query)))


def error_page_url(base_url: str, name: str, description: str) -> str:
    """Bitbucket's own OAuth 2 error page, which never sends the user anywhere."""
    query = urlencode({"errorName": name, "errorDescription": description})
    return f"{base_url}{ERROR_PATH}?{query}"


def client_error_url(redirect_uri: str, error: str, description: str, state: str) -> str:
    """Back to the client with an RFC 6749 error, carrying ``state`` when non-blank."""
    params = [("error", error), ("error_description", description)]
    if state.strip():
        params.append(("state", state))
    return append_query(redirect_uri, params)


def consent_url(base_url: str, params: AuthorizeParams) -> str:
    """The consent page for these parameters."""
    return f"{base_url}{CONSENT_PATH}?{params.to_query()}"


def login_url(base_url: str, next_path: str) -> str:
    """The login page, returning to ``next_path`` (relative to the base URL) afterwards."""
    return f"{base_url}{LOGIN_PATH}?{urlencode({'next': next_path})}"


def is_absolute_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL a browser can be redirected to."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# -- rules (no request) -------------------------------------------------------------------------


class ErrorPageError(Exception):
    """The request ends on Bitbucket's error page."""

    def __init__(self, name: str, description: str) -> None:
        super().__init__(f"{name}: {description}")
        self.name = name
        self.description = description


def find_client(backend: OAuth2Backend, client_id: str) -> OAuth2Client | None:
    """The client with exactly this client id (never matched by its internal id)."""
    return backend.clients.get(client_id) if client_id else None


def scope_problem(backend: OAuth2Backend, client: OAuth2Client, scope: str) -> str | None:
    """Why the requested scope cannot be granted to this client, or None."""
    try:
        requested = parse_scopes(scope)
    except ScopeError as exc:
        return str(exc)
    if not backend.scope_allowed(client, requested):
        return f"The requested scope exceeds the scope of the application: {scope}"
    return None


def checked_client(backend: OAuth2Backend, params: AuthorizeParams) -> OAuth2Client:
    """The client, its exactly registered redirect and well-formed PKCE, or the error page."""
    client = find_client(backend, params.client_id)
    if client is None:
        raise ErrorPageError("invalid_client", UNKNOWN_CLIENT)
    if params.redirect_uri not in client.redirects:
        raise ErrorPageError(
            "invalid_request", "The redirect_uri is not registered for this client"
        )
    try:
        pkce.normalise_method(params.code_challenge_method, params.code_challenge)
        if params.code_challenge:
            pkce.check_challenge(params.code_challenge)
    except pkce.PkceError as exc:
        raise ErrorPageError("invalid_request", str(exc)) from None
    return client


def first_hop(backend: OAuth2Backend, base_url: str, params: AuthorizeParams) -> str:
    """Where ``GET authorize`` sends the user (see the module docstring for the order)."""
    client = find_client(backend, params.client_id)
    if client is not None and is_absolute_http_url(params.redirect_uri):
        problem = scope_problem(backend, client, params.scope)
        if problem is not None:
            return client_error_url(params.redirect_uri, "invalid_scope", problem, params.state)
    try:
        for name in ("client_id", "redirect_uri", "response_type", "scope"):
            if not getattr(params, name).strip():
                raise ErrorPageError(
                    "invalid_request", f"The required parameter '{name}' is missing"
                )
        checked_client(backend, params)
    except ErrorPageError as stop:
        return error_page_url(base_url, stop.name, stop.description)
    return consent_url(base_url, params)


def second_hop(
    backend: OAuth2Backend, base_url: str, params: AuthorizeParams, user: User, decision: str
) -> str:
    """Where the user's decision sends them: error page, client error, or a code."""
    try:
        client = checked_client(backend, params)
    except ErrorPageError as stop:
        return error_page_url(base_url, stop.name, stop.description)
    redirect_uri, state = params.redirect_uri, params.state
    if not params.response_type.strip():
        return client_error_url(
            redirect_uri,
            "invalid_request",
            "The required parameter 'response_type' is missing",
            state,
        )
    if params.response_type != "code":
        return client_error_url(
            redirect_uri,
            "unsupported_response_type",
            f"The response type {params.response_type} is not supported",
            state,
        )
    problem = scope_problem(backend, client, params.scope)
    if problem is not None:
        return client_error_url(redirect_uri, "invalid_scope", problem, state)
    if decision != "allow":
        return client_error_url(
            redirect_uri, "access_denied", "The user denied the authorization request", state
        )
    scopes: tuple[Scope, ...] = parse_scopes(params.scope)
    code = backend.issue_code(
        client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        user_id=user.id,
        challenge=params.code_challenge or None,
        method=pkce.normalise_method(params.code_challenge_method, params.code_challenge),
    )
    result = [("code", code)]
    if state.strip():
        result.append(("state", state))
    return append_query(redirect_uri, result)


# -- request helpers ------------------------------------------------------------------------------


async def read_form(request: web.Request) -> dict[str, str] | None:
    """The fields of a url-encoded body (first of repeats); None for any other content type.

    Bytes that do not decode in the declared charset become U+FFFD rather than an error.
    """
    if request.content_type != FORM_CONTENT_TYPE:
        return None
    if not request.body_exists:
        return {}
    charset = request.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    body = (await request.read()).decode(charset, "replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True, encoding=charset, errors="replace"):
        fields.setdefault(name, value)
    return fields


def store_of(request: web.Request) -> Store:
    """The simulator's store."""
    return request.app[store_key]


def see_other(location: str) -> web.Response:
    """Bitbucket's authorize answer: 303, never cached."""
    return web.Response(status=303, headers={"Location": ascii_location(location), **NO_STORE})


def note_authorize(request: web.Request, params: AuthorizeParams) -> None:
    """Journal what the client sent (no secrets in these)."""
    note(
        request,
        has_state=bool(params.state.strip()),
        pkce_method=params.pkce_method(),
        redirect_uri=params.redirect_uri,
        response_type=params.response_type,
        scope=params.scope,
    )


# -- handlers -------------------------------------------------------------------------------------


async def get_authorize(request: web.Request) -> web.Response:
    """``GET /rest/oauth2/latest/authorize``: the first hop, always a 303."""
    store = store_of(request)
    params = AuthorizeParams.from_mapping(request.query)
    note_authorize(request, params)
    return see_other(first_hop(store.oauth2, store.base_url, params))


async def post_authorize(request: web.Request) -> web.Response:
    """``POST /rest/oauth2/latest/authorize``: the user's decision from the consent page."""
    store = store_of(request)
    form = await read_form(request) or {}
    params = AuthorizeParams.from_mapping(form)
    note_authorize(request, params)
    decision = form.get("decision", "")
    note(request, decision=decision)
    principal = principal_of(request)
    if principal.user is None or principal.method != "session":
        return see_other(login_url(store.base_url, f"{CONSENT_PATH}?{params.to_query()}"))
    if tfa_policy.oauth_blocked(store, principal.user, request):
        blocked = tfa_policy.blocked_answer(store, request, redirect_status=303, browser=True)
        blocked.headers.update(NO_STORE)
        return blocked
    if not xsrf_ok(store, request, form):
        return see_other(
            error_page_url(
                store.base_url, "invalid_request", "The XSRF token is missing or invalid"
            )
        )
    return see_other(second_hop(store.oauth2, store.base_url, params, principal.user, decision))
