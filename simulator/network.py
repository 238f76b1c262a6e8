"""How the simulator's server treats its connections, wherever it runs (``serve``, tests).

- A connection without a complete request for ``connection_timeout`` seconds (idle, or its
  headers half-sent) is closed: aiohttp's keep-alive timer, which also runs from the
  connection's start, set from the setting (aiohttp's own default is an hour).
- Running out of file descriptors makes asyncio stop accepting for a second and report it;
  :func:`quiet_exhaustion` logs that once a second at most, one line without a traceback,
  while the connections already open are served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from simulator.settings import Settings

log = logging.getLogger("simulator.network")
#: asyncio's words when ``accept()`` fails for want of descriptors or memory.
EXHAUSTION = "out of system resource"


def runner_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``web.AppRunner`` for these settings."""
    return {"keepalive_timeout": settings.connection_timeout}


def quiet_exhaustion(loop: asyncio.AbstractEventLoop) -> None:
    """Install a loop exception handler that reports resource exhaustion at most once a
    second (and hands everything else to the default handler)."""
    last = [0.0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if EXHAUSTION in message:
            now = time.monotonic()
            if now - last[0] >= 1.0:
                last[0] = now
                error = context.get("exception")
                log.error("refusing connections for a second: %s (%s)", message, error)
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
