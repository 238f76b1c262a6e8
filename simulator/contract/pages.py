"""Operation fragments of the browser pages (see :mod:`simulator.contract`): ``/``, the login
form and its servlets, the dashboard, the pages' stylesheet and the "U2F & TOTP" plugin's
servlets (``/plugins/servlet/tfa/...``).

What every one of them shares:

- Pages answer HTML (``text/html;charset=UTF-8``); a redirect is a 302 (303 after some
  POSTs) with an absolute ``Location`` under the base URL.
- Forms are ``application/x-www-form-urlencoded``; another body is read as an empty form, a
  field given twice counts once (the first), unknown fields are ignored. No field is refused
  as such: a bad or missing value re-renders the form (or fails its XSRF check), so the
  schemas below say what a field means, not what is refused before the form is read.
- While the plugin is installed, a request authenticated with an OAuth 2 Bearer token or an
  OAuth 1 signature of a user to whom 2FA applies (OAuth whitelist off) is answered, before
  the handler runs, per ``blocked_response``: a 302 to ``/plugins/servlet/tfa/blocked``, or
  the blocked page as a 401 or 403 (:func:`simulator.auth.tfa_gate`).
- Wrong HTTP Basic credentials answer the JSON 401 of every route; a failing
  ``Authorization: OAuth`` header answers net.oauth's form-encoded problem (400 or 401).
- The plugin's servlets answer 404 in Bitbucket's envelope while it is not installed.
"""

from __future__ import annotations

from typing import Any

from simulator.contract.spec import (
    STRING,
    Operation,
    Schema,
    either,
    empty,
    error,
    form_body,
    header,
    html,
    media,
    op,
    query,
    redirect,
    with_headers,
)

_SET_COOKIE = {
    "description": "A cookie the answer sets or expires.",
    "required": False,
    "schema": STRING,
}
_NO_STORE = {
    "Cache-Control": {
        "description": "The plugin's pages are never cached.",
        "required": True,
        "schema": {"const": "no-store"},
    },
    "X-Frame-Options": {"required": True, "schema": {"const": "SAMEORIGIN"}},
}


def _cookie(name: str, description: str) -> dict[str, Any]:
    """An optional cookie the handler reads."""
    return {
        "name": name,
        "in": "cookie",
        "required": False,
        "description": description,
        "schema": STRING,
    }


# -- what the plugin's OAuth gate and wrong credentials add ----------------------------------

#: A redirect's ``Location``: always an absolute URL under the base URL.
_LOCATION = {"required": True, "schema": {"type": "string", "pattern": "^https?://[^/]+"}}


def _to(description: str) -> dict[str, Any]:
    """A redirect to an absolute URL."""
    return with_headers(redirect(description), {"Location": _LOCATION})


_OAUTH1_PROBLEM_TEXT = (
    "An `Authorization: OAuth` header that fails (net.oauth's problem, form-encoded, with "
    "`WWW-Authenticate`)"
)


def _oauth1_problem(description: str) -> dict[str, Any]:
    return with_headers(
        media("application/x-www-form-urlencoded", description),
        {
            "WWW-Authenticate": {
                "required": True,
                "schema": {"type": "string", "pattern": "^OAuth realm="},
            }
        },
    )


_WRONG_CREDENTIAL = error("HTTP Basic credentials were given and are wrong.")
_BLOCKED_401 = html(
    "The plugin's blocked page (`blocked_response` 401): an OAuth request of a user to whom "
    "two-factor authentication applies, with the OAuth whitelist off."
)
_BLOCKED_403 = html("The plugin's blocked page (`blocked_response` 403), as for 401.")
_BLOCKED_302 = "or, with `blocked_response` redirect, a blocked OAuth request: to the blocked page"


_UNAUTHORIZED = either(
    "Wrong HTTP Basic credentials (JSON envelope); a failed OAuth 1 signature "
    "(form-encoded); or the plugin's blocked page (HTML).",
    _WRONG_CREDENTIAL,
    _oauth1_problem(_OAUTH1_PROBLEM_TEXT + ": a bad signature, key or token."),
    _BLOCKED_401,
)
_OAUTH1_MALFORMED = _oauth1_problem(
    _OAUTH1_PROBLEM_TEXT + ": a parameter absent or rejected, a bad version or timestamp."
)


#: A form body beyond the app's ``client_max_size``: aiohttp's own plain-text answer.
_TOO_LARGE = media("text/plain", "The body is larger than the 4 MiB the simulator reads.")


