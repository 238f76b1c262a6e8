"""The deterministic dataset: the same seed and sizes give the same users, projects and repos.

Users and projects are built eagerly with faker (there are at most a few thousand). Repository
metadata is *derived on demand*: cheap flags (public, archived, composer.json present) come
from a hash of the seed and the repository id, and names are generated per project, sorted,
and cached. So ``--dataset large`` (100,000 repositories) costs memory only for what is read.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from simulator.model import GlobalLevel, Project, ProjectLevel, RepoLevel, Repository, User

#: users, projects (not counting personal ones), repositories (counting personal ones)
DATASET_SIZES: dict[str, tuple[int, int, int]] = {
    "small": (12, 6, 40),
    "medium": (60, 40, 1_000),
    "large": (500, 1_000, 100_000),
}

#: Accounts every dataset has, whatever the seed: (name, display name, global level, active)
FIXED_USERS: tuple[tuple[str, str, GlobalLevel, bool], ...] = (
    ("admin", "Administrator", GlobalLevel.SYS_ADMIN, True),
    ("alice", "Alice Example", GlobalLevel.LICENSED_USER, True),
    ("bob", "Bob Example", GlobalLevel.LICENSED_USER, True),
    ("jane@example.com", "Jane Example", GlobalLevel.LICENSED_USER, True),
    ("inactive.ian", "Ian Inactive", GlobalLevel.LICENSED_USER, False),
)
#: The project every dataset has; alice administers it, bob can read two of its repositories.
MAIN_PROJECT_KEY = "PKG"
_SLUG_INVALID = re.compile(r"[^A-Za-z0-9._-]")


def user_slug(name: str) -> str:
    """Bitbucket's slug for a user name: characters URLs cannot carry become ``_``."""
    return _SLUG_INVALID.sub("_", name).lower()


def _hash(seed: int, *parts: object) -> int:
    text = ":".join(str(part) for part in (seed, *parts))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class DatasetSize:
    """How many users, projects and repositories to seed."""

    users: int
    projects: int
    repos: int

    @classmethod
    def named(
        cls,
        dataset: str,
        users: int | None = None,
        projects: int | None = None,
        repos: int | None = None,
    ) -> DatasetSize:
        """The named dataset's sizes with explicit counts taking precedence."""
        base_users, base_projects, base_repos = DATASET_SIZES[dataset]
        return cls(
            users=max(len(FIXED_USERS), base_users if users is None else users),
            projects=max(1, base_projects if projects is None else projects),
            repos=base_repos if repos is None else repos,
        )


