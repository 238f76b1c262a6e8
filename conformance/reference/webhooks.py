"""Webhooks: pushes reach the reference without waiting for the next synchronisation.

Given a code credential (a Bitbucket personal access token of a user with REPO_ADMIN,
``POST /code-credentials``), each synchronisation makes sure every repository the user's
packages come from has one repository webhook of the reference's: ``repo:refs_changed`` to
``/webhooks/bitbucket/<integration slug>``, with a secret of its own. One already there with
that URL is adopted (given a new secret when the reference does not know its own). Where no
credential may create it (401, 403), nothing is said: the reference just synchronises on
demand.

The receiver (:meth:`WebhookSetup.receive`) verifies ``X-Hub-Signature`` against that
repository's secret, ignores deliveries dated more than an hour before its clock, and reads
the repository again for every user whose packages come from it before it answers, so that
once Bitbucket's delivery is answered the packages show the push.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.reference.bitbucket import BitbucketClient, BitbucketUnreachableError
from conformance.reference.package_store import ComposerUser, RepoKey, Webhook
from conformance.reference.rules import RefusalError

if TYPE_CHECKING:
    from conformance.reference.service import Reference, RuleBook

#: How many repositories' webhooks are looked at once.
CONCURRENCY = 4
REFS_CHANGED = "repo:refs_changed"
PING = "diagnostics:ping"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the receiver answers Bitbucket."""

    status: int
    message: str


class WebhookSetup:
    """Code credentials, webhook creation and the receiver, for one :class:`Reference`."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference

    @property
    def rules(self) -> RuleBook:
        """The reference's rules."""
        return self.reference.rules

    def add_credential(self, username: object, token: object) -> None:
        """Keep a code credential; 400 unless both are non-empty strings."""
        if not isinstance(username, str) or not username.strip():
            raise RefusalError("username must be a non-empty string.", 400)
        if not isinstance(token, str) or not token.strip():
            raise RefusalError("token must be a non-empty string.", 400)
        self.reference.state.hooks.add_credential(username.strip(), token.strip())

    # -- making webhooks ------------------------------------------------------------------------

    async def set_up(self, user: ComposerUser) -> None:
        """Make sure each repository of the user's packages has the reference's webhook."""
        hooks = self.reference.state.hooks
        integration = self.reference.state.integrations.get(user.integration_id)
        if not self.rules.OFFERS_WEBHOOKS or not hooks.credentials or integration is None:
            return
        url = self.rules.webhook_url(self.reference.public_url, integration.slug)
        missing = [key for key in user.repositories if hooks.webhook(integration.id, key) is None]
        client = self.reference.bitbucket(integration.base_url)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(key: RepoKey) -> None:
            async with limit:
                for token in list(hooks.credentials.values()):
                    try:
                        webhook = await self._ensure(client, token, key, url)
                    except BitbucketUnreachableError:
                        return
                    if webhook is not None:
                        hooks.keep(integration.id, key, webhook)
                        return

        async with asyncio.TaskGroup() as group:
            for key in missing:
                group.create_task(one(key))

    async def _ensure(
        self, client: BitbucketClient, token: str, key: RepoKey, url: str
    ) -> Webhook | None:
        """The repository's webhook to ``url``, made or adopted with ``token``; None when
        the token may not (or Bitbucket fails)."""
        project, slug = key
        existing = await self._find(client, token, key, url)
        secret = self.rules.new_webhook_secret()
        definition = self.rules.webhook_definition(self.rules.NAME, url, secret)
        if existing is not None:
            answer = await client.update_webhook(token, project, slug, existing, definition)
        else:
            answer = await client.create_webhook(token, project, slug, definition)
        made = answer.json()
        if answer.status not in (200, 201) or not isinstance(made, dict):
            return None
        webhook_id = made.get("id")
        if not isinstance(webhook_id, int):
            return None
        return Webhook(id=webhook_id, url=url, secret=secret)

    async def _find(
        self, client: BitbucketClient, token: str, key: RepoKey, url: str
    ) -> int | None:
        """The id of the repository's webhook to ``url``, if one exists."""
        start: int | None = 0
        while start is not None:
            at = start
            answer = await client.webhooks(token, *key, at)
            page = answer.json()
            if answer.status != 200 or not isinstance(page, dict):
                return None
            for hook in page.get("values") or []:
                if isinstance(hook, dict) and hook.get("url") == url:
                    found = hook.get("id")
                    return found if isinstance(found, int) else None
            start = self.rules.next_page_start(page, at)
        return None

    # -- receiving --------------------------------------------------------------------------

    async def receive(
        self, slug: str, event: str | None, signature: str | None, body: bytes
    ) -> Outcome:
        """A delivery to ``/webhooks/bitbucket/<slug>``: verified, then acted on."""
        state = self.reference.state
        integration = state.integration_by_slug(slug)
        if integration is None:
            return Outcome(404, f"No integration has the webhook receiver {slug!r}.")
        payload = parse_object(body)
        if event == PING:
            return Outcome(200, "pong")
        repository = repository_of(payload)
        webhook = state.hooks.webhook(integration.id, repository) if repository else None
        if repository is None or webhook is None:
            return Outcome(401, "No webhook of this integration is set up for that repository.")
        if not self.rules.signature_valid(webhook.secret, body, signature):
            return Outcome(401, "The delivery's X-Hub-Signature does not match: ignored.")
        if event != REFS_CHANGED or payload.get("eventKey", REFS_CHANGED) != REFS_CHANGED:
            return Outcome(202, f"Event {event!r} ignored.")
        date = self.rules.parse_webhook_date(payload.get("date"))
        if self.rules.webhook_stale(date, state.clock.now()):
            return Outcome(400, f"The delivery is dated {payload.get('date')!r}: too old, ignored.")
        for user in state.packages.holding(integration.id, repository):
            await self.reference.composer.synchronise_repository(user, repository)
        return Outcome(204, "")


def parse_object(body: bytes) -> Mapping[str, Any]:
    """The delivery's JSON object ({} when it is not one)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def repository_of(payload: Mapping[str, Any]) -> RepoKey | None:
    """``(project key, slug)`` of the payload's ``repository``."""
    repository = payload.get("repository")
    if not isinstance(repository, dict):
        return None
    project, slug = repository.get("project"), repository.get("slug")
    key = project.get("key") if isinstance(project, dict) else None
    if not isinstance(key, str) or not isinstance(slug, str):
        return None
    return key, slug
