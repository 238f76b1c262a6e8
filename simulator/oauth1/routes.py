"""Every route of the OAuth 1 provider (present in every Bitbucket version)."""

from __future__ import annotations

from aiohttp import web

from simulator.oauth1 import endpoints


def routes() -> list[web.RouteDef]:
    """This area's routes: request-token, authorize and access-token."""
    return endpoints.routes()
