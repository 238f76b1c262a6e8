"""Every route of the OAuth 2 provider: authorize, consent, error page, token and revoke.

All of them lie under ``/rest/oauth2/`` or ``/plugins/servlet/oauth2/``, which the pipeline's
version gate (:mod:`simulator.pipeline`) answers with 404 below Bitbucket 7.21. The handlers
are :func:`~simulator.lazy.lazy`: the provider's modules load on its first request.
"""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy
from simulator.oauth2.paths import CONSENT_PATH, ERROR_PATH

_AUTHORIZE = "simulator.oauth2.authorize:"
_CONSENT = "simulator.oauth2.consent:"
_ENDPOINTS = "simulator.oauth2.token_endpoint:"


def routes() -> list[web.RouteDef]:
    """This area's routes, at both REST versions where they are REST."""
    table: list[web.RouteDef] = []
    for version in ("latest", "1.0"):
        table += [
            web.get(f"/rest/oauth2/{version}/authorize", lazy(_AUTHORIZE + "get_authorize")),
            web.post(f"/rest/oauth2/{version}/authorize", lazy(_AUTHORIZE + "post_authorize")),
        ]
    table += [
        web.get(CONSENT_PATH, lazy(_CONSENT + "get_consent")),
        web.get(ERROR_PATH, lazy(_CONSENT + "get_error")),
    ]
    for version in ("latest", "1.0"):
        prefix = f"/rest/oauth2/{version}"
        table += [
            web.post(prefix + "/token", lazy(_ENDPOINTS + "post_token")),
            web.post(prefix + "/token/jwt/reset", lazy(_ENDPOINTS + "post_reset_jwt_secret")),
            web.post(prefix + "/revoke", lazy(_ENDPOINTS + "post_revoke")),
            web.post(prefix + "/revoke/{id}", lazy(_ENDPOINTS + "post_revoke_by_id")),
        ]
    return table
