"""The OAuth 2 provider's state and rules; it never sees an HTTP request.

The token checks run in the order of the decompiled plugin (see docs/simulator.md), because
the order decides which error a broken client gets.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator.clock import Clock
from simulator.config import OAuth2Config
from simulator.oauth2 import jwt, pkce
from simulator.oauth2.errors import (
    ClientValidationError,
    OAuth2Error,
    invalid_client,
    invalid_grant,
    invalid_request,
    missing,
)
from simulator.oauth2.models import AuthorizationCode, IssuedToken, OAuth2Client
from simulator.oauth2.scopes import Scope, closure, format_scopes, strongest

MAX_REDIRECT_LENGTH = 450


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: A bracketed IP literal host, with an optional port: all a netloc's brackets may be.
_BRACKETED_HOST = re.compile(r"\[[^\[\]]*\](?::[0-9]*)?")


def _unprintable(ch: str) -> bool:
    """A control character (C0, DEL, C1) other than whitespace, or a lone surrogate."""
    return unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace()


def check_redirect(url: str, allow_http: bool) -> None:
    """Bitbucket's rules for one redirect URL; raise :class:`ClientValidationError`."""
    if len(url) > MAX_REDIRECT_LENGTH:
        raise ClientValidationError("redirects", f"A redirect URL is longer than 450: {url}")
    if any(_unprintable(ch) for ch in url):
        # urlsplit quietly strips leading controls ("\x01https://..."); java.net.URI, which
        # Bitbucket parses with, refuses control characters anywhere.
        raise ClientValidationError("redirects", f"Not a valid URL: {url}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ClientValidationError("redirects", f"Not a valid URL: {url}") from None
    host_and_port = parts.netloc.rpartition("@")[2]
    if ("[" in host_and_port or "]" in host_and_port) and not _BRACKETED_HOST.fullmatch(
        host_and_port
    ):
        # urlsplit reads "a[::1]" or "[::1]x" as the host ::1 (so "http://a[::1]/" passed as
        # loopback); java.net.URI takes brackets only around a whole IP literal.
        raise ClientValidationError("redirects", f"Not a valid URL: {url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientValidationError("redirects", f"A redirect URL must be absolute: {url}")
    if parts.fragment or "#" in url:
        raise ClientValidationError("redirects", f"A redirect URL must have no fragment: {url}")
    if any(ch.isspace() for ch in url):
        raise ClientValidationError("redirects", f"A redirect URL must have no spaces: {url}")
    if parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        raise ClientValidationError("redirects", f"A redirect URL must use https: {url}")


def split_redirects(text: str) -> list[str]:
    """The form's comma-separated Redirect URL field as a list (blanks dropped)."""
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The token endpoint's form fields (after client credentials were located)."""

    grant_type: str
    code: str = ""
    redirect_uri: str = ""
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    code_verifier: str = ""


#: How many rotated refresh tokens ``strict_rfc9700`` remembers, to detect their replay.
MAX_ROTATED = 10_000
#: Every this many codes and token pairs issued, the dead ones are pruned (as Bitbucket's
#: prune job does): expired codes, and expired tokens.
PRUNE_EVERY = 256


class OAuth2Backend:
    """Clients, codes and tokens of the OAuth 2 provider."""

    def __init__(self, clock: Clock, config: Callable[[], OAuth2Config]) -> None:
        self._clock = clock
        self._config = config
        self.clients: dict[str, OAuth2Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, IssuedToken] = {}
        #: Rotated refresh token id -> the code of its grant (``strict_rfc9700`` only; the
        #: oldest are forgotten beyond :data:`MAX_ROTATED`).
        self.rotated: dict[str, str] = {}
        self.jwt_secret = secrets.token_bytes(32)
        self._until_prune = PRUNE_EVERY

    def reset(self) -> None:
        """Forget every client, code and token; rotate the signing secret."""
        self.clients.clear()
        self.codes.clear()
        self.tokens.clear()
        self.rotated.clear()
        self.jwt_secret = secrets.token_bytes(32)

    # -- clients -------------------------------------------------------------------------

    def validate_client(
        self, name: str, redirects: list[str], scopes: tuple[Scope, ...], exclude: str | None
    ) -> None:
        """Check a client's fields; raise :class:`ClientValidationError` naming the field."""
        if not name.strip():
            raise ClientValidationError("name", "A name is required")
        if len(name) > 255:
            raise ClientValidationError("name", "The name must be at most 255 characters")
        for client in self.clients.values():
            if client.id != exclude and client.name.strip().lower() == name.strip().lower():
                raise ClientValidationError("name", f"An application named {name} already exists")
        if not redirects:
            raise ClientValidationError("redirects", "At least one redirect URL is required")
        for url in redirects:
            check_redirect(url, self._config().skip_redirect_https)
        if not scopes:
            raise ClientValidationError("scope", "A scope is required")

    def create_client(
        self, name: str, redirects: list[str], scopes: tuple[Scope, ...], user_key: str
    ) -> OAuth2Client:
        """A new incoming link with fresh credentials."""
        self.validate_client(name, redirects, scopes, exclude=None)
        client = OAuth2Client(
            id=str(uuid.uuid4()),
            client_id=secrets.token_hex(16),
            client_secret=secrets.token_hex(32),
            name=name.strip(),
            redirects=tuple(redirects),
            scopes=strongest(scopes),
            user_key=user_key,
            created_ms=self._clock.now_ms(),
        )
        self.clients[client.client_id] = client
        return client

    def find_client(self, key: str) -> OAuth2Client | None:
        """A client by its client id or its internal id."""
        client = self.clients.get(key)
        if client is not None:
            return client
        return next((c for c in self.clients.values() if c.id == key), None)

    def update_client(
        self, client: OAuth2Client, name: str, redirects: list[str], scopes: tuple[Scope, ...]
    ) -> OAuth2Client:
        """Change a client's name, redirects and scope; its credentials stay."""
        self.validate_client(name, redirects, scopes, exclude=client.id)
        client.name = name.strip()
        client.redirects = tuple(redirects)
        client.scopes = strongest(scopes)
        return client

    def reset_secret(self, client: OAuth2Client) -> OAuth2Client:
        """Regenerate the client secret."""
        client.client_secret = secrets.token_hex(32)
        return client

    def delete_client(self, client: OAuth2Client) -> None:
        """Remove a client and revoke every code and token issued to it."""
        self.clients.pop(client.client_id, None)
        for code in [c for c in self.codes.values() if c.client_id == client.client_id]:
            del self.codes[code.code]
        for token in [t for t in self.tokens.values() if t.client_id == client.client_id]:
            del self.tokens[token.id]

    # -- authorize -----------------------------------------------------------------------

    def scope_allowed(self, client: OAuth2Client, requested: tuple[Scope, ...]) -> bool:
        """Whether every requested scope lies within the closure of the client's scope."""
        return set(requested) <= closure(client.scopes)

    def issue_code(
        self,
        client: OAuth2Client,
        *,
        redirect_uri: str,
        scopes: tuple[Scope, ...],
        user_id: int,
        challenge: str | None,
        method: str | None,
    ) -> str:
        """A one-time authorization code."""
        self._count_towards_prune()
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            user_id=user_id,
            challenge=challenge,
            method=method,
            created=self._clock.now(),
        )
        return code

    # -- token -----------------------------------------------------------------------------

    def token(self, request: TokenRequest) -> dict[str, Any]:
        """Run the token endpoint's grant; raise :class:`OAuth2Error` in the plugin's order."""
        if not request.grant_type:
            raise missing("grant_type")
        if request.grant_type == "authorization_code":
            return self._authorization_code(request)
        if request.grant_type == "refresh_token":
            return self._refresh_token(request)
        raise OAuth2Error(
            "unsupported_grant_type", f"The grant type {request.grant_type} is not supported"
        )

    def _authorization_code(self, request: TokenRequest) -> dict[str, Any]:
        for name in ("code", "redirect_uri", "client_id"):
            if not getattr(request, name):
                raise missing(name)
        code = self.codes.get(request.code)
        if code is not None and code.redeemed:
            if not self._config().strict_rfc9700 or self._authenticates(code, request):
                self._revoke_ids(code.token_ids)
            raise invalid_grant("The authorization code has already been used")
        if code is None:
            raise invalid_request("The authorization code is invalid")
        if self._clock.now() > code.created + self._config().code_seconds:
            raise invalid_grant("The authorization code has expired")
        if request.redirect_uri != code.redirect_uri:
            raise invalid_grant("The redirect_uri does not match the one used to authorize")
        client = self.clients.get(request.client_id)
        if client is None or request.redirect_uri not in client.redirects:
            raise invalid_client("The redirect_uri is not registered for this client")
        if request.client_id != code.client_id:
            raise invalid_grant("The authorization code was issued to another client")
        if code.challenge is not None and not pkce.verify(
            request.code_verifier, code.challenge, code.method or "PLAIN"
        ):
            raise invalid_grant("The code_verifier is missing, malformed or does not match")
        if code.challenge is None and request.code_verifier and self._config().strict_rfc9700:
            raise invalid_grant("A code_verifier was sent, but the code was issued without PKCE")
        self._check_secret(client, request.client_secret)
        code.redeemed = True
        body, access, refresh = self._issue_pair(client, code.user_id, code.scopes, code.code)
        code.token_ids.extend([access.id, refresh.id])
        return body

    def _refresh_token(self, request: TokenRequest) -> dict[str, Any]:
        for name in ("refresh_token", "client_id"):
            if not getattr(request, name):
                raise missing(name)
        token_id = jwt.decode(request.refresh_token, self.jwt_secret)
        old = self.tokens.get(token_id) if token_id else None
        if old is None and token_id in self.rotated and self._config().strict_rfc9700:
            # RFC 9700 4.14.2: a rotated refresh token used again ends its grant's live tokens.
            replayed = self.codes.get(self.rotated.pop(token_id))
            if replayed is not None:
                self._revoke_ids(replayed.token_ids)
        if old is None or old.kind != "refresh":
            raise invalid_grant("The refresh token is invalid")
        if old.client_id != request.client_id:
            raise invalid_grant("The refresh token was issued to another client")
        if self._clock.now() >= old.expires:
            raise invalid_grant("The refresh token has expired")
        client = self.clients.get(request.client_id)
        if client is None:
            raise invalid_client("Unknown client")
        self._check_secret(client, request.client_secret)
        self._revoke_ids([old.id, old.pair])
        if old.code and self._config().strict_rfc9700:
            self.rotated[old.id] = old.code
            while len(self.rotated) > MAX_ROTATED:
                self.rotated.pop(next(iter(self.rotated)))
        body, access, refresh = self._issue_pair(client, old.user_id, old.scopes, old.code)
        access.refresh_count = refresh.refresh_count = old.refresh_count + 1
        if old.code and old.code in self.codes:
            self.codes[old.code].token_ids.extend([access.id, refresh.id])
        return body

    def _authenticates(self, code: AuthorizationCode, request: TokenRequest) -> bool:
        """Whether a token request comes from the client the code was issued to, with its
        secret (a replay by anyone else must not revoke that client's tokens)."""
        client = self.clients.get(code.client_id)
        return (
            client is not None
            and request.client_id == code.client_id
            and secrets.compare_digest(
                client.client_secret.encode(), request.client_secret.encode()
            )
        )

    def _check_secret(self, client: OAuth2Client, secret: str) -> None:
        if not secrets.compare_digest(client.client_secret.encode(), secret.encode()):
            raise invalid_client("The client secret is invalid")

    def _count_towards_prune(self) -> None:
        self._until_prune -= 1
        if self._until_prune <= 0:
            self._until_prune = PRUNE_EVERY
            self.prune()

    def prune(self) -> None:
        """Forget what can no longer be used: codes past their lifetime (with their replay
        record: a later replay is an unknown code) and tokens past their expiry."""
        now = self._clock.now()
        for key in [k for k, t in self.tokens.items() if now >= t.expires]:
            del self.tokens[key]
        lifetime = self._config().code_seconds
        for key in [k for k, c in self.codes.items() if now > c.created + lifetime]:
            # A code whose tokens still live keeps its record (replay revokes them).
            if not any(t in self.tokens for t in self.codes[key].token_ids):
                del self.codes[key]

    def _issue_pair(
        self, client: OAuth2Client, user_id: int, scopes: tuple[Scope, ...], code: str | None
    ) -> tuple[dict[str, Any], IssuedToken, IssuedToken]:
        self._count_towards_prune()
        config = self._config()
        now = self._clock.now()
        access_id, refresh_id = uuid.uuid4().hex, uuid.uuid4().hex
        access = IssuedToken(
            access_id,
            "access",
            client.client_id,
            user_id,
            scopes,
            created=now,
            expires=now + config.access_token_seconds,
            pair=refresh_id,
            code=code,
        )
        refresh = IssuedToken(
            refresh_id,
            "refresh",
            client.client_id,
            user_id,
            scopes,
            created=now,
            expires=now + config.refresh_token_seconds,
            pair=access_id,
            code=code,
        )
        self.tokens[access.id] = access
        self.tokens[refresh.id] = refresh
        body = {
            "access_token": jwt.encode(access.id, self.jwt_secret),
            "token_type": "bearer",
            "expires_in": config.access_token_seconds,
            "refresh_token": jwt.encode(refresh.id, self.jwt_secret),
            "scope": format_scopes(scopes),
        }
        return body, access, refresh

    def _revoke_ids(self, ids: list[str]) -> None:
        for token_id in ids:
            self.tokens.pop(token_id, None)

    # -- revoke and use --------------------------------------------------------------------

    def revoke(self, token: str, hint: str, client_id: str, client_secret: str) -> None:
        """RFC 7009: authenticate the client, then forget the token (and its pair)."""
        if hint and hint not in ("access_token", "refresh_token"):
            raise OAuth2Error("unsupported_token_type", f"Unsupported token type: {hint}")
        if not token:
            raise missing("token")
        if not client_id:
            raise missing("client_id")
        client = self.clients.get(client_id)
        if client is None:
            raise invalid_client("Unknown client")
        self._check_secret(client, client_secret)
        token_id = jwt.decode(token, self.jwt_secret)
        record = self.tokens.get(token_id) if token_id else None
        if record is None or record.client_id != client.client_id:
            return  # RFC 7009: an invalid token is not an error
        self._revoke_ids([record.id, record.pair] if record.kind == "refresh" else [record.id])

    def revoke_by_id(self, token_id: str) -> bool:
        """Revoke a token (and its pair) by id; whether it existed."""
        record = self.tokens.get(token_id)
        if record is None:
            return False
        self._revoke_ids([record.id, record.pair])
        return True

    def rotate_signing_secret(self) -> None:
        """``POST /rest/oauth2/latest/token/jwt/reset``: every issued token stops working."""
        self.jwt_secret = secrets.token_bytes(32)

    def lookup_access_token(self, secret: str) -> IssuedToken | None:
        """The live access token a Bearer secret stands for, or None (unknown or expired)."""
        token_id = jwt.decode(secret, self.jwt_secret)
        record = self.tokens.get(token_id) if token_id else None
        if record is None or record.kind != "access" or record.client_id not in self.clients:
            return None
        if self._clock.now() >= record.expires:
            return None
        return record
