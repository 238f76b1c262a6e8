"""Bitbucket's permission semantics: what a principal may see and do on projects and repos.

A user's level on a repository is the strongest of: a global admin right, a project grant
(``PROJECT_READ`` gives ``REPO_READ`` and so on), a repository grant, and the implicit
``PUBLIC`` read of a public repository. The credential's cap (token scope or access-token
permissions) then limits it. A project or repository token's service user has no grants: its
:class:`~simulator.resource_tokens.TokenScope` stands in for them. Missing things are 404;
things that exist but may not be seen are 401, for anonymous and authenticated callers alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from simulator.auth import Principal
from simulator.errors import AuthorisationError, NoSuchProjectError, NoSuchRepositoryError
from simulator.model import GlobalLevel, Project, ProjectLevel, RepoLevel, Repository
from simulator.seed import Catalog

if TYPE_CHECKING:
    from simulator.grants import GrantChanges


class Access:
    """Permission decisions over one catalog."""

    def __init__(self, catalog: Catalog, grants: GrantChanges | None = None) -> None:
        self.catalog = catalog
        self.grants = grants

    def project_grants(self, user_id: int) -> Mapping[str, ProjectLevel]:
        """A user's project grants, with runtime changes."""
        if self.grants is None:
            return self.catalog.project_grants.get(user_id, {})
        return self.grants.project_grants(self.catalog, user_id)

    def repo_grants(self, user_id: int) -> Mapping[int, RepoLevel]:
        """A user's repository grants, with runtime changes."""
        if self.grants is None:
            return self.catalog.repo_grants.get(user_id, {})
        return self.grants.repo_grants(self.catalog, user_id)

    # -- levels ------------------------------------------------------------------------------

    def _principal_repo_grants(self, principal: Principal) -> Mapping[int, RepoLevel]:
        """The repository grants a principal holds: its user's, or its token scope's."""
        if principal.user is None:
            return {}
        if principal.scope is not None:
            return principal.scope.repo_grants()
        return self.repo_grants(principal.user.id)

    def _whole_project_level(self, principal: Principal, project: Project) -> RepoLevel:
        """The (uncapped) repository level held on every repository of a project."""
        if principal.scope is not None:
            return principal.scope.whole_project_level(project.key)
        return RepoLevel(int(self._uncapped_project_level(principal, project)))

    def _uncapped_project_level(self, principal: Principal, project: Project) -> ProjectLevel:
        user = principal.user
        if user is None:
            return ProjectLevel.NONE
        if principal.scope is not None:
            return principal.scope.project_level_on(project.key)
        if principal.admin_allowed and user.global_level >= GlobalLevel.ADMIN:
            return ProjectLevel.PROJECT_ADMIN
        return self.project_grants(user.id).get(project.key, ProjectLevel.NONE)

    def project_level(self, principal: Principal, project: Project) -> ProjectLevel:
        """The principal's project permission, capped by its credential."""
        level = self._uncapped_project_level(principal, project)
        return ProjectLevel(min(level, principal.project_cap)) if level else level

    def repo_level_by_id(self, principal: Principal, project: Project, repo_id: int) -> RepoLevel:
        """The principal's level on a repository, known by id (no name is generated)."""
        public = self.catalog.is_public_repo(repo_id, project)
        level = self._whole_project_level(principal, project)
        granted = self._principal_repo_grants(principal).get(repo_id)
        if granted is not None:
            level = max(level, granted)
        if principal.repo_cap <= RepoLevel.PUBLIC:
            return RepoLevel.PUBLIC if public else RepoLevel.NONE
        level = RepoLevel(min(level, principal.repo_cap))
        if public and level < RepoLevel.PUBLIC:
            level = RepoLevel.PUBLIC
        return level

    def repo_level(self, principal: Principal, repo: Repository) -> RepoLevel:
        """The principal's level on a repository."""
        return self.repo_level_by_id(principal, repo.project, repo.id)

    # -- lookups that raise -------------------------------------------------------------------

    def project(self, principal: Principal, key: str) -> Project:
        """A project the principal may see; 404 if missing, 401 if hidden."""
        project = self.catalog.projects_by_key.get(key.upper())
        if project is None:
            raise NoSuchProjectError(key)
        if not self.can_see_project(principal, project):
            raise AuthorisationError()
        return project

    def repository(
        self, principal: Principal, key: str, slug: str, need: RepoLevel = RepoLevel.PUBLIC
    ) -> Repository:
        """A repository the principal holds ``need`` on; 404 if missing, 401 otherwise."""
        project = self.catalog.projects_by_key.get(key.upper())
        if project is None:
            raise NoSuchProjectError(key)
        repo = self.catalog.find_repository(key, slug)
        if repo is None:
            raise NoSuchRepositoryError(project.key, slug)
        if self.repo_level(principal, repo) < need:
            raise AuthorisationError()
        return repo

    # -- visibility ---------------------------------------------------------------------------

    def can_see_project(self, principal: Principal, project: Project) -> bool:
        """A project is visible with any project right or any visible repository in it."""
        if project.public or self.project_level(principal, project) > ProjectLevel.NONE:
            return True
        return any(
            self.repo_level_by_id(principal, project, repo_id) > RepoLevel.NONE
            for repo_id in project.repo_ids()
        )

    def visible_repo_ids(
        self, principal: Principal, need: RepoLevel, projects: Sequence[Project] | None = None
    ) -> Iterator[Sequence[int]]:
        """Per project, in listing order, the ids of repositories held at ``need`` or more.

        A project the principal holds wholly at ``need`` yields its id range (no per-repo
        work); others yield the filtered list.
        """
        grants = self._principal_repo_grants(principal)
        for project in self.catalog.projects if projects is None else projects:
            whole = self._whole_project_level(principal, project)
            whole = RepoLevel(min(whole, principal.repo_cap)) if whole else whole
            if whole >= max(need, RepoLevel.REPO_READ) and principal.repo_cap > RepoLevel.PUBLIC:
                yield project.repo_ids()
                continue
            ids: set[int] = set()
            if principal.repo_cap > RepoLevel.PUBLIC:
                ids = {
                    repo_id
                    for repo_id, level in grants.items()
                    if repo_id in project.repo_ids() and min(level, principal.repo_cap) >= need
                }
            if need <= RepoLevel.PUBLIC:
                ids.update(self.catalog.public_repo_ids(project))
            yield sorted(ids)