def _gated(
    responses: dict[str, dict[str, Any]],
    *,
    unauthorized: dict[str, Any] | None = None,
    reads_body: bool = False,
) -> dict[str, dict[str, Any]]:
    """A page's answers, with what the request pipeline may answer before the page runs:
    the OAuth gate's 302/401/403, the JSON 401 of wrong Basic credentials and the OAuth 1
    problems (400, 401); and a 413 where the handler reads a body. A 302, 400 or 403 the
    page has of its own keeps its description."""
    out = dict(responses)
    if reads_body:
        out["413"] = _TOO_LARGE
    out.setdefault("302", _to(f"Elsewhere, {_BLOCKED_302}."))
    out.setdefault("403", _BLOCKED_403)
    own_400 = out.get("400")
    out["400"] = (
        either(f"{own_400['description']} Or: {_OAUTH1_PROBLEM_TEXT}.", own_400, _OAUTH1_MALFORMED)
        if own_400
        else _OAUTH1_MALFORMED
    )
    out["401"] = unauthorized or _UNAUTHORIZED
    return out


# -- web pages (simulator.web.login) ---------------------------------------------------------

_NEXT: Schema = {
    "type": "string",
    "examples": ["/plugins/servlet/tfa/admin", "/dashboard"],
}
_NEXT_TEXT = (
    "Where to go after logging in: a path relative to the base URL or an absolute URL under "
    "it. Anything else (another host, `//host`, dot segments, backslashes, control "
    "characters) is ignored, not refused: the login goes to the dashboard."
)
_LOGIN_FORM = form_body(
    {
        "j_username": {
            "type": "string",
            "description": "The user name (case-insensitive); blank fails the login.",
            "examples": ["admin"],
        },
        "j_password": {
            "type": "string",
            "description": "The password; wrong or blank fails the login.",
            "examples": ["admin"],
        },
        "next": {**_NEXT, "description": _NEXT_TEXT},
        "_atl_remember_me": {
            "type": "string",
            "description": "The form's 'Remember me' checkbox (`on`); read by nothing.",
        },
    },
    description=(
        "The login form. No XSRF token: like Bitbucket's `j_atl_security_check`, the login "
        "form is not XSRF-protected. A missing field is a failed login (200), not a 400."
    ),
)

_ROOT = op(
    responses=_gated(
        {
            "302": _to(
                "To `{base}/dashboard` when logged in (session or HTTP Basic), else to "
                f"`{{base}}/login?next=%2Fdashboard`; {_BLOCKED_302}."
            )
        }
    )
)
_CONTEXT_ROOT = op(
    responses={
        "302": _to("`<context>` without its slash: to `<context>/`, the query kept (Tomcat).")
    }
)
_LOGIN = op(
    parameters=[query("next", _NEXT, _NEXT_TEXT)],
    responses=_gated(
        {
            "200": html("The login form (also for HTTP Basic callers: they have no session)."),
            "302": _to(
                f"A browser session is already open: on to `next` or the dashboard; {_BLOCKED_302}."
            ),
        }
    ),
)
_SECURITY_CHECK = op(
    body=_LOGIN_FORM,
    responses=_gated(
        {
            "200": html(
                "The login form again with 'Invalid username or password.' (a blank, unknown, "
                "inactive or wrong login)."
            ),
            "302": with_headers(
                _to(
                    "Logged in: a fresh `BITBUCKETSESSIONID` cookie and on to `next` or the "
                    "dashboard; or, when two-factor authentication applies to the user, no "
                    "session but a `TFAPENDINGID` cookie and on to `/plugins/servlet/tfa/enrol` "
                    f"(first time) or `/plugins/servlet/tfa/verify`; {_BLOCKED_302}."
                ),
                {"Set-Cookie": _SET_COOKIE},
            ),
        },
        reads_body=True,
    ),
)
_DASHBOARD = op(
    responses=_gated(
        {
            "200": html("Who is logged in (session or HTTP Basic)."),
            "302": _to(f"Anonymous: to `{{base}}/login?next=%2Fdashboard`; {_BLOCKED_302}."),
        }
    )
)
_LOGOUT = op(
    responses=_gated(
        {
            "302": with_headers(
                _to(
                    "The session (if any) ended and its cookie expired: to the login page; "
                    f"{_BLOCKED_302}."
                ),
                {"Set-Cookie": _SET_COOKIE},
            )
        }
    )
)

# -- the stylesheet (simulator.web.stylesheet) -----------------------------------------------

