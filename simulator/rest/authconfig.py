"""``GET /rest/authconfig/1.0/login-options``: how a person may log in.

Git Credential Manager asks it before offering its Basic (username and password or token)
mode: ``LOGIN_FORM`` in ``results`` means the login form is on (its
``DataCenter/BitbucketRestApi.cs``, ``GetAuthenticationMethodsAsync``; an identity provider
would add an ``IDP`` entry, which the simulator has none of). Anonymous, like the login page.
"""

from __future__ import annotations

import json

from aiohttp import web

from simulator.errors import JSON_CONTENT_TYPE

_BODY = json.dumps({"results": [{"type": "LOGIN_FORM"}]}, separators=(",", ":")).encode()


async def get_login_options(request: web.Request) -> web.Response:
    """The login methods: the login form."""
    return web.Response(body=_BODY, headers={"Content-Type": JSON_CONTENT_TYPE})
