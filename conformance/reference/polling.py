"""Polling: where no webhook reports pushes, packages are read again every 12 hours.

Private Packagist's documentation: without a webhook, packages are updated only every 12
hours. The reference does the same on its own clock (:class:`.models.Clock`, which the
driver protocol's ``POST /clock/advance`` moves): a logged-in user whose last
synchronisation is :data:`.rules.POLL_INTERVAL_SECONDS` old is synchronised again, reading
only the repositories without one of the reference's webhooks (and new ones)
(:meth:`.packages.PackageSync.poll`).

:class:`Poller` runs as one task of the serving app. It looks every
:data:`.rules.POLL_CHECK_SECONDS` of wall time, and at once when the clock is advanced;
:meth:`Poller.idle` waits until the passes asked for are done, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from conformance.reference.package_store import UserKey
from conformance.reference.rules import RefusalError

if TYPE_CHECKING:
    from conformance.reference.service import Reference

log = logging.getLogger("conformance.reference.polling")


class Poller:
    """The background polls of one :class:`Reference`."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self._wanted = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    async def run_due(self) -> list[UserKey]:
        """Poll every logged-in user that is due; the users polled. A user whose poll fails
        (Bitbucket down, the login revoked) keeps its packages and is due again an interval
        later."""
        reference = self.reference
        now = reference.state.clock.now()
        polled: list[UserKey] = []
        for user in reference.state.packages.users():
            if not user.session.logged_in or not reference.rules.poll_due(
                user.synchronised_at, now
            ):
                continue
            polled.append(user.key)
            try:
                await reference.composer.poll(user)
            except RefusalError as refusal:
                log.info("polling %s/%s failed: %s", *user.key, refusal.message)
        return polled

    def wake(self) -> None:
        """Look for due users now (the clock moved)."""
        self._idle.clear()
        self._wanted.set()

    async def idle(self) -> None:
        """Wait until no pass is asked for or running."""
        await self._idle.wait()

    def start(self) -> None:
        """Run the poll loop on the current event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Cancel the poll loop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._idle.set()

    async def _loop(self) -> None:
        """Wait for a wake-up or the check interval, then poll who is due; forever."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), self.reference.rules.POLL_CHECK_SECONDS)
            self._wanted.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("a poll failed")
            if not self._wanted.is_set():
                self._idle.set()