_CACHE = {
    "Cache-Control": {
        "required": True,
        "schema": {"const": "public, max-age=31536000, immutable"},
    },
    "ETag": {"required": True, "schema": {"type": "string", "pattern": '^"[0-9a-f]{16}"$'}},
}
_STYLESHEET = op(
    parameters=[
        header(
            "If-None-Match",
            STRING,
            "Entity tags, comma-separated; the stylesheet's own answers 304.",
        )
    ],
    responses=_gated(
        {
            "200": with_headers(media("text/css", "The pages' stylesheet."), _CACHE),
            "304": with_headers(empty("`If-None-Match` names the stylesheet's ETag."), _CACHE),
            "302": _to(f"Only {_BLOCKED_302.removeprefix('or, ')}."),
        }
    ),
)

# -- the "U2F & TOTP" plugin (simulator.tfa.routes) ------------------------------------------

_NOT_INSTALLED = error("The plugin is not installed: its servlets do not exist.")
_PENDING = _cookie(
    "TFAPENDINGID",
    "The login waiting for its second factor (set by `j_atl_security_check`); unknown or "
    "expired (10 minutes) is the same as none.",
)
_CODE_FORM = form_body(
    {
        "code": {
            "type": "string",
            "description": (
                "The 6-digit TOTP code of the authenticator app (spaces ignored). Blank, "
                "malformed, wrong or expired re-renders the page with an error (200)."
            ),
            "examples": ["123456"],
        },
        "atl_token": {
            "type": "string",
            "description": (
                "The form's XSRF token (an HMAC of the pending login); missing or wrong "
                "answers the 403 page."
            ),
        },
    },
    description="The code form. Only read with a live pending login.",
)
_NO_PENDING = (
    "No live pending login: to the dashboard with a browser session, else to the login page "
    "(the stale `TFAPENDINGID` cookie expired)"
)
_XSRF_403 = "The 'XSRF Security Token Missing' page: `atl_token` is missing or wrong."


def _tfa_page(description: str) -> dict[str, Any]:
    """A page of the plugin's (its error pages included): never cached, never framed."""
    return with_headers(html(description), _NO_STORE)


def _tfa_403(own: str) -> dict[str, Any]:
    return either(
        f"{own} Or the plugin's blocked page (`blocked_response` 403).",
        _tfa_page(own),
        _BLOCKED_403,
    )


_ENROL_GET = op(
    parameters=[_PENDING],
    responses=_gated(
        {
            "200": _tfa_page("The enrolment page: the new secret, its QR code, the code field."),
            "302": _to(
                f"{_NO_PENDING}; or the user is enrolled already: to the verify page; "
                f"{_BLOCKED_302}."
            ),
            "404": _NOT_INSTALLED,
        }
    ),
)
_ENROL_POST = op(
    parameters=[_PENDING],
    body=_CODE_FORM,
    responses=_gated(
        {
            "200": _tfa_page("The enrolment page again, with the code's error."),
            "302": with_headers(
                _to(
                    "A valid code: enrolled, a fresh `BITBUCKETSESSIONID` cookie, the pending "
                    f"cookie expired and on to the login's `next`; {_NO_PENDING}; "
                    f"{_BLOCKED_302}."
                ),
                {"Set-Cookie": _SET_COOKIE},
            ),
            "303": _to("The user is enrolled already: to the verify page."),
            "403": _tfa_403(_XSRF_403),
            "404": _NOT_INSTALLED,
        },
        reads_body=True,
    ),
)
_VERIFY_GET = op(
    parameters=[_PENDING],
    responses=_gated(
        {
            "200": _tfa_page("The code prompt of a pending login."),
            "302": _to(
                f"{_NO_PENDING}; or the user is not enrolled yet: to the enrolment page; "
                f"{_BLOCKED_302}."
            ),
            "404": _NOT_INSTALLED,
        }
    ),
)
_VERIFY_POST = op(
    parameters=[_PENDING],
    body=_CODE_FORM,
    responses=_gated(
        {
            "200": _tfa_page("The code prompt again, with the code's error."),
            "302": with_headers(
                _to(
                    "A valid code: a fresh `BITBUCKETSESSIONID` cookie, the pending cookie "
                    f"expired and on to the login's `next`; {_NO_PENDING}; {_BLOCKED_302}."
                ),
                {"Set-Cookie": _SET_COOKIE},
            ),
            "303": _to("The user is not enrolled yet: to the enrolment page."),
            "403": _tfa_403(_XSRF_403),
            "404": _NOT_INSTALLED,
        },
        reads_body=True,
    ),
)
_BLOCKED = op(
    responses={
        "200": _tfa_page(
            "Why an OAuth request was refused. Never blocked itself; every credential is "
            "ignored (the request is anonymous)."
        ),
        "404": _NOT_INSTALLED,
    }
)

