"""The plugin's servlets: enrolment, verification, the blocked-request page and the admin
settings page. Every one answers 404 (Bitbucket's envelope, as for any path nothing serves)
while the plugin is not installed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from simulator.auth import principal_of
from simulator.config import ConfigError
from simulator.errors import NotFoundError
from simulator.journal import note
from simulator.keys import store_key
from simulator.model import User
from simulator.store import Store
from simulator.tfa import enrolment
from simulator.tfa.enrolment import PENDING_COOKIE, PendingLogin
from simulator.tfa.pages import (
    SettingsForm,
    admin_page,
    blocked_page,
    enrol_page,
    message_page,
    verify_page,
)
from simulator.tfa.paths import ADMIN_PATH, BLOCKED_PATH, ENROL_PATH, VERIFY_PATH
from simulator.tfa.policy import BLOCKED_MESSAGE
from simulator.web.login import (
    DASHBOARD_PATH,
    cookie_path,
    login_url,
    next_location,
    open_session,
)
from simulator.web.pages import XSRF_FIELD, html_response, redirect, xsrf_ok, xsrf_token

WRONG_CODE = "The verification code is wrong or has expired. Enter the current code from your app."
NO_CODE = "Enter the 6-digit verification code from your authenticator app."
XSRF_FAILED = (
    "This form was submitted without a valid XSRF security token: it is missing, or it "
    "belongs to an earlier session. Nothing was changed. Reload the form and try again."
)
NOT_PERMITTED = (
    "You do not have permission to access this page. "
    "Only system administrators can change the two-factor authentication settings."
)
SAVED = "The settings were saved."
GROUPS_NEEDED = 'Name at least one group for "Groups" or "All except groups".'
#: The enrolment and code pages show a secret or accept one: never cached, never framed.
PAGE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "X-Frame-Options": "SAMEORIGIN"}


# -- request helpers ---------------------------------------------------------------------------


def _store(request: web.Request) -> Store:
    return request.app[store_key]


def _require_installed(request: web.Request) -> Store:
    """The store; a 404 while the plugin is not installed (its servlets do not exist)."""
    store = _store(request)
    if not store.config.tfa.installed:
        raise NotFoundError(request.path)
    return store


async def read_form(request: web.Request) -> dict[str, str]:
    """The fields of a url-encoded body (first of repeats); any other body is an empty form."""
    if request.content_type != "application/x-www-form-urlencoded" or not request.body_exists:
        return {}
    body = (await request.read()).decode("utf-8", "replace")
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def page(body: str, status: int = 200) -> web.Response:
    """An HTML page that is neither cached nor framed."""
    response = html_response(body, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


# -- pending logins ----------------------------------------------------------------------------


def pending_token(store: Store, login: PendingLogin) -> str:
    """The XSRF token of a pending login's forms (an HMAC of its id, like session tokens)."""
    message = f"tfa-pending:{login.id}".encode()
    return hmac.new(store.xsrf_secret, message, hashlib.sha256).hexdigest()[:40]


def pending_xsrf_ok(store: Store, login: PendingLogin, form: dict[str, str]) -> bool:
    """Whether a pending login's form carries its token."""
    given = form.get(XSRF_FIELD, "")
    return hmac.compare_digest(pending_token(store, login).encode(), given.encode())


def pending_of(store: Store, request: web.Request) -> tuple[PendingLogin, User] | None:
    """The live pending login named by the cookie, and its (still active) user."""
    pending_id = request.cookies.get(PENDING_COOKIE, "")
    login = store.tfa.find(pending_id, store.clock.now()) if pending_id else None
    if login is None:
        return None
    user = store.user_by_id(login.user_id)
    if user is None or not user.active:
        store.tfa.finish(login)
        return None
    return login, user


def without_pending(store: Store, request: web.Request) -> web.Response:
    """No (live) pending login: a logged-in user goes to the dashboard, others to log in."""
    if principal_of(request).method == "session":
        return redirect(store.base_url + DASHBOARD_PATH)
    response = redirect(login_url(store.base_url))
    if PENDING_COOKIE in request.cookies:
        response.del_cookie(PENDING_COOKIE, path=cookie_path(store.base_url))
    return response


