"""Repositories: the global ``GET repos`` search, ``GET projects/{projectKey}/repos`` and
``GET projects/{projectKey}/repos/{repositorySlug}``.

Listings walk :meth:`Access.visible_repo_ids` one project (chunk) at a time and cut the page
with :func:`page_of_chunks`, so a late page costs about what an early one does even on the
large dataset. Cheap per-repository flags (archived, public) are filtered through cached
per-project id lists; filters that need names or states materialise the project's repositories.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiohttp import web

from simulator.access import Access
from simulator.auth import Principal
from simulator.errors import ValidationError, json_response
from simulator.model import Project, RepoLevel, Repository
from simulator.paging import page_json, page_of_chunks
from simulator.rest import access_of, caller, page_request, store_of
from simulator.rest.projects import owner_of
from simulator.rest.serializers import repository_json
from simulator.seed import Catalog
from simulator.version import BitbucketVersion

REPO_PERMISSIONS = ("REPO_READ", "REPO_WRITE", "REPO_ADMIN")
VISIBILITIES = ("public", "private")
STATES = ("AVAILABLE", "INITIALISING", "INITIALISATION_FAILED", "OFFLINE")
ARCHIVED_VALUES = ("ACTIVE", "ARCHIVED", "ALL")


@dataclass(frozen=True, slots=True)
class RepoFilter:
    """Per-repository conditions of a listing; ``None`` means "any"."""

    name: str | None = None
    public: bool | None = None
    state: str | None = None
    archived: bool | None = None

    @property
    def needs_metadata(self) -> bool:
        """Whether checking it needs the repository itself (name, state), not just its id."""
        return self.name is not None or self.state is not None

    @property
    def needs_flags(self) -> bool:
        """Whether it checks the cheap per-id flags (archived, public)."""
        return self.archived is not None or self.public is not None

    def matches(self, repo: Repository) -> bool:
        """Whether a repository passes the name and state conditions."""
        return (self.name is None or self.name in repo.name.lower()) and (
            self.state is None or repo.state == self.state
        )


# -- parsing ---------------------------------------------------------------------------------


def _choice(query: Mapping[str, str], name: str, allowed: Sequence[str], fold: bool) -> str | None:
    """An enumerated parameter: absent/empty -> None, a listed value, else 400 naming it."""
    raw = query.get(name)
    if not raw:
        return None
    for value in allowed:
        if raw == value or (fold and raw.upper() == value.upper()):
            return value
    raise ValidationError(f"{name} must be one of {', '.join(allowed)}: '{raw}'.", context=name)


def parse_repo_permission(query: Mapping[str, str]) -> RepoLevel:
    """The level a listing needs: ``permission`` if given, else the implicit public read."""
    permission = _choice(query, "permission", REPO_PERMISSIONS, fold=False)
    return RepoLevel[permission] if permission else RepoLevel.PUBLIC


def parse_repo_filter(
    query: Mapping[str, str],
    version: BitbucketVersion,
    with_name: bool = True,
    with_archived: bool = True,
) -> RepoFilter:
    """``name``, ``visibility``, ``state`` and ``archived`` (from 8.0 only; ignored before).
    Without ``with_archived`` (a project's listing, which has no such parameter) archived
    repositories are listed with the others."""
    visibility = _choice(query, "visibility", VISIBILITIES, fold=True)
    state = _choice(query, "state", STATES, fold=True)
    archived: bool | None = None
    if with_archived and version.supports_archived_filter:
        mode = _choice(query, "archived", ARCHIVED_VALUES, fold=True) or "ACTIVE"
        archived = None if mode == "ALL" else mode == "ARCHIVED"
    name = query.get("name", "").strip().lower() if with_name else ""
    return RepoFilter(
        name=name or None,
        public=None if visibility is None else visibility == "public",
        state=state,
        archived=archived,
    )


def select_projects(
    catalog: Catalog, project_name: str | None, project_key: str | None
) -> list[Project]:
    """Projects whose name contains ``project_name`` (any case) and whose key is ``project_key``."""
    projects: list[Project] = catalog.projects
    if project_key:
        found = catalog.projects_by_key.get(project_key.upper())
        projects = [found] if found is not None else []
    if project_name:
        needle = project_name.lower()
        projects = [p for p in projects if needle in p.name.lower()]
    return projects


# -- listing ---------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _flagged_ids(
    catalog: Catalog, project: Project, archived: bool | None, public: bool | None
) -> tuple[int, ...]:
    return tuple(
        repo_id
        for repo_id in project.repo_ids()
        if (archived is None or catalog.is_archived_repo(repo_id) == archived)
        and (public is None or catalog.is_public_repo(repo_id, project) == public)
    )


@lru_cache(maxsize=16384)
def _flagged_set(
    catalog: Catalog, project: Project, archived: bool | None, public: bool | None
) -> frozenset[int]:
    return frozenset(_flagged_ids(catalog, project, archived, public))


def _filter_chunk(
    catalog: Catalog, project: Project, ids: Sequence[int], conditions: RepoFilter
) -> Sequence[int]:
    if not ids:
        return ids
    if conditions.needs_flags:
        flags = (catalog, project, conditions.archived, conditions.public)
        if isinstance(ids, range) and len(ids) == project.repo_count:
            ids = _flagged_ids(*flags)
        else:
            allowed = _flagged_set(*flags)
            ids = [repo_id for repo_id in ids if repo_id in allowed]
    if conditions.needs_metadata:
        repos = catalog.project_repositories(project)
        first = project.first_repo_id
        ids = [repo_id for repo_id in ids if conditions.matches(repos[repo_id - first])]
    return ids


def repo_id_chunks(
    access: Access,
    principal: Principal,
    need: RepoLevel,
    projects: Sequence[Project],
    conditions: RepoFilter,
) -> Iterator[Sequence[int]]:
    """Per project, in listing order, the ids of visible repositories that pass ``conditions``."""
    chunks = access.visible_repo_ids(principal, need, projects)
    if not conditions.needs_flags and not conditions.needs_metadata:
        yield from chunks
        return
    for project, ids in zip(projects, chunks, strict=True):
        yield _filter_chunk(access.catalog, project, ids, conditions)


def render_repository(
    catalog: Catalog, repo: Repository, base_url: str, version: BitbucketVersion
) -> dict[str, Any]:
    """``RestRepository``; before 8.0 there is no ``archived`` field."""
    body = repository_json(repo, base_url, owner_of(catalog, repo.project))
    if not version.supports_archived_filter:
        body.pop("archived", None)
    return body


def _repository_page(request: web.Request, chunks: Iterator[Sequence[int]]) -> web.Response:
    store = store_of(request)
    catalog = store.catalog
    page = page_request(request)
    ids, is_last = page_of_chunks(chunks, page)
    values = []
    for repo_id in ids:
        repo = catalog.repository(repo_id)
        assert repo is not None  # ids come from the catalog's own ranges
        values.append(render_repository(catalog, repo, store.base_url, store.config.version))
    return json_response(page_json(values, page, is_last))


# -- handlers --------------------------------------------------------------------------------


async def get_repositories(request: web.Request) -> web.Response:
    """The global repository search; anonymous callers see public repositories."""
    store = store_of(request)
    query = request.query
    page_request(request)  # reject bad paging before anything else
    need = parse_repo_permission(query)
    conditions = parse_repo_filter(query, store.config.version)
    projects = select_projects(
        store.catalog, query.get("projectname", "").strip(), query.get("projectkey", "").strip()
    )
    chunks = repo_id_chunks(access_of(request), caller(request), need, projects, conditions)
    return _repository_page(request, chunks)


async def get_project_repositories(request: web.Request) -> web.Response:
    """A page of one project's repositories the caller can see, archived ones included (as
    real Bitbucket lists them: the Jenkins branch-source plugin filters them itself, its
    issue #703 and PR #752); 404 missing, 401 hidden."""
    store = store_of(request)
    page_request(request)
    conditions = parse_repo_filter(
        request.query, store.config.version, with_name=False, with_archived=False
    )
    access = access_of(request)
    principal = caller(request)
    project = access.project(principal, request.match_info["projectKey"])
    chunks = repo_id_chunks(access, principal, RepoLevel.PUBLIC, [project], conditions)
    return _repository_page(request, chunks)


async def get_repository(request: web.Request) -> web.Response:
    """One repository the caller can read; 404 when missing, 401 when hidden."""
    store = store_of(request)
    repo = access_of(request).repository(
        caller(request), request.match_info["projectKey"], request.match_info["repositorySlug"]
    )
    return json_response(
        render_repository(store.catalog, repo, store.base_url, store.config.version)
    )
