"""Redaction of the simulator's log, aiohttp's own records included.

aiohttp logs a malformed request with its raw first line or headers at ERROR (an
``Authorization: Bearer`` token, a ``client_secret`` in a query), and the journal's redaction
never sees those records. :func:`install` adds :class:`RedactingFilter` to aiohttp's loggers
and the simulator's: every record's message, arguments and traceback are rendered, then
credentials (``Authorization`` and ``Cookie`` values, secret query and form parameters) are
replaced by ``<redacted>`` before any handler writes them.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from simulator.journal import REDACTED

#: The loggers whose records may carry a request: aiohttp's and the simulator's.
LOGGERS: Final = (
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
    "simulator",
)
#: ``Authorization: Basic x``, ``Bearer x``, ``OAuth oauth_token="..."`` (a header line or a
#: header's repr), ``Cookie: a=b; c=d``, ``X-Sim-Control-Token: x``.
_HEADERS: Final = re.compile(
    r"(?i)((?:proxy-)?authorization|cookie|set-cookie|x-sim-control-token)"
    r"""(['"]?\s*[:=,]\s*['"]?)([^'"\r\n]*)"""
)
#: ``name=value`` for secret names (those the journal redacts) in a query, a form or text.
_PAIRS: Final = re.compile(
    r"(?i)\b((?:[a-z_]*(?:password|passwd|secret)[a-z_]*|(?:[a-z_]*_)?(?:token|signature|"
    r"verifier|assertion)|code|otp|totp|passcode|oauth_session_handle))(=|%3D)([^&\s'\"\\]+)"
)


def redact(text: str) -> str:
    """``text`` with every credential it shows replaced by ``<redacted>``."""
    text = _HEADERS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _PAIRS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Renders a record's message and traceback now, redacted; lets the record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still must not leak
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER: Final = RedactingFilter()


def install() -> None:
    """Add the filter to every logger of :data:`LOGGERS` (once each)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
