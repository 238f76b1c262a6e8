"""The OAuth 2 client REST resource (system admins only), at ``/rest/oauth2/1.0/client`` and
``/rest/oauth2/latest/client``, on the same store as the admin pages.

- ``GET client``: every client, a JSON array of ``RestClientEntity``.
- ``POST client``: create from ``{"name", "redirects": [...], "scope": "REPO_READ"}`` -> 201.
- ``GET client/{id}``, ``PUT client/{id}`` (204), ``DELETE client/{id}`` (204; revokes tokens).
- ``PUT client/reset/{clientId}``: a new secret -> 200 with the entity.

``{id}`` is the entity's ``id``; the client ID is accepted too. Anonymous callers get 401
(Git Credential Manager probes ``GET client`` for exactly that), and so do users who are not
system administrators. Below 7.21 the app's version gate answers 404 before any of this runs.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.applinks.paths import CLIENT_PREFIXES
from simulator.auth import principal_of
from simulator.errors import (
    AuthenticationRequiredError,
    AuthorisationError,
    BadRequestError,
    BitbucketError,
    NoSuchEntityError,
    ValidationError,
    json_response,
)
from simulator.keys import store_key
from simulator.oauth2.errors import ClientValidationError
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope, ScopeError, parse_scopes
from simulator.store import Store

PREFIXES = CLIENT_PREFIXES
#: Fields of ``RestClientEntity`` a body may carry but that the server assigns.
READ_ONLY_FIELDS = frozenset({"id", "clientId", "clientSecret", "userKey"})
WRITABLE_FIELDS = ("name", "redirects", "scope")
#: Content types a browser can send cross-site without a preflight (Atlassian's XSRF rule).
SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


class XsrfCheckFailedError(BitbucketError):
    """403 for a form-like content type without ``X-Atlassian-Token: no-check``."""

    status = 403
    exception_name = None

    def __init__(self) -> None:
        super().__init__("XSRF check failed")


class UnsupportedMediaTypeError(BitbucketError):
    """415 for a body that is not JSON."""

    status = 415
    exception_name = "com.sun.jersey.api.UnsupportedMediaTypeException"

    def __init__(self, content_type: str) -> None:
        shown = content_type or "(none)"
        super().__init__(f"The content type {shown} is not supported; send JSON.")


# -- parsing -----------------------------------------------------------------------------------


def _store(request: web.Request) -> Store:
    return request.app[store_key]


def require_sysadmin(request: web.Request) -> str:
    """The caller's user key; 401 for anonymous callers and for non-admins alike."""
    principal = principal_of(request)
    if principal.user is None:
        raise AuthenticationRequiredError()
    if not principal.is_sysadmin:
        raise AuthorisationError()
    return str(principal.user.id)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body (XSRF rule, then media type, then syntax)."""
    content_type = request.content_type
    if (
        content_type in SIMPLE_CONTENT_TYPES
        and request.headers.get("X-Atlassian-Token", "").lower() != "no-check"
    ):
        raise XsrfCheckFailedError()
    if content_type != "application/json":
        raise UnsupportedMediaTypeError(content_type)
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8"))
        # A lone surrogate (``"\ud800"``) parses but cannot be written back as UTF-8
        # (RFC 8259 section 8.2): refuse it here rather than store what no answer can carry.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        raise BadRequestError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return body


def client_fields(body: dict[str, Any]) -> tuple[str, list[str], tuple[Scope, ...]]:
    """``name``, ``redirects`` and the parsed ``scope`` of a body; 400 naming a bad field."""
    unknown = sorted(set(body) - READ_ONLY_FIELDS - set(WRITABLE_FIELDS))
    if unknown:
        raise ValidationError(f"Unrecognized field: {unknown[0]}", context=unknown[0])
    for name in WRITABLE_FIELDS:
        if body.get(name) is None:
            raise ValidationError(f"The {name} field is required.", context=name)
    name, redirects, scope = body["name"], body["redirects"], body["scope"]
    if not isinstance(name, str):
        raise ValidationError("The name must be a string.", context="name")
    if not isinstance(redirects, list) or not all(isinstance(url, str) for url in redirects):
        raise ValidationError("The redirects must be an array of strings.", context="redirects")
    if not isinstance(scope, str):
        raise ValidationError("The scope must be a space-separated string.", context="scope")
    try:
        scopes = parse_scopes(scope)
    except ScopeError as exc:
        raise ValidationError(str(exc), context="scope") from None
    return name, redirects, scopes


def _client(store: Store, key: str) -> OAuth2Client:
    client = store.oauth2.find_client(key)
    if client is None:
        raise NoSuchEntityError(f"No OAuth 2 client exists with the ID {key}.")
    return client


def _invalid(exc: ClientValidationError) -> ValidationError:
    return ValidationError(exc.message, context=exc.field)


# -- handlers ----------------------------------------------------------------------------------


async def get_clients(request: web.Request) -> web.Response:
    """``GET client``: every client, oldest first."""
    require_sysadmin(request)
    clients = _store(request).oauth2.clients.values()
    return json_response([client.to_json() for client in clients])


async def create_client(request: web.Request) -> web.Response:
    """``POST client``: a new client with fresh credentials -> 201."""
    user_key = require_sysadmin(request)
    name, redirects, scopes = client_fields(await read_json_object(request))
    try:
        client = _store(request).oauth2.create_client(name, redirects, scopes, user_key=user_key)
    except ClientValidationError as exc:
        raise _invalid(exc) from None
    return json_response(client.to_json(), status=201)


async def get_client(request: web.Request) -> web.Response:
    """``GET client/{id}``."""
    require_sysadmin(request)
    client = _client(_store(request), request.match_info["id"])
    return json_response(client.to_json())


async def update_client(request: web.Request) -> web.Response:
    """``PUT client/{id}``: new name, redirects and scope; credentials stay -> 204."""
    require_sysadmin(request)
    store = _store(request)
    client = _client(store, request.match_info["id"])
    name, redirects, scopes = client_fields(await read_json_object(request))
    try:
        store.oauth2.update_client(client, name, redirects, scopes)
    except ClientValidationError as exc:
        raise _invalid(exc) from None
    return web.Response(status=204)


async def delete_client(request: web.Request) -> web.Response:
    """``DELETE client/{id}``: remove the client and revoke its codes and tokens -> 204."""
    require_sysadmin(request)
    store = _store(request)
    store.oauth2.delete_client(_client(store, request.match_info["id"]))
    return web.Response(status=204)


async def reset_client_secret(request: web.Request) -> web.Response:
    """``PUT client/reset/{clientId}``: a new client secret -> 200 with the entity."""
    require_sysadmin(request)
    store = _store(request)
    client = store.oauth2.reset_secret(_client(store, request.match_info["clientId"]))
    return json_response(client.to_json())
