"""``/rest/oauth2/{latest,1.0}/token``, ``revoke``, ``revoke/{id}`` and ``token/jwt/reset``.

Token and revoke take ``application/x-www-form-urlencoded`` only; any other body (JSON,
multipart, none) is ``400 invalid_request``. With the form content type, parameters are read
from the query string too (Atlassian's own examples put them there), and the body wins.

Client credentials come from the body (``client_id``, ``client_secret``), as the decompiled
token resource reads them. HTTP Basic client authentication is honoured only when
``store.config.oauth2.accept_basic_client_auth`` is set (then the body still wins where both
carry a value); otherwise the header is ignored, so a client that sends its credentials only
there fails as against real Bitbucket (``client_id`` missing -> ``invalid_request``).

Answers: 200 JSON with ``Cache-Control: no-store``/``Pragma: no-cache``, or the OAuth error
JSON ``{"error", "error_description"}``; never HTML, never the Bitbucket envelope.

The "U2F & TOTP" plugin (:mod:`simulator.tfa`): before a grant runs, the user it would issue
a token for (the owner of a live, unredeemed code or of a live refresh token) is checked; when
2FA applies to that user and the OAuth whitelist is off, the answer is
``{"error": "access_denied", "error_description": "...two-factor authentication..."}`` with 401
(``blocked_response`` "redirect" or "401": a server has nowhere to be redirected to) or 403, and
the code or refresh token stays usable once the whitelist is enabled.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from aiohttp import web

from simulator.auth import principal_of
from simulator.errors import (
    AuthenticationRequiredError,
    AuthorisationError,
    NoSuchEntityError,
    json_response,
)
from simulator.journal import note
from simulator.model import User
from simulator.oauth2 import jwt
from simulator.oauth2.authorize import read_form, store_of
from simulator.oauth2.backend import TokenRequest
from simulator.oauth2.errors import NO_STORE, OAuth2Error, invalid_request
from simulator.store import Store
from simulator.tfa import policy as tfa_policy

TOKEN_FIELDS = (
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "refresh_token",
    "code_verifier",
)


def basic_client_credentials(header: str) -> tuple[str, str] | None:
    """``client_id``/``client_secret`` from an RFC 6749 §2.3.1 Basic header, or None."""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


async def read_parameters(request: web.Request) -> dict[str, str]:
    """Query and body parameters of a form POST (body wins); raise for other content types."""
    form = await read_form(request)
    if form is None:
        raise invalid_request("The request must be sent as application/x-www-form-urlencoded")
    params: dict[str, str] = {}
    for name, value in request.query.items():
        params.setdefault(name, value)
    params.update(form)
    return params


def client_credentials(request: web.Request, params: dict[str, str]) -> str:
    """Fill ``client_id``/``client_secret`` from Basic when allowed; how the client authed."""
    basic = basic_client_credentials(request.headers.get("Authorization", ""))
    accept = store_of(request).config.oauth2.accept_basic_client_auth
    from_body = bool(params.get("client_secret"))
    if basic is not None and accept:
        if not params.get("client_id"):
            params["client_id"] = basic[0]
        if not from_body:
            params["client_secret"] = basic[1]
            return "basic"
    if from_body:
        return "body"
    return "basic-ignored" if basic is not None else "none"


def grant_user(store: Store, token_request: TokenRequest) -> User | None:
    """The user a token request would issue a token for: the owner of a live, unredeemed
    authorization code or of a live refresh token; None otherwise (the grant then fails
    with its own error)."""
    backend = store.oauth2
    now = store.clock.now()
    user_id: int | None = None
    if token_request.grant_type == "authorization_code":
        code = backend.codes.get(token_request.code)
        live = code is not None and now <= code.created + store.config.oauth2.code_seconds
        if code is not None and live and not code.redeemed:
            user_id = code.user_id
    elif token_request.grant_type == "refresh_token":
        token_id = jwt.decode(token_request.refresh_token, backend.jwt_secret)
        record = backend.tokens.get(token_id) if token_id else None
        if record is not None and record.kind == "refresh" and now < record.expires:
            user_id = record.user_id
    return store.user_by_id(user_id) if user_id is not None else None


def oauth_json(body: object, status: int = 200) -> web.Response:
    """A token endpoint JSON answer, never cached."""
    return json_response(body, status=status, headers=NO_STORE)


async def post_token(request: web.Request) -> web.Response:
    """``POST /rest/oauth2/latest/token``: the authorization_code and refresh_token grants."""
    store = store_of(request)
    try:
        params = await read_parameters(request)
        client_auth = client_credentials(request, params)
        note(
            request,
            grant_type=params.get("grant_type", ""),
            client_auth=client_auth,
            has_code_verifier=bool(params.get("code_verifier")),
            redirect_uri=params.get("redirect_uri", ""),
        )
        token_request = TokenRequest(**{name: params.get(name, "") for name in TOKEN_FIELDS})
        user = grant_user(store, token_request)
        if user is not None and tfa_policy.oauth_blocked(store, user, request):
            return tfa_policy.token_blocked_answer(store, request)
        return oauth_json(store.oauth2.token(token_request))
    except OAuth2Error as error:
        note(request, error=error.error)
        return error.to_response()


async def post_revoke(request: web.Request) -> web.Response:
    """``POST /rest/oauth2/latest/revoke`` (RFC 7009): 200 with an empty body."""
    store = store_of(request)
    try:
        params = await read_parameters(request)
        client_auth = client_credentials(request, params)
        note(
            request,
            client_auth=client_auth,
            token_type_hint=params.get("token_type_hint", ""),
        )
        store.oauth2.revoke(
            params.get("token", ""),
            params.get("token_type_hint", ""),
            params.get("client_id", ""),
            params.get("client_secret", ""),
        )
    except OAuth2Error as error:
        note(request, error=error.error)
        return error.to_response()
    return web.Response(status=200, headers=NO_STORE)


async def post_revoke_by_id(request: web.Request) -> web.Response:
    """``POST /rest/oauth2/latest/revoke/{id}``: the token's user or a system admin; 204."""
    store = store_of(request)
    principal = principal_of(request)
    if principal.user is None:
        raise AuthenticationRequiredError()
    token_id = request.match_info["id"]
    record = store.oauth2.tokens.get(token_id)
    if record is None:
        raise NoSuchEntityError(f"No OAuth 2 token with id {token_id} exists.")
    if record.user_id != principal.user.id and not principal.is_sysadmin:
        raise AuthorisationError()
    store.oauth2.revoke_by_id(token_id)
    return web.Response(status=204)


async def post_reset_jwt_secret(request: web.Request) -> web.Response:
    """``POST /rest/oauth2/latest/token/jwt/reset``: sysadmin only; every token stops working."""
    principal = principal_of(request)
    if principal.user is None:
        raise AuthenticationRequiredError()
    if not principal.is_sysadmin:
        raise AuthorisationError()
    store_of(request).oauth2.rotate_signing_secret()
    return web.Response(status=204)
