"""Every browser-facing route (pages and servlets), gathered from their areas."""

from __future__ import annotations

from aiohttp import web

from simulator.web import login


def routes() -> list[web.RouteDef]:
    """All page routes."""
    return [*login.routes()]
