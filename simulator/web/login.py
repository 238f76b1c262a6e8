"""Bitbucket's login form, session cookie, dashboard and logout.

``GET /`` sends a browser on as Bitbucket does: to the dashboard with a session (or any
other login), else to the login page returning to the dashboard; under a context path
``<context>`` itself redirects to ``<context>/`` first, as Tomcat does.

``GET /login`` renders the real form (``POST {base}/j_atl_security_check`` with ``j_username``,
``j_password``, ``_atl_remember_me`` and a hidden ``next``). Good credentials of an active user
open a session (cookie ``BITBUCKETSESSIONID``) and redirect to ``next`` or the dashboard; bad
ones re-render the form with an error. ``next`` is kept only when it stays on this Bitbucket:
a path relative to the base URL (``/plugins/servlet/...``) or an absolute URL under the base
URL. Every link and redirect is built from ``store.base_url`` (which may carry a context path).

With the "U2F & TOTP" plugin installed and 2FA applying to the user (see
:mod:`simulator.tfa`), a good password opens no session: the browser goes on to the
plugin's enrolment or verification page, which opens it after a valid TOTP code.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from aiohttp import web

from simulator.auth import principal_of
from simulator.keys import store_key
from simulator.model import User
from simulator.store import SESSION_COOKIE, Store
from simulator.tfa.enrolment import PENDING_COOKIE
from simulator.tfa.paths import ENROL_PATH, VERIFY_PATH
from simulator.tfa.policy import applies as tfa_applies
from simulator.web.pages import escape, html_response, redirect, render

#: What the form says after a failed login. Bitbucket's audit log records a failed form login
#: with this fault text; the page's exact wording is UNCONFIRMED.
LOGIN_FAILED_MESSAGE = "Invalid username or password."
DASHBOARD_PATH = "/dashboard"


# -- rules (no request) ---------------------------------------------------------------------


def context_path(base_url: str) -> str:
    """The base URL's path without a trailing slash ('' at the root)."""
    return urlsplit(base_url).path.rstrip("/")


def cookie_path(base_url: str) -> str:
    """The session cookie's Path: the context path, or ``/``."""
    return context_path(base_url) or "/"


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in unquote(path).split("/"))


def safe_next(base_url: str, raw: str | None) -> str | None:
    """``raw`` if it stays on this Bitbucket (open-redirect protection), else None.

    Kept: a path relative to the base URL (``/projects``) or an absolute URL whose scheme and
    host match the base URL and whose path lies under its context path. Dropped: anything
    else, including ``//host``, backslashes, control characters and dot segments.
    """
    if not raw or any(ch < " " or ch in "\\\x7f" for ch in raw):
        return None
    parts = urlsplit(raw)
    if raw.startswith("/"):
        if raw.startswith("//") or parts.scheme or parts.netloc:
            return None
        return None if _has_dot_segment(parts.path) else raw
    base = urlsplit(base_url)
    if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return None
    context = context_path(base_url)
    if context and parts.path != context and not parts.path.startswith(context + "/"):
        return None
    return None if _has_dot_segment(parts.path) else raw


def next_location(base_url: str, kept: str | None) -> str:
    """Where a successful login goes: the kept ``next`` made absolute, or the dashboard."""
    if kept is None:
        return base_url + DASHBOARD_PATH
    return base_url + kept if kept.startswith("/") else kept


def login_url(base_url: str, next_path: str | None = None) -> str:
    """The login page's URL, optionally returning to ``next_path`` (relative to the base)."""
    url = base_url + "/login"
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def login_page(base_url: str, kept_next: str | None, username: str = "", error: str = "") -> str:
    """The login form, with an error message when one is given."""
    banner = (
        '<div class="aui-message aui-message-error" id="login-error" role="alert">'
        f"{escape(error)}</div>"
        if error
        else ""
    )
    return render(
        "login.html",
        markup={"error": banner},
        action=base_url + "/j_atl_security_check",
        username=username,
        next=kept_next or "",
    )


def dashboard_page(base_url: str, user: User) -> str:
    """The minimal dashboard naming the logged-in user."""
    return render(
        "dashboard.html",
        username=user.name,
        slug=user.slug,
        display_name=user.display_name,
        logout=base_url + "/j_atl_security_logout",
    )


# -- handlers -------------------------------------------------------------------------------


def _store(request: web.Request) -> Store:
    return request.app[store_key]


