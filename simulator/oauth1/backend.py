"""The OAuth 1 provider's state and rules; it never sees an HTTP request.

Links are the consumers of Atlassian's OAuth plugin: a consumer key and the RSA public key
that verifies the consumer's signatures. Tokens follow ``ServiceProviderToken``: a request
token lives ``request_token_seconds`` and is authorized or denied by a user (who gets a
six-character verifier); it is exchanged once for an access token that lives
``access_token_seconds`` inside a session 30 days longer, which the consumer may renew with
``oauth_session_handle``. Deleting a link deletes its tokens. Nonces are remembered per
consumer, token and timestamp for as long as their timestamp is acceptable.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from simulator.clock import Clock
from simulator.config import OAuth1Config
from simulator.oauth1.models import AccessToken, Authorization, OAuth1Link, RequestToken
from simulator.oauth1.problems import (
    TIMESTAMP_REFUSED,
    TOKEN_EXPIRED,
    TOKEN_REJECTED,
    TOKEN_USED,
    OAuth1ProblemError,
    parameter_absent,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: The session of an access token outlives it by 30 days (Jira's sample: 157680000 s and
#: 160272000 s for ``oauth_expires_in`` and ``oauth_authorization_expires_in``).
SESSION_GRACE_SECONDS = 30 * 86400
TOKEN_LENGTH = 32
#: ``AuthorizeServlet.VERIFIER_LENGTH``
VERIFIER_LENGTH = 6
MIN_KEY_BITS = 1024
MAX_FIELD_LENGTH = 255
_ALPHANUMERIC = string.ascii_letters + string.digits


class OAuth1ValidationError(ValueError):
    """A link field with a bad value; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def random_string(length: int) -> str:
    """Random letters and digits, as the plugin's ``Randomizer`` makes tokens and verifiers."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def read_public_key(text: str) -> RSAPublicKey:
    """The RSA public key in a PEM public key, an X.509 certificate (PEM), or their bare
    base64 DER; raise :class:`OAuth1ValidationError` on ``public_key`` otherwise."""
    # Imported here: only links need it, and it costs start-up some 35 ms.
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    stripped = text.strip()
    if not stripped:
        raise OAuth1ValidationError("public_key", "A public key is required.")
    if "PRIVATE KEY-----" in stripped:
        raise OAuth1ValidationError(
            "public_key",
            "This is a private key. Paste the consumer's public key or certificate instead.",
        )
    key: object
    try:
        if "-----BEGIN CERTIFICATE-----" in stripped:
            key = x509.load_pem_x509_certificate(stripped.encode("ascii")).public_key()
        elif stripped.startswith("-----BEGIN"):
            key = load_pem_public_key(stripped.encode("ascii"))
        else:
            der = base64.b64decode("".join(stripped.split()), validate=True)
            try:
                key = load_der_public_key(der)
            except ValueError:
                key = x509.load_der_x509_certificate(der).public_key()
    except (ValueError, TypeError, binascii.Error, UnicodeError, UnsupportedAlgorithm):
        raise OAuth1ValidationError(
            "public_key", "The public key is not a valid PEM public key or X.509 certificate."
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise OAuth1ValidationError("public_key", "The public key must be an RSA key.")
    if key.key_size < MIN_KEY_BITS:
        raise OAuth1ValidationError(
            "public_key", f"The RSA key must have at least {MIN_KEY_BITS} bits."
        )
    return key


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL without spaces or control characters."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _required(field: str, value: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise OAuth1ValidationError(field, f"{label} is required.")
    if len(value) > MAX_FIELD_LENGTH:
        raise OAuth1ValidationError(
            field, f"{label} must be at most {MAX_FIELD_LENGTH} characters."
        )
    return value


class OAuth1Backend:
    """Links, tokens and nonces of the OAuth 1 provider."""

    def __init__(self, clock: Clock, config: Callable[[], OAuth1Config]) -> None:
        self._clock = clock
        self._config = config
        self.links: dict[str, OAuth1Link] = {}
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self._nonces: dict[tuple[str, str, int, str], int] = {}

    def reset(self) -> None:
        """Forget every link, token and nonce."""
        self.links.clear()
        self.request_tokens.clear()
        self.access_tokens.clear()
        self._nonces.clear()

    @property
    def config(self) -> OAuth1Config:
        """The provider's current runtime settings."""
        return self._config()

    # -- links ----------------------------------------------------------------------------

    def link_by_consumer_key(self, consumer_key: str | None) -> OAuth1Link | None:
        """The link whose consumer key is exactly this one."""
        if not consumer_key:
            return None
        return next((k for k in self.links.values() if k.consumer_key == consumer_key), None)

    def create_link(
        self,
        *,
        name: str,
        consumer_key: str,
        public_key: str,
        consumer_name: str | None = None,
        description: str = "",
        callback_url: str | None = None,
        two_legged: bool = False,
        execute_as: str | None = None,
        impersonation: bool = False,
    ) -> OAuth1Link:
        """A new link; raise :class:`OAuth1ValidationError` naming the first bad field."""
        name = _required("name", name, "Application Name")
        if any(link.name.lower() == name.lower() for link in self.links.values()):
            raise OAuth1ValidationError("name", f"An application named {name} already exists.")
        key = self._checked_consumer_key(consumer_key, exclude=None)
        consumer = _required("consumer_name", consumer_name or name, "Consumer Name")
        rsa_key = read_public_key(public_key)
        callback = self._checked_callback(callback_url)
        link = OAuth1Link(
            id=str(uuid.uuid4()),
            name=name,
            consumer_key=key,
            consumer_name=consumer,
            description=description.strip(),
            public_key=public_key.strip(),
            callback_url=callback,
            created=self._clock.now(),
            rsa_key=rsa_key,
            two_legged=two_legged,
            execute_as=(execute_as or "").strip() or None,
            impersonation=impersonation,
        )
        self.links[link.id] = link
        return link

    def update_link(
        self,
        link: OAuth1Link,
        *,
        consumer_key: str,
        consumer_name: str,
        public_key: str,
        description: str = "",
        callback_url: str | None = None,
        two_legged: bool = False,
        execute_as: str | None = None,
        impersonation: bool = False,
    ) -> OAuth1Link:
        """Change a link's Incoming Authentication; all or nothing."""
        key = self._checked_consumer_key(consumer_key, exclude=link.id)
        consumer = _required("consumer_name", consumer_name, "Consumer Name")
        rsa_key = read_public_key(public_key)
        callback = self._checked_callback(callback_url)
        if key != link.consumer_key:
            self._drop_tokens(link.consumer_key)
        link.consumer_key = key
        link.consumer_name = consumer
        link.public_key = public_key.strip()
        link.rsa_key = rsa_key
        link.description = description.strip()
        link.callback_url = callback
        link.two_legged = two_legged
        link.execute_as = (execute_as or "").strip() or None
        link.impersonation = impersonation
        return link

    def delete_link(self, link_id: str) -> OAuth1Link | None:
        """Remove a link and every token issued to it."""
        link = self.links.pop(link_id, None)
        if link is not None:
            self._drop_tokens(link.consumer_key)
        return link

    def _drop_tokens(self, consumer_key: str) -> None:
        for tokens in (self.request_tokens, self.access_tokens):
            for key in [k for k, t in tokens.items() if t.consumer_key == consumer_key]:
                del tokens[key]

    def _checked_consumer_key(self, consumer_key: str, exclude: str | None) -> str:
        key = _required("consumer_key", consumer_key, "Consumer Key")
        for link in self.links.values():
            if link.id != exclude and link.consumer_key == key:
                raise OAuth1ValidationError(
                    "consumer_key", f"A consumer with the key {key} already exists."
                )
        return key

    @staticmethod
    def _checked_callback(callback_url: str | None) -> str | None:
        callback = (callback_url or "").strip()
        if not callback:
            return None
        if not is_http_url(callback):
            raise OAuth1ValidationError(
                "callback_url", "The Consumer Callback URL must be an absolute http(s) URL."
            )
        return callback

    # -- request tokens ---------------------------------------------------------------------

    def issue_request_token(self, link: OAuth1Link, callback: str | None) -> RequestToken:
        """A new, unauthorized request token for a consumer (``callback`` None for ``oob``)."""
        now = self._clock.now()
        token = RequestToken(
            token=random_string(TOKEN_LENGTH),
            secret=random_string(TOKEN_LENGTH),
            consumer_key=link.consumer_key,
            callback=callback,
            created=now,
            expires=now + self.config.request_token_seconds,
        )
        self.request_tokens[token.token] = token
        return token

    def token_for_authorization(self, key: str | None) -> RequestToken:
        """The request token a user is asked to authorize (``TokenLoaderImpl``): present,
        a request token, not yet decided, not expired; else raise the problem."""
        if not key:
            raise parameter_absent(["oauth_token"])
        token = self.request_tokens.get(key)
        if token is None:
            raise OAuth1ProblemError(TOKEN_REJECTED)
        if token.authorization is not Authorization.NONE:
            raise OAuth1ProblemError(TOKEN_USED)
        if self.request_token_expired(token):
            raise OAuth1ProblemError(TOKEN_EXPIRED)
        return token

    def request_token_expired(self, token: RequestToken) -> bool:
        """Whether a request token has outlived its lifetime."""
        return token.expires <= self._clock.now()

    def authorize(self, token: RequestToken, user_id: int) -> str:
        """The user allows the consumer: record it and return the new verifier."""
        token.authorization = Authorization.AUTHORIZED
        token.user_id = user_id
        token.verifier = random_string(VERIFIER_LENGTH)
        return token.verifier

    def deny(self, token: RequestToken, user_id: int) -> None:
        """The user refuses the consumer."""
        token.authorization = Authorization.DENIED
        token.user_id = user_id

    def callback_of(self, token: RequestToken) -> str | None:
        """Where the user goes after deciding: the token's callback, else the link's."""
        if token.callback is not None:
            return token.callback
        link = self.link_by_consumer_key(token.consumer_key)
        return link.callback_url if link is not None else None

    # -- access tokens ----------------------------------------------------------------------

    def exchange(self, request_token: RequestToken) -> AccessToken:
        """Swap an authorized request token (used up here) for an access token."""
        if request_token.user_id is None:
            raise ValueError("the request token is not authorized")
        self.request_tokens.pop(request_token.token, None)
        now = self._clock.now()
        lifetime = self.config.access_token_seconds
        return self._store_access_token(
            request_token.consumer_key,
            request_token.user_id,
            session_handle=random_string(TOKEN_LENGTH),
            session_expires=now + lifetime + SESSION_GRACE_SECONDS,
        )

    def renew(self, access_token: AccessToken) -> AccessToken:
        """A fresh access token in the same session; the old one stops working."""
        self.access_tokens.pop(access_token.token, None)
        return self._store_access_token(
            access_token.consumer_key,
            access_token.user_id,
            session_handle=access_token.session_handle,
            session_expires=access_token.session_expires,
        )

    def _store_access_token(
        self, consumer_key: str, user_id: int, session_handle: str, session_expires: float
    ) -> AccessToken:
        now = self._clock.now()
        token = AccessToken(
            token=random_string(TOKEN_LENGTH),
            secret=random_string(TOKEN_LENGTH),
            consumer_key=consumer_key,
            user_id=user_id,
            created=now,
            expires=now + self.config.access_token_seconds,
            session_handle=session_handle,
            session_expires=session_expires,
        )
        self.access_tokens[token.token] = token
        return token

    def access_token_expired(self, token: AccessToken) -> bool:
        """Whether an access token has outlived its lifetime."""
        return token.expires <= self._clock.now()

    def session_expired(self, token: AccessToken) -> bool:
        """Whether an access token's session can no longer be renewed."""
        return token.session_expires <= self._clock.now()

    # -- timestamps and nonces --------------------------------------------------------------

    def acceptable_timestamps(self) -> tuple[int, int]:
        """The range of ``oauth_timestamp`` values accepted now (net.oauth's rounding)."""
        now_ms = self._clock.now_ms()
        window_ms = self.config.timestamp_window_seconds * 1000
        return (now_ms - window_ms + 500) // 1000, (now_ms + window_ms + 500) // 1000

    def check_timestamp(self, timestamp: int) -> OAuth1ProblemError | None:
        """``timestamp_refused`` with the acceptable range, or None when acceptable."""
        low, high = self.acceptable_timestamps()
        if low <= timestamp <= high:
            return None
        return OAuth1ProblemError(TIMESTAMP_REFUSED, oauth_acceptable_timestamps=f"{low}-{high}")

    def use_nonce(self, consumer_key: str, token: str | None, timestamp: int, nonce: str) -> bool:
        """Remember a nonce; False when this consumer and token already used it at this
        timestamp (net.oauth's ``SimpleOAuthValidator`` keys nonces the same way)."""
        low, _ = self.acceptable_timestamps()
        for key in [k for k, stamp in self._nonces.items() if stamp < low]:
            del self._nonces[key]
        key = (consumer_key, token or "", timestamp, nonce)
        if key in self._nonces:
            return False
        self._nonces[key] = timestamp
        return True
