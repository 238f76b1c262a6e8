"""Personal (HTTP) access tokens: ``/rest/access-tokens/1.0/users/{userSlug}[/{tokenId}]``.

Served at ``1.0`` and ``latest`` from Bitbucket 5.5 (before that every path is a 404):

- ``GET    .../users/{userSlug}``            a page of the user's tokens, newest first
- ``PUT    .../users/{userSlug}``            create ``{"name","permissions",["expiryDays"]}``;
  200 with the token, whose secret (``token``) appears in this answer only
- ``GET    .../users/{userSlug}/{tokenId}``  one token
- ``POST   .../users/{userSlug}/{tokenId}``  change ``name`` and/or ``permissions``
- ``DELETE .../users/{userSlug}/{tokenId}``  revoke (204)

A user manages their own tokens; an administrator may read, change and revoke anyone's but,
as Atlassian documents, cannot create tokens for other users. A caller authenticated by an
access token may read but change nothing (Bitbucket: tokens cannot create tokens).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any, Final, Protocol

from aiohttp import web

from simulator.auth import Principal
from simulator.errors import (
    AuthorisationError,
    BadRequestError,
    NoSuchEntityError,
    NoSuchUserError,
    NotFoundError,
    ValidationError,
    json_response,
)
from simulator.model import AccessToken, User
from simulator.paging import page_of
from simulator.rest import caller, page_request, store_of
from simulator.rest.serializers import user_json
from simulator.store import Store

PREFIXES = ("/rest/access-tokens/1.0", "/rest/access-tokens/latest")
#: Every permission a token may carry, and its kind (a token has at most one of each kind).
PERMISSIONS: dict[str, str] = {
    "PROJECT_READ": "project",
    "PROJECT_WRITE": "project",
    "PROJECT_ADMIN": "project",
    "REPO_READ": "repository",
    "REPO_WRITE": "repository",
    "REPO_ADMIN": "repository",
}
MAX_NAME_LENGTH = 255
#: ``expiryDays`` is an int32 in Bitbucket's API.
MAX_EXPIRY_DAYS = 2**31 - 1
#: Bitbucket refuses a token once the user holds its maximum; the number is UNCONFIRMED.
MAX_TOKENS_PER_USER = 100
DAY_MS = 86_400_000


class TokenRequestError(ValidationError):
    """400 listing every invalid field of a token request, each with its ``context``."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        context, message = problems[0]
        super().__init__(message, context=context)
        self.problems = problems

    def to_response(self) -> web.Response:
        """All problems in one envelope, as Bitbucket reports argument validation."""
        errors = [
            {"context": context, "message": message, "exceptionName": self.exception_name}
            for context, message in self.problems
        ]
        return json_response({"errors": errors}, status=self.status)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A validated creation request (``RestAccessTokenRequest``)."""

    name: str
    permissions: tuple[str, ...]
    expiry_days: int | None


@dataclass(frozen=True, slots=True)
class TokenChange:
    """A validated update; None marks a field that was not given."""

    name: str | None
    permissions: tuple[str, ...] | None


# -- rules ----------------------------------------------------------------------------------


def _check_name(value: Any, problems: list[tuple[str | None, str]]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(("name", "A token name is required."))
        return None
    if len(value) > MAX_NAME_LENGTH:
        problems.append(("name", f"The token name must be at most {MAX_NAME_LENGTH} characters."))
        return None
    return value


def _check_permissions(
    value: Any, problems: list[tuple[str | None, str]]
) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        problems.append(("permissions", "At least one permission is required."))
        return None
    chosen: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str) or item not in PERMISSIONS:
            valid = ", ".join(PERMISSIONS)
            problems.append(
                ("permissions", f"{json.dumps(item)} is not a valid permission (use {valid}).")
            )
            return None
        kind = PERMISSIONS[item]
        if chosen.get(kind, item) != item:
            problems.append(
                (
                    "permissions",
                    f"A token takes at most one {kind} permission: "
                    f"{chosen[kind]} and {item} were both given.",
                )
            )
            return None
        chosen[kind] = item
    return tuple(dict.fromkeys(value))


def _check_expiry(value: Any, problems: list[tuple[str | None, str]]) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_EXPIRY_DAYS:
        problems.append(("expiryDays", "expiryDays must be a positive whole number of days."))
        return None
    return value


def parse_new_token(body: dict[str, Any]) -> NewToken:
    """Validate a creation request: name and permissions required, expiryDays optional."""
    problems: list[tuple[str | None, str]] = []
    name = _check_name(body.get("name"), problems)
    permissions = _check_permissions(body.get("permissions"), problems)
    expiry = _check_expiry(body.get("expiryDays"), problems)
    if problems or name is None or permissions is None:
        raise TokenRequestError(problems)
    return NewToken(name=name, permissions=permissions, expiry_days=expiry)


def parse_token_change(body: dict[str, Any]) -> TokenChange:
    """Validate an update: the name and permissions given (the expiry cannot change)."""
    problems: list[tuple[str | None, str]] = []
    name = _check_name(body["name"], problems) if "name" in body else None
    permissions = (
        _check_permissions(body["permissions"], problems) if "permissions" in body else None
    )
    if problems:
        raise TokenRequestError(problems)
    return TokenChange(name=name, permissions=permissions)


def new_token_id(store: Store) -> str:
    """A fresh 12-digit token id (leading zeros allowed, as in Bitbucket)."""
    while True:
        token_id = f"{secrets.randbelow(10**12):012d}"
        if token_id not in store.access_tokens:
            return token_id


def new_secret(token_id: str) -> str:
    """A secret shaped like Bitbucket's: base64 of ``<id>:`` and 20 random bytes (44 chars)."""
    return base64.urlsafe_b64encode(f"{token_id}:".encode() + secrets.token_bytes(20)).decode()


