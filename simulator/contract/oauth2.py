"""Operation fragments of the OAuth 2 provider (see :mod:`simulator.contract`): authorize,
the consent and error servlets, token, revoke, the signing-secret reset and the client REST.

What they share:

- Every path answers 404 in Bitbucket's envelope below Bitbucket 7.21 (the version gate).
- Authorize, the consent page and the error page refuse nothing at the HTTP level: a bad or
  missing parameter is answered with a redirect (to Bitbucket's error page, or back to the
  client with ``error=``), so their parameters are plain strings and the rules are told in
  the descriptions.
- Token and revoke are RFC 6749/7009 endpoints: a form, answered in the OAuth error JSON
  (``oauth2-token-error``), never the envelope; wrong HTTP Basic credentials are not a user
  login there and do not answer the envelope's 401. Other fields are ignored (RFC 6749
  section 3.2), so the forms do not forbid additional properties.
- The client REST is for system administrators and answers in the envelope.
"""

from __future__ import annotations

from typing import Any

from simulator.applinks import client_rest
from simulator.contract import handler_key
from simulator.contract.spec import (
    STRING,
    Operation,
    Schema,
    either,
    empty,
    error,
    form_body,
    html,
    json_answer,
    json_body,
    op,
    query,
    redirect,
    ref,
    with_headers,
)
from simulator.oauth2 import authorize, consent, token_endpoint
from simulator.oauth2.backend import MAX_REDIRECT_LENGTH
from simulator.oauth2.pkce import PKCE_PATTERN
from simulator.oauth2.scopes import Scope

# -- shared pieces ---------------------------------------------------------------------------

_NO_STORE: dict[str, Any] = {
    "Cache-Control": {"required": True, "schema": {"const": "no-store"}},
    "Pragma": {"required": True, "schema": {"const": "no-cache"}},
}
_PAGE_HEADERS: dict[str, Any] = {
    **_NO_STORE,
    "X-Frame-Options": {"required": True, "schema": {"const": "SAMEORIGIN"}},
}


_SCOPE_NAMES = "|".join(scope.name for scope in Scope)
_SCOPE_TEXT = (
    "Space-separated Bitbucket scopes: "
    + ", ".join(scope.name for scope in Scope)
    + "; each must lie within the closure of the client's configured scope."
)
_BELOW_7_21 = "Bitbucket is older than 7.21: there is no OAuth 2 provider (version gate)."
_GATE_404 = error(_BELOW_7_21)
_WRONG_BASIC = error("HTTP Basic credentials were given and are wrong.")
_TFA_TEXT = (
    "the 'U2F & TOTP' plugin's blocked page (`tfa.blocked_response` 401 or 403): two-factor "
    "authentication applies to the user and the plugin's OAuth whitelist is off"
)

# -- authorize (simulator.oauth2.authorize) ---------------------------------------------------

_AUTHORIZE_FIELDS: dict[str, Schema] = {
    "client_id": {
        **STRING,
        "description": "The client ID of a registered client (blank or unknown: error page).",
    },
    "redirect_uri": {
        **STRING,
        "description": (
            "Exactly (whole string) one of the client's registered redirects (blank or "
            "unregistered: error page)."
        ),
        "examples": ["https://packagist.example/oauth/callback"],
    },
    "response_type": {
        **STRING,
        "description": "`code`; blank is invalid_request, anything else unsupported_response_type.",
        "examples": ["code"],
    },
    "scope": {
        **STRING,
        "description": _SCOPE_TEXT
        + " Blank, unknown or wider: `error=invalid_scope` for a known client, else (blank) "
        "the error page.",
        "examples": ["REPO_READ"],
    },
    "state": {
        **STRING,
        "description": "Echoed back to the client when not blank.",
    },
    "code_challenge": {
        **STRING,
        "description": (
            f"PKCE (RFC 7636): `{PKCE_PATTERN.pattern}`; a malformed one is the error page."
        ),
    },
    "code_challenge_method": {
        **STRING,
        "description": (
            "`S256` or `plain` (case-insensitive; `plain` when absent). Given without a "
            "challenge, or another method: the error page."
        ),
        "examples": ["S256"],
    },
}
_AUTHORIZE_QUERY = [
    query(name, {k: v for k, v in schema.items() if k != "description"}, schema["description"])
    for name, schema in _AUTHORIZE_FIELDS.items()
]


def _see_other(description: str) -> dict[str, Any]:
    """Authorize's answer: a 303, never cached."""
    return with_headers(redirect(description), _NO_STORE)


