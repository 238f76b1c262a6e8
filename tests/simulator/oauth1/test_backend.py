"""The OAuth 1 backend: links and their public keys, token lifetimes, timestamps, nonces."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simulator.config import OAuth1Config
from simulator.oauth1.backend import (
    SESSION_GRACE_SECONDS,
    OAuth1ValidationError,
    read_public_key,
)
from simulator.oauth1.models import Authorization
from simulator.oauth1.problems import OAuth1ProblemError
from simulator.settings import Settings
from simulator.store import Store
from tests.simulator.oauth1.signing import CONSUMER_KEY, KeyPair, make_link


@pytest.fixture
def store() -> Store:
    """A store without an HTTP app."""
    return Store(Settings(port=0))


def numbers(pem: str) -> tuple[int, int]:
    """The modulus and exponent of a PEM RSA public key."""
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key.public_numbers().n, key.public_numbers().e


# -- public keys --------------------------------------------------------------------------------


def test_pem_public_key_is_read(keys: KeyPair) -> None:
    key = read_public_key(keys.public_pem)
    assert (key.public_numbers().n, key.public_numbers().e) == numbers(keys.public_pem)


def test_self_signed_certificate_gives_its_public_key(keys: KeyPair, certificate: str) -> None:
    key = read_public_key(certificate)
    assert key.public_numbers().n == numbers(keys.public_pem)[0]


def test_bare_base64_of_the_key_is_read(keys: KeyPair) -> None:
    body = "".join(line for line in keys.public_pem.splitlines() if "-----" not in line)
    assert read_public_key(body).public_numbers().n == numbers(keys.public_pem)[0]


def test_pkcs1_rsa_public_key_is_read(keys: KeyPair) -> None:
    pkcs1 = keys.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    assert read_public_key(pkcs1.decode()).key_size == 2048


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        base64.b64encode(b"garbage bytes").decode(),
        "ünïcode",
    ],
)
def test_bad_public_key_is_a_public_key_error(text: str) -> None:
    with pytest.raises(OAuth1ValidationError) as caught:
        read_public_key(text)
    assert caught.value.field == "public_key"


def test_private_key_is_refused_with_advice(keys: KeyPair) -> None:
    with pytest.raises(OAuth1ValidationError, match="private key") as caught:
        read_public_key(keys.private_pem)
    assert caught.value.field == "public_key"


def test_non_rsa_key_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(OAuth1ValidationError, match="RSA"):
        read_public_key(pem.decode())


def test_short_rsa_key_is_refused() -> None:
    modulus = (1 << 511) | 0xC0FFEE1  # odd, 512 bits: cryptography will not generate one
    pem = (
        rsa.RSAPublicNumbers(65537, modulus)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(OAuth1ValidationError, match="1024"):
        read_public_key(pem.decode())


# -- links --------------------------------------------------------------------------------------


def test_link_keeps_the_text_and_defaults_the_consumer_name(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem, description=" Packages ")
    assert link.consumer_key == CONSUMER_KEY
    assert link.consumer_name == "Packagist"
    assert link.public_key == keys.public_pem.strip()
    assert link.description == "Packages"
    assert link.callback_url is None
    assert store.oauth1.link_by_consumer_key(CONSUMER_KEY) is link


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"consumer_key": ""}, "consumer_key"),
        ({"consumer_name": "y" * 256}, "consumer_name"),
        ({"public_key": "nope"}, "public_key"),
        ({"callback_url": "/relative"}, "callback_url"),
        ({"callback_url": "ftp://packagist.example/cb"}, "callback_url"),
        ({"callback_url": "https://packagist.example/a b"}, "callback_url"),
    ],
)
def test_bad_link_field_is_named(
    store: Store, keys: KeyPair, change: dict[str, Any], field: str
) -> None:
    values = {"public_key": keys.public_pem, **change}
    with pytest.raises(OAuth1ValidationError) as caught:
        store.oauth1.create_link(
            name=values.pop("name", "Packagist"),
            consumer_key=values.pop("consumer_key", "k"),
            **values,
        )
    assert caught.value.field == field
    assert store.oauth1.links == {}


def test_consumer_keys_are_unique(store: Store, keys: KeyPair) -> None:
    make_link(store, keys.public_pem)
    with pytest.raises(OAuth1ValidationError) as caught:
        make_link(store, keys.public_pem, name="Other")
    assert caught.value.field == "consumer_key"


def test_update_with_a_new_consumer_key_drops_the_old_tokens(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem)
    store.oauth1.issue_request_token(link, None)
    store.oauth1.update_link(
        link, consumer_key="renamed", consumer_name="Packagist", public_key=keys.public_pem
    )
    assert link.consumer_key == "renamed"
    assert store.oauth1.request_tokens == {}


def test_bad_update_changes_nothing(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem)
    with pytest.raises(OAuth1ValidationError):
        store.oauth1.update_link(
            link, consumer_key="renamed", consumer_name="Packagist", public_key="bad"
        )
    assert link.consumer_key == CONSUMER_KEY


def test_deleting_a_link_deletes_its_tokens(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem)
    request_token = store.oauth1.issue_request_token(link, None)
    store.oauth1.authorize(request_token, 2)
    store.oauth1.exchange(request_token)
    assert store.oauth1.delete_link(link.id) is link
    assert store.oauth1.access_tokens == {}
    assert store.oauth1.delete_link(link.id) is None


def test_reset_forgets_everything(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem)
    store.oauth1.issue_request_token(link, None)
    store.reset()
    assert store.oauth1.links == {}
    assert store.oauth1.request_tokens == {}


# -- tokens -------------------------------------------------------------------------------------


def test_request_token_expires_on_the_simulated_clock(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    assert not store.oauth1.request_token_expired(token)
    store.clock.advance(OAuth1Config().request_token_seconds)
    assert store.oauth1.request_token_expired(token)
    with pytest.raises(OAuth1ProblemError, match="token_expired"):
        store.oauth1.token_for_authorization(token.token)


def test_verifier_is_six_letters_or_digits(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    verifier = store.oauth1.authorize(token, 2)
    assert len(verifier) == 6
    assert verifier.isalnum()
    assert token.authorization is Authorization.AUTHORIZED


def test_decided_token_cannot_be_authorized_again(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    store.oauth1.deny(token, 2)
    with pytest.raises(OAuth1ProblemError, match="token_used"):
        store.oauth1.token_for_authorization(token.token)


def test_access_token_lives_in_a_session_thirty_days_longer(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    store.oauth1.authorize(token, 2)
    access = store.oauth1.exchange(token)
    assert round(access.expires - access.created) == OAuth1Config().access_token_seconds
    assert round(access.session_expires - access.expires) == SESSION_GRACE_SECONDS
    assert token.token not in store.oauth1.request_tokens


def test_unauthorized_request_token_cannot_be_exchanged(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    with pytest.raises(ValueError, match="not authorized"):
        store.oauth1.exchange(token)


def test_renewal_keeps_the_session_and_retires_the_old_token(store: Store, keys: KeyPair) -> None:
    token = store.oauth1.issue_request_token(make_link(store, keys.public_pem), None)
    store.oauth1.authorize(token, 2)
    first = store.oauth1.exchange(token)
    second = store.oauth1.renew(first)
    assert second.session_handle == first.session_handle
    assert second.token != first.token
    assert first.token not in store.oauth1.access_tokens


def test_callback_of_prefers_the_token_then_the_link(store: Store, keys: KeyPair) -> None:
    link = make_link(store, keys.public_pem, callback_url="https://link.example/cb")
    assert store.oauth1.callback_of(store.oauth1.issue_request_token(link, None)) == (
        "https://link.example/cb"
    )
    given = store.oauth1.issue_request_token(link, "https://token.example/cb")
    assert store.oauth1.callback_of(given) == "https://token.example/cb"


# -- timestamps and nonces ----------------------------------------------------------------------


def test_timestamp_window_follows_the_clock(store: Store) -> None:
    now = int(store.clock.now())
    assert store.oauth1.check_timestamp(now) is None
    store.clock.advance(301)
    refused = store.oauth1.check_timestamp(now)
    assert refused is not None
    low, high = (int(part) for part in refused.parameters["oauth_acceptable_timestamps"].split("-"))
    assert low <= int(store.clock.now()) <= high
    assert high - low == 600


def test_window_setting_widens_the_range(store: Store) -> None:
    store.config.patch({"oauth1": {"timestamp_window_seconds": 3600}})
    assert store.oauth1.check_timestamp(int(store.clock.now()) - 3000) is None


def test_nonce_is_single_use_per_consumer_token_and_time(store: Store) -> None:
    now = int(store.clock.now())
    assert store.oauth1.use_nonce("c", None, now, "n1")
    assert not store.oauth1.use_nonce("c", None, now, "n1")
    assert store.oauth1.use_nonce("c", "t", now, "n1")
    assert store.oauth1.use_nonce("d", None, now, "n1")
    assert store.oauth1.use_nonce("c", None, now + 1, "n1")


def test_old_nonces_are_forgotten(store: Store) -> None:
    now = int(store.clock.now())
    store.oauth1.use_nonce("c", None, now, "n1")
    store.clock.advance(400)
    assert store.oauth1.use_nonce("c", None, now, "n1")
