"""Every browser-facing route (pages and servlets), gathered from their areas."""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy
from simulator.web import login, stylesheet

_BROWSE = "simulator.web.browse:"
_REPO = "/repos/{repositorySlug}"
#: The pages the REST API's links lead to (simulator.web.browse, loaded on first use).
ENTITY_PAGES = (
    ("/projects/{projectKey}", "get_project_page"),
    ("/users/{userSlug}", "get_user_page"),
    *(
        (owner + _REPO + tail, handler)
        for owner in ("/projects/{projectKey}", "/users/{userSlug}")
        for tail, handler in (
            ("", "get_repository_root"),
            ("/browse", "get_browse_page"),
            ("/browse/{path:[\\s\\S]+}", "get_browse_page"),  # any character: a 404 page
        )
    ),
)


def routes() -> list[web.RouteDef]:
    """All page routes, and the pages' stylesheet."""
    pages = [web.get(path, lazy(_BROWSE + name)) for path, name in ENTITY_PAGES]
    return [*login.routes(), *stylesheet.routes(), *pages]
