"""Serve the simulator from a background thread, for synchronous callers (pytest-bdd, scripts).

    with SimulatorServer(Settings(port=0)) as server:
        requests.get(server.base_url + "/rest/api/1.0/application-properties")

The server runs its own event loop on 127.0.0.1, port 0 by default; ``start()`` returns when
the socket is bound, or raises after ``ready_timeout`` seconds; ``stop()`` shuts down cleanly.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from simulator.app import create_app
from simulator.settings import Settings
from simulator.store import Store


class SimulatorServer:
    """One simulator in a daemon thread; usable as a context manager."""

    def __init__(self, settings: Settings | None = None, ready_timeout: float = 10.0) -> None:
        settings = settings or Settings(port=0)
        self.settings = settings
        self.store = Store(settings)
        self.ready_timeout = ready_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The base URL clients should use (with the context path, if any)."""
        return self.store.base_url

    def start(self) -> SimulatorServer:
        """Start serving; return once the socket is bound."""
        self._thread = threading.Thread(target=self._run, name="bbdc-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout):
            raise TimeoutError(f"the simulator did not start within {self.ready_timeout} s")
        if self._error is not None:
            raise RuntimeError("the simulator failed to start") from self._error
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
        app = create_app(self.settings, self.store)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        self.store.base_url = bound_base_url(self.settings, self.port)

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def bound_base_url(settings: Settings, port: int) -> str:
    """The base URL once bound: the configured one with port 0 replaced, or host:port."""
    if settings.base_url is None:
        return f"http://{settings.host}:{port}"
    parts = urlsplit(settings.base_url)
    if parts.port == 0 or (parts.port is None and settings.port == 0):
        parts = parts._replace(netloc=f"{parts.hostname}:{port}")
    return urlunsplit(parts).rstrip("/")
