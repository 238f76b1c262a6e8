"""The reference integration as an in-process :class:`conformance.sut.Integrator`.

    --sut conformance.reference.integrator:create

Each method runs the same :class:`~conformance.reference.service.Reference` operation as the
JSON endpoint of the same name, on the event loop of a :class:`ReferenceServer` (where the
state lives), so both give the same answers. The server still serves the pages a browser
needs (login link, OAuth callback, home page) over HTTP; the cookies the browser got there
identify its session for :meth:`ReferenceIntegrator.session` and
:meth:`ReferenceIntegrator.repositories`.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from conformance.reference.rules import RefusalError
from conformance.reference.server import ReferenceFactory, ReferenceServer, ServerNotRunningError
from conformance.reference.service import Reference, entry
from conformance.sut import (
    Capabilities,
    Cookies,
    CreatedIntegration,
    DriverError,
    IntegrationSummary,
    Packages,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

T = TypeVar("T")


async def _now(function: Callable[[], T]) -> T:
    """Run a plain function as a coroutine (so that it runs on the server's loop)."""
    return function()


class ReferenceIntegrator:
    """Drives the reference in process; implements :class:`conformance.sut.Integrator`."""

    def __init__(self, server: ReferenceServer, owns_server: bool = False) -> None:
        self.server = server
        self.owns_server = owns_server

    @property
    def reference(self) -> Reference:
        """The reference's logic and state."""
        return self.server.reference

    @property
    def base_url(self) -> str:
        """Where the browser reaches the reference's pages."""
        return self.server.base_url

    def _run(self, where: str, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            return self.server.call(coroutine)
        except RefusalError as refusal:
            raise DriverError(where, f"answered {refusal.status}: {refusal.message}") from None
        except (TimeoutError, ServerNotRunningError) as exc:
            raise DriverError(where, f"the reference did not answer: {exc}") from exc

    def capabilities(self) -> Capabilities:
        """``GET /capabilities``."""
        return self._run("GET /capabilities", _now(self.reference.capabilities))

    def reset(self) -> None:
        """``POST /reset``."""
        self._run("POST /reset", _now(self.reference.reset))

    def advance_clock(self, seconds: int) -> None:
        """``POST /clock``."""
        self._run("POST /clock", _now(lambda: self.reference.advance_clock(seconds)))

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """``POST /integrations``."""
        return self._run(
            "POST /integrations",
            self.reference.create_integration(platform, base_url, oauth_version),
        )

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """``POST /integrations/{id}/submit``."""
        return self._run(
            f"POST /integrations/{integration_id}/submit",
            self.reference.submit(integration_id, client_id, client_secret),
        )

    def integrations(self) -> list[IntegrationSummary]:
        """``GET /integrations``."""
        return self._run("GET /integrations", _now(self.reference.integrations))

    def session(self, cookies: Cookies) -> SessionState:
        """``GET /session`` for the browser holding ``cookies``."""

        async def state() -> SessionState:
            return await self.reference.session_state(self.reference.session_for(cookies))

        return self._run("GET /session", state())

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """``GET /repositories`` for the browser holding ``cookies``."""

        async def listing() -> list[RepositoryEntry]:
            session = self.reference.session_for(cookies)
            return [entry(r) for r in await self.reference.repositories(session)]

        return self._run("GET /repositories", listing())

    def packages(self, cookies: Cookies) -> Packages:
        """``GET /packages`` for the browser holding ``cookies``."""

        async def held() -> Packages:
            return self.reference.composer.packages(self.reference.session_for(cookies))

        return self._run("GET /packages", held())

    def synchronise(self, cookies: Cookies) -> None:
        """``POST /packages/sync`` for the browser holding ``cookies``."""

        async def sync() -> None:
            await self.reference.composer.synchronise(self.reference.session_for(cookies))

        self._run("POST /packages/sync", sync())

    def add_code_credential(self, username: str, token: str) -> None:
        """``POST /code-credentials``."""
        self._run(
            "POST /code-credentials",
            _now(lambda: self.reference.webhooks.add_credential(username, token)),
        )

    def close(self) -> None:
        """Stop the server when this integrator started it."""
        if self.owns_server:
            self.server.stop()

    def __enter__(self) -> ReferenceIntegrator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def create(factory: ReferenceFactory = Reference) -> ReferenceIntegrator:
    """The ``--sut`` factory: start a reference server (127.0.0.1, a free port) and drive it
    in process. The server stops on :meth:`ReferenceIntegrator.close` or at exit.

    ``factory`` builds the server's logic (a mutant passes its variant of the reference)."""
    integrator = ReferenceIntegrator(ReferenceServer(factory=factory).start(), owns_server=True)
    atexit.register(integrator.close)
    return integrator
