"""What each Bitbucket route takes and answers, for ``/_sim/openapi.json``.

Each area's module (``rest``, ``oauth2``, ``oauth1``, ``pages``, ``git``, ``webhooks``) maps
its handlers, by ``module:qualname``, to an OpenAPI operation fragment: ``parameters``,
``requestBody`` and ``responses``, written with the builders of :mod:`simulator.contract.spec`
as tightly as the handler checks its input. The document (:mod:`simulator.control.openapi`)
adds what every Bitbucket route shares: the security schemes and the 401 of a wrong
credential. Imported only when the document is first asked for, so start-up does not pay for
it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from simulator.contract.spec import Operation

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def hidden(handler: HandlerT) -> HandlerT:
    """Mark a handler as left out of the document (e.g. a catch-all route)."""
    vars(handler)["openapi_hidden"] = True
    return handler


def handler_key(handler: Callable[..., Any]) -> str:
    """The key a handler's description is filed under: ``module:qualname``."""
    return f"{handler.__module__}:{handler.__qualname__}"


@lru_cache(maxsize=1)
def operations() -> dict[str, Operation]:
    """Every described handler's operation fragment, by :func:`handler_key`."""
    from simulator.contract import (
        avatars,
        git,
        oauth1,
        oauth2,
        pages,
        permissions,
        resource_tokens,
        rest,
        webhooks,
    )

    merged: dict[str, Operation] = {}
    areas = (rest, resource_tokens, permissions, avatars, oauth2, oauth1, pages, git, webhooks)
    for module in areas:
        for key, operation in module.OPERATIONS.items():
            if key in merged:
                raise ValueError(f"{key} is described twice")
            merged[key] = operation
    return merged


def describe(handler: Callable[..., Any]) -> Operation | None:
    """The operation fragment of a handler, or ``None`` where none is written."""
    return operations().get(handler_key(handler))