class Catalog:
    """The read-only seeded dataset. Build once per (seed, size); share between resets."""

    def __init__(self, seed: int, size: DatasetSize) -> None:
        from faker import Faker  # deferred: only building a catalog needs it

        self.seed = seed
        self.size = size
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self._rng = random.Random(f"catalog:{seed}")
        self.users: list[User] = self._make_users(fake)
        self.users_by_slug = {user.slug: user for user in self.users}
        self.users_by_name = {user.name.lower(): user for user in self.users}
        self.projects: list[Project] = self._make_projects(fake)
        self.projects_by_key = {project.key.upper(): project for project in self.projects}
        self._project_of_repo = [(p.first_repo_id, p) for p in self.projects]
        self.project_grants: dict[int, dict[str, ProjectLevel]] = {}
        self.repo_grants: dict[int, dict[int, RepoLevel]] = {}
        self._make_grants()
        self._words = sorted(_word_list())
        self._repos_of_project = lru_cache(maxsize=4096)(self._build_project_repos)
        self._public_of_project = lru_cache(maxsize=4096)(self._build_public_ids)

    # -- users ----------------------------------------------------------------------------

    def _make_users(self, fake: object) -> list[User]:
        users: list[User] = []
        for name, display, level, active in FIXED_USERS:
            slug = user_slug(name)
            email = name if "@" in name else f"{slug}@example.com"
            groups = ("stash-users", "administrators") if level else ("stash-users",)
            users.append(
                User(
                    id=len(users) + 1,
                    name=name,
                    slug=slug,
                    display_name=display,
                    email=email,
                    password=name,
                    active=active,
                    global_level=level,
                    groups=groups if level == GlobalLevel.SYS_ADMIN else ("stash-users",),
                )
            )
        taken = {user.slug for user in users}
        while len(users) < self.size.users:
            first, last = fake.first_name(), fake.last_name()  # type: ignore[attr-defined]
            name = f"{first}.{last}".lower().replace("'", "")
            if user_slug(name) in taken:
                name = f"{name}{len(users)}"
            taken.add(user_slug(name))
            group = "developers" if len(users) % 3 else "release-managers"
            users.append(
                User(
                    id=len(users) + 1,
                    name=name,
                    slug=user_slug(name),
                    display_name=f"{first} {last}",
                    email=f"{user_slug(name)}@example.com",
                    password=name,
                    groups=("stash-users", group),
                )
            )
        return users

    # -- projects -------------------------------------------------------------------------

    def _make_projects(self, fake: object) -> list[Project]:
        rng = self._rng
        keys = [MAIN_PROJECT_KEY]
        while len(keys) < self.size.projects:
            word = fake.word().upper()  # type: ignore[attr-defined]
            key = word[:6] if len(keys) < 300 else f"{word[:4]}{len(keys)}"
            if key not in keys:
                keys.append(key)
        personal = [("alice", 2), ("bob", 1)] if self.size.repos >= 3 + len(keys) else []
        normal_repos = self.size.repos - sum(count for _, count in personal)
        counts = [normal_repos // len(keys)] * len(keys)
        for index in range(normal_repos % len(keys)):
            counts[index] += 1
        ordered = sorted(zip(keys, counts, strict=True))
        projects: list[Project] = []
        next_repo = 1
        for key, count in ordered:
            main = key == MAIN_PROJECT_KEY
            name = "Packages" if main else fake.catch_phrase().title()  # type: ignore[attr-defined]
            projects.append(
                Project(
                    id=len(projects) + 1,
                    key=key,
                    name=name,
                    description=fake.sentence(nb_words=8),  # type: ignore[attr-defined]
                    public=not main and (key == keys[min(1, len(keys) - 1)] or rng.random() < 0.2),
                    type="NORMAL",
                    first_repo_id=next_repo,
                    repo_count=count,
                )
            )
            next_repo += count
        for slug, count in personal:
            owner = self.users_by_slug[slug]
            projects.append(
                Project(
                    id=len(projects) + 1,
                    key=f"~{slug.upper()}",
                    name=owner.display_name,
                    description="",
                    public=False,
                    type="PERSONAL",
                    first_repo_id=next_repo,
                    repo_count=count,
                    owner=slug,
                )
            )
            next_repo += count
        return projects

    # -- grants ---------------------------------------------------------------------------

    def _make_grants(self) -> None:
        rng = self._rng
        normal = [p for p in self.projects if p.type == "NORMAL"]
        main = self.projects_by_key[MAIN_PROJECT_KEY]
        others = [p for p in normal if p is not main]
        for user in self.users:
            projects: dict[str, ProjectLevel] = {}
            repos: dict[int, RepoLevel] = {}
            if user.name == "alice":
                projects[main.key] = ProjectLevel.PROJECT_ADMIN
                for project in rng.sample(others, min(2, len(others))):
                    projects[project.key] = ProjectLevel.PROJECT_READ
            elif user.name == "bob":
                for repo_id in list(main.repo_ids())[:2]:
                    repos[repo_id] = RepoLevel.REPO_READ
                if others and others[0].repo_count:
                    repos[others[0].first_repo_id] = RepoLevel.REPO_WRITE
            elif user.name == "jane@example.com":
                if others:
                    projects[others[0].key] = ProjectLevel.PROJECT_WRITE
            elif user.name == "inactive.ian":
                projects[main.key] = ProjectLevel.PROJECT_READ
            elif user.global_level < GlobalLevel.SYS_ADMIN:
                for project in rng.sample(normal, min(len(normal), rng.randint(1, 2))):
                    projects[project.key] = ProjectLevel.PROJECT_READ
                for _ in range(rng.randint(1, 3)):
                    if self.size.repos:
                        repos[rng.randint(1, self.size.repos)] = rng.choice(
                            (RepoLevel.REPO_READ, RepoLevel.REPO_WRITE)
                        )
            for project in self.projects:
                if project.owner == user.slug:
                    projects[project.key] = ProjectLevel.PROJECT_ADMIN
            self.project_grants[user.id] = projects
            self.repo_grants[user.id] = repos

    # -- repositories (derived on demand) ---------------------------------------------------

    def project_of_repo_id(self, repo_id: int) -> Project | None:
        """The project holding a repository id, by binary search over the id ranges."""
        low, high = 0, len(self._project_of_repo) - 1
        while low <= high:
            middle = (low + high) // 2
            first, project = self._project_of_repo[middle]
            if repo_id < first:
                high = middle - 1
            elif repo_id >= first + project.repo_count:
                low = middle + 1
            else:
                return project
        return None

    def repository(self, repo_id: int) -> Repository | None:
        """The repository with this id, or None."""
        project = self.project_of_repo_id(repo_id)
        if project is None:
            return None
        return self.project_repositories(project)[repo_id - project.first_repo_id]

    def project_repositories(self, project: Project) -> tuple[Repository, ...]:
        """A project's repositories in listing (name) order; generated on first use."""
        return self._repos_of_project(project)

    def find_repository(self, project_key: str, slug: str) -> Repository | None:
        """Look a repository up by project key (case-insensitive) and slug."""
        project = self.projects_by_key.get(project_key.upper())
        if project is None:
            return None
        slug = slug.lower()
        for repo in self.project_repositories(project):
            if repo.slug == slug:
                return repo
        return None

    def is_public_repo(self, repo_id: int, project: Project) -> bool:
        """Cheap: whether a repository is public, without generating its name."""
        return project.public or _hash(self.seed, "public", repo_id) % 10 == 0

    def public_repo_ids(self, project: Project) -> tuple[int, ...]:
        """The ids of a project's public repositories, in listing order (cached)."""
        return self._public_of_project(project)

    def _build_public_ids(self, project: Project) -> tuple[int, ...]:
        if project.public:
            return tuple(project.repo_ids())
        return tuple(r for r in project.repo_ids() if self.is_public_repo(r, project))

    def is_archived_repo(self, repo_id: int) -> bool:
        """Cheap: whether a repository is archived."""
        return _hash(self.seed, "archived", repo_id) % 25 == 0 and repo_id != self._empty_id()

    def _empty_id(self) -> int:
        main = self.projects_by_key[MAIN_PROJECT_KEY]
        return main.first_repo_id + main.repo_count - 1 if main.repo_count else -1

    def _build_project_repos(self, project: Project) -> tuple[Repository, ...]:
        words = self._words
        rng = random.Random(f"repos:{self.seed}:{project.key}")
        space = len(words) * len(words)
        picks = sorted(rng.sample(range(space), project.repo_count))
        repos: list[Repository] = []
        empty_id = self._empty_id()
        for offset, pick in enumerate(picks):
            repo_id = project.first_repo_id + offset
            first, second = words[pick // len(words)], words[pick % len(words)]
            flags = _hash(self.seed, "repo", repo_id)
            empty = repo_id == empty_id
            repos.append(
                Repository(
                    id=repo_id,
                    slug=f"{first}-{second}",
                    name=f"{first}-{second}",
                    description=f"The {first} {second} package.",
                    project=project,
                    public=self.is_public_repo(repo_id, project),
                    archived=self.is_archived_repo(repo_id),
                    state="AVAILABLE",
                    forkable=True,
                    hierarchy_id=f"{flags:020x}"[:20],
                    empty=empty,
                    has_composer_json=not empty and flags % 7 != 0,
                    default_branch="main" if flags % 3 else "master",
                )
            )
        return tuple(repos)


@lru_cache(maxsize=1)
def _word_list() -> tuple[str, ...]:
    from faker.providers.lorem.en_US import Provider

    return tuple(sorted({w.lower() for w in Provider.word_list if w.isalpha()}))


@lru_cache(maxsize=8)
def build_catalog(seed: int, size: DatasetSize) -> Catalog:
    """The catalog for a seed and size, built once per process and shared."""
    return Catalog(seed, size)
