"""PKCE (RFC 7636) as Bitbucket checks it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

#: The challenge and the verifier share one rule: 43 to 128 unreserved characters.
PKCE_PATTERN = re.compile(r"^[0-9a-zA-Z~\-._]{43,128}$")
METHODS = ("PLAIN", "S256")


class PkceError(ValueError):
    """A malformed challenge or verifier, or an unsupported method."""


def normalise_method(method: str | None, challenge: str | None) -> str | None:
    """The method as Bitbucket stores it: upper-cased; ``PLAIN`` when a challenge has none."""
    if not challenge:
        if method:
            raise PkceError("code_challenge_method given without code_challenge")
        return None
    upper = (method or "plain").upper()
    if upper not in METHODS:
        raise PkceError(f"Unsupported code_challenge_method: {method}")
    return upper


def check_challenge(challenge: str) -> None:
    """Raise :class:`PkceError` unless the challenge has the allowed length and alphabet."""
    if not PKCE_PATTERN.match(challenge):
        raise PkceError("The code_challenge is malformed")


def s256(verifier: str) -> str:
    """BASE64URL-no-padding(SHA-256(ASCII(verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(verifier: str | None, challenge: str, method: str) -> bool:
    """Whether the verifier is well formed and matches the challenge under the method."""
    if not verifier or not PKCE_PATTERN.match(verifier):
        return False
    expected = s256(verifier) if method == "S256" else verifier
    return secrets.compare_digest(expected.encode(), challenge.encode())