_NOT_ADMIN = either(
    "Not a system administrator (or a credential that may not use admin rights, such as a "
    "personal access token): the 'Unauthorized' page; or as on every page.",
    _UNAUTHORIZED,
    _tfa_page("The 'Unauthorized' page."),
)
_ANONYMOUS_ADMIN = (
    "Anonymous: to `{base}/login?next=%2Fplugins%2Fservlet%2Ftfa%2Fadmin`; " + _BLOCKED_302
)
_XSRF_HEADER = header(
    "X-Atlassian-Token",
    {"type": "string", "examples": ["no-check"]},
    "`no-check` (any case) stands in for `atl_token` when the caller has no browser session "
    "(HTTP Basic), as for Bitbucket's non-browser clients.",
)
_CHOICE = {"type": "string", "examples": ["on"]}
_SETTINGS_FORM = form_body(
    {
        "enforce": {
            "type": "string",
            "description": (
                "'Force settings': `none`, `all`, `groups` or `all-except-groups`. Missing "
                "or another value re-renders the form with the field's error (400)."
            ),
            "examples": ["all", "groups"],
        },
        "groups": {
            "type": "string",
            "description": (
                "Group names, comma- or line-separated; at least one for `groups` and "
                "`all-except-groups` (else 400)."
            ),
            "examples": ["stash-users"],
        },
        "ip_whitelist": {
            "type": "string",
            "description": (
                "Addresses or CIDR ranges, one a line (or comma-separated); one that is "
                "neither is a 400."
            ),
            "examples": ["10.0.0.0/8\n192.0.2.7"],
        },
        "oauth_whitelist": {
            **_CHOICE,
            "description": "'Enable OAuth whitelist' checkbox: not blank = on.",
        },
        "trust_x_forwarded_for": {
            **_CHOICE,
            "description": "Trust X-Forwarded-For for the client address: not blank = on.",
        },
        "blocked_response": {
            "type": "string",
            "description": (
                "What a blocked OAuth request gets: `redirect`, `401` or `403`; absent keeps "
                "the current value, another value is a 400."
            ),
            "examples": ["redirect"],
        },
        "atl_token": {
            "type": "string",
            "description": (
                "The session's XSRF token (from the form); without a browser session the "
                "`X-Atlassian-Token: no-check` header instead. Missing or wrong answers the "
                "403 page and nothing changes."
            ),
        },
    },
    description="The settings form; a save is all or nothing. Absent checkboxes are off.",
)

_ADMIN_GET = op(
    parameters=[
        query(
            "saved",
            {"type": "string", "examples": ["true"]},
            "`true` shows 'The settings were saved.'; any other value is ignored.",
        )
    ],
    responses=_gated(
        {
            "200": _tfa_page("The settings form (system administrators)."),
            "302": _to(_ANONYMOUS_ADMIN + "."),
            "404": _NOT_INSTALLED,
        },
        unauthorized=_NOT_ADMIN,
    ),
)
_ADMIN_POST = op(
    parameters=[_XSRF_HEADER],
    body=_SETTINGS_FORM,
    responses=_gated(
        {
            "303": _to("Saved: to `/plugins/servlet/tfa/admin?saved=true`."),
            "302": _to(_ANONYMOUS_ADMIN + "."),
            "400": _tfa_page(
                "The form again, as entered, with each bad field's error; nothing changed."
            ),
            "403": _tfa_403(_XSRF_403 + " Nothing changed."),
            "404": _NOT_INSTALLED,
        },
        unauthorized=_NOT_ADMIN,
        reads_body=True,
    ),
)

_ENTITY = op(
    responses=_gated(
        {
            "200": html(
                "The page: a project's repositories, a user's profile, a directory's "
                "entries or a file's text."
            ),
            "302": _to(
                f"Anonymous on what it may not see: to `{{base}}/login?next=…`; {_BLOCKED_302}."
            ),
            "404": html("No such project, user, repository, revision or path, or hidden."),
        }
    )
)
_REPOSITORY_ROOT = op(
    responses=_gated(
        {
            "302": _to(f"On to the repository's browse page; {_BLOCKED_302}."),
            "404": html("No such repository."),
        }
    )
)

