"""All mutable state of one simulator, in one object that ``reset()`` rebuilds in place.

The seeded :class:`~simulator.seed.Catalog` is immutable and shared; everything a test can
change (runtime config, clock, sessions, tokens, journal, faults) is here, and a reset puts
all of it back to how the server started.
"""

from __future__ import annotations

import itertools
import secrets
from typing import TYPE_CHECKING

from simulator.clock import Clock
from simulator.config import RuntimeConfig
from simulator.faults import FaultPlan
from simulator.grants import GrantChanges
from simulator.journal import Journal
from simulator.model import AccessToken, Session, User
from simulator.oauth1.backend import OAuth1Backend
from simulator.oauth1.models import OAuth1PageState
from simulator.oauth2.backend import OAuth2Backend
from simulator.resource_tokens import ResourceTokenBackend
from simulator.seed import Catalog, DatasetSize, build_catalog
from simulator.settings import Settings
from simulator.tfa.enrolment import TfaState
from simulator.webhooks.model import WebhookBackend

if TYPE_CHECKING:
    from simulator.access import Access
    from simulator.content import RepoContent
    from simulator.git.repos import GitRepositories
    from simulator.model import Repository

SESSION_COOKIE = "BITBUCKETSESSIONID"


class Store:
    """The simulator's state. Create once per app; call :meth:`reset` between tests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._size = DatasetSize.named(
            settings.dataset, settings.users, settings.projects, settings.repos
        )
        self.clock = Clock()
        self.journal = Journal(settings.journal_size)
        self.faults = FaultPlan()
        #: The base URL links are built from; set from the bound socket if not configured.
        self.base_url = (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        self.config = RuntimeConfig.from_settings(settings)
        self.oauth2 = OAuth2Backend(self.clock, lambda: self.config.oauth2)
        self.oauth1 = OAuth1Backend(self.clock, lambda: self.config.oauth1)
        #: OAuth 1 links the admin pages hold until their Incoming Authentication is saved.
        self.oauth1_pages = OAuth1PageState()
        self.sessions: dict[str, Session] = {}
        #: Signs the XSRF tokens of form pages (see simulator.web.pages).
        self.xsrf_secret = secrets.token_bytes(32)
        self.access_tokens: dict[str, AccessToken] = {}
        #: Project and repository access tokens and their service users.
        self.resource_tokens = ResourceTokenBackend()
        #: The "U2F & TOTP" plugin's enrolments and pending logins (simulator.tfa).
        self.tfa = TfaState()
        self._git: GitRepositories | None = None
        #: Grants changed through ``…/permissions/users`` (simulator.grants).
        self.grants = GrantChanges()
        #: Repository and project webhooks, their history and deliveries (simulator.webhooks).
        self.webhooks = WebhookBackend()
        self._request_ids = itertools.count(1)

    @property
    def catalog(self) -> Catalog:
        """The seeded dataset, built on first use (so start-up does not wait for faker)."""
        return build_catalog(self.settings.seed, self._size)

    @property
    def dataset_key(self) -> str:
        """Names the seeded dataset: repositories built from one never serve another."""
        size = self._size
        return f"seed{self.settings.seed}-{size.users}u-{size.projects}p-{size.repos}r"

    async def restore_changed_repositories(self) -> int:
        """Serve again what pushes and the control API changed before a restart (with a
        state file); how many repositories."""
        from simulator.git.reader import read_content

        restored = 0
        for repo_id, folder in self.git.changed_folders():
            repo = self.catalog.repository(repo_id)
            if repo is not None:
                self.git.changed[repo_id] = await read_content(folder, repo)
                restored += 1
        return restored

    @property
    def git(self) -> GitRepositories:
        """The repositories as git serves them (made on the first git request)."""
        if self._git is None:
            from pathlib import Path

            from simulator.git.repos import GitRepositories

            kept = self.settings.state_file  # beside a state file, pushes survive restarts
            self._git = GitRepositories(Path(kept + ".git") / self.dataset_key if kept else None)
        return self._git

    def access(self) -> Access:
        """Permission decisions over the catalog, with the grants changed at runtime."""
        from simulator.access import Access

        return Access(self.catalog, self.grants)

    def content(self, repo: Repository) -> RepoContent:
        """A repository's refs, commits and files: as changed by pushes and the control API,
        else derived from the seed."""
        if self._git is not None:
            changed = self._git.changed.get(repo.id)
            if changed is not None:
                return changed
        from simulator.content import content_of

        return content_of(self.catalog, repo)

    def reset(self) -> None:
        """Back to the seed: config, clock, sessions, tokens, links, journal, faults and every
        repository changed by a push or the control API."""
        self.config = RuntimeConfig.from_settings(self.settings)
        self.clock.reset()
        self.sessions.clear()
        self.access_tokens.clear()
        self.resource_tokens.reset()
        self.journal.clear()
        self.faults.clear()
        self.oauth2.reset()
        self.oauth1_pages.clear()
        self.oauth1.reset()
        self.tfa.reset()
        self.grants.clear()
        self.webhooks.reset()
        if self._git is not None:
            self._git.forget_changes()

    # -- users and sessions ------------------------------------------------------------------

    def user_by_id(self, user_id: int) -> User | None:
        """The seeded user with this id."""
        users = self.catalog.users
        return users[user_id - 1] if 1 <= user_id <= len(users) else None

    def authenticate_password(self, username: str, password: str) -> User | None:
        """The active user whose name (case-insensitive) and password match, else None."""
        user = self.catalog.users_by_name.get(username.lower())
        if user is None or not user.active:
            return None
        if not secrets.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def create_session(self, user: User) -> Session:
        """A new browser session for a user (the least recently used go beyond
        ``sessions.max_sessions``; expired ones are pruned as new ones come)."""
        now = self.clock.now()
        session = Session(id=secrets.token_hex(16), user_id=user.id, created=now, last_used=now)
        self.sessions[session.id] = session
        self._prune_sessions(now)
        return session

    def live_session(self, session_id: str) -> Session | None:
        """The session, if it has not been idle longer than ``sessions.idle_seconds`` (an
        expired one is forgotten); using it keeps it alive."""
        session = self.sessions.get(session_id)
        if session is None:
            return None
        now = self.clock.now()
        if now - session.last_used > self.config.sessions.idle_seconds:
            del self.sessions[session_id]
            return None
        session.last_used = now
        # Most recently used last: dicts keep insertion order, so re-insert.
        self.sessions[session_id] = self.sessions.pop(session_id)
        return session

    def _prune_sessions(self, now: float) -> None:
        limits = self.config.sessions
        while len(self.sessions) > limits.max_sessions:
            del self.sessions[next(iter(self.sessions))]
        oldest = next(iter(self.sessions.values()), None)
        while oldest is not None and now - oldest.last_used > limits.idle_seconds:
            del self.sessions[oldest.id]
            oldest = next(iter(self.sessions.values()), None)

    def next_request_id(self) -> str:
        """An ``X-AREQUESTID`` value in Bitbucket's style."""
        return f"@SIM{next(self._request_ids):X}x1x0"

    # -- personal access tokens --------------------------------------------------------------

    def find_access_token(self, secret: str) -> AccessToken | None:
        """The unexpired access token with this secret."""
        for token in self.access_tokens.values():
            if secrets.compare_digest(token.secret.encode(), secret.encode()):
                if token.expires_ms is not None and token.expires_ms <= self.clock.now_ms():
                    return None
                return token
        return None
