"""RSA keys for the OAuth 1 tests, made once per module with ``cryptography``."""

from __future__ import annotations

import pytest

from tests.simulator.oauth1.signing import KeyPair, make_key_pair, self_signed_certificate


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    """The consumer's key pair (its public key goes into the link)."""
    return make_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    """Another key pair, which no link knows."""
    return make_key_pair()


@pytest.fixture(scope="module")
def certificate(keys: KeyPair) -> str:
    """A self-signed X.509 certificate (PEM) for the consumer's key, as Packagist supplies."""
    return self_signed_certificate(keys)