_WEBHOOKS_UNAUTHORIZED = html("Signed in without REPO_ADMIN on the repository.")
_WEBHOOKS_GET = op(
    parameters=[
        query(
            "saved",
            {"type": "string", "examples": ["created"]},
            "`created` or `deleted` shows that the change was saved; other values are ignored.",
        )
    ],
    responses=_gated(
        {
            "200": html("The repository's webhooks and the Create webhook form."),
            "302": _to("Anonymous: to `{base}/login?next=…`."),
            "404": html("No such repository, or a Bitbucket older than 5.4."),
        },
        unauthorized=_WEBHOOKS_UNAUTHORIZED,
    ),
)
_WEBHOOK_FORM = form_body(
    {
        "name": {"type": "string", "description": "Required, at most 255 characters."},
        "url": {"type": "string", "description": "Required: an http or https URL."},
        "secret": {"type": "string", "description": "Signs deliveries (X-Hub-Signature)."},
        "username": {"type": "string", "description": "Basic credentials sent with each one."},
        "password": {"type": "string", "description": "Basic credentials sent with each one."},
        "events": {"type": "string", "description": "Repeatable: an event key; at least one."},
        "active": {**_CHOICE, "description": "Checkbox: not blank = on."},
        "sslVerificationRequired": {**_CHOICE, "description": "Checkbox: not blank = on."},
        "atl_token": {
            "type": "string",
            "description": "The session's XSRF token; without a browser session the "
            "`X-Atlassian-Token: no-check` header instead.",
        },
    },
    description="Create a webhook; validated as `POST …/webhooks` on REST.",
)
_WEBHOOKS_POST = op(
    parameters=[_XSRF_HEADER],
    body=_WEBHOOK_FORM,
    responses=_gated(
        {
            "303": _to("Created: back to the page with `?saved=created`."),
            "302": _to("Anonymous: to `{base}/login?next=…`."),
            "400": html("The form again, as entered, with the bad field's error."),
            "403": html(_XSRF_403 + " Nothing changed."),
            "404": html("No such repository, or a Bitbucket older than 5.4."),
        },
        unauthorized=_WEBHOOKS_UNAUTHORIZED,
        reads_body=True,
    ),
)
_WEBHOOK_DELETE = op(
    parameters=[_XSRF_HEADER],
    body=form_body({"atl_token": {"type": "string", "description": "As for creating."}}),
    responses=_gated(
        {
            "303": _to("Deleted: back to the page with `?saved=deleted`."),
            "302": _to("Anonymous: to `{base}/login?next=…`."),
            "403": html(_XSRF_403 + " Nothing changed."),
            "404": html("No such repository or webhook."),
        },
        unauthorized=_WEBHOOKS_UNAUTHORIZED,
        reads_body=True,
    ),
)

OPERATIONS: dict[str, Operation] = {
    "simulator.webhooks.pages:get_webhooks_page": _WEBHOOKS_GET,
    "simulator.webhooks.pages:post_webhooks_page": _WEBHOOKS_POST,
    "simulator.webhooks.pages:post_delete_webhook": _WEBHOOK_DELETE,
    "simulator.web.browse:get_project_page": _ENTITY,
    "simulator.web.browse:get_user_page": _ENTITY,
    "simulator.web.browse:get_browse_page": _ENTITY,
    "simulator.web.browse:get_repository_root": _REPOSITORY_ROOT,
    "simulator.web.login:get_root": _ROOT,
    "simulator.web.login:get_context_root": _CONTEXT_ROOT,
    "simulator.web.login:get_login": _LOGIN,
    "simulator.web.login:j_atl_security_check": _SECURITY_CHECK,
    "simulator.web.login:get_dashboard": _DASHBOARD,
    "simulator.web.login:j_atl_security_logout": _LOGOUT,
    "simulator.web.stylesheet:get_stylesheet": _STYLESHEET,
    "simulator.tfa.routes:get_enrol": _ENROL_GET,
    "simulator.tfa.routes:post_enrol": _ENROL_POST,
    "simulator.tfa.routes:get_verify": _VERIFY_GET,
    "simulator.tfa.routes:post_verify": _VERIFY_POST,
    "simulator.tfa.routes:get_blocked": _BLOCKED,
    "simulator.tfa.routes:get_admin": _ADMIN_GET,
    "simulator.tfa.routes:post_admin": _ADMIN_POST,
}
