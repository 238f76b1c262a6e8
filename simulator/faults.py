"""Injected faults: for a path prefix, answer a status and/or delay, a number of times.

Set through ``POST /_sim/faults``; cleared by reset. The control API itself is never faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.errors import error_body, json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Fault:
    """Answer ``status`` (if set) after ``delay_seconds`` to requests under ``path_prefix``."""

    path_prefix: str
    status: int | None = None
    delay_seconds: float = 0.0
    #: How many requests it still applies to; None means until reset.
    remaining: int | None = 1

    def to_json(self) -> dict[str, Any]:
        """The JSON form the control API answers with."""
        return {
            "path_prefix": self.path_prefix,
            "status": self.status,
            "delay_seconds": self.delay_seconds,
            "times": self.remaining,
        }


class FaultPlan:
    """The faults in force, matched first-added first."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Put a fault in force."""
        self.faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The first fault matching the path, counting one use of it."""
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


def make_fault_middleware(plan: FaultPlan, context_path: str) -> Any:
    """A middleware applying the plan to every path outside the control API."""

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path.removeprefix(context_path) or "/"
        fault = None if path.startswith("/_sim/") else plan.take(path)
        if fault is None:
            return await handler(request)
        if fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)
        if fault.status is None:
            return await handler(request)
        return json_response(
            error_body(f"Injected fault for {fault.path_prefix}", None), status=fault.status
        )

    return fault_middleware