async def _form(request: web.Request) -> dict[str, str]:
    """The fields of a url-encoded body (first of repeats); any other body is an empty form.

    Like the servlet behind Bitbucket's login, multipart and JSON bodies are not read as
    form fields; bytes that are not UTF-8 become U+FFFD rather than an error.
    """
    if request.content_type != "application/x-www-form-urlencoded" or not request.body_exists:
        return {}
    body = (await request.read()).decode("utf-8", "replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


async def get_login(request: web.Request) -> web.Response:
    """``GET /login``: the form; a user with a session goes straight on to ``next``."""
    store = _store(request)
    kept = safe_next(store.base_url, request.query.get("next"))
    if principal_of(request).method == "session":
        return redirect(next_location(store.base_url, kept))
    return html_response(login_page(store.base_url, kept))


async def j_atl_security_check(request: web.Request) -> web.Response:
    """``POST /j_atl_security_check``: open a session or re-render the form with an error."""
    store = _store(request)
    form = await _form(request)
    kept = safe_next(store.base_url, form.get("next"))
    username = form.get("j_username", "")
    user = store.authenticate_password(username, form.get("j_password", "")) if username else None
    if user is None:
        page = login_page(store.base_url, kept, username=username, error=LOGIN_FAILED_MESSAGE)
        return html_response(page)
    if tfa_applies(store, user, request):
        return second_factor_redirect(store, user, kept)
    return open_session(store, request, user, next_location(store.base_url, kept))


def _set_cookie(store: Store, response: web.Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=cookie_path(store.base_url),
        httponly=True,
        samesite="Lax",
        secure=store.base_url.lower().startswith("https:") or None,
    )


def open_session(store: Store, request: web.Request, user: User, location: str) -> web.Response:
    """Log ``user`` in: a fresh session (the old one dropped), its cookie, and a redirect."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        store.sessions.pop(old, None)  # a fresh session id on every login (no fixation)
    session = store.create_session(user)
    response = redirect(location)
    _set_cookie(store, response, SESSION_COOKIE, session.id)
    return response


def second_factor_redirect(store: Store, user: User, kept: str | None) -> web.Response:
    """A good password of a user to whom 2FA applies: no session yet, but a pending login
    (cookie ``TFAPENDINGID``) and a redirect to enrolment (first time) or verification."""
    pending = store.tfa.begin(user.id, kept, store.clock.now())
    target = VERIFY_PATH if store.tfa.enrolled(user.id) else ENROL_PATH
    response = redirect(store.base_url + target)
    _set_cookie(store, response, PENDING_COOKIE, pending.id)
    return response


async def get_dashboard(request: web.Request) -> web.Response:
    """``GET /dashboard``: who is logged in; anonymous callers are sent to log in first."""
    store = _store(request)
    user = principal_of(request).user
    if user is None:
        return redirect(login_url(store.base_url, DASHBOARD_PATH))
    return html_response(dashboard_page(store.base_url, user))


async def get_root(request: web.Request) -> web.Response:
    """``GET /``: on to the dashboard, by way of the login page for anonymous visitors."""
    store = _store(request)
    if principal_of(request).user is None:
        return redirect(login_url(store.base_url, DASHBOARD_PATH))
    return redirect(store.base_url + DASHBOARD_PATH)


async def get_context_root(request: web.Request) -> web.Response:
    """``GET <context>`` (no slash): Tomcat's redirect to the context root ``<context>/``."""
    store = request.app[store_key]
    raw = request.rel_url.raw_query_string
    query = f"?{raw}" if raw else ""
    return redirect(f"{store.base_url}/{query}")


async def j_atl_security_logout(request: web.Request) -> web.Response:
    """``GET|POST /j_atl_security_logout``: end the session, expire the cookie, go to login."""
    store = _store(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        store.sessions.pop(session_id, None)
    response = redirect(login_url(store.base_url))
    response.del_cookie(SESSION_COOKIE, path=cookie_path(store.base_url))
    return response


def routes() -> list[web.RouteDef]:
    """The root, login, dashboard and logout pages."""
    return [
        web.get("/", get_root),
        web.get("/login", get_login),
        web.post("/j_atl_security_check", j_atl_security_check),
        web.get(DASHBOARD_PATH, get_dashboard),
        web.get("/j_atl_security_logout", j_atl_security_logout),
        web.post("/j_atl_security_logout", j_atl_security_logout),
    ]
