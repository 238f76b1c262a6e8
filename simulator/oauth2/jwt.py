"""Bitbucket's token format: an HS256 JWT whose only claim is the token's ``id``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

_HEADER = {"alg": "HS256"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(token_id: str, secret: bytes) -> str:
    """``header.payload.signature`` carrying ``{"id": token_id}``."""
    header = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64(json.dumps({"id": token_id}, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def decode(token: str, secret: bytes) -> str | None:
    """The token id if the JWT is well formed, HS256 and correctly signed; else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = json.loads(_unb64(header_b64))
        payload = json.loads(_unb64(payload_b64))
        signature = _unb64(signature_b64)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None
    expected = hmac.new(secret, f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256)
    if not hmac.compare_digest(expected.digest(), signature):
        return None
    token_id = payload.get("id") if isinstance(payload, dict) else None
    return token_id if isinstance(token_id, str) else None
