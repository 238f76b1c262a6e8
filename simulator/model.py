"""The entities of the simulated Bitbucket: users, projects, repositories, and permission levels.

Entities are frozen; the seeded dataset never changes while the server runs. What does change
(sessions, tokens, links) lives in :class:`~simulator.store.Store`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RepoLevel(enum.IntEnum):
    """How far a caller may act on a repository, weakest first.

    ``PUBLIC`` is the implicit read that public repositories grant to everyone; it satisfies
    an unfiltered listing but not an explicit ``permission=REPO_READ`` filter.
    """

    NONE = 0
    PUBLIC = 1
    REPO_READ = 2
    REPO_WRITE = 3
    REPO_ADMIN = 4


class ProjectLevel(enum.IntEnum):
    """Project permissions; each grants the repository level of the same rank."""

    NONE = 0
    PROJECT_READ = 2
    PROJECT_WRITE = 3
    PROJECT_ADMIN = 4


class GlobalLevel(enum.IntEnum):
    """Global permissions."""

    NONE = 0
    LICENSED_USER = 1
    PROJECT_CREATE = 2
    ADMIN = 3
    SYS_ADMIN = 4


@dataclass(frozen=True, slots=True)
class User:
    """A Bitbucket user. ``name`` is the login; ``slug`` is what URLs use."""

    id: int
    name: str
    slug: str
    display_name: str
    email: str
    password: str
    active: bool = True
    type: str = "NORMAL"
    global_level: GlobalLevel = GlobalLevel.LICENSED_USER
    groups: tuple[str, ...] = ("stash-users",)


@dataclass(frozen=True, slots=True)
class Project:
    """A project; its repositories have the ids ``first_repo_id .. first_repo_id+repo_count-1``."""

    id: int
    key: str
    name: str
    description: str
    public: bool
    type: str  # "NORMAL" or "PERSONAL"
    first_repo_id: int
    repo_count: int
    owner: str | None = None  # the user slug of a personal project

    def repo_ids(self) -> range:
        """The ids of this project's repositories, in listing order."""
        return range(self.first_repo_id, self.first_repo_id + self.repo_count)


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository's metadata (its refs and files live in :mod:`simulator.content`)."""

    id: int
    slug: str
    name: str
    description: str
    project: Project
    public: bool
    archived: bool
    state: str  # AVAILABLE, INITIALISING, INITIALISATION_FAILED, OFFLINE
    forkable: bool
    hierarchy_id: str
    empty: bool
    has_composer_json: bool
    default_branch: str


@dataclass(slots=True)
class Session:
    """A browser session created by logging in through ``/login``."""

    id: str
    user_id: int
    created: float
    #: When the session last served a request (it expires after ``sessions.idle_seconds``).
    last_used: float = 0.0


@dataclass(slots=True)
class AccessToken:
    """A personal (HTTP) access token: a Bearer secret acting as its user, capped."""

    id: str
    secret: str
    user_id: int
    name: str
    #: e.g. ("PROJECT_READ", "REPO_WRITE"); the strongest of each kind caps the token.
    permissions: tuple[str, ...]
    created_ms: int
    expires_ms: int | None = None
    last_authenticated_ms: int | None = None
