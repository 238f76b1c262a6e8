"""Serve the simulator from a background thread, for synchronous callers (pytest-bdd, scripts).

    with SimulatorServer(Settings(port=0)) as server:
        requests.get(server.base_url + "/rest/api/1.0/application-properties")

The server runs its own event loop on 127.0.0.1, port 0 by default; ``start()`` returns when
the socket is bound, or raises after ``ready_timeout`` seconds; ``stop()`` shuts down cleanly.
"""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from simulator import network
from simulator.app import create_app
from simulator.settings import Settings
from simulator.store import Store
from simulator.threaded import ThreadedAppServer
from simulator.tls import CA_FILE, CERT_FILE, KEY_FILE, TlsFiles, generate, server_context


class SimulatorServer(ThreadedAppServer):
    """One simulator in a daemon thread; usable as a context manager."""

    label = "simulator"

    def __init__(self, settings: Settings | None = None, ready_timeout: float = 10.0) -> None:
        settings = settings or Settings(port=0)
        super().__init__(settings.host, settings.port, ready_timeout)
        self.settings = settings
        self.store = Store(settings)
        self.tls = tls_files(settings)

    @property
    def control_token(self) -> str | None:
        """The token its control API wants (None: none)."""
        return self.settings.control_token

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate clients must trust (a made certificate only)."""
        return self.tls.ca if self.tls is not None else None

    def runner_options(self) -> dict[str, Any]:
        """The connection timeout of the settings."""
        return network.runner_options(self.settings)

    def ssl_context(self) -> ssl.SSLContext | None:
        """HTTPS when the settings ask for it."""
        return server_context(self.tls) if self.tls is not None else None

    @property
    def base_url(self) -> str:
        """The base URL clients should use (with the context path, if any)."""
        return self.store.base_url

    def make_app(self) -> web.Application:
        """The simulator, on this server's store."""
        return create_app(self.settings, self.store)

    def bound(self, port: int) -> None:
        """Links and redirects use the bound port."""
        self.store.base_url = bound_base_url(self.settings, port)


def tls_files(settings: Settings) -> TlsFiles | None:
    """The certificate to serve: one's own, one made now for the bound names, or none."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        return TlsFiles(Path(settings.tls_cert), Path(settings.tls_key))
    if not settings.tls:
        return None
    folder = Path(settings.tls_dir or tempfile.mkdtemp(prefix="bbdc-sim-tls-"))
    made = TlsFiles(folder / CERT_FILE, folder / KEY_FILE, folder / CA_FILE)
    if all(path.is_file() for path in (made.cert, made.key, made.ca or made.cert)):
        return made  # made there before: clients that trust that CA keep trusting it
    hosts = [settings.host]
    if settings.base_url:
        hosts.append(urlsplit(settings.base_url).hostname or "")
    return generate(hosts, folder)


def bound_base_url(settings: Settings, port: int) -> str:
    """The base URL once bound: the configured one with port 0 replaced, or host:port."""
    if settings.base_url is None:
        scheme = "https" if settings.uses_tls else "http"
        return f"{scheme}://{settings.host}:{port}"
    parts = urlsplit(settings.base_url)
    if parts.port == 0 or (parts.port is None and settings.port == 0):
        parts = parts._replace(netloc=f"{parts.hostname}:{port}")
    return urlunsplit(parts).rstrip("/")
