"""What the OAuth 1 provider stores: links (consumers), request and access tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey


@dataclass(slots=True)
class OAuth1Link:
    """An "Atlassian product / Generic application" link with its Incoming Authentication.

    ``public_key`` is the text the admin pasted (a PEM public key or X.509 certificate);
    ``rsa_key`` is the RSA public key read from it, which verifies signatures.
    """

    id: str
    name: str
    consumer_key: str
    consumer_name: str
    description: str
    public_key: str
    callback_url: str | None
    created: float
    rsa_key: RSAPublicKey = field(repr=False, compare=False)
    #: "Allow 2-Legged OAuth"
    two_legged: bool = False
    #: "Execute as": the user 2-legged requests without impersonation run as (None: anonymous)
    execute_as: str | None = None
    #: "Allow user impersonation through 2-Legged OAuth"
    impersonation: bool = False

    @property
    def created_ms(self) -> int:
        """Creation time in epoch milliseconds."""
        return int(self.created * 1000)

    def to_json(self) -> dict[str, Any]:
        """The link as the control API shows it."""
        return {
            "type": "oauth1",
            "id": self.id,
            "name": self.name,
            "consumer_key": self.consumer_key,
            "consumer_name": self.consumer_name,
            "description": self.description,
            "public_key": self.public_key,
            "callback_url": self.callback_url,
            "two_legged": self.two_legged,
            "execute_as": self.execute_as,
            "impersonation": self.impersonation,
        }


class Authorization(enum.Enum):
    """Where the user's decision on a request token stands (``ServiceProviderToken``)."""

    NONE = "none"
    AUTHORIZED = "authorized"
    DENIED = "denied"


@dataclass(slots=True)
class RequestToken:
    """A temporary credential: issued to a consumer, then authorized or denied by a user."""

    token: str
    secret: str
    consumer_key: str
    #: The ``oauth_callback`` given at request-token time; None for ``oob``.
    callback: str | None
    created: float
    expires: float
    authorization: Authorization = Authorization.NONE
    user_id: int | None = None
    verifier: str | None = None


@dataclass(slots=True)
class AccessToken:
    """A token credential: a user's grant to a consumer, within a renewable session."""

    token: str
    secret: str
    consumer_key: str
    user_id: int
    created: float
    expires: float
    session_handle: str
    session_expires: float


@dataclass(slots=True)
class PendingLink:
    """An OAuth 1 link made on the admin pages whose Incoming Authentication is not saved yet
    (the backend holds only links with a consumer key and a public key)."""

    id: str
    name: str
    application_url: str
    created: float

    @property
    def created_ms(self) -> int:
        """Creation time in epoch milliseconds."""
        return int(self.created * 1000)


@dataclass(slots=True)
class OAuth1PageState:
    """What the admin pages keep beside the OAuth 1 backend."""

    #: Links without Incoming Authentication, by id.
    pending: dict[str, PendingLink] = field(default_factory=dict)
    #: The Application URL entered for a backend link, by the link's id.
    application_urls: dict[str, str] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget every waiting link and URL."""
        self.pending.clear()
        self.application_urls.clear()
