"""Serve the reference integration from a background thread, for synchronous callers.

    with ReferenceServer() as server:
        requests.get(server.base_url + "/capabilities")
        server.call(server.reference.session_state(None))  # run logic on the server's loop

The server runs its own event loop on 127.0.0.1, port 0 by default; ``start()`` returns when
the socket is bound, or raises after ``ready_timeout`` seconds; ``stop()`` shuts down cleanly
(the HTTP client to Bitbucket is closed with the app). ``factory`` builds the logic on the
server's state (default :class:`~conformance.reference.service.Reference`; a mutant of the
reference gives its own, :mod:`conformance.mutants`).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from conformance.reference.app import create_app
from conformance.reference.models import ReferenceState
from conformance.reference.service import Reference
from simulator.threaded import ServerNotRunningError, ThreadedAppServer

#: Builds the reference's logic on its state: :class:`Reference` itself, or a variant of it.
ReferenceFactory = Callable[[ReferenceState], Reference]


class ReferenceServer(ThreadedAppServer):
    """One reference integration in a daemon thread; usable as a context manager."""

    label = "reference"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout: float = 10.0,
        call_timeout: float = 60.0,
        public_url: str | None = None,
        *,
        factory: ReferenceFactory = Reference,
    ) -> None:
        super().__init__(host, port, ready_timeout, call_timeout)
        self._public_url = public_url
        self.state = ReferenceState()
        self.reference = factory(self.state)

    @property
    def base_url(self) -> str:
        """Where browsers and the HTTP driver reach the reference."""
        return self.state.public_url

    def make_app(self) -> web.Application:
        """The reference's web app, on this server's logic."""
        return create_app(self.reference)

    def bound(self, port: int) -> None:
        """The reference's links use its public URL (the bound port unless given)."""
        self.state.public_url = (self._public_url or f"http://{self.host}:{port}").rstrip("/")


__all__ = ["ReferenceFactory", "ReferenceServer", "ServerNotRunningError"]
