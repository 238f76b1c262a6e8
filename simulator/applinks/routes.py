"""Routes of the Application Links area: the admin pages (OAuth 2 and OAuth 1 links) and the
OAuth 2 client REST."""

from __future__ import annotations

from aiohttp import web

from simulator.applinks import client_rest, oauth1_pages, pages


def routes() -> list[web.RouteDef]:
    """The admin pages and the client resource."""
    return [*pages.routes(), *oauth1_pages.routes(), *client_rest.routes()]
