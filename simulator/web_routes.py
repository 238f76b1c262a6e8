"""Every browser-facing route (pages and servlets), gathered from their areas."""

from __future__ import annotations

from aiohttp import web

from simulator.web import login, stylesheet


def routes() -> list[web.RouteDef]:
    """All page routes, and the pages' stylesheet."""
    return [*login.routes(), *stylesheet.routes()]