_GET_AUTHORIZE = op(
    parameters=_AUTHORIZE_QUERY,
    responses={
        "303": _see_other(
            "Always a 303, whatever the parameters. To `{redirect_uri}?error=invalid_scope"
            "&error_description=...[&state=...]` when the client is known, `redirect_uri` is "
            "an absolute http(s) URL (registered or not: the plugin's quirk) and the scope is "
            "blank, unknown or wider than the client's; to Bitbucket's error page "
            "`/plugins/servlet/oauth2/error?errorName=&errorDescription=` for a blank "
            "`client_id`, `redirect_uri`, `response_type` or `scope` (invalid_request), an "
            "unknown client (invalid_client), an unregistered `redirect_uri` or malformed "
            "PKCE (invalid_request); otherwise to the consent page with the same parameters."
        ),
        "404": _GATE_404,
    },
)

_DECISION_FORM = form_body(
    {
        **_AUTHORIZE_FIELDS,
        "decision": {
            **STRING,
            "description": "`allow` grants a code; anything else is `error=access_denied`.",
            "examples": ["allow"],
        },
        "atl_token": {
            **STRING,
            "description": (
                "The consent page's XSRF token (an HMAC of the browser session); missing or "
                "stale: the error page."
            ),
        },
    },
    description=(
        "The consent page's form. Any other body is read as an empty form; no field is "
        "refused as such (each problem is a redirect)."
    ),
)

_POST_AUTHORIZE = op(
    body=_DECISION_FORM,
    responses={
        "303": _see_other(
            "Without a browser session (anonymous, HTTP Basic or Bearer): to "
            "`/login?next=<the consent page>`. Blocked by the 'U2F & TOTP' plugin "
            "(`tfa.blocked_response` redirect): to its blocked page. A missing or stale "
            "`atl_token`, an unknown client, an unregistered `redirect_uri` or malformed "
            "PKCE: to Bitbucket's error page. Then back to `redirect_uri` with `error=` "
            "invalid_request (blank `response_type`), unsupported_response_type, "
            "invalid_scope or access_denied (a decision other than `allow`), with `state` "
            "when not blank; success: `{redirect_uri}?code=...[&state=...]`."
        ),
        "401": either(
            "Wrong HTTP Basic credentials (JSON envelope); or " + _TFA_TEXT + " (HTML, 401).",
            _WRONG_BASIC,
            with_headers(html("The blocked page."), _NO_STORE),
        ),
        "403": with_headers(html("As for 401: " + _TFA_TEXT + " (403)."), _NO_STORE),
        "404": _GATE_404,
    },
)

# -- the consent and error servlets (simulator.oauth2.consent) --------------------------------

_CONSENT_QUERY = [
    query(
        name,
        {k: v for k, v in schema.items() if k != "description"},
        "The client ID (400 when it names no client)."
        if name == "client_id"
        else "Carried, as sent, into the consent form's hidden fields; checked when the form "
        "is posted to authorize.",
    )
    for name, schema in _AUTHORIZE_FIELDS.items()
]

_GET_CONSENT = op(
    parameters=_CONSENT_QUERY,
    responses={
        "200": with_headers(
            html(
                "The consent page: the application, the user, each requested scope; its form "
                "posts the decision to `/rest/oauth2/latest/authorize`."
            ),
            _PAGE_HEADERS,
        ),
        "302": redirect(
            "Without a browser session (anonymous, HTTP Basic or Bearer): to "
            "`/login?next=<this consent URL>`; or, blocked by the 'U2F & TOTP' plugin "
            "(`tfa.blocked_response` redirect), to its blocked page."
        ),
        "400": with_headers(
            html(
                "Bitbucket's OAuth 2 error page: the base URL is plain http on a host that is "
                "not loopback (the provider requires HTTPS), or `client_id` names no client "
                "(invalid_client)."
            ),
            _PAGE_HEADERS,
        ),
        "401": either(
            "Wrong HTTP Basic credentials (JSON envelope); or " + _TFA_TEXT + " (HTML, 401).",
            _WRONG_BASIC,
            html("The blocked page."),
        ),
        "403": html("As for 401: " + _TFA_TEXT + " (403)."),
        "404": _GATE_404,
    },
)

_GET_ERROR = op(
    parameters=[
        query("errorName", STRING, "Shown, escaped (e.g. invalid_request)."),
        query("errorDescription", STRING, "Shown, escaped."),
    ],
    responses={
        "200": with_headers(
            html(
                "Bitbucket's OAuth 2 error page, whatever the query; it never redirects and "
                "links only to the base URL."
            ),
            _PAGE_HEADERS,
        ),
        "401": _WRONG_BASIC,
        "404": _GATE_404,
    },
)