def complete_login(
    store: Store, request: web.Request, login: PendingLogin, user: User
) -> web.Response:
    """The second factor passed: open the session and go on to ``next``."""
    store.tfa.finish(login)
    response = open_session(store, request, user, next_location(store.base_url, login.next))
    response.del_cookie(PENDING_COOKIE, path=cookie_path(store.base_url))
    return response


def xsrf_refused(store: Store, retry_path: str) -> web.Response:
    """The 403 page for a POST without a valid ``atl_token``."""
    body = message_page(
        "XSRF Security Token Missing", XSRF_FAILED, store.base_url + retry_path, "Reload the form"
    )
    return page(body, status=403)


def code_error(raw: str) -> str:
    """The message for a rejected code: none given, or wrong (or expired)."""
    return NO_CODE if not raw.strip() else WRONG_CODE


# -- enrolment and verification ----------------------------------------------------------------


def _enrol_body(store: Store, login: PendingLogin, user: User, error: str = "") -> str:
    secret = store.tfa.offer_secret(login)
    return enrol_page(
        username=user.name,
        secret=secret,
        uri=enrolment.provisioning_uri(secret, user),
        action=store.base_url + ENROL_PATH,
        token=pending_token(store, login),
        cancel_url=login_url(store.base_url),
        error=error,
    )


def _verify_body(store: Store, login: PendingLogin, user: User, error: str = "") -> str:
    return verify_page(
        username=user.name,
        action=store.base_url + VERIFY_PATH,
        token=pending_token(store, login),
        cancel_url=login_url(store.base_url),
        error=error,
    )


