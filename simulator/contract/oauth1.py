"""Operation fragments of the OAuth 1 servlets and the Application Links admin pages.

``/plugins/servlet/oauth/{request-token,authorize,access-token}`` (:mod:`simulator.oauth1.
endpoints`) and the admin pages under ``/plugins/servlet/applinks/`` (:mod:`simulator.applinks.
pages` and :mod:`simulator.applinks.oauth1_pages`); ``applinks/whoami`` is a REST handler's
(:mod:`simulator.contract.rest`). See :mod:`simulator.contract` for how they join the document.

What the schemas say, and why:

- The OAuth protocol parameters may come in the ``Authorization: OAuth`` header (which an
  OpenAPI parameter cannot describe), the form body or the query string, all from one place
  (``parameter_rejected`` otherwise); each is optional in each place, because a missing one is
  a ``parameter_absent`` problem, which the answers describe. Their schemas cover every value
  the servlets can accept (a token is 32 letters and digits, a verifier six, a timestamp ten
  digits) and no more.
- The token servlets answer ``text/plain`` on success and an OAuth problem report otherwise:
  the status of net.oauth's table, ``WWW-Authenticate: OAuth realm=..., oauth_problem=...``
  and the problem form-encoded (its schema is the decoded form).
- The admin pages answer HTML: 200 pages, 303 after a successful POST, 302 to ``/login`` for
  anonymous callers, 400 the form again with its errors, 401 a page for users who are not
  system administrators (or the JSON envelope for a wrong credential), 403 a POST without a
  valid XSRF token, 404 an unknown link (and, below 7.21, every OAuth 2 page). A form passes
  the XSRF check with its session's ``atl_token`` field, or, for a caller without a browser
  session (HTTP Basic, tokens), with the header ``X-Atlassian-Token: no-check``. Forms ignore
  fields they do not know. Values the server refuses, even with a 501 ("Outgoing", an
  Atlassian application type other than Generic Application), are outside the schemas.
"""

from __future__ import annotations

from typing import Any

from simulator.applinks import oauth1_pages, pages, paths
from simulator.contract import handler_key
from simulator.contract.spec import (
    ERROR,
    STRING,
    Operation,
    Schema,
    empty,
    form_body,
    header,
    html,
    op,
    query,
    redirect,
)
from simulator.oauth1 import endpoints, problems
from simulator.oauth1.backend import MAX_FIELD_LENGTH, TOKEN_LENGTH, VERIFIER_LENGTH
from simulator.oauth1.message import RSA_SHA1, RSA_SHA2
from simulator.oauth2.backend import MAX_REDIRECT_LENGTH
from simulator.oauth2.scopes import FORM_SCOPES
from simulator.web.pages import XSRF_FIELD

JSON = "application/json"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain"

# -- values ----------------------------------------------------------------------------------


def _space_class() -> str:
    """What Python's ``str.strip`` and ``str.isspace`` call white space, as the body of a
    character class (ECMA's ``\\s``, which schema validators read, differs: it takes U+FEFF
    and leaves out U+001C-U+001F and U+0085)."""
    spaces = [code for code in range(0x10000) if chr(code).isspace()]
    runs: list[tuple[int, int]] = []
    for code in spaces:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return "".join(
        f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in runs
    )


_SPACES = _space_class()
#: White space as the servers trim and refuse it, and any other character.
_WS = f"[{_SPACES}]"
_NOT_WS = f"[^{_SPACES}]"
#: An absolute http(s) URL (the scheme in any case) without white space; the servers also
#: refuse control characters and a bad port, which the pattern does not say.
_URL = rf"[Hh][Tt][Tt][Pp][Ss]?://{_NOT_WS}+"


def _random(length: int) -> Schema:
    return {"type": "string", "pattern": f"^[A-Za-z0-9]{{{length}}}$"}


def _trimmed(description: str, limit: int = MAX_FIELD_LENGTH) -> Schema:
    """Text that, trimmed of white space, is 1 to ``limit`` characters long."""
    return {
        "type": "string",
        "pattern": rf"^{_WS}*{_NOT_WS}(?:[\s\S]{{0,{limit - 2}}}{_NOT_WS})?{_WS}*$",
        "description": description,
    }