# -- token and revoke (simulator.oauth2.token_endpoint) ---------------------------------------

_TOKEN_ERROR = ref("oauth2-token-error")
_TOKEN_BLOCKED = ref("tfa-token-blocked")


def _oauth_error(description: str) -> dict[str, Any]:
    """An RFC 6749 section 5.2 error, never cached."""
    return with_headers(json_answer(_TOKEN_ERROR, description), _NO_STORE)


_NOT_BLANK: Schema = {"type": "string", "minLength": 1}
_CLIENT_FIELDS: dict[str, Schema] = {
    "client_id": {
        **_NOT_BLANK,
        "description": (
            "The client ID. Read from the body (or the query) only, as Bitbucket does; HTTP "
            "Basic client authentication (RFC 6749 section 2.3.1) counts only with "
            "`oauth2.accept_basic_client_auth`."
        ),
    },
    "client_secret": {
        **_NOT_BLANK,
        "description": "The client secret; wrong or missing is invalid_client (401).",
    },
}
_CODE_GRANT: Schema = {
    "type": "object",
    "title": "authorization_code",
    "required": ["grant_type", "code", "redirect_uri", "client_id", "client_secret"],
    "properties": {
        "grant_type": {"const": "authorization_code"},
        "code": {**_NOT_BLANK, "description": "The code authorize sent to the redirect URI."},
        "redirect_uri": {
            **_NOT_BLANK,
            "description": "The same `redirect_uri` as at authorize, registered for the client.",
        },
        **_CLIENT_FIELDS,
        "code_verifier": {
            **STRING,
            "description": (
                f"PKCE (RFC 7636): `{PKCE_PATTERN.pattern}`, matching the code's challenge; "
                "required when authorize had a challenge (else ignored, unless "
                "`oauth2.strict_rfc9700` refuses it)."
            ),
        },
    },
}
_REFRESH_GRANT: Schema = {
    "type": "object",
    "title": "refresh_token",
    "required": ["grant_type", "refresh_token", "client_id", "client_secret"],
    "properties": {
        "grant_type": {"const": "refresh_token"},
        "refresh_token": {**_NOT_BLANK, "description": "A live refresh token of the client."},
        **_CLIENT_FIELDS,
    },
}
_TOKEN_FORM: dict[str, Any] = {
    "required": True,
    "description": (
        "`application/x-www-form-urlencoded` only (anything else is invalid_request). The "
        "same fields are read from the query string too; the body wins."
    ),
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {"oneOf": [_CODE_GRANT, _REFRESH_GRANT]},
        }
    },
}
_TOKEN_QUERY = [
    query(name, STRING, "Read as the form field of that name when the body lacks it.")
    for name in token_endpoint.TOKEN_FIELDS
]
_TFA_GRANT = (
    "access_denied: two-factor authentication applies to the code's or refresh token's user "
    "and the 'U2F & TOTP' plugin's OAuth whitelist is off"
)

_POST_TOKEN = op(
    parameters=_TOKEN_QUERY,
    body=_TOKEN_FORM,
    responses={
        "200": with_headers(
            json_answer(ref("oauth2-token-response"), "A new access and refresh token pair."),
            _NO_STORE,
        ),
        "400": _oauth_error(
            "invalid_request: not a form, or `grant_type`, `code`, `redirect_uri`, "
            "`client_id` or `refresh_token` missing, or an unknown code; "
            "unsupported_grant_type; invalid_grant: a used, expired or another client's code, "
            "a `redirect_uri` other than authorize's, a PKCE verifier that is missing or does "
            "not match, or a refresh token that is unknown, expired or another client's."
        ),
        "401": with_headers(
            json_answer(
                {"oneOf": [_TOKEN_ERROR, _TOKEN_BLOCKED]},
                "invalid_client: an unknown client, a wrong or missing secret, or a "
                f"`redirect_uri` not registered for the client; or {_TFA_GRANT} "
                "(`tfa.blocked_response` redirect or 401).",
            ),
            _NO_STORE,
        ),
        "403": with_headers(
            json_answer(_TOKEN_BLOCKED, f"{_TFA_GRANT} (`tfa.blocked_response` 403)."),
            _NO_STORE,
        ),
        "404": _GATE_404,
    },
)