async def get_enrol(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/tfa/enrol``: the secret, its QR code and the code field."""
    store = _require_installed(request)
    found = pending_of(store, request)
    if found is None:
        return without_pending(store, request)
    login, user = found
    if store.tfa.enrolled(user.id):
        return redirect(store.base_url + VERIFY_PATH)
    return page(_enrol_body(store, login, user))


async def post_enrol(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/tfa/enrol``: a valid code confirms the secret and logs in."""
    store = _require_installed(request)
    found = pending_of(store, request)
    if found is None:
        return without_pending(store, request)
    login, user = found
    if store.tfa.enrolled(user.id):
        return redirect(store.base_url + VERIFY_PATH, status=303)
    form = await read_form(request)
    if not pending_xsrf_ok(store, login, form):
        return xsrf_refused(store, ENROL_PATH)
    secret = store.tfa.offer_secret(login)
    raw = form.get("code", "")
    if not enrolment.verify_code(secret, raw, store.clock.now()):
        note(request, tfa="code-rejected")
        return page(_enrol_body(store, login, user, error=code_error(raw)))
    note(request, tfa="enrolled")
    store.tfa.confirm(login, secret)
    return complete_login(store, request, login, user)


async def get_verify(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/tfa/verify``: the code prompt of a pending login."""
    store = _require_installed(request)
    found = pending_of(store, request)
    if found is None:
        return without_pending(store, request)
    login, user = found
    if not store.tfa.enrolled(user.id):
        return redirect(store.base_url + ENROL_PATH)
    return page(_verify_body(store, login, user))


async def post_verify(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/tfa/verify``: a valid code opens the session."""
    store = _require_installed(request)
    found = pending_of(store, request)
    if found is None:
        return without_pending(store, request)
    login, user = found
    secret = store.tfa.secrets.get(user.id)
    if secret is None:
        return redirect(store.base_url + ENROL_PATH, status=303)
    form = await read_form(request)
    if not pending_xsrf_ok(store, login, form):
        return xsrf_refused(store, VERIFY_PATH)
    raw = form.get("code", "")
    if not enrolment.verify_code(secret, raw, store.clock.now()):
        note(request, tfa="code-rejected")
        return page(_verify_body(store, login, user, error=code_error(raw)))
    note(request, tfa="verified")
    return complete_login(store, request, login, user)


async def get_blocked(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/tfa/blocked``: why an OAuth request was refused."""
    store = _require_installed(request)
    return page(blocked_page(store.base_url, BLOCKED_MESSAGE))


# -- admin settings ------------------------------------------------------------------------------


def refuse(store: Store, request: web.Request) -> web.Response | None:
    """Login redirect (anonymous), 401 page (not a system admin), or None (go ahead)."""
    principal = principal_of(request)
    if principal.is_sysadmin:
        return None
    if principal.user is None:
        return redirect(login_url(store.base_url, ADMIN_PATH))
    body = message_page(
        "Unauthorized", NOT_PERMITTED, store.base_url + DASHBOARD_PATH, "Go to the dashboard"
    )
    return page(body, status=401)


def split_list(text: str) -> list[str]:
    """Entries of a comma- or line-separated field (blanks dropped)."""
    return [part.strip() for part in re.split(r"[,\r\n]+", text) if part.strip()]


def settings_changes(
    form: dict[str, str], current: SettingsForm
) -> tuple[dict[str, Any], SettingsForm]:
    """The ``tfa`` config patch a submitted form asks for, and the form as entered.

    Checkboxes absent = off (as browsers send them); ``enforce`` is required; the
    simulator's ``blocked_response`` keeps its value when absent.
    """
    entered = SettingsForm(
        oauth_whitelist=bool(form.get("oauth_whitelist")),
        enforce=form.get("enforce", ""),
        groups=form.get("groups", ""),
        ip_whitelist=form.get("ip_whitelist", ""),
        blocked_response=form.get("blocked_response", current.blocked_response),
        trust_x_forwarded_for=bool(form.get("trust_x_forwarded_for")),
    )
    changes: dict[str, Any] = {
        "oauth_whitelist": entered.oauth_whitelist,
        "enforce": entered.enforce,
        "groups": split_list(entered.groups),
        "ip_whitelist": split_list(entered.ip_whitelist),
        "blocked_response": entered.blocked_response,
        "trust_x_forwarded_for": entered.trust_x_forwarded_for,
    }
    if not entered.enforce:
        entered.errors["enforce"] = "Choose who must use two-factor authentication."
    elif entered.enforce in ("groups", "all-except-groups") and not changes["groups"]:
        entered.errors["groups"] = GROUPS_NEEDED
    return changes, entered


async def get_admin(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/tfa/admin``: the settings form (system admins)."""
    store = _require_installed(request)
    refused = refuse(store, request)
    if refused is not None:
        return refused
    message = SAVED if request.query.get("saved") == "true" else ""
    form = SettingsForm.of_config(store.config.tfa)
    return page(admin_page(store.base_url, form, xsrf_token(store, request), message))


async def post_admin(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/tfa/admin``: save the settings, all or nothing."""
    store = _require_installed(request)
    refused = refuse(store, request)
    if refused is not None:
        return refused
    form = await read_form(request)
    if not xsrf_ok(store, request, form):
        return xsrf_refused(store, ADMIN_PATH)
    changes, entered = settings_changes(form, SettingsForm.of_config(store.config.tfa))
    if not entered.errors:
        try:
            store.config.patch({"tfa": changes})
        except ConfigError as exc:
            name = (exc.key or "tfa.enforce").removeprefix("tfa.")
            entered.errors[name] = str(exc).removeprefix(f"{exc.key}: ")
    if entered.errors:
        body = admin_page(store.base_url, entered, xsrf_token(store, request))
        return page(body, status=400)
    note(request, tfa="settings-saved")
    return redirect(f"{store.base_url}{ADMIN_PATH}?saved=true", status=303)


def routes() -> list[web.RouteDef]:
    """The plugin's servlets."""
    return [
        web.get(ENROL_PATH, get_enrol),
        web.post(ENROL_PATH, post_enrol),
        web.get(VERIFY_PATH, get_verify),
        web.post(VERIFY_PATH, post_verify),
        web.get(BLOCKED_PATH, get_blocked),
        web.get(ADMIN_PATH, get_admin),
        web.post(ADMIN_PATH, post_admin),
    ]
