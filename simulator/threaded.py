"""An aiohttp application served from a background thread, for synchronous callers.

The thread runs its own event loop; :meth:`ThreadedAppServer.start` returns once the socket is
bound (or raises after ``ready_timeout`` seconds, or with the cause when binding failed);
:meth:`ThreadedAppServer.stop` cleans the app up and joins the thread. Subclasses say which
app to serve (:meth:`make_app`) and what to do once the port is known (:meth:`bound`). Both
the simulator (:class:`simulator.testing.SimulatorServer`) and the conformance harness's
reference integration are served this way.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from simulator.network import quiet_exhaustion

T = TypeVar("T")


class ServerNotRunningError(RuntimeError):
    """A call was made while the server is not running."""


class ThreadedAppServer:
    """One aiohttp app in a daemon thread; usable as a context manager."""

    #: Names the thread and the start-up errors.
    label = "server"

    def __init__(
        self, host: str, port: int, ready_timeout: float = 10.0, call_timeout: float = 60.0
    ) -> None:
        self.host = host
        self.port = port
        self.ready_timeout = ready_timeout
        self.call_timeout = call_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def make_app(self) -> web.Application:
        """The application to serve (called on the server's thread)."""
        raise NotImplementedError

    def bound(self, port: int) -> None:
        """Called on the server's thread once the socket is bound to ``port``."""

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context to serve with (None: plain HTTP)."""
        return None

    def runner_options(self) -> dict[str, Any]:
        """More keyword arguments of ``web.AppRunner`` (connection timeouts)."""
        return {}

    def start(self) -> Self:
        """Start serving; return once the socket is bound."""
        self._thread = threading.Thread(
            target=self._run, name=f"bbdc-sim-{self.label}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            raise TimeoutError(f"the {self.label} did not start within {self.ready_timeout} s")
        if self._error is not None:
            raise RuntimeError(f"the {self.label} failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        quiet_exhaustion(loop)
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
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
            self.make_app(), access_log=None, handle_signals=False, **self.runner_options()
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context())
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self.bound(self.port)

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (where its state lives) and wait for it."""
        alive = self._thread is not None and self._thread.is_alive()
        if self._loop is None or self._loop.is_closed() or not alive:
            coroutine.close()
            raise ServerNotRunningError(f"the {self.label} is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.call_timeout)

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
