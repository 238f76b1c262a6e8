"""The OAuth 1 pieces without a server: the generated consumer, oauthlib's RSA-SHA1 signature
over the whole URL, and reading Bitbucket's ``oauth_problem`` answers."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature

from conformance.reference import rules
from conformance.reference.bitbucket import Answer
from conformance.reference.models import OAuth1Consumer
from conformance.reference.oauth1 import OAuth1Signer, generate_consumer

NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def consumer() -> OAuth1Consumer:
    """One generated consumer (RSA generation is slow enough to share)."""
    return generate_consumer("packagist-test", rules.NAME, NOW)


def public_pem(consumer: OAuth1Consumer) -> str:
    """The PEM public key inside the consumer's certificate."""
    key = x509.load_pem_x509_certificate(consumer.certificate.encode()).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def verifies(consumer: OAuth1Consumer, method: str, url: str, headers: dict[str, str]) -> bool:
    """Whether the request's RSA-SHA1 signature verifies with the certificate's key (the
    provider's side, by oauthlib)."""
    query = urlsplit(url).query
    every = signature.collect_parameters(
        uri_query=query, headers=headers, exclude_oauth_signature=False
    )
    request = Request(url, method, headers=headers)
    request.params = signature.collect_parameters(uri_query=query, headers=headers)
    request.signature = dict(every)["oauth_signature"]
    result: bool = signature.verify_rsa_sha1(request, public_pem(consumer))
    return result


def test_consumer_is_a_self_signed_certificate_of_the_private_key(
    consumer: OAuth1Consumer,
) -> None:
    certificate = x509.load_pem_x509_certificate(consumer.certificate.encode())
    private = serialization.load_pem_private_key(consumer.private_key.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == rules.RSA_KEY_BITS
    assert certificate.public_key() == private.public_key()
    assert certificate.subject == certificate.issuer
    assert certificate.not_valid_before_utc.timestamp() <= NOW
    assert consumer.consumer_key == "packagist-test"


def test_signer_signs_rsa_sha1_in_the_header_with_the_integrations_clock(
    consumer: OAuth1Consumer,
) -> None:
    signer = OAuth1Signer(
        consumer.consumer_key, consumer.private_key, now=lambda: NOW, callback="https://p/cb"
    )
    url, headers = signer.sign("POST", "https://h/bb/plugins/servlet/oauth/request-token")
    assert url == "https://h/bb/plugins/servlet/oauth/request-token"
    pairs = dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))
    assert pairs["oauth_signature_method"] == "RSA-SHA1"
    assert pairs["oauth_consumer_key"] == "packagist-test"
    assert pairs["oauth_timestamp"] == str(int(NOW))
    assert pairs["oauth_callback"] == "https://p/cb"
    assert "oauth_token" not in pairs
    assert verifies(consumer, "POST", url, headers)


def test_signature_covers_the_query_string(consumer: OAuth1Consumer) -> None:
    signer = OAuth1Signer(
        consumer.consumer_key,
        consumer.private_key,
        now=lambda: NOW,
        token="access",
        token_secret="secret",
    )
    query = urlencode({"filter": "jane@example.com", "start": "0"})
    url, headers = signer.sign("GET", f"https://h/rest/api/1.0/users?{query}")
    assert dict(parse_qsl(urlsplit(url).query)) == {"filter": "jane@example.com", "start": "0"}
    assert verifies(consumer, "GET", url, headers)
    assert not verifies(consumer, "GET", url.replace("start=0", "start=25"), headers)
    pairs = dict(signature.collect_parameters(headers=headers))
    assert pairs["oauth_token"] == "access"


def test_access_token_request_carries_the_request_token_and_verifier(
    consumer: OAuth1Consumer,
) -> None:
    signer = OAuth1Signer(
        consumer.consumer_key,
        consumer.private_key,
        now=lambda: NOW,
        token="request",
        token_secret="secret",
        verifier="a1B2c3",
    )
    _, headers = signer.sign("POST", "https://h/plugins/servlet/oauth/access-token")
    pairs = dict(signature.collect_parameters(headers=headers))
    assert (pairs["oauth_token"], pairs["oauth_verifier"]) == ("request", "a1B2c3")


def test_each_signature_has_a_new_nonce(consumer: OAuth1Consumer) -> None:
    signer = OAuth1Signer(consumer.consumer_key, consumer.private_key, now=lambda: NOW)
    nonces = {
        dict(signature.collect_parameters(headers=signer.sign("GET", "https://h/")[1]))[
            "oauth_nonce"
        ]
        for _ in range(5)
    }
    assert len(nonces) == 5


def test_problem_is_read_from_the_form_body() -> None:
    answer = Answer(401, None, b"oauth_problem=consumer_key_unknown")
    assert answer.oauth1_problem == ("consumer_key_unknown", "")


def test_problem_is_read_from_www_authenticate_when_the_body_has_none() -> None:
    challenge = 'OAuth realm="http%3A%2F%2Fh", oauth_problem="token_rejected"'
    answer = Answer(401, None, b"", challenge)
    assert answer.oauth1_problem == ("token_rejected", "")


def test_two_factor_advice_is_part_of_the_error_text() -> None:
    body = urlencode(
        {
            "oauth_problem": "permission_denied",
            "oauth_problem_advice": "Two-factor authentication is required for this user.",
        }
    ).encode()
    answer = Answer(401, None, body)
    assert answer.oauth1_problem[0] == "permission_denied"
    assert rules.two_factor_blocked(answer.status, answer.error_text)


def test_token_answer_is_read_as_a_form_and_json_is_not() -> None:
    token = Answer(200, None, b"oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true")
    assert token.form() == {
        "oauth_token": "t",
        "oauth_token_secret": "s",
        "oauth_callback_confirmed": "true",
    }
    assert token.oauth1_problem == ("", "")
    assert Answer(401, None, b'{"errors": []}').form() == {}
    assert Answer(401, None, b'{"errors": []}', "Bearer realm=x").oauth1_problem == ("", "")
