"""``serve --state-file PATH``: the simulator's state in SQLite, so that a restart (even
after SIGKILL) finds what was answered before it.

What is kept: the runtime configuration and the clock's offset, browser sessions and the
XSRF secret, personal, project and repository access tokens (with the service users of the
latter), OAuth 2 clients, codes, tokens and their signing secret, OAuth 1 links, request and
access tokens and the admin pages' waiting links, and the two-factor plugin's enrolments,
the permission grants changed at runtime, and the webhooks.
Not kept: the journal, the faults and the webhooks' deliveries and history (test aids), the seed
(rebuilt from the settings).

After every request, each part whose pickled form changed is written in one transaction
(WAL, ``synchronous=FULL``) before the answer leaves, so every acknowledged change is on disk
and nothing is half-written. ``POST /_sim/reset`` empties the parts like any other change.
Reading is restricted to the simulator's own classes (a state file is data, not code).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from simulator.store import Store

Handler = Callable[[web.Request], Any]
#: Modules a state file may name classes from.
ALLOWED_MODULES: Final = ("simulator.", "builtins", "collections", "datetime", "decimal")
SCHEMA: Final = "CREATE TABLE IF NOT EXISTS state (part TEXT PRIMARY KEY, value BLOB NOT NULL)"


class StateFileError(ValueError):
    """A state file that cannot be read (not SQLite, or not the simulator's)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(ALLOWED_MODULES) or module in ALLOWED_MODULES:
            return super().find_class(module, name)
        raise StateFileError(f"the state file names {module}.{name}, which is not the simulator's")


def _parts(store: Store) -> dict[str, Any]:
    """The state to keep, by part."""
    oauth2, oauth1, pages, tfa = store.oauth2, store.oauth1, store.oauth1_pages, store.tfa
    return {
        "config": store.config,
        "clock_offset": store.clock.offset,
        "sessions": store.sessions,
        "xsrf_secret": store.xsrf_secret,
        "access_tokens": store.access_tokens,
        "resource_tokens": (
            store.resource_tokens.tokens,
            store.resource_tokens.service_users,
            store.resource_tokens.next_user_offset,
        ),
        "oauth2": (oauth2.clients, oauth2.codes, oauth2.tokens, oauth2.rotated, oauth2.jwt_secret),
        "oauth1": (oauth1.links, oauth1.request_tokens, oauth1.access_tokens),
        "oauth1_pages": (pages.pending, pages.application_urls),
        "tfa": (tfa.secrets, tfa.pending),
        "grants": (store.grants.projects, store.grants.repos),
        "webhooks": (store.webhooks.hooks, store.webhooks.next_id),
    }


def _refill(target: dict[Any, Any], source: dict[Any, Any]) -> None:
    target.clear()
    target.update(source)


def _restore(store: Store, part: str, value: Any) -> None:
    """Put one part back into the store (dicts refilled in place: others hold them)."""
    if part == "config":
        store.config = value
    elif part == "clock_offset":
        store.clock.reset()
        store.clock.advance(float(value))
    elif part == "sessions":
        _refill(store.sessions, value)
    elif part == "xsrf_secret":
        store.xsrf_secret = value
    elif part == "access_tokens":
        _refill(store.access_tokens, value)
    elif part == "resource_tokens":
        _refill(store.resource_tokens.tokens, value[0])
        _refill(store.resource_tokens.service_users, value[1])
        store.resource_tokens.next_user_offset = int(value[2])
    elif part == "oauth2":
        clients, codes, tokens, rotated, secret = value
        _refill(store.oauth2.clients, clients)
        _refill(store.oauth2.codes, codes)
        _refill(store.oauth2.tokens, tokens)
        _refill(store.oauth2.rotated, rotated)
        store.oauth2.jwt_secret = secret
    elif part == "oauth1":
        links, request_tokens, access_tokens = value
        _refill(store.oauth1.links, links)
        _refill(store.oauth1.request_tokens, request_tokens)
        _refill(store.oauth1.access_tokens, access_tokens)
    elif part == "oauth1_pages":
        _refill(store.oauth1_pages.pending, value[0])
        _refill(store.oauth1_pages.application_urls, value[1])
    elif part == "tfa":
        _refill(store.tfa.secrets, value[0])
        _refill(store.tfa.pending, value[1])
    elif part == "grants":
        _refill(store.grants.projects, value[0])
        _refill(store.grants.repos, value[1])
    elif part == "webhooks":
        _refill(store.webhooks.hooks, value[0])
        store.webhooks.next_id = int(value[1])


class StateFile:
    """One store's state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        import sqlite3  # only with --state-file: start-up does not pay for it otherwise

        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{path}: not a state file ({exc})") from None
        self._saved: dict[str, bytes] = {}

    def load(self, store: Store) -> int:
        """Put the saved state into ``store``; how many parts were found."""
        import sqlite3

        try:
            rows = self._db.execute("SELECT part, value FROM state").fetchall()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: not a state file ({exc})") from None
        known = _parts(store)
        for part, blob in rows:
            if part not in known:
                continue
            try:
                value = _Unpickler(io.BytesIO(blob)).load()
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
                raise StateFileError(f"{self.path}: part {part} cannot be read ({exc})") from None
            _restore(store, part, value)
            self._saved[part] = blob
        return len(rows)

    def save(self, store: Store) -> None:
        """Write the parts that changed since the last save, in one transaction."""
        changed = []
        for part, value in _parts(store).items():
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            if self._saved.get(part) != blob:
                changed.append((part, blob))
        if not changed:
            return
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO state (part, value) VALUES (?, ?) "
                "ON CONFLICT(part) DO UPDATE SET value = excluded.value",
                changed,
            )
        self._saved.update(changed)

    def close(self) -> None:
        """Close the database."""
        self._db.close()
