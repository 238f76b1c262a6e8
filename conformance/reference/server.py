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

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from conformance.reference.app import create_app
from conformance.reference.models import ReferenceState
from conformance.reference.service import Reference

T = TypeVar("T")
#: Builds the reference's logic on its state: :class:`Reference` itself, or a variant of it.
ReferenceFactory = Callable[[ReferenceState], Reference]


class ServerNotRunningError(RuntimeError):
    """A call was made while the reference server is not running."""


class ReferenceServer:
    """One reference integration in a daemon thread; usable as a context manager."""

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
        self.host = host
        self.port = port
        self.ready_timeout = ready_timeout
        self.call_timeout = call_timeout
        self._public_url = public_url
        self.state = ReferenceState()
        self.reference = factory(self.state)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """Where browsers and the HTTP driver reach the reference."""
        return self.state.public_url

    def start(self) -> ReferenceServer:
        """Start serving; return once the socket is bound."""
        self._thread = threading.Thread(target=self._run, name="bbdc-sim-reference", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            raise TimeoutError(f"the reference did not start within {self.ready_timeout} s")
        if self._error is not None:
            raise RuntimeError("the reference failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
            loop.run_until_complete(self._shutdown())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._shutdown())
        loop.close()

    async def _serve(self) -> None:
        self._runner = web.AppRunner(
            create_app(self.reference), access_log=None, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self.state.public_url = (self._public_url or f"http://{self.host}:{self.port}").rstrip("/")

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (where the state lives) and wait for it."""
        if self._loop is None or self._loop.is_closed() or not self._thread_alive():
            coroutine.close()
            raise ServerNotRunningError("the reference server is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(self.call_timeout)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
