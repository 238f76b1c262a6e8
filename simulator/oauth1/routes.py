"""Every route of the OAuth 1 provider (present in every Bitbucket version); the handlers
are :func:`~simulator.lazy.lazy`, so oauthlib is imported on the first OAuth 1 request."""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy
from simulator.oauth1.paths import ACCESS_TOKEN_PATH, AUTHORIZE_PATH, REQUEST_TOKEN_PATH

_ENDPOINTS = "simulator.oauth1.endpoints:"


def routes() -> list[web.RouteDef]:
    """This area's routes: request-token, authorize and access-token."""
    servlet = lazy(_ENDPOINTS + "get_token_servlet")
    return [
        web.post(REQUEST_TOKEN_PATH, lazy(_ENDPOINTS + "post_request_token")),
        web.get(REQUEST_TOKEN_PATH, servlet),
        web.get(AUTHORIZE_PATH, lazy(_ENDPOINTS + "get_authorize")),
        web.post(AUTHORIZE_PATH, lazy(_ENDPOINTS + "post_authorize")),
        web.post(ACCESS_TOKEN_PATH, lazy(_ENDPOINTS + "post_access_token")),
        web.get(ACCESS_TOKEN_PATH, servlet),
    ]
