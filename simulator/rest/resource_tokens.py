"""Project and repository HTTP access tokens (Bitbucket 9.2's OpenAPI: ``getAllAccessTokens``,
``createAccessToken``, ``getById``, ``updateAccessToken``, ``deleteById`` and their ``_1``
repository twins), at ``1.0`` and ``latest`` from 7.12 (before that every path is a 404):

- ``GET    .../projects/{projectKey}[/repos/{repositorySlug}]``            a page, newest first
- ``PUT    .../projects/{projectKey}[/repos/{repositorySlug}]``            create; 200 with
  the secret (``token``), answered this once
- ``GET    .../projects/{projectKey}[/repos/{repositorySlug}]/{tokenId}``  one token
- ``POST   .../projects/{projectKey}[/repos/{repositorySlug}]/{tokenId}``  change name and/or
  permissions
- ``DELETE .../projects/{projectKey}[/repos/{repositorySlug}]/{tokenId}``  revoke (204)

A project's tokens need PROJECT_ADMIN on it, a repository's REPO_ADMIN on it, capped by the
credential as everywhere (a REPO_READ OAuth or personal token is refused with the 401
``AuthorisationException``); changing them also needs a credential that is the user's own (a
session or a password): no token, OAuth or access, creates, changes or revokes tokens.

A project token takes one project permission and at most one repository permission as high
as it (a project permission grants the repository permission of its rank); a repository token
takes one repository permission and no project permission. Using them: see
:mod:`simulator.resource_tokens` and :func:`simulator.auth._resource_token` (Bearer only).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from simulator.errors import (
    AuthorisationError,
    NoSuchEntityError,
    NotFoundError,
    json_response,
)
from simulator.model import ProjectLevel, RepoLevel, User
from simulator.paging import page_of
from simulator.resource_tokens import (
    MAX_TOKENS,
    MAX_TOKENS_PER_RESOURCE,
    SINCE,
    Kind,
    ResourceToken,
)
from simulator.rest import access_of, caller, page_request, store_of
from simulator.rest.access_tokens import (
    DAY_MS,
    TokenRequestError,
    _json_object,
    new_secret,
    parse_new_token,
    parse_token_change,
    token_fields_json,
)
from simulator.store import Store

#: Credentials that act for a user without being the user (see ``access_tokens.DELEGATED``).
DELEGATED: Final = {
    "access-token": "An access token cannot be used to manage access tokens.",
    "project-token": "An access token cannot be used to manage access tokens.",
    "repository-token": "An access token cannot be used to manage access tokens.",
    "oauth2": "An OAuth access token cannot be used to manage access tokens.",
    "oauth1": "An OAuth access token cannot be used to manage access tokens.",
}


# -- rules ----------------------------------------------------------------------------------


def check_kind(kind: Kind, permissions: tuple[str, ...]) -> None:
    """The permissions a project or repository token may take (400 otherwise)."""
    project = [ProjectLevel[p] for p in permissions if p in ProjectLevel.__members__]
    repo = [RepoLevel[p] for p in permissions if p in RepoLevel.__members__]
    if kind == "repository":
        if project:
            raise TokenRequestError(
                [("permissions", "A repository token cannot have project permissions.")]
            )
        return
    if not project:
        raise TokenRequestError(
            [
                (
                    "permissions",
                    "A project token needs a project permission "
                    "(PROJECT_READ, PROJECT_WRITE or PROJECT_ADMIN).",
                )
            ]
        )
    if repo and int(repo[0]) < int(project[0]):
        raise TokenRequestError(
            [
                (
                    "permissions",
                    f"{repo[0].name} with {project[0].name} is not possible: a token's "
                    "repository permission must be as high as its project permission.",
                )
            ]
        )


@dataclass(frozen=True, slots=True)
class Resource:
    """The project or repository a request addresses, once the caller may manage it."""

    kind: Kind
    id: int
    project_key: str
    #: The project's or repository's name, for the service user's display name.
    label: str


def _store(request: web.Request) -> Store:
    store = store_of(request)
    version = store.config.version
    if not version.supports_access_tokens or version < SINCE:
        raise NotFoundError(request.path)
    return store


def _resource(request: web.Request, *, change: bool) -> Resource:
    """The addressed project (PROJECT_ADMIN) or repository (REPO_ADMIN): 404 if missing,
    401 if the caller (or its credential) may not administer it."""
    principal = caller(request)
    if principal.user is None:
        raise AuthorisationError()
    if change and principal.method in DELEGATED:
        raise AuthorisationError(DELEGATED[principal.method])
    access = access_of(request)
    key = request.match_info["projectKey"]
    if "repositorySlug" in request.match_info:
        repo = access.repository(
            principal, key, request.match_info["repositorySlug"], need=RepoLevel.REPO_ADMIN
        )
        return Resource("repository", repo.id, repo.project.key, repo.name)
    project = access.project(principal, key)
    if access.project_level(principal, project) < ProjectLevel.PROJECT_ADMIN:
        raise AuthorisationError()
    return Resource("project", project.id, project.key, project.name)


def _new_token_id(store: Store) -> str:
    """A fresh 12-digit id, unique among personal, project and repository tokens."""
    while True:
        token_id = f"{secrets.randbelow(10**12):012d}"
        if token_id not in store.access_tokens and token_id not in store.resource_tokens.tokens:
            return token_id


def _find(store: Store, resource: Resource, token_id: str) -> ResourceToken:
    token = store.resource_tokens.tokens.get(token_id)
    if token is None or (token.kind, token.resource_id) != (resource.kind, resource.id):
        raise NoSuchEntityError(f"Access token {token_id} does not exist.")
    return token


# -- serialisation --------------------------------------------------------------------------


def service_user_json(user: User, base_url: str) -> dict[str, Any]:
    """The service user as a token's answer shows it (``emailAddress`` null, a ``/bots/``
    link, as a real answer has them)."""
    return {
        "name": user.name,
        "emailAddress": None,
        "active": user.active,
        "displayName": user.display_name,
        "id": user.id,
        "slug": user.slug,
        "type": user.type,
        "links": {"self": [{"href": f"{base_url}/bots/{user.slug}"}]},
    }


def token_json(store: Store, token: ResourceToken) -> dict[str, Any]:
    """``RestAccessToken`` (dates in epoch milliseconds, as for personal tokens)."""
    body = token_fields_json(token)
    user = store.resource_tokens.user_of(token)
    if user is not None:  # always: a token's service user lives as long as it does
        body["user"] = service_user_json(user, store.base_url)
    return body


# -- handlers -------------------------------------------------------------------------------


async def get_resource_tokens(request: web.Request) -> web.Response:
    """A page of the project's or repository's tokens."""
    store = _store(request)
    resource = _resource(request, change=False)
    tokens = store.resource_tokens.of_resource(resource.kind, resource.id)
    body = page_of(tokens, page_request(request), lambda token: token_json(store, token))
    return json_response(body)


async def create_resource_token(request: web.Request) -> web.Response:
    """Create a token for the project or repository."""
    store = _store(request)
    resource = _resource(request, change=True)
    new = parse_new_token(await _json_object(request))
    check_kind(resource.kind, new.permissions)
    backend = store.resource_tokens
    if len(backend.of_resource(resource.kind, resource.id)) >= MAX_TOKENS_PER_RESOURCE:
        raise TokenRequestError(
            [
                (
                    None,
                    f"The {resource.kind} already has the maximum of "
                    f"{MAX_TOKENS_PER_RESOURCE} access tokens.",
                )
            ]
        )
    if len(backend.tokens) >= MAX_TOKENS:
        raise TokenRequestError([(None, f"The server holds its maximum of {MAX_TOKENS} tokens.")])
    user = backend.service_user(
        resource.kind, resource.id, resource.label, len(store.catalog.users)
    )
    token_id = _new_token_id(store)
    now = store.clock.now_ms()
    token = ResourceToken(
        id=token_id,
        secret=new_secret(token_id),
        kind=resource.kind,
        project_key=resource.project_key,
        resource_id=resource.id,
        name=new.name,
        permissions=new.permissions,
        created_ms=now,
        service_user_id=user.id,
        expires_ms=None if new.expiry_days is None else now + new.expiry_days * DAY_MS,
    )
    backend.tokens[token_id] = token
    return json_response({**token_json(store, token), "token": token.secret})


async def get_resource_token(request: web.Request) -> web.Response:
    """One of the project's or repository's tokens."""
    store = _store(request)
    token = _find(store, _resource(request, change=False), request.match_info["tokenId"])
    return json_response(token_json(store, token))


async def update_resource_token(request: web.Request) -> web.Response:
    """Rename a token or change its permissions (its expiry never changes)."""
    store = _store(request)
    resource = _resource(request, change=True)
    token = _find(store, resource, request.match_info["tokenId"])
    change = parse_token_change(await _json_object(request))
    if change.permissions is not None:
        check_kind(resource.kind, change.permissions)
        token.permissions = change.permissions
    if change.name is not None:
        token.name = change.name
    return json_response(token_json(store, token))


async def delete_resource_token(request: web.Request) -> web.Response:
    """Revoke a token."""
    store = _store(request)
    token = _find(store, _resource(request, change=True), request.match_info["tokenId"])
    store.resource_tokens.remove(token)
    return web.Response(status=204)