def tokens_of(store: Store, owner: User) -> list[AccessToken]:
    """The user's tokens, newest first (expired ones included, as Bitbucket lists them)."""
    mine = [token for token in store.access_tokens.values() if token.user_id == owner.id]
    ranked = sorted(enumerate(mine), key=lambda pair: (pair[1].created_ms, pair[0]), reverse=True)
    return [token for _, token in ranked]


def create_token(store: Store, owner: User, request: NewToken) -> AccessToken:
    """Store a new token for ``owner``."""
    if len(tokens_of(store, owner)) >= MAX_TOKENS_PER_USER:
        raise TokenRequestError(
            [(None, f"You already have the maximum of {MAX_TOKENS_PER_USER} access tokens.")]
        )
    token_id = new_token_id(store)
    now = store.clock.now_ms()
    token = AccessToken(
        id=token_id,
        secret=new_secret(token_id),
        user_id=owner.id,
        name=request.name,
        permissions=request.permissions,
        created_ms=now,
        expires_ms=None if request.expiry_days is None else now + request.expiry_days * DAY_MS,
    )
    store.access_tokens[token_id] = token
    return token


def find_token(store: Store, owner: User, token_id: str) -> AccessToken:
    """The owner's token with this id, else 404."""
    token = store.access_tokens.get(token_id)
    if token is None or token.user_id != owner.id:
        raise NoSuchEntityError(f"Access token {token_id} does not exist.")
    return token


def update_token(token: AccessToken, request: TokenChange) -> AccessToken:
    """Apply the given name and permissions."""
    if request.name is not None:
        token.name = request.name
    if request.permissions is not None:
        token.permissions = request.permissions
    return token


#: Credentials that act for a user without being the user: none of them may create, change or
#: revoke tokens, so no token mints a credential beyond its own reach. Bitbucket's docs say
#: so of access tokens ("You can't use a token to perform changes on behalf of a user (for
#: example, create new tokens ...)"); OAuth tokens are delegated the same way (docs/simulator.md).
DELEGATED: Final = {
    "access-token": "An access token cannot be used to manage access tokens.",
    "oauth2": "An OAuth access token cannot be used to manage access tokens.",
    "oauth1": "An OAuth access token cannot be used to manage access tokens.",
}


