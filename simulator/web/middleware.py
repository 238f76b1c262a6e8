"""The middleware that tells the pages' frame who is asking (see :mod:`simulator.web.layout`).

It runs after the auth middleware, so that the header shows the user the request was resolved
to (a session, or HTTP Basic for scripted admins), and sets the request's
:class:`~simulator.web.layout.Layout` for the handler's page builders.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.auth import principal_of
from simulator.errors import Handler
from simulator.journal import app_path
from simulator.store import Store
from simulator.web.layout import Layout, using

#: Paths that never answer a page (JSON only; not /rest/oauth2/, whose authorize may show
#: an error page): no frame to set up.
NO_PAGES = ("/rest/api/", "/rest/access-tokens/", "/_sim/", "/scm/")


def make_layout_middleware(store: Store) -> Any:
    """Set the page frame's :class:`Layout` for every request."""

    @web.middleware
    async def layout_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if app_path(request, store.settings.context_path).startswith(NO_PAGES):
            return await handler(request)  # JSON and git answers have no frame
        layout = Layout(
            base_url=store.base_url,
            user=principal_of(request).user,
            version=str(store.config.version),
            tfa_installed=store.config.tfa.installed,
        )
        with using(layout):
            return await handler(request)

    return layout_middleware
