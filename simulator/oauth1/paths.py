"""Where the OAuth 1 provider's three servlets live, and how an OAuth 1 request is known,
apart from the handlers and oauthlib (which load on the first OAuth 1 request)."""

from __future__ import annotations

SERVLET = "/plugins/servlet/oauth"
REQUEST_TOKEN_PATH = SERVLET + "/request-token"
AUTHORIZE_PATH = SERVLET + "/authorize"
ACCESS_TOKEN_PATH = SERVLET + "/access-token"


def is_oauth_header(value: str | None) -> bool:
    """Whether an ``Authorization`` header uses the OAuth scheme."""
    return bool(value) and (value or "").strip().split(" ", 1)[0].lower() == "oauth"
