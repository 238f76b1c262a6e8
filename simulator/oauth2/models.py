"""What the OAuth 2 provider stores: clients (incoming links), codes and issued tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.oauth2.scopes import Scope, format_scopes


@dataclass(slots=True)
class OAuth2Client:
    """An "External application / Incoming" link (``RestClientEntity``)."""

    id: str
    client_id: str
    client_secret: str
    name: str
    redirects: tuple[str, ...]
    #: The ticked permissions, reduced to the strongest ones.
    scopes: tuple[Scope, ...]
    user_key: str
    created_ms: int

    @property
    def scope(self) -> str:
        """The configured scope as Bitbucket's REST API shows it."""
        return format_scopes(self.scopes)

    def to_json(self, with_secret: bool = True) -> dict[str, Any]:
        """``RestClientEntity``."""
        body: dict[str, Any] = {
            "id": self.id,
            "clientId": self.client_id,
            "name": self.name,
            "redirects": list(self.redirects),
            "userKey": self.user_key,
            "scope": self.scope,
        }
        if with_secret:
            body["clientSecret"] = self.client_secret
        return body


@dataclass(slots=True)
class AuthorizationCode:
    """A code issued at authorize time and what it was issued for."""

    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[Scope, ...]
    user_id: int
    challenge: str | None
    method: str | None
    created: float
    redeemed: bool = False
    token_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IssuedToken:
    """An access or refresh token; the pair share ``pair``, the refresh count rises on use."""

    id: str
    kind: str  # "access" or "refresh"
    client_id: str
    user_id: int
    scopes: tuple[Scope, ...]
    created: float
    expires: float
    pair: str
    code: str | None
    refresh_count: int = 0
