"""Synchronisation: the Composer packages of the repositories a user can read.

A synchronisation (at each login, on ``POST /packages/sync``, for one repository when its
webhook reports a push, and by :mod:`.polling` where no webhook does) lists the user's
readable repositories, then each one's tags and branches (every page), reads
``composer.json`` at each ref's commit, and keeps a version per ref whose ``composer.json``
names a package (:mod:`.package_store`). What Bitbucket no
longer has (a deleted tag, a repository the user lost) goes with the next synchronisation;
what Bitbucket failed to answer keeps what was read before.

Every call goes through :meth:`Reference._authorized` with the user's latest login, so tokens
are refreshed as for every other call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.reference.bitbucket import Answer, BitbucketClient, Credential
from conformance.reference.models import BrowserSession
from conformance.reference.package_store import (
    ComposerUser,
    RepoKey,
    RepositoryPackages,
    VersionRecord,
)
from conformance.reference.rules import RefusalError
from conformance.reference.versions import is_dev
from conformance.sut import Packages, packages_from_metadata

if TYPE_CHECKING:
    from conformance.reference.service import Call, ListedRepository, Reference, RuleBook

#: How many Bitbucket calls one synchronisation makes at once.
CONCURRENCY = 8


class RepositoryUnchangedError(Exception):
    """Bitbucket failed to answer for a repository: keep what was read before."""


class RepositoryGoneError(Exception):
    """The user can no longer read the repository (401 or 404)."""


class PackageSync:
    """The synchronisation and the views of a user's packages, for one :class:`Reference`."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference

    @property
    def rules(self) -> RuleBook:
        """The reference's rules (a mutant's variant included)."""
        return self.reference.rules

    # -- users --------------------------------------------------------------------------------

    def user(self, session: BrowserSession | None) -> ComposerUser:
        """The Composer user of a logged-in browser (made at its first use); 401 otherwise."""
        if session is None or not session.logged_in or session.account is None:
            error = session.error if session is not None and session.error else None
            raise RefusalError(error or self.reference.rules.NOT_LOGGED_IN, 401)
        store = self.reference.state.packages
        user = store.of_session(session)
        if user is None or user.session is not session:
            user = store.logged_in(
                session.integration_id or "",
                session.account.username,
                session,
                self.rules.new_composer_token(),
            )
        return user

    async def after_login(self, session: BrowserSession) -> None:
        """A login completed: issue the Composer token and synchronise (a failure leaves the
        packages as they were; the login stands)."""
        try:
            await self.synchronise(session)
        except RefusalError:
            return

    # -- synchronising --------------------------------------------------------------------

    async def synchronise(self, session: BrowserSession | None) -> ComposerUser:
        """Synchronise a logged-in user's packages with Bitbucket; 401 when nobody is logged
        in, 502 when Bitbucket fails to list the repositories."""
        user = self.user(session)
        await self._synchronise(user, lambda _: True)
        return user

    async def poll(self, user: ComposerUser) -> None:
        """Synchronise a user as :meth:`synchronise` does, reading again only the
        repositories no webhook of the reference reports pushes for (and new ones)."""
        hooks = self.reference.state.hooks
        await self._synchronise(user, lambda key: hooks.webhook(user.integration_id, key) is None)

    async def _synchronise(self, user: ComposerUser, wanted: Callable[[RepoKey], bool]) -> None:
        """List the user's repositories, forget the lost ones, read the ``wanted`` ones
        again, then set up webhooks; 401 or 502 when the listing fails."""
        from conformance.reference.service import LoginProblemError

        async with user.lock:
            user.synchronised_at = self.reference.state.clock.now()
            try:
                listed = await self.reference._list_repositories(user.session)
            except LoginProblemError as problem:
                raise RefusalError(problem.message, problem.status) from None
            listed = listed[: self.rules.MAX_REPOSITORIES_PER_USER]
            readable = frozenset((r.project, r.slug) for r in listed)
            for key in list(user.repositories):
                if not self.rules.still_readable(key, readable):
                    del user.repositories[key]
            limit = asyncio.Semaphore(CONCURRENCY)
            async with asyncio.TaskGroup() as group:
                for repo in listed:
                    if wanted((repo.project, repo.slug)):
                        group.create_task(self._update(user, repo.project, repo.slug, repo, limit))
        await self.reference.webhooks.set_up(user)

    async def synchronise_repository(self, user: ComposerUser, repository: RepoKey) -> None:
        """Read one repository again for a user (a webhook reported a push to it)."""
        async with user.lock:
            await self._update(user, *repository, None, asyncio.Semaphore(CONCURRENCY))

    async def _update(
        self,
        user: ComposerUser,
        project: str,
        slug: str,
        listed: ListedRepository | None,
        limit: asyncio.Semaphore,
    ) -> None:
        """Read a repository's versions and keep them (none: it holds no package)."""
        from conformance.reference.service import LoginProblemError

        key = (project, slug)
        held = user.repositories.get(key)
        clone_url = listed.clone_url if listed is not None else held.clone_url if held else ""
        try:
            read = await self._read(user.session, project, slug, limit)
        except (RepositoryUnchangedError, LoginProblemError):
            return
        except RepositoryGoneError:
            if held is not None and not self.rules.still_readable(key, frozenset()):
                del user.repositories[key]
            return
        versions = self.rules.kept_versions(held.versions if held else {}, read)
        if versions:
            user.repositories[key] = RepositoryPackages(project, slug, clone_url, versions)
        else:
            user.repositories.pop(key, None)

    async def _read(
        self, session: BrowserSession, project: str, slug: str, limit: asyncio.Semaphore
    ) -> dict[str, VersionRecord]:
        """Every version of a repository, by ref (raises :class:`RepositoryGoneError`,
        :class:`RepositoryUnchangedError` or the login's problem, never a group of them)."""
        from conformance.reference.service import LoginProblemError

        tags = await self._refs(session, project, slug, "tags", limit)
        branches = await self._refs(session, project, slug, "branches", limit)
        refs = [("tags", ref) for ref in tags] + [("branches", ref) for ref in branches]
        refs = refs[: self.rules.MAX_VERSIONS_PER_REPOSITORY]
        commits = {str(ref.get("latestCommit", "")) for _, ref in refs} - {""}
        manifests: dict[str, Mapping[str, Any] | None] = {}
        problems: list[Exception] = []

        async def read(commit: str) -> None:
            try:
                manifests[commit] = await self._manifest(session, project, slug, commit, limit)
            except (RepositoryGoneError, RepositoryUnchangedError, LoginProblemError) as problem:
                problems.append(problem)

        async with asyncio.TaskGroup() as group:
            for commit in sorted(commits):
                group.create_task(read(commit))
        if problems:
            raise problems[0]
        found: dict[str, VersionRecord] = {}
        for kind, ref in refs:
            record = self._version(kind, ref, manifests.get(str(ref.get("latestCommit", ""))))
            if record is not None:
                found[record.ref] = record
        return found

    async def _refs(
        self, session: BrowserSession, project: str, slug: str, kind: str, limit: asyncio.Semaphore
    ) -> list[dict[str, Any]]:
        """Every tag or branch of a repository, following ``nextPageStart``."""
        found: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None and len(found) < self.rules.MAX_VERSIONS_PER_REPOSITORY:
            at = start
            async with limit:
                answer = await self.reference._authorized(
                    session, refs_page(project, slug, kind, at, self.rules.REF_PAGE_LIMIT)
                )
            page = answer.json()
            if answer.status in (401, 404):
                raise RepositoryGoneError
            if answer.status != 200 or not isinstance(page, dict):
                raise RepositoryUnchangedError
            found += [ref for ref in page.get("values") or [] if isinstance(ref, dict)]
            start = self.rules.next_page_start(page, at)
        return found

    async def _manifest(
        self,
        session: BrowserSession,
        project: str,
        slug: str,
        commit: str,
        limit: asyncio.Semaphore,
    ) -> Mapping[str, Any] | None:
        """``composer.json`` at a commit, or None when there is none (or it is no object)."""
        async with limit:
            answer = await self.reference._authorized(session, raw_at(project, slug, commit))
        if answer.status == 404:
            return None
        if answer.status in (401, 403):
            raise RepositoryGoneError
        if answer.status != 200:
            raise RepositoryUnchangedError
        if len(answer.body) > self.rules.MAX_COMPOSER_JSON_BYTES:
            return None
        try:
            manifest = json.loads(answer.body)
        except ValueError:
            return None
        return manifest if isinstance(manifest, dict) else None

    def _version(
        self, kind: str, ref: Mapping[str, Any], manifest: Mapping[str, Any] | None
    ) -> VersionRecord | None:
        """The version a tag or branch gives, or None (no valid composer.json, or a tag
        Composer takes for no version)."""
        name = self.rules.package_name(manifest)
        display, ref_id, commit = ref.get("displayId"), ref.get("id"), ref.get("latestCommit")
        if manifest is None or name is None:
            return None
        if not isinstance(display, str) or not isinstance(ref_id, str):
            return None
        if not isinstance(commit, str) or not commit:
            return None
        if kind == "tags":
            named = self.rules.tag_version(display)
            if named is None:
                return None
        else:
            named = self.rules.branch_version(display)
        fields = {k: manifest[k] for k in self.rules.COMPOSER_FIELDS if k in manifest}
        return VersionRecord(
            name=name,
            version=named[0],
            version_normalized=named[1],
            ref=ref_id,
            commit=commit,
            default_branch=kind == "branches" and ref.get("isDefault") is True,
            fields=fields,
        )

    # -- views ----------------------------------------------------------------------------------

    def dist_url(self, user: ComposerUser, repo: RepositoryPackages, commit: str) -> str:
        """Where Composer downloads a version's zip (streamed from Bitbucket's archive)."""
        integration = self.reference.state.integrations.get(user.integration_id)
        slug = integration.slug if integration is not None else user.integration_id
        parts = (slug, repo.project, repo.slug, commit + ".zip")
        return (
            self.reference.public_url
            + "/composer/dist/"
            + "/".join(quote(part, safe="~") for part in parts)
        )

    def metadata(self, user: ComposerUser) -> dict[str, list[dict[str, Any]]]:
        """Composer metadata of every version the user is served, by package name: what
        ``p2/<name>.json`` (and ``~dev.json``) answer."""
        packages: dict[str, list[dict[str, Any]]] = {}
        for repo, record in user.versions():
            entries = packages.setdefault(record.name, [])
            if any(e["version"] == record.version for e in entries):
                continue
            entry: dict[str, Any] = dict(record.fields)
            entry.update(
                name=record.name,
                version=record.version,
                version_normalized=record.version_normalized,
                source={"type": "git", "url": repo.clone_url, "reference": record.commit},
                dist={
                    "type": "zip",
                    "url": self.dist_url(user, repo, record.commit),
                    "reference": record.commit,
                    "shasum": "",
                },
            )
            if record.default_branch:
                entry["default-branch"] = True
            entries.append(entry)
        return packages

    def packages(self, session: BrowserSession | None) -> Packages:
        """``GET /packages``: what the user is served now (no synchronisation)."""
        return packages_of(self.metadata(self.user(session)))

    def json(self, session: BrowserSession | None) -> dict[str, Any]:
        """``GET /packages`` as the protocol's JSON."""
        return {"packages": self.metadata(self.user(session))}


def packages_of(metadata: Mapping[str, list[dict[str, Any]]]) -> Packages:
    """Composer metadata as :data:`conformance.sut.Packages`."""
    return packages_from_metadata(metadata)


def split_dev(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(tagged, dev)`` versions: Composer 2 reads them from ``<name>.json`` and
    ``<name>~dev.json``."""
    dev = [entry for entry in entries if is_dev(str(entry["version"]))]
    return [entry for entry in entries if entry not in dev], dev


def refs_page(project: str, slug: str, kind: str, start: int, limit: int) -> Call:
    """The call for one page of a repository's tags or branches."""

    async def call(client: BitbucketClient, auth: Credential) -> Answer:
        return await client.refs(auth, project, slug, kind, start=start, limit=limit)

    return call


def raw_at(project: str, slug: str, commit: str) -> Call:
    """The call reading ``composer.json`` at a commit."""

    async def call(client: BitbucketClient, auth: Credential) -> Answer:
        return await client.raw(auth, project, slug, "composer.json", at=commit)

    return call
