"""What the reference keeps of its users' Composer packages, and of its webhooks.

A Composer user is one Bitbucket user of one integration: the Composer token issued at its
first login (the HTTP Basic password of the Composer repository), the browser session of its
latest login (whose token synchronisations and downloads use), and per repository the
versions read at the last synchronisation. Every store is bounded (the limits are rules).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.reference.models import BrowserSession

#: A repository of a Bitbucket: ``(project key, slug)``.
RepoKey = tuple[str, str]
#: A Composer user: ``(integration id, Bitbucket user name)``.
UserKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version of a package: a tag or a branch at a commit, and its composer.json."""

    name: str
    version: str
    version_normalized: str
    #: The ref it came from (``refs/tags/v1.0.0``, ``refs/heads/main``).
    ref: str
    commit: str
    default_branch: bool
    #: The composer.json fields the metadata carries (:data:`rules.COMPOSER_FIELDS`).
    fields: Mapping[str, Any]


@dataclass(slots=True)
class RepositoryPackages:
    """The versions one repository gives a user, by ref."""

    project: str
    slug: str
    clone_url: str
    versions: dict[str, VersionRecord] = field(default_factory=dict)


@dataclass(slots=True)
class ComposerUser:
    """A user of the Composer repository."""

    integration_id: str
    username: str
    token: str
    session: BrowserSession
    repositories: dict[RepoKey, RepositoryPackages] = field(default_factory=dict)
    #: When (integration clock) it was last synchronised, or polled; 0: never.
    synchronised_at: float = 0.0
    #: One synchronisation of this user at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def key(self) -> UserKey:
        """Its key in the store."""
        return (self.integration_id, self.username)

    def versions(self) -> list[tuple[RepositoryPackages, VersionRecord]]:
        """Every version it is served, with its repository."""
        return [(repo, v) for repo in self.repositories.values() for v in repo.versions.values()]


class PackageStore:
    """The Composer users, least recently logged in first (bounded)."""

    def __init__(self, max_users: int) -> None:
        self.max_users = max_users
        self._users: OrderedDict[UserKey, ComposerUser] = OrderedDict()

    def __len__(self) -> int:
        return len(self._users)

    def reset(self) -> None:
        """Forget every user."""
        self._users.clear()

    def logged_in(
        self, integration_id: str, username: str, session: BrowserSession, token: str
    ) -> ComposerUser:
        """The user of a completed login (``token`` is its Composer token when new); it
        becomes the most recent, and the least recent is forgotten beyond the bound."""
        key = (integration_id, username)
        user = self._users.get(key)
        if user is None:
            user = ComposerUser(integration_id, username, token, session)
            self._users[key] = user
        user.session = session
        self._users.move_to_end(key)
        while len(self._users) > self.max_users:
            self._users.popitem(last=False)
        return user

    def of_session(self, session: BrowserSession) -> ComposerUser | None:
        """The user a logged-in browser session is."""
        if session.account is None or session.integration_id is None:
            return None
        return self._users.get((session.integration_id, session.account.username))

    def with_password(
        self, password: str, matches: Callable[[str, str], bool]
    ) -> list[ComposerUser]:
        """The users whose Composer token ``password`` is, by ``matches(token, password)``
        (at most one: tokens are random)."""
        return [user for user in self._users.values() if matches(user.token, password)]

    def users(self) -> list[ComposerUser]:
        """Every user, least recently logged in first."""
        return list(self._users.values())

    def holding(self, integration_id: str, repository: RepoKey) -> list[ComposerUser]:
        """The users of an integration whose packages come from ``repository``."""
        return [
            user
            for user in self._users.values()
            if user.integration_id == integration_id and repository in user.repositories
        ]


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook the reference made (or adopted) on a repository, with its secret."""

    id: int
    url: str
    secret: str


class HookStore:
    """Code credentials (Bitbucket personal access tokens, by user name) and webhooks (by
    integration and repository), both bounded."""

    def __init__(self, max_credentials: int, max_webhooks: int) -> None:
        self.max_credentials = max_credentials
        self.max_webhooks = max_webhooks
        self.credentials: OrderedDict[str, str] = OrderedDict()
        self._webhooks: OrderedDict[tuple[str, str, str], Webhook] = OrderedDict()

    def reset(self) -> None:
        """Forget every credential and webhook."""
        self.credentials.clear()
        self._webhooks.clear()

    def add_credential(self, username: str, token: str) -> None:
        """Keep a code credential (the latest for a user replaces the earlier one)."""
        self.credentials[username] = token
        self.credentials.move_to_end(username)
        while len(self.credentials) > self.max_credentials:
            self.credentials.popitem(last=False)

    def webhook(self, integration_id: str, repository: RepoKey) -> Webhook | None:
        """The webhook kept for a repository."""
        return self._webhooks.get((integration_id, *repository))

    def keep(self, integration_id: str, repository: RepoKey, webhook: Webhook) -> None:
        """Remember a repository's webhook (the oldest is forgotten beyond the bound)."""
        key = (integration_id, *repository)
        self._webhooks[key] = webhook
        self._webhooks.move_to_end(key)
        while len(self._webhooks) > self.max_webhooks:
            self._webhooks.popitem(last=False)

    def __len__(self) -> int:
        return len(self._webhooks)
