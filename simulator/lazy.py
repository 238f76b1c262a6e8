"""Handlers whose module is imported on their first request, not at start-up.

``lazy("simulator.rest.files:get_archive")`` is a coroutine function aiohttp can route to; it
imports its module when first called and hands every request on. It carries the target's
``__module__``, ``__name__`` and ``__qualname__``, so the OpenAPI document and the contract
(keyed by ``module:qualname``) see the real handler; :func:`resolve` gives the target itself.
A route table of lazy handlers lets a newly spawned simulator answer its first REST request
before it has imported the areas nobody has asked for yet (``bench/startup.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def lazy(target: str) -> Handler:
    """A handler for ``"package.module:function"``, imported on its first request."""
    module_name, _, name = target.partition(":")
    if not module_name or not name:
        raise ValueError(f"not module:function: {target!r}")
    found: list[Handler] = []

    def load() -> Handler:
        if not found:
            found.append(getattr(import_module(module_name), name))
        return found[0]

    async def handler(request: web.Request) -> web.StreamResponse:
        return await (found[0] if found else load())(request)

    handler.__module__ = module_name
    handler.__name__ = handler.__qualname__ = name
    vars(handler)["lazy_target"] = load
    return handler


def resolve(handler: Any) -> Any:
    """The function a (possibly lazy) handler runs; importing its module if need be."""
    load = getattr(handler, "lazy_target", None)
    return load() if load is not None else handler
