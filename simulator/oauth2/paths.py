"""Where the OAuth 2 provider's servlets live (apart from their handlers)."""

from __future__ import annotations

AUTHORIZE_PATH = "/rest/oauth2/latest/authorize"
CONSENT_PATH = "/plugins/servlet/oauth2/consent"
ERROR_PATH = "/plugins/servlet/oauth2/error"