_REVOKE_FORM = form_body(
    {
        "token": {**_NOT_BLANK, "description": "An access or refresh token of the client."},
        "token_type_hint": {
            "enum": ["", "access_token", "refresh_token"],
            "description": "Blank is no hint; another value is unsupported_token_type.",
        },
        **_CLIENT_FIELDS,
    },
    required=("token", "client_id", "client_secret"),
    description=(
        "RFC 7009. `application/x-www-form-urlencoded` only (anything else is "
        "invalid_request); the query string counts too, the body wins."
    ),
)

_POST_REVOKE = op(
    parameters=[
        query(name, STRING, "Read as the form field of that name when the body lacks it.")
        for name in ("token", "token_type_hint", "client_id", "client_secret")
    ],
    body=_REVOKE_FORM,
    responses={
        "200": with_headers(
            empty(
                "Revoked (a refresh token with its access token); an unknown token, or one of "
                "another client, is not an error (RFC 7009)."
            ),
            _NO_STORE,
        ),
        "400": _oauth_error(
            "invalid_request: not a form, or `token` or `client_id` missing; "
            "unsupported_token_type: a hint other than access_token or refresh_token."
        ),
        "401": _oauth_error("invalid_client: an unknown client or a wrong or missing secret."),
        "404": _GATE_404,
    },
)

_POST_REVOKE_BY_ID = op(
    responses={
        "204": empty("Revoked, with its pair."),
        "401": error(
            "Anonymous (AuthenticationRequiredException), or neither the token's user nor a "
            "system administrator (AuthorisationException); or wrong HTTP Basic credentials."
        ),
        "404": error(f"No token has this id (NoSuchEntityException); or {_BELOW_7_21}"),
    }
)

_POST_RESET_JWT = op(
    responses={
        "204": empty("A new signing secret: every issued token stops working."),
        "401": error(
            "Anonymous, or not a system administrator (or a credential that may not use admin "
            "rights); or wrong HTTP Basic credentials."
        ),
        "404": _GATE_404,
    }
)

# -- the client REST (simulator.applinks.client_rest) -----------------------------------------

#: Characters a redirect URL may hold anywhere: no whitespace, no fragment, no control.
_URL_CHAR = r"[^\s#\x00-\x1f\x7f-\x9f]"
_USERINFO = r"(?:[^\s#/?\x00-\x1f\x7f-\x9f]*@)?"
_HOST_CHAR = r"[^\s#/?@:\[\]\x00-\x1f\x7f-\x9f]"
#: An IPv6 literal (with a zone) in brackets; urlsplit checks it with ``ipaddress``.
_IPV6 = r"\[[0-9A-Fa-f:.]+(?:%[^\s#/?@%\[\]\x00-\x1f\x7f-\x9f]+)?\]"
#: An IPv6 literal, or an IPvFuture one (RFC 3986 section 3.2.2) such as ``[v1.x]``.
_BRACKETED = rf"(?:{_IPV6}|\[v[0-9A-Fa-f]+\.[^\s#/?@\[\]\x00-\x1f\x7f-\x9f]+\])"
_TAIL = rf"(?::[0-9]*)?(?:[/?]{_URL_CHAR}*)?"
_LOOPBACK = (
    rf"(?:{_IPV6}|(?:{_HOST_CHAR}*\.)?[lL][oO][cC][aA][lL][hH][oO][sS][tT]"
    r"|127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})"
)
REDIRECT_URL: Schema = {
    "type": "string",
    "maxLength": MAX_REDIRECT_LENGTH,
    "pattern": (
        rf"^(?:[hH][tT][tT][pP][sS]://{_USERINFO}(?:{_BRACKETED}|{_HOST_CHAR}+)"
        rf"|[hH][tT][tT][pP]://{_USERINFO}{_LOOPBACK}){_TAIL}$"
    ),
    "description": (
        "An absolute URL: https, or http on a loopback host (localhost, *.localhost, "
        "127.0.0.0/8, ::1) unless `oauth2.skip_redirect_https` is set; no fragment, "
        f"whitespace or control character; a valid port; at most {MAX_REDIRECT_LENGTH} "
        "characters."
    ),
    "examples": ["https://packagist.example/oauth/callback"],
}
_SCOPE: Schema = {
    "type": "string",
    "pattern": rf"^\s*(?:{_SCOPE_NAMES})(?:\s+(?:{_SCOPE_NAMES}))*\s*$",
    "description": (
        "One or more of the scopes, separated by whitespace; the client keeps the strongest."
    ),
    "examples": ["REPO_READ"],
}
_ASSIGNED = {"description": "Assigned by the server; any value given is ignored."}
CLIENT_REQUEST: Schema = {
    "type": "object",
    "description": (
        "A `RestClientEntity` to create or replace; other fields are refused (context "
        "names the first)."
    ),
    "required": list(client_rest.WRITABLE_FIELDS),
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "maxLength": 255,
            "pattern": r"\S",
            "description": (
                "Not blank; unique among clients, case-insensitively and ignoring "
                "surrounding whitespace (which is trimmed)."
            ),
            "examples": ["Packagist"],
        },
        "redirects": {"type": "array", "minItems": 1, "items": REDIRECT_URL},
        "scope": _SCOPE,
        **{name: dict(_ASSIGNED) for name in sorted(client_rest.READ_ONLY_FIELDS)},
    },
    "examples": [
        {
            "name": "Packagist",
            "redirects": ["https://packagist.example/oauth/callback"],
            "scope": "REPO_READ",
        }
    ],
}