def _application_url(description: str) -> Schema:
    """An Application URL: absolute http(s), at most 255 characters once trimmed."""
    https, http = MAX_FIELD_LENGTH - len("https://"), MAX_FIELD_LENGTH - len("http://")
    return {
        "type": "string",
        "pattern": (
            rf"^{_WS}*(?:[Hh][Tt][Tt][Pp]://{_NOT_WS}{{1,{http}}}"
            rf"|[Hh][Tt][Tt][Pp][Ss]://{_NOT_WS}{{1,{https}}}){_WS}*$"
        ),
        "description": description,
    }


TOKEN = _random(TOKEN_LENGTH)
VERIFIER = _random(VERIFIER_LENGTH)
NON_BLANK: Schema = {"type": "string", "pattern": _NOT_WS}

# -- the OAuth protocol parameters -----------------------------------------------------------

_OAUTH_PARAMETERS: dict[str, tuple[Schema, str]] = {
    "oauth_consumer_key": (
        {"type": "string", "minLength": 1, "maxLength": MAX_FIELD_LENGTH},
        "The link's Consumer Key (consumer_key_unknown for any other).",
    ),
    "oauth_signature_method": (
        {"enum": [RSA_SHA1, *RSA_SHA2]},
        "RSA-SHA1; RSA-SHA256 and RSA-SHA512 only with oauth1.accept_rsa_sha2 "
        "(signature_method_rejected otherwise).",
    ),
    "oauth_signature": (
        {"type": "string", "minLength": 1},
        "The RSA signature, base64 (signature_invalid when it does not verify).",
    ),
    "oauth_timestamp": (
        {"type": "string", "pattern": "^[0-9]{10}$"},
        "Epoch seconds within oauth1.timestamp_window_seconds of the simulated clock "
        "(timestamp_refused otherwise; parameter_rejected when not a number).",
    ),
    "oauth_nonce": (
        {"type": "string", "minLength": 1},
        "Used once per consumer, token and timestamp (nonce_used on a repeat).",
    ),
    "oauth_version": ({"const": "1.0"}, "Optional; anything else is version_rejected."),
}
_CALLBACK: Schema = {
    "type": "string",
    "pattern": f"^(?:oob|{_URL})$",
    "description": "'oob', or an absolute http(s) URI (parameter_rejected otherwise).",
}
_TOKEN_PARAMETERS: dict[str, dict[str, tuple[Schema, str]]] = {
    "request-token": {
        **_OAUTH_PARAMETERS,
        "oauth_callback": (_CALLBACK, "Where authorize sends the user back (1.0a: required)."),
    },
    "access-token": {
        **_OAUTH_PARAMETERS,
        "oauth_token": (TOKEN, "The authorized request token, or the access token to renew."),
        "oauth_verifier": (VERIFIER, "The verifier authorize gave (to exchange a request token)."),
        "oauth_session_handle": (TOKEN, "The access token's session handle (to renew it)."),
    },
}


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def _token_request(servlet: str) -> dict[str, Any]:
    """Parameters and body of a token servlet: the OAuth parameters in the query or a form,
    or in the Authorization header; a JSON body is read and ignored."""
    parameters = _TOKEN_PARAMETERS[servlet]
    body = form_body(
        {name: _described(schema, text) for name, (schema, text) in parameters.items()},
        description="The OAuth parameters (or send them in the query or the Authorization "
        "header; all in one place).",
    )
    body["content"][JSON] = {
        "schema": {"description": "Any JSON; it carries no OAuth parameters and is ignored."}
    }
    return {
        "parameters": [query(name, schema, text) for name, (schema, text) in parameters.items()],
        "body": body,
    }


# -- answers ---------------------------------------------------------------------------------

WWW_AUTHENTICATE: Schema = {
    "type": "string",
    "pattern": r'^OAuth realm="[^"]*"(?:, [A-Za-z0-9_.~%-]+="[^"]*")+$',
    "description": "The realm (the percent-encoded base URL) and the problem's oauth_* parameters.",
}
_PROBLEM_PARAMETERS: dict[str, Schema] = {
    "oauth_parameters_absent": {"type": "string", "description": "Names, '&'-joined."},
    "oauth_parameters_rejected": {"type": "string", "description": "Names (or pairs)."},
    "oauth_problem_advice": STRING,
    "oauth_acceptable_versions": {"const": "1.0-1.0"},
    "oauth_acceptable_timestamps": {"type": "string", "pattern": "^[0-9]+-[0-9]+$"},
    "oauth_acceptable_signature_methods": STRING,
    "oauth_signature": STRING,
    "oauth_signature_base_string": STRING,
    "oauth_signature_method": STRING,
}
#: The problems net.oauth answers 400 (the other problems these servlets report are 401).
BAD_REQUEST_PROBLEMS = sorted(
    name for name, status in problems.HTTP_STATUS.items() if status == 400
)


