"""User permissions of a project or repository: ``GET``, ``PUT`` and ``DELETE
…/permissions/users`` (REST API 1.0), as an administrator manages them.

``PUT ?name=<user>&name=…&permission=<level>`` grants, ``DELETE ?name=<user>`` revokes the
user's explicit grant on that project or repository, both 204; ``GET`` pages the users
holding an explicit grant (``filter`` matches names). Managing needs PROJECT_ADMIN on the
project, resp. REPO_ADMIN on the repository (401 otherwise, as Bitbucket answers). Changes
live in :class:`simulator.grants.GrantChanges` until ``POST /_sim/reset``; every permission
decision (REST, git, pages) sees them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from simulator.errors import AuthorisationError, NoSuchUserError, ValidationError, json_response
from simulator.model import Project, ProjectLevel, RepoLevel, Repository, User
from simulator.paging import page_of
from simulator.rest import access_of, caller, page_request, store_of
from simulator.rest.serializers import user_json

PROJECT_LEVELS = ("PROJECT_READ", "PROJECT_WRITE", "PROJECT_ADMIN")
REPO_LEVELS = ("REPO_READ", "REPO_WRITE", "REPO_ADMIN")


def _project(request: web.Request) -> Project:
    """The project in the path, when the caller administers it."""
    access, principal = access_of(request), caller(request)
    project = access.project(principal, request.match_info["projectKey"])
    if access.project_level(principal, project) < ProjectLevel.PROJECT_ADMIN:
        raise AuthorisationError()
    return project


def _repository(request: web.Request) -> Repository:
    """The repository in the path, when the caller administers it."""
    return access_of(request).repository(
        caller(request),
        request.match_info["projectKey"],
        request.match_info["repositorySlug"],
        need=RepoLevel.REPO_ADMIN,
    )


def _users(request: web.Request) -> list[User]:
    names = request.query.getall("name", [])
    if not names or not all(name.strip() for name in names):
        raise ValidationError("Give at least one user name: name=<user>.", "name")
    users = store_of(request).catalog.users_by_name
    found = []
    for name in names:
        user = users.get(name.lower())
        if user is None:
            raise NoSuchUserError(name)
        found.append(user)
    return found


def _level(query: Mapping[str, str], allowed: tuple[str, ...]) -> str:
    raw = query.get("permission", "")
    if raw not in allowed:
        raise ValidationError(
            f"permission must be one of {', '.join(allowed)}: '{raw}'.", "permission"
        )
    return raw


def _page(request: web.Request, holders: list[tuple[User, str]]) -> web.Response:
    wanted = request.query.get("filter", "").lower()
    chosen = [
        (user, level)
        for user, level in sorted(holders, key=lambda holder: holder[0].name)
        if wanted in user.name.lower() or wanted in user.display_name.lower()
    ]
    base_url = store_of(request).base_url
    return json_response(
        page_of(
            chosen,
            page_request(request),
            lambda held: {"user": user_json(held[0], base_url), "permission": held[1]},
        )
    )


def _holders(
    request: web.Request, level_of: Callable[[int], ProjectLevel | RepoLevel | None]
) -> web.Response:
    """The page of users holding an explicit grant, by ``level_of(user id)``."""
    holders = []
    for user in store_of(request).catalog.users:
        level = level_of(user.id)
        if level:
            holders.append((user, level.name))
    return _page(request, holders)


def _apply(request: web.Request, change: Callable[[int], None]) -> web.Response:
    """Apply ``change(user id)`` to every named user (all found first: all or nothing)."""
    for user in _users(request):
        change(user.id)
    return web.Response(status=204)


async def get_project_users(request: web.Request) -> web.Response:
    """``GET projects/{key}/permissions/users``: who holds an explicit project grant."""
    key, access = _project(request).key, access_of(request)
    return _holders(request, lambda user_id: access.project_grants(user_id).get(key))


async def set_project_users(request: web.Request) -> web.Response:
    """``PUT projects/{key}/permissions/users?name=…&permission=PROJECT_…``."""
    key, grants = _project(request).key, store_of(request).grants
    level = ProjectLevel[_level(request.query, PROJECT_LEVELS)]
    return _apply(request, lambda user_id: grants.set_project(user_id, key, level))


async def revoke_project_user(request: web.Request) -> web.Response:
    """``DELETE projects/{key}/permissions/users?name=…``."""
    key, grants = _project(request).key, store_of(request).grants
    return _apply(request, lambda user_id: grants.set_project(user_id, key, ProjectLevel.NONE))


async def get_repo_users(request: web.Request) -> web.Response:
    """``GET …/repos/{slug}/permissions/users``: who holds an explicit repository grant."""
    repo_id, access = _repository(request).id, access_of(request)
    return _holders(request, lambda user_id: access.repo_grants(user_id).get(repo_id))


async def set_repo_users(request: web.Request) -> web.Response:
    """``PUT …/repos/{slug}/permissions/users?name=…&permission=REPO_…``."""
    repo_id, grants = _repository(request).id, store_of(request).grants
    level = RepoLevel[_level(request.query, REPO_LEVELS)]
    return _apply(request, lambda user_id: grants.set_repo(user_id, repo_id, level))


async def revoke_repo_user(request: web.Request) -> web.Response:
    """``DELETE …/repos/{slug}/permissions/users?name=…``."""
    repo_id, grants = _repository(request).id, store_of(request).grants
    return _apply(request, lambda user_id: grants.set_repo(user_id, repo_id, RepoLevel.NONE))