_NOT_SYSADMIN = error(
    "Anonymous (AuthenticationRequiredException), or not a system administrator "
    "(AuthorisationException; also a credential that may not use admin rights, such as a "
    "personal access token); or wrong HTTP Basic credentials."
)
_NO_CLIENT = error("No client has this id or client ID (NoSuchEntityException); or " + _BELOW_7_21)
_CLIENT_BODY_REFUSED = {
    "400": error(
        "Malformed JSON, not an object, or a string no answer could carry (a lone "
        "surrogate) (BadRequestException); or a field that is missing, of the wrong type, "
        "unknown or invalid: a blank, too long or taken name, no or a bad redirect, a blank or "
        "unknown scope (ArgumentValidationException, context names the field)."
    ),
    "403": error(
        "XSRF check failed: a form-like content type (form, multipart, text/plain) without "
        "`X-Atlassian-Token: no-check`."
    ),
    "415": error("The body is not `application/json`."),
}
_CLIENT_JSON = json_body(CLIENT_REQUEST, "The client's name, redirects and scope.")

_GET_CLIENTS = op(
    responses={
        "200": json_answer(ref("oauth2-clients"), "Every client, oldest first (not paged)."),
        "401": _NOT_SYSADMIN,
        "404": _GATE_404,
    }
)
_CREATE_CLIENT = op(
    body=_CLIENT_JSON,
    responses={
        "201": json_answer(ref("oauth2-client"), "Created, with fresh credentials."),
        **_CLIENT_BODY_REFUSED,
        "401": _NOT_SYSADMIN,
        "404": _GATE_404,
    },
)
_GET_CLIENT = op(
    responses={
        "200": json_answer(ref("oauth2-client"), "The client, with its secret."),
        "401": _NOT_SYSADMIN,
        "404": _NO_CLIENT,
    }
)
_UPDATE_CLIENT = op(
    body=_CLIENT_JSON,
    responses={
        "204": empty("Changed; the credentials stay."),
        **_CLIENT_BODY_REFUSED,
        "401": _NOT_SYSADMIN,
        "404": _NO_CLIENT,
    },
)
_DELETE_CLIENT = op(
    responses={
        "204": empty("Deleted, its codes and tokens revoked."),
        "401": _NOT_SYSADMIN,
        "404": _NO_CLIENT,
    }
)
_RESET_CLIENT_SECRET = op(
    responses={
        "200": json_answer(ref("oauth2-client"), "The client with a new secret."),
        "401": _NOT_SYSADMIN,
        "404": _NO_CLIENT,
    }
)

OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (authorize.get_authorize, _GET_AUTHORIZE),
        (authorize.post_authorize, _POST_AUTHORIZE),
        (consent.get_consent, _GET_CONSENT),
        (consent.get_error, _GET_ERROR),
        (token_endpoint.post_token, _POST_TOKEN),
        (token_endpoint.post_revoke, _POST_REVOKE),
        (token_endpoint.post_revoke_by_id, _POST_REVOKE_BY_ID),
        (token_endpoint.post_reset_jwt_secret, _POST_RESET_JWT),
        (client_rest.get_clients, _GET_CLIENTS),
        (client_rest.create_client, _CREATE_CLIENT),
        (client_rest.get_client, _GET_CLIENT),
        (client_rest.update_client, _UPDATE_CLIENT),
        (client_rest.delete_client, _DELETE_CLIENT),
        (client_rest.reset_client_secret, _RESET_CLIENT_SECRET),
    )
}