def _problem_schema(names: list[str]) -> Schema:
    return {
        "type": "object",
        "required": ["oauth_problem"],
        "properties": {"oauth_problem": {"enum": names}, **_PROBLEM_PARAMETERS},
    }


def _problem_content(names: list[str]) -> dict[str, Any]:
    return {FORM: {"schema": _problem_schema(names)}}


def _headers(*, required: bool, **schemas: Schema) -> dict[str, Any]:
    return {
        name.replace("_", "-"): {"required": required, "schema": schema}
        for name, schema in schemas.items()
    }


def answer(
    description: str,
    *media_types: str,
    schemas: dict[str, Schema] | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An answer of one or more media types (a string unless ``schemas`` says otherwise)."""
    given = schemas or {}
    result: dict[str, Any] = {
        "description": description,
        "content": {media: {"schema": given.get(media, STRING)} for media in media_types},
    }
    if headers:
        result["headers"] = headers
    return result


def problem(description: str, names: list[str], *, wrong_credential: bool = False) -> Any:
    """An OAuth problem report (and, for 401, the envelope of a wrong Basic credential, which
    has no ``WWW-Authenticate``)."""
    content = _problem_content(names)
    if wrong_credential:
        content[JSON] = {"schema": ERROR}
        description += " Or a wrong credential (HTTP Basic), in the JSON error envelope."
    return {
        "description": description,
        "content": content,
        "headers": {
            "WWW-Authenticate": {"required": not wrong_credential, "schema": WWW_AUTHENTICATE}
        },
    }


def _token_answer(pairs: list[tuple[str, str]], description: str) -> dict[str, Any]:
    pattern = "&".join(f"{name}={value}" for name, value in pairs)
    return answer(description, TEXT, schemas={TEXT: {"type": "string", "pattern": f"^{pattern}$"}})


_TOKEN = f"[A-Za-z0-9]{{{TOKEN_LENGTH}}}"
_SIGNED_401 = ["consumer_key_unknown", "nonce_used", "signature_invalid"]
_TOKEN_401 = [
    "permission_denied",
    "permission_unknown",
    "token_expired",
    "token_rejected",
]


def _token_servlet(servlet: str, success: dict[str, Any], unauthorized: list[str]) -> Operation:
    request = _token_request(servlet)
    operation = op(
        parameters=request["parameters"],
        body=request["body"],
        responses={
            "200": success,
            "400": problem(
                "A parameter absent or rejected (a missing callback, parameters in more than "
                "one place, a repeat), a timestamp refused, a signature method or version "
                "rejected.",
                BAD_REQUEST_PROBLEMS,
            ),
            "401": problem(
                "The consumer, token, verifier, nonce or signature is not accepted.",
                sorted(unauthorized),
                wrong_credential=True,
            ),
        },
    )
    operation["description"] = (
        "The OAuth parameters may also be sent in an `Authorization: OAuth ...` header "
        "(realm allowed), which is the usual place; a malformed one is parameter_absent."
    )
    return operation


REQUEST_TOKEN = _token_servlet(
    "request-token",
    _token_answer(
        [
            ("oauth_token", _TOKEN),
            ("oauth_token_secret", _TOKEN),
            ("oauth_callback_confirmed", "true"),
        ],
        "A new request token (text/plain, form-encoded pairs).",
    ),
    _SIGNED_401,
)
ACCESS_TOKEN = _token_servlet(
    "access-token",
    _token_answer(
        [
            ("oauth_token", _TOKEN),
            ("oauth_token_secret", _TOKEN),
            ("oauth_expires_in", "[0-9]+"),
            ("oauth_session_handle", _TOKEN),
            ("oauth_authorization_expires_in", "[0-9]+"),
        ],
        "The access token (text/plain, form-encoded pairs), new or renewed.",
    ),
    _SIGNED_401 + _TOKEN_401,
)
ACCESS_TOKEN["responses"]["403"] = problem(
    "permission_denied with the two-factor plugin's advice, for a user it blocks, when "
    "tfa.blocked_response is 403.",
    ["permission_denied"],
)
TOKEN_SERVLET_GET = op(
    responses={
        "200": empty(
            "Nothing: the servlets handle only POST (their base class answers "
            "GET with an empty 200)."
        )
    }
)

# -- authorize -------------------------------------------------------------------------------

_PAGE_HEADERS = _headers(
    required=True,
    X_Frame_Options={"const": "SAMEORIGIN"},
    Cache_Control={"const": "no-store"},
)
_AUTHORIZE_400 = answer(
    "No oauth_token: the error page, with the problem (parameter_absent) in WWW-Authenticate.",
    HTML,
    headers={**_PAGE_HEADERS, "WWW-Authenticate": {"required": True, "schema": WWW_AUTHENTICATE}},
)


def _authorize_401() -> dict[str, Any]:
    return answer(
        "An unknown, used or expired request token (token_rejected, token_used, token_expired): "
        "the error page, with the problem in WWW-Authenticate; the two-factor page of a "
        "blocked user when tfa.blocked_response is 401; or a wrong credential (HTTP Basic), "
        "in the JSON error envelope.",
        HTML,
        JSON,
        schemas={JSON: ERROR},
        headers={"WWW-Authenticate": {"required": False, "schema": WWW_AUTHENTICATE}},
    )


_TFA_403 = "the two-factor page of a blocked user when tfa.blocked_response is 403"
XSRF_HEADER = header(
    "X-Atlassian-Token",
    {"type": "string", "pattern": "^[Nn][Oo]-[Cc][Hh][Ee][Cc][Kk]$"},
    "'no-check' (any case) passes the XSRF check of a caller without a browser session "
    "(HTTP Basic, tokens); with a session the form's atl_token is checked instead.",
)
_ATL_TOKEN: Schema = {
    "type": "string",
    "description": "The XSRF token of the form (40 hex digits, tied to the browser session); "
    "ignored without a session, where X-Atlassian-Token: no-check is needed instead.",
}

GET_AUTHORIZE = op(
    parameters=[
        query("oauth_token", TOKEN, "The request token to allow or deny.", required=True),
        query("oauth_callback", STRING, "Kept in the page's form (the token's callback wins)."),
    ],
    responses={
        "200": answer("The Allow / Deny page.", HTML, headers=_PAGE_HEADERS),
        "302": redirect(
            "To /login?next=<this page> without a browser session (HTTP Basic and tokens do "
            "not count), or to the two-factor page of a blocked user."
        ),
        "400": _AUTHORIZE_400,
        "401": _authorize_401(),
        "403": html("The two-factor page of a blocked user when tfa.blocked_response is 403."),
    },
)
POST_AUTHORIZE = op(
    parameters=[
        query("oauth_token", TOKEN, "As the form field (the form's value wins)."),
        query("oauth_callback", STRING, "As the form field (the form's value wins)."),
        XSRF_HEADER,
    ],
    body=form_body(
        {
            XSRF_FIELD: _ATL_TOKEN,
            "oauth_token": _described(
                TOKEN, "The request token (oauth_token in the query also counts)."
            ),
            "oauth_callback": _described(STRING, "Shown again in the page's form."),
            "approve": _described(STRING, "Present: Allow (any value)."),
            "deny": _described(STRING, "Present (without approve): Deny (any value)."),
        },
        description="The user's decision; with neither approve nor deny the page is shown again.",
    ),
    responses={
        "200": answer(
            "The page again (no decision), or, without any callback, the page that shows the "
            "verifier or says access was denied.",
            HTML,
            headers=_PAGE_HEADERS,
        ),
        "302": redirect(
            "After the decision, to the callback (the token's, else the link's) with "
            "oauth_token and oauth_verifier ('denied' on Deny); or to /login without a browser "
            "session; or to the two-factor page of a blocked user."
        ),
        "400": _AUTHORIZE_400,
        "401": _authorize_401(),
        "403": answer(
            'The XSRF check failed ("Xsrf token validation failed"), before anything else; '
            f"or {_TFA_403}.",
            HTML,
        ),
    },
)

# -- the admin pages -------------------------------------------------------------------------

_LOGIN_LOCATION: Schema = {"type": "string", "pattern": r"/login\?next="}


def _located(description: str, location: Schema) -> dict[str, Any]:
    result = redirect(description)
    result["headers"]["Location"]["schema"] = location
    return result


def _ends_with(path: str) -> Schema:
    return {"type": "string", "pattern": f"{path}$"}


def _gated(
    responses: dict[str, dict[str, Any]], *, post: bool, not_found: str | None = None
) -> dict[str, dict[str, Any]]:
    """The answers every admin page shares, with the page's own."""
    shared: dict[str, dict[str, Any]] = {
        "302": _located(
            "Anonymous: to /login?next=<this page> (a POST comes back to the form's page).",
            _LOGIN_LOCATION,
        ),
        "401": answer(
            'Not a system administrator: the "Unauthorized" page; or a wrong credential '
            "(HTTP Basic), in the JSON error envelope.",
            HTML,
            JSON,
            schemas={JSON: ERROR},
        ),
    }
    if post:
        shared["403"] = html(
            '"XSRF Security Token Missing": no valid atl_token (with a browser session) or '
            "no X-Atlassian-Token: no-check (without one); nothing changed."
        )
    if not_found is not None:
        shared["404"] = html(not_found)
    return {**responses, **shared}


_OAUTH2_404 = 'Below 7.21 (no OAuth 2): the "Page not found" page.'
_LINK_404 = (
    "No link has this id (an OAuth 2 link is also found by its client id); below 7.21 every "
    'OAuth 2 page: the "Page not found" page.'
)
_OAUTH1_LINK_404 = "No OAuth 1 link (configured or waiting for its first Save) has this id."


def _page_post(
    properties: dict[str, Schema],
    required: tuple[str, ...] = (),
    description: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A page's form with its atl_token field."""
    body = form_body({XSRF_FIELD: _ATL_TOKEN, **properties}, required, description)
    schema = body["content"][FORM]["schema"]
    schema.update(extra)
    return body


def _page(responses: dict[str, dict[str, Any]], **kwargs: Any) -> Operation:
    return op(responses=responses, **kwargs)


def _posted(responses: dict[str, dict[str, Any]], body: dict[str, Any]) -> Operation:
    return op(parameters=[XSRF_HEADER], body=body, responses=responses)


_LIST_LOCATION = _ends_with(paths.LIST_PATH)

LIST = _page(_gated({"200": html("The application links, sorted by name.")}, post=False))
GET_CREATE_LINK = _page(
    _gated({"200": html("The Create link dialog: application type, direction.")}, post=False)
)
POST_CREATE_LINK = _posted(
    _gated(
        {
            "303": _located(
                "Atlassian product: to the OAuth 1 Application URL page; External application "
                "+ Incoming: to the OAuth 2 incoming-link form.",
                {
                    "type": "string",
                    "pattern": f"(?:{paths.NEW_OAUTH1_PATH}|{paths.NEW_INCOMING_PATH})$",
                },
            ),
            "400": html(
                "No or an unknown application type, External application below 7.21, or no "
                "direction: the dialog again with the message."
            ),
            "501": html(
                "Outgoing: the dialog again, saying the simulator offers no outgoing links."
            ),
        },
        post=True,
    ),
    _page_post(
        {
            "application-type": {
                "enum": [pages.ATLASSIAN, pages.EXTERNAL],
                "description": "external only from 7.21 (400 below).",
            },
            "direction": {
                "type": "string",
                "description": "For external: incoming (outgoing answers 501); ignored for "
                "atlassian.",
            },
        },
        ("application-type",),
        "The dialog's choice.",
        anyOf=[
            {"properties": {"application-type": {"const": pages.ATLASSIAN}}},
            {"properties": {"direction": {"const": pages.INCOMING}}, "required": ["direction"]},
        ],
    ),
)

_SCOPES: Schema = {
    "type": "array",
    "items": {"enum": [scope.name for scope in FORM_SCOPES]},
    "description": "The ticked permission boxes (repeat the field); none grants PUBLIC_REPOS.",
}
_REDIRECT = rf"[Hh][Tt][Tt][Pp][Ss]?://[^{_SPACES},#]+"
#: Blank parts of the comma-separated list (they are dropped).
_BLANKS = f"[{_SPACES},]*"
_INCOMING_FORM = _page_post(
    {
        "name": {
            "type": "string",
            "maxLength": 255,
            "pattern": _NOT_WS,
            "description": "Required, at most 255 characters; unique among all links "
            "(case-insensitively).",
        },
        "redirects": {
            "type": "string",
            "pattern": rf"^{_BLANKS}{_REDIRECT}(?:{_WS}*,{_BLANKS}{_REDIRECT})*{_BLANKS}$",
            "description": "One or more comma-separated absolute URLs without fragment, "
            f"each at most {MAX_REDIRECT_LENGTH} characters, https unless the host is "
            "loopback or oauth2.skip_redirect_https is set.",
        },
        "scope": _SCOPES,
    },
    ("name", "redirects"),
    "The incoming-link form.",
)
_FORM_400 = "A field is bad: the form again with the errors, nothing saved."

GET_NEW_INCOMING = _page(
    _gated({"200": html("The empty incoming-link form.")}, post=False, not_found=_OAUTH2_404)
)
POST_NEW_INCOMING = _posted(
    _gated(
        {
            "303": _located(
                "Saved: to the new link's credentials page.", _ends_with("/credentials")
            ),
            "400": html(_FORM_400),
        },
        post=True,
        not_found=_OAUTH2_404,
    ),
    _INCOMING_FORM,
)
_ATL_ONLY = _page_post({}, description="Only the form's atl_token.")

GET_CREDENTIALS = _page(
    _gated({"200": html("Client ID and Client secret.")}, post=False, not_found=_LINK_404)
)
POST_CREDENTIALS = _posted(
    _gated(
        {"303": _located("A new secret: back to the credentials.", _ends_with("/credentials"))},
        post=True,
        not_found=_LINK_404,
    ),
    _ATL_ONLY,
)
GET_EDIT_CLIENT = _page(
    _gated({"200": html("The form, prefilled.")}, post=False, not_found=_LINK_404)
)
POST_EDIT_CLIENT = _posted(
    _gated(
        {
            "303": _located("Saved (credentials kept): to the list.", _LIST_LOCATION),
            "400": html(_FORM_400),
        },
        post=True,
        not_found=_LINK_404,
    ),
    _INCOMING_FORM,
)
GET_DELETE_CLIENT = _page(
    _gated({"200": html("Delete this link?")}, post=False, not_found=_LINK_404)
)
POST_DELETE_CLIENT = _posted(
    _gated(
        {"303": _located("Deleted, with its codes and tokens: to the list.", _LIST_LOCATION)},
        post=True,
        not_found=_LINK_404,
    ),
    _ATL_ONLY,
)

# -- the OAuth 1 admin pages -----------------------------------------------------------------

_URL_LOST_400 = (
    'The Application URL is missing or not valid: the "Application URL missing" page (start again).'
)
GET_NEW_OAUTH1 = _page(_gated({"200": html("The Application URL page.")}, post=False))
POST_APPLICATION_URL = _posted(
    _gated(
        {
            "200": html(
                'A URL other than the Entered URL: the "No response was received" warning, '
                "with the URL as the Entered URL (nothing is contacted)."
            ),
            "303": _located(
                "The Entered URL again: to Link applications for it.",
                {"type": "string", "pattern": rf"{oauth1_pages.LINK_APPLICATIONS_PATH}\?url="},
            ),
            "400": html("The Application URL is missing, too long or not http(s)."),
        },
        post=True,
    ),
    _page_post(
        {
            "application-url": _application_url(
                "Absolute http(s), at most 255 characters (trimmed)."
            ),
            "entered-url": {
                "type": "string",
                "description": "The URL warned about; Continue with the same URL goes on.",
            },
        },
        ("application-url",),
        "Continue.",
    ),
)
GET_LINK_APPLICATIONS = _page(
    _gated(
        {
            "200": html("Link applications: Application Name and Application Type."),
            "400": html(_URL_LOST_400),
        },
        post=False,
    ),
    parameters=[
        query(
            "url",
            _application_url("The Application URL (absolute http(s), at most 255 characters)."),
            required=True,
        )
    ],
)
POST_LINK_APPLICATIONS = _posted(
    _gated(
        {
            "303": _located(
                "The link is created, without Incoming Authentication: to the list.",
                _LIST_LOCATION,
            ),
            "400": html(
                f"{_URL_LOST_400} Or a bad name (missing, too long, taken) or application "
                "type: the form again with the errors."
            ),
            "501": html(
                "A valid form with an application type other than Generic Application: the "
                "form again, saying only Generic Application links are created."
            ),
        },
        post=True,
    ),
    _page_post(
        {
            "application-url": _application_url("The Application URL (hidden field)."),
            "name": _trimmed(
                "Application Name: at most 255 characters (trimmed), unique among all links "
                "(case-insensitively)."
            ),
            "application-type": {
                "const": oauth1_pages.GENERIC,
                "description": "The only type created; the others of the list ("
                + ", ".join(v for v, _ in oauth1_pages.APPLICATION_TYPES if v != "generic")
                + ") answer 501.",
            },
        },
        ("application-url", "name", "application-type"),
        "Continue.",
    ),
)
_INCOMING_AUTHENTICATION = _page_post(
    {
        "consumer_key": _trimmed("Consumer Key: at most 255 characters (trimmed), unique."),
        "consumer_name": _trimmed("Consumer Name: at most 255 characters (trimmed)."),
        "description": STRING,
        "public_key": _described(
            NON_BLANK,
            "A PEM public key, PKCS#1 key or X.509 certificate (or bare base64 DER), RSA of at "
            "least 1,024 bits.",
        ),
        "callback_url": {
            "type": "string",
            "pattern": rf"^{_WS}*(?:{_URL}{_WS}*)?$",
            "description": "Consumer Callback URL: blank, or an absolute http(s) URL.",
        },
        "two_legged": _described(STRING, "Allow 2-Legged OAuth: ticked when not empty."),
        "execute_as": _described(STRING, "Blank, or the name of an existing user."),
        "impersonation": _described(STRING, "Allow user impersonation: ticked when not empty."),
    },
    ("consumer_key", "consumer_name", "public_key"),
    "Incoming Authentication; Save is all or nothing.",
)
GET_EDIT_OAUTH1 = _page(
    _gated(
        {"200": html("The link's details and its Incoming Authentication form.")},
        post=False,
        not_found=_OAUTH1_LINK_404,
    )
)
POST_EDIT_OAUTH1 = _posted(
    _gated(
        {
            "303": _located("Saved: to the list.", _LIST_LOCATION),
            "400": html(_FORM_400),
        },
        post=True,
        not_found=_OAUTH1_LINK_404,
    ),
    _INCOMING_AUTHENTICATION,
)
GET_DELETE_OAUTH1 = _page(
    _gated({"200": html("Delete this link?")}, post=False, not_found=_OAUTH1_LINK_404)
)
POST_DELETE_OAUTH1 = _posted(
    _gated(
        {"303": _located("Deleted, with its tokens: to the list.", _LIST_LOCATION)},
        post=True,
        not_found=_OAUTH1_LINK_404,
    ),
    _ATL_ONLY,
)

OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (endpoints.post_request_token, REQUEST_TOKEN),
        (endpoints.post_access_token, ACCESS_TOKEN),
        (endpoints.get_token_servlet, TOKEN_SERVLET_GET),
        (endpoints.get_authorize, GET_AUTHORIZE),
        (endpoints.post_authorize, POST_AUTHORIZE),
        (pages.list_application_links, LIST),
        (pages.get_create_link, GET_CREATE_LINK),
        (pages.post_create_link, POST_CREATE_LINK),
        (pages.get_new_incoming_link, GET_NEW_INCOMING),
        (pages.create_incoming_link, POST_NEW_INCOMING),
        (pages.get_client_credentials, GET_CREDENTIALS),
        (pages.reset_client_secret, POST_CREDENTIALS),
        (pages.get_edit_client, GET_EDIT_CLIENT),
        (pages.update_client, POST_EDIT_CLIENT),
        (pages.get_delete_client, GET_DELETE_CLIENT),
        (pages.delete_client, POST_DELETE_CLIENT),
        (oauth1_pages.get_new_oauth1_link, GET_NEW_OAUTH1),
        (oauth1_pages.post_application_url, POST_APPLICATION_URL),
        (oauth1_pages.get_link_applications, GET_LINK_APPLICATIONS),
        (oauth1_pages.post_link_applications, POST_LINK_APPLICATIONS),
        (oauth1_pages.get_edit_oauth1_link, GET_EDIT_OAUTH1),
        (oauth1_pages.update_oauth1_link, POST_EDIT_OAUTH1),
        (oauth1_pages.get_delete_oauth1_link, GET_DELETE_OAUTH1),
        (oauth1_pages.delete_oauth1_link_page, POST_DELETE_OAUTH1),
    )
}
