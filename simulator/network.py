"""How the simulator's server treats its connections, wherever it runs (``serve``, tests).

- A connection without a complete request for ``connection_timeout`` seconds (idle, or its
  headers half-sent) is closed: aiohttp's keep-alive timer, which also runs from the
  connection's start, set from the setting (aiohttp's own default is an hour).
- A request whose body has not all arrived ``connection_timeout`` seconds after its headers
  (a body sent a byte at a time, or a ``Content-Length`` larger than what comes) is answered
  408 in Bitbucket's envelope and its connection closed (:func:`read_body`, from the
  pipeline): the handler never waits on it. Tomcat's ``connectionTimeout`` bounds each read
  only, so a trickle can hold a real Bitbucket thread for ever; a bound on the whole body is
  stricter, and nothing honest needs 20 seconds to send 4 MB.
- Running out of file descriptors makes asyncio stop accepting for a second and report it;
  :func:`quiet_exhaustion` logs that once a second at most, one line without a traceback,
  while the connections already open are served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from simulator.errors import BadRequestError, RequestTimeoutError
from simulator.settings import Settings

log = logging.getLogger("simulator.network")
#: asyncio's words when ``accept()`` fails for want of descriptors or memory.
EXHAUSTION = "out of system resource"
#: At most this long an unread body is drained after the answer (a 408 or a 413).
LINGER_SECONDS = 1.0


async def read_body(request: web.Request, timeout: float) -> Exception | None:
    """Read the request's body within ``timeout`` seconds (aiohttp keeps it for the handler's
    ``read()``, ``post()`` and ``json()``); what went wrong, to be answered, or ``None``. A
    request without a body is at once in time; one beyond the app's ``client_max_size``
    gives aiohttp's 413 as before."""
    if not request.body_exists:
        return None
    try:
        async with asyncio.timeout(timeout):
            await request.read()
    except TimeoutError:
        log.info("%s %s: body not sent in %g s, closing", request.method, request.path, timeout)
        return RequestTimeoutError(f"The request body did not arrive within {timeout:g} s.")
    except web.HTTPRequestEntityTooLarge as exc:
        return exc
    except RequestPayloadError as exc:  # a body its Content-Encoding does not decode
        return BadRequestError(f"The request body could not be read: {exc}")
    return None


def runner_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``web.AppRunner`` for these settings: the keep-alive timer, and
    how long a request's unread body is drained after its answer before the connection
    closes (aiohttp's default is 10 s, which a trickling sender would have for free)."""
    return {
        "keepalive_timeout": settings.connection_timeout,
        "lingering_time": min(LINGER_SECONDS, settings.connection_timeout),
    }


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
