"""Who the pages' frame shows as asking (see :mod:`simulator.web.layout`).

The pipeline (:mod:`simulator.pipeline`) sets the request's :class:`Layout` after the
principal is resolved, so that the header shows the user the request was resolved to (a
session, or HTTP Basic for scripted admins); the handler's page builders read it.
"""

from __future__ import annotations

from aiohttp import web

from simulator.auth import principal_of
from simulator.git import SCM_PREFIX
from simulator.store import Store
from simulator.web.layout import Layout

#: Paths that never answer a page (JSON only; not /rest/oauth2/, whose authorize may show
#: an error page): no frame to set up.
NO_PAGES = ("/rest/api/", "/rest/access-tokens/", "/_sim/", SCM_PREFIX)


def layout_for(request: web.Request, store: Store, path: str) -> Layout | None:
    """The page frame of a request to a context-relative ``path``; ``None`` where the path
    answers no page (JSON and git answers have no frame)."""
    if path.startswith(NO_PAGES):
        return None
    return Layout(
        base_url=store.base_url,
        user=principal_of(request).user,
        version=str(store.config.version),
        tfa_installed=store.config.tfa.installed,
    )
