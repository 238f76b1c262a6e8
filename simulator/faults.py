"""Injected faults: for a path prefix, answer a status and/or delay, a number of times.

Set through ``POST /_sim/faults``; cleared by ``DELETE /_sim/faults`` and by reset. Prefixes
are matched against the request path *relative to the context path*: with the base URL
``http://host/bitbucket``, the prefix ``/rest/api/1.0/repos`` faults
``/bitbucket/rest/api/1.0/repos...``. The control API itself is never faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.errors import error_body, json_response
from simulator.journal import app_path, is_control_path

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Statuses whose responses carry no body (RFC 9110): answered empty.
_BODYLESS = frozenset({204, 205, 304})


@dataclass(slots=True)
class Fault:
    """Answer ``status`` (if set) after ``delay_seconds`` to requests under ``path_prefix``."""

    path_prefix: str
    status: int | None = None
    delay_seconds: float = 0.0
    #: How many requests it still applies to; None means until reset.
    remaining: int | None = 1

    def to_json(self) -> dict[str, Any]:
        """The JSON form the control API answers with (``times`` is what remains)."""
        return {
            "path_prefix": self.path_prefix,
            "status": self.status,
            "delay_seconds": self.delay_seconds,
            "times": self.remaining,
        }


#: How many faults may be in force at once (one more is a 400).
MAX_FAULTS = 100


class TooManyFaultsError(ValueError):
    """Adding a fault beyond :data:`MAX_FAULTS`."""


class FaultPlan:
    """The faults in force, matched first-added first (at most :data:`MAX_FAULTS`)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Put a fault in force; :class:`TooManyFaultsError` beyond :data:`MAX_FAULTS`."""
        if len(self.faults) >= MAX_FAULTS:
            raise TooManyFaultsError(
                f"At most {MAX_FAULTS} faults may be in force: clear some first "
                "(DELETE /_sim/faults)."
            )
        self.faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The first fault matching the (context-relative) path, counting one use of it."""
        for fault in self.faults:
            if path.startswith(fault.path_prefix):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Remove every fault."""
        self.faults.clear()


def fault_response(fault: Fault, status: int) -> web.Response:
    """The injected answer: Bitbucket's error envelope, or no body where HTTP forbids one."""
    if status in _BODYLESS:
        return web.Response(status=status)
    return json_response(error_body(f"Injected fault for {fault.path_prefix}", None), status=status)


def make_fault_middleware(plan: FaultPlan, context_path: str) -> Any:
    """A middleware applying the plan to every path outside the control API.

    ``context_path`` is stripped from request paths before matching. aiohttp hands sub-apps
    the full path, so an empty ``context_path`` means "the context path of the app's
    :class:`~simulator.settings.Settings`" (none outside :func:`~simulator.app.create_app`);
    either way prefixes are relative to the context path.
    """

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = app_path(request, context_path or None)
        answer = None if is_control_path(path) else await apply_fault(plan, path)
        return answer if answer is not None else await handler(request)

    return fault_middleware


async def apply_fault(plan: FaultPlan, path: str) -> web.Response | None:
    """Apply the first fault matching a (context-relative, non-control) path: wait its delay,
    then its answer, or ``None`` to let the request go on (no fault, or a delay only)."""
    fault = plan.take(path)
    if fault is None:
        return None
    if fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)
    return None if fault.status is None else fault_response(fault, fault.status)