def token_owner(store: Store, principal: Principal, slug: str, *, change: bool) -> User:
    """The user whose tokens are addressed, after Bitbucket's checks (401 / 404)."""
    if principal.user is None:
        raise AuthorisationError()
    if change and principal.method in DELEGATED:
        raise AuthorisationError(DELEGATED[principal.method])
    catalog = store.catalog
    owner = catalog.users_by_slug.get(slug) or catalog.users_by_slug.get(slug.lower())
    if owner is None:
        raise NoSuchUserError(slug)
    if owner.id != principal.user.id and not principal.is_admin:
        raise AuthorisationError()
    return owner


# -- serialisation --------------------------------------------------------------------------


class TokenFields(Protocol):
    """What every kind of HTTP access token shows (personal, project, repository)."""

    @property
    def id(self) -> str: ...
    @property
    def created_ms(self) -> int: ...
    @property
    def last_authenticated_ms(self) -> int | None: ...
    @property
    def expires_ms(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def permissions(self) -> tuple[str, ...]: ...


def token_fields_json(token: TokenFields) -> dict[str, Any]:
    """A ``RestAccessToken``'s fields but ``user``, in Bitbucket's order (epoch ms dates)."""
    body: dict[str, Any] = {"id": token.id, "createdDate": token.created_ms}
    if token.last_authenticated_ms is not None:
        body["lastAuthenticated"] = token.last_authenticated_ms
    if token.expires_ms is not None:
        body["expiryDays"] = (token.expires_ms - token.created_ms) // DAY_MS
        body["expiryDate"] = token.expires_ms
    body["name"] = token.name
    body["permissions"] = list(token.permissions)
    return body


def access_token_json(token: AccessToken, owner: User, base_url: str) -> dict[str, Any]:
    """``RestAccessToken`` as Bitbucket renders it (dates in epoch milliseconds)."""
    return {**token_fields_json(token), "user": user_json(owner, base_url)}


def raw_access_token_json(token: AccessToken, owner: User, base_url: str) -> dict[str, Any]:
    """``RestRawAccessToken``: the token plus its secret, answered once, on creation."""
    return {**access_token_json(token, owner, base_url), "token": token.secret}


# -- handlers -------------------------------------------------------------------------------


def _store_with_tokens(request: web.Request) -> Store:
    store = store_of(request)
    if not store.config.version.supports_access_tokens:
        raise NotFoundError(request.path)
    return store


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequestError("The request body could not be parsed as JSON.") from None
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return body


async def get_access_tokens(request: web.Request) -> web.Response:
    """A page of the user's tokens."""
    store = _store_with_tokens(request)
    owner = token_owner(store, caller(request), request.match_info["userSlug"], change=False)
    page = page_request(request)
    body = page_of(
        tokens_of(store, owner), page, lambda t: access_token_json(t, owner, store.base_url)
    )
    return json_response(body)


async def create_access_token(request: web.Request) -> web.Response:
    """Create a token for the caller (nobody creates tokens for someone else)."""
    store = _store_with_tokens(request)
    principal = caller(request)
    owner = token_owner(store, principal, request.match_info["userSlug"], change=True)
    if principal.user is None or owner.id != principal.user.id:
        raise AuthorisationError("Access tokens can only be created for your own account.")
    token = create_token(store, owner, parse_new_token(await _json_object(request)))
    return json_response(raw_access_token_json(token, owner, store.base_url))


async def get_access_token(request: web.Request) -> web.Response:
    """One of the user's tokens."""
    store = _store_with_tokens(request)
    owner = token_owner(store, caller(request), request.match_info["userSlug"], change=False)
    token = find_token(store, owner, request.match_info["tokenId"])
    return json_response(access_token_json(token, owner, store.base_url))


async def update_access_token(request: web.Request) -> web.Response:
    """Rename a token or change its permissions."""
    store = _store_with_tokens(request)
    owner = token_owner(store, caller(request), request.match_info["userSlug"], change=True)
    token = find_token(store, owner, request.match_info["tokenId"])
    update_token(token, parse_token_change(await _json_object(request)))
    return json_response(access_token_json(token, owner, store.base_url))


async def delete_access_token(request: web.Request) -> web.Response:
    """Revoke a token."""
    store = _store_with_tokens(request)
    owner = token_owner(store, caller(request), request.match_info["userSlug"], change=True)
    token = find_token(store, owner, request.match_info["tokenId"])
    del store.access_tokens[token.id]
    return web.Response(status=204)
