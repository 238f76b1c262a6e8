"""Every route of the OAuth 2 provider: authorize, consent, error page, token and revoke.

All of them lie under ``/rest/oauth2/`` or ``/plugins/servlet/oauth2/``, which the version gate
in :mod:`simulator.app` answers with 404 below Bitbucket 7.21.
"""

from __future__ import annotations

from aiohttp import web

from simulator.oauth2 import authorize, consent, token_endpoint


def routes() -> list[web.RouteDef]:
    """This area's routes."""
    return [*authorize.routes(), *consent.routes(), *token_endpoint.routes()]
