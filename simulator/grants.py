"""Permission grants changed at runtime (``PUT``/``DELETE …/permissions/users``), over the
seed's.

The seeded grants live in the shared, immutable :class:`~simulator.seed.Catalog`; a change
is kept here, per user, as the level now held (``NONE`` for a revoked grant), and
``POST /_sim/reset`` forgets every change. Bounded: at most :data:`MAX_CHANGES` changed
grants in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from simulator.errors import ValidationError
from simulator.model import ProjectLevel, RepoLevel
from simulator.seed import Catalog

MAX_CHANGES = 100_000


@dataclass
class GrantChanges:
    """Changed project and repository grants, by user id."""

    projects: dict[int, dict[str, ProjectLevel]] = field(default_factory=dict)
    repos: dict[int, dict[int, RepoLevel]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(map(len, self.projects.values())) + sum(map(len, self.repos.values()))

    def project_grants(self, catalog: Catalog, user_id: int) -> Mapping[str, ProjectLevel]:
        """The user's project grants now (by project key); no entry for none."""
        seeded = catalog.project_grants.get(user_id, {})
        changed = self.projects.get(user_id)
        if not changed:
            return seeded
        merged = {**seeded, **changed}
        return {key: level for key, level in merged.items() if level}

    def repo_grants(self, catalog: Catalog, user_id: int) -> Mapping[int, RepoLevel]:
        """The user's repository grants now (by repository id); no entry for none."""
        seeded = catalog.repo_grants.get(user_id, {})
        changed = self.repos.get(user_id)
        if not changed:
            return seeded
        merged = {**seeded, **changed}
        return {repo_id: level for repo_id, level in merged.items() if level}

    def _room(self, present: bool) -> None:
        if not present and len(self) >= MAX_CHANGES:
            raise ValidationError(
                f"At most {MAX_CHANGES} grants can change before a reset.", "name"
            )

    def set_project(self, user_id: int, key: str, level: ProjectLevel) -> None:
        """Grant (or, with ``NONE``, revoke) a project permission."""
        changed = self.projects.setdefault(user_id, {})
        self._room(key in changed)
        changed[key] = level

    def set_repo(self, user_id: int, repo_id: int, level: RepoLevel) -> None:
        """Grant (or, with ``NONE``, revoke) a repository permission."""
        changed = self.repos.setdefault(user_id, {})
        self._room(repo_id in changed)
        changed[repo_id] = level

    def clear(self) -> None:
        """Forget every change."""
        self.projects.clear()
        self.repos.clear()
