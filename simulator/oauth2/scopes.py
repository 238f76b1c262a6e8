"""Bitbucket's OAuth 2 scopes, their hierarchy, and what each lets a token do."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from simulator.model import ProjectLevel, RepoLevel


class Scope(enum.Enum):
    """``BitbucketScope``, weakest first."""

    PUBLIC_REPOS = "PUBLIC_REPOS"
    ACCOUNT_WRITE = "ACCOUNT_WRITE"
    REPO_READ = "REPO_READ"
    REPO_WRITE = "REPO_WRITE"
    REPO_ADMIN = "REPO_ADMIN"
    PROJECT_ADMIN = "PROJECT_ADMIN"
    ADMIN_WRITE = "ADMIN_WRITE"
    SYSTEM_ADMIN = "SYSTEM_ADMIN"

    @property
    def implies(self) -> tuple[Scope, ...]:
        """The scopes this one directly implies."""
        return _IMPLIES[self]


_IMPLIES: dict[Scope, tuple[Scope, ...]] = {
    Scope.PUBLIC_REPOS: (),
    Scope.ACCOUNT_WRITE: (Scope.PUBLIC_REPOS,),
    Scope.REPO_READ: (Scope.PUBLIC_REPOS,),
    Scope.REPO_WRITE: (Scope.REPO_READ,),
    Scope.REPO_ADMIN: (Scope.REPO_WRITE,),
    Scope.PROJECT_ADMIN: (Scope.REPO_ADMIN,),
    Scope.ADMIN_WRITE: (Scope.PROJECT_ADMIN, Scope.ACCOUNT_WRITE),
    Scope.SYSTEM_ADMIN: (Scope.ADMIN_WRITE,),
}


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """How the admin form labels a scope and how the consent page describes it."""

    label: str
    description: str


SCOPE_INFO: dict[Scope, ScopeInfo] = {
    Scope.PUBLIC_REPOS: ScopeInfo("Public repositories", "View public projects and repositories"),
    Scope.ACCOUNT_WRITE: ScopeInfo("Account: Write", "Update your account settings"),
    Scope.REPO_READ: ScopeInfo("Repositories: Read", "Pull and clone repositories"),
    Scope.REPO_WRITE: ScopeInfo("Repositories: Write", "Push, create and comment on pull requests"),
    Scope.REPO_ADMIN: ScopeInfo(
        "Repositories: Admin", "Administer repositories: settings, hooks and permissions"
    ),
    Scope.PROJECT_ADMIN: ScopeInfo(
        "Projects: Admin", "Administer projects and create repositories"
    ),
    Scope.ADMIN_WRITE: ScopeInfo("Admin: Write", "Perform most global administration functions"),
    Scope.SYSTEM_ADMIN: ScopeInfo("System admin: Write", "Perform every administration function"),
}

#: The checkboxes of the incoming-link form, in the order Bitbucket shows them.
FORM_SCOPES: tuple[Scope, ...] = (
    Scope.SYSTEM_ADMIN,
    Scope.ADMIN_WRITE,
    Scope.PROJECT_ADMIN,
    Scope.REPO_READ,
    Scope.REPO_WRITE,
    Scope.REPO_ADMIN,
    Scope.ACCOUNT_WRITE,
)


class ScopeError(ValueError):
    """A scope string that is blank or names an unknown scope."""


def parse_scopes(text: str | None) -> tuple[Scope, ...]:
    """Split a space-separated scope string; blank or unknown names raise :class:`ScopeError`."""
    names = (text or "").split()
    if not names:
        raise ScopeError("A scope is required")
    scopes: list[Scope] = []
    for name in names:
        if name not in Scope.__members__:
            raise ScopeError(f"Unknown scope: {name}")
        if Scope[name] not in scopes:
            scopes.append(Scope[name])
    return tuple(scopes)


def closure(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """Every scope implied, transitively, by the given ones (including themselves)."""
    seen: set[Scope] = set()
    pending = list(scopes)
    while pending:
        scope = pending.pop()
        if scope not in seen:
            seen.add(scope)
            pending.extend(scope.implies)
    return frozenset(seen)


def strongest(scopes: Iterable[Scope]) -> tuple[Scope, ...]:
    """The given scopes without those implied by another one, in canonical order."""
    chosen = set(scopes)
    implied = set().union(*(closure(s.implies) for s in chosen)) if chosen else set()
    return tuple(scope for scope in Scope if scope in chosen and scope not in implied)


def format_scopes(scopes: Iterable[Scope]) -> str:
    """The space-separated form Bitbucket answers with."""
    return " ".join(scope.name for scope in scopes)


@dataclass(frozen=True, slots=True)
class ScopeCaps:
    """What a token of some scopes may do, as ceilings on its user's own permissions."""

    repo_cap: RepoLevel
    project_cap: ProjectLevel
    admin_allowed: bool


def caps_for(scopes: Iterable[Scope]) -> ScopeCaps:
    """The ceilings a token's scopes put on its user."""
    granted = closure(scopes)
    repo = RepoLevel.PUBLIC
    for scope, level in (
        (Scope.REPO_READ, RepoLevel.REPO_READ),
        (Scope.REPO_WRITE, RepoLevel.REPO_WRITE),
        (Scope.REPO_ADMIN, RepoLevel.REPO_ADMIN),
    ):
        if scope in granted:
            repo = level
    project = ProjectLevel.NONE
    if Scope.REPO_READ in granted:
        project = ProjectLevel.PROJECT_READ
    if Scope.REPO_WRITE in granted:
        project = ProjectLevel.PROJECT_WRITE
    if Scope.PROJECT_ADMIN in granted:
        project = ProjectLevel.PROJECT_ADMIN
    return ScopeCaps(repo_cap=repo, project_cap=project, admin_allowed=Scope.ADMIN_WRITE in granted)
