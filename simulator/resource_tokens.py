"""Project and repository HTTP access tokens: their records, their service users, and what a
request authenticated by one may reach (REST in :mod:`simulator.rest.resource_tokens`).

A project or repository token belongs to no person. Bitbucket makes a *service user* for the
project or repository its tokens belong to, and a request with the token acts as that user:
it reaches the token's project (every repository in it) or its one repository, at the
token's permissions, and nothing else but what is public. The service user holds no grants
of its own: :class:`TokenScope`, on the principal, is what :mod:`simulator.access` reads.

Bounded: at most :data:`MAX_TOKENS_PER_RESOURCE` tokens per project or repository and
:data:`MAX_TOKENS` in all; a service user is forgotten with its resource's last token.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from typing import Final, Literal

from simulator.model import GlobalLevel, ProjectLevel, RepoLevel, User
from simulator.version import BitbucketVersion

#: Project and repository tokens exist from 7.12 (UNCONFIRMED between 7.12 and 7.17: the
#: 7.11 documentation has personal tokens only, the 7.17 one the project and repository kinds).
SINCE: Final = BitbucketVersion(7, 12)
#: Bitbucket refuses a token once its project or repository holds its maximum ("The project
#: already has the maximum number of tokens"); the number is UNCONFIRMED.
MAX_TOKENS_PER_RESOURCE: Final = 100
#: Overall, so that the state stays bounded whatever a client does.
MAX_TOKENS: Final = 10_000

Kind = Literal["project", "repository"]
#: The digit of the service user's name (``access-token-user/<digit>/<resource id>``); 2 for a
#: repository is seen in a real answer, 1 for a project is UNCONFIRMED.
KIND_DIGITS: Final[dict[str, int]] = {"project": 1, "repository": 2}


@dataclass(frozen=True, slots=True)
class TokenScope:
    """What a project or repository token reaches: its project (``repo_id`` None) or one
    repository of it, at ``project_level`` on the project and ``repo_level`` on the
    repositories."""

    project_key: str
    repo_id: int | None
    project_level: ProjectLevel
    repo_level: RepoLevel

    def project_level_on(self, project_key: str) -> ProjectLevel:
        """The token's project permission on a project (none outside its own)."""
        return self.project_level if project_key == self.project_key else ProjectLevel.NONE

    def whole_project_level(self, project_key: str) -> RepoLevel:
        """The repository level held on every repository of a project."""
        if self.repo_id is None and project_key == self.project_key:
            return self.repo_level
        return RepoLevel.NONE

    def repo_grants(self) -> dict[int, RepoLevel]:
        """The single-repository grant of a repository token (none for a project token)."""
        return {} if self.repo_id is None else {self.repo_id: self.repo_level}


@dataclass(slots=True)
class ResourceToken:
    """A project or repository HTTP access token."""

    id: str
    secret: str
    kind: Kind
    project_key: str
    #: The project's id for a project token, the repository's for a repository token.
    resource_id: int
    name: str
    permissions: tuple[str, ...]
    created_ms: int
    service_user_id: int
    expires_ms: int | None = None
    last_authenticated_ms: int | None = None

    def scope(self) -> TokenScope:
        """What the token reaches, from its permissions (a project permission also grants
        the repository permission of its rank, as for personal tokens)."""
        project = ProjectLevel.NONE
        repo = RepoLevel.NONE
        for permission in self.permissions:
            if permission in ProjectLevel.__members__:
                project = max(project, ProjectLevel[permission])
            elif permission in RepoLevel.__members__:
                repo = max(repo, RepoLevel[permission])
        if project:
            repo = max(repo, RepoLevel(int(project)))
        return TokenScope(
            project_key=self.project_key,
            repo_id=self.resource_id if self.kind == "repository" else None,
            project_level=project if self.kind == "project" else ProjectLevel.NONE,
            repo_level=repo,
        )


def service_user_name(kind: Kind, resource_id: int) -> str:
    """``access-token-user/2/1405`` for repository 1405, as a real answer shows."""
    return f"access-token-user/{KIND_DIGITS[kind]}/{resource_id}"


def token_id_of(secret: str) -> str | None:
    """The id a secret names (its base64 is ``<id>:`` and random bytes), without trusting it."""
    try:
        decoded = base64.urlsafe_b64decode(secret.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    token_id, sep, _ = decoded.partition(b":")
    if not sep or len(token_id) != 12 or not token_id.isdigit():
        return None
    return token_id.decode()


@dataclass
class ResourceTokenBackend:
    """Every project and repository token, and the service users they act as."""

    tokens: dict[str, ResourceToken] = field(default_factory=dict)
    #: (kind, resource id) -> the service user that resource's tokens act as.
    service_users: dict[tuple[str, int], User] = field(default_factory=dict)
    #: Service user ids are handed out past the seeded users' (never reused while running).
    next_user_offset: int = 1

    def reset(self) -> None:
        """Forget every token and service user."""
        self.tokens.clear()
        self.service_users.clear()
        self.next_user_offset = 1

    def of_resource(self, kind: Kind, resource_id: int) -> list[ResourceToken]:
        """A project's or repository's tokens, newest first (expired ones included)."""
        mine = [t for t in self.tokens.values() if t.kind == kind and t.resource_id == resource_id]
        ranked = sorted(enumerate(mine), key=lambda pair: (pair[1].created_ms, pair[0]))
        return [token for _, token in reversed(ranked)]

    def service_user(self, kind: Kind, resource_id: int, label: str, seeded_users: int) -> User:
        """The resource's service user, made with its first token."""
        key = (kind, resource_id)
        user = self.service_users.get(key)
        if user is None:
            name = service_user_name(kind, resource_id)
            user = User(
                id=seeded_users + self.next_user_offset,
                name=name,
                slug=name.replace("/", "_"),
                display_name=f"Access Token User - {label}",
                email="",
                password=secrets.token_hex(16),  # never a login: the user is in no catalog
                type="SERVICE",
                global_level=GlobalLevel.NONE,
                groups=(),
            )
            self.next_user_offset += 1
            self.service_users[key] = user
        return user

    def user_of(self, token: ResourceToken) -> User | None:
        """The service user a token acts as."""
        return self.service_users.get((token.kind, token.resource_id))

    def remove(self, token: ResourceToken) -> None:
        """Revoke a token; its service user goes with its resource's last token."""
        self.tokens.pop(token.id, None)
        if not self.of_resource(token.kind, token.resource_id):
            self.service_users.pop((token.kind, token.resource_id), None)

    def find(self, secret: str, now_ms: int) -> ResourceToken | None:
        """The unexpired token with this secret (found by the id it encodes)."""
        token_id = token_id_of(secret)
        token = self.tokens.get(token_id) if token_id is not None else None
        if token is None or not secrets.compare_digest(token.secret.encode(), secret.encode()):
            return None
        if token.expires_ms is not None and token.expires_ms <= now_ms:
            return None
        return token
