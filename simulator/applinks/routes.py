"""Routes of the Application Links area: the admin pages and the OAuth 2 client REST."""

from __future__ import annotations

from aiohttp import web

from simulator.applinks import client_rest, pages


def routes() -> list[web.RouteDef]:
    """The admin pages and the client resource."""
    return [*pages.routes(), *client_rest.routes()]
