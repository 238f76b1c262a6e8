"""Projects: ``GET projects`` and ``GET projects/{projectKey}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.access import Access
from simulator.auth import Principal
from simulator.errors import ValidationError, json_response
from simulator.model import Project, ProjectLevel, User
from simulator.paging import page_of
from simulator.rest import access_of, caller, page_request, store_of
from simulator.rest.serializers import project_json
from simulator.seed import Catalog

PROJECT_PERMISSIONS = ("PROJECT_READ", "PROJECT_WRITE", "PROJECT_ADMIN")


def parse_project_permission(query: Mapping[str, str]) -> ProjectLevel | None:
    """The ``permission`` filter of ``GET projects``; 400 for anything but a project level."""
    raw = query.get("permission")
    if not raw:
        return None
    if raw not in PROJECT_PERMISSIONS:
        raise ValidationError(
            f"permission must be one of {', '.join(PROJECT_PERMISSIONS)}: '{raw}'.",
            context="permission",
        )
    return ProjectLevel[raw]


def find_projects(
    access: Access, principal: Principal, name: str | None, permission: ProjectLevel | None
) -> list[Project]:
    """Visible non-personal projects, optionally by name (any case) and held permission."""
    needle = name.lower() if name else None
    return [
        project
        for project in access.catalog.projects
        if project.type != "PERSONAL"
        and (needle is None or needle in project.name.lower())
        and (permission is None or access.project_level(principal, project) >= permission)
        and access.can_see_project(principal, project)
    ]


def owner_of(catalog: Catalog, project: Project) -> User | None:
    """The owner of a personal project, else None."""
    return catalog.users_by_slug.get(project.owner) if project.owner else None


def render_project(catalog: Catalog, project: Project, base_url: str) -> dict[str, Any]:
    """``RestProject``, with ``owner`` for a personal project."""
    return project_json(project, base_url, owner_of(catalog, project))


async def get_projects(request: web.Request) -> web.Response:
    """A page of the projects the caller can see (anonymous callers: public ones)."""
    page = page_request(request)
    permission = parse_project_permission(request.query)
    name = request.query.get("name", "").strip() or None
    store = store_of(request)
    projects = find_projects(access_of(request), caller(request), name, permission)
    return json_response(
        page_of(projects, page, lambda p: render_project(store.catalog, p, store.base_url))
    )


async def get_project(request: web.Request) -> web.Response:
    """One project by key (any case, personal ``~USER`` keys too); 404 missing, 401 hidden."""
    store = store_of(request)
    project = access_of(request).project(caller(request), request.match_info["projectKey"])
    return json_response(render_project(store.catalog, project, store.base_url))
