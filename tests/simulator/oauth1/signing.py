"""Helpers of the OAuth 1 tests: keys, links, signing with oauthlib's client, the dance."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientResponse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from oauthlib.oauth1 import SIGNATURE_RSA_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client

from simulator.oauth1.models import OAuth1Link
from simulator.store import Store
from tests.conftest import Client as HttpClient
from tests.simulator.oauth2.test_oauth2_flow import cookie, log_in, parse_page

CONSUMER_KEY = "packagist-acme"
CALLBACK = "https://packagist.example/oauth1/callback?org=acme"
REQUEST_TOKEN = "/plugins/servlet/oauth/request-token"
AUTHORIZE = "/plugins/servlet/oauth/authorize"
ACCESS_TOKEN = "/plugins/servlet/oauth/access-token"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An RSA key pair as PEM text."""

    private_pem: str
    public_pem: str
    key: rsa.RSAPrivateKey


def make_key_pair(bits: int = 2048) -> KeyPair:
    """A fresh RSA key pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem=private_pem, public_pem=public_pem, key=key)


def self_signed_certificate(pair: KeyPair) -> str:
    """A self-signed certificate for the pair's key, valid for a year."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "packagist.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pair.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(pair.key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def make_link(store: Store, public_key: str, **fields: Any) -> OAuth1Link:
    """An OAuth 1 link with this consumer key and public key."""
    values: dict[str, Any] = {
        "name": "Packagist",
        "consumer_key": CONSUMER_KEY,
        "public_key": public_key,
        **fields,
    }
    return store.oauth1.create_link(**values)


def signed_headers(
    url: str,
    keys: KeyPair,
    *,
    method: str = "POST",
    consumer_key: str = CONSUMER_KEY,
    token: str | None = None,
    verifier: str | None = None,
    callback: str | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    signature_method: str = SIGNATURE_RSA_SHA1,
    timestamp: str | None = None,
    nonce: str | None = None,
    client_secret: str | None = None,
) -> dict[str, str]:
    """The headers of a request signed by oauthlib's client (``Authorization: OAuth ...``)."""
    client = Client(
        consumer_key,
        client_secret=client_secret,
        resource_owner_key=token,
        verifier=verifier,
        callback_uri=callback,
        signature_method=signature_method,
        rsa_key=keys.private_pem if signature_method.startswith("RSA") else None,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        timestamp=timestamp,
        nonce=nonce,
    )
    _, signed, _ = client.sign(url, http_method=method, body=body, headers=headers)
    return dict(signed)


def form_of(text: str) -> dict[str, str]:
    """A form-encoded body as a dict (first of repeats)."""
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def url_of(client: HttpClient, path: str) -> str:
    """The absolute URL the test client requests for a path (what the consumer signs)."""
    return str(client.make_url(path))


async def problem_of(response: ClientResponse, status: int, problem: str) -> dict[str, str]:
    """Assert an OAuth problem answer and return its body's fields."""
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    body = form_of(text)
    assert body["oauth_problem"] == problem, body
    header = response.headers["WWW-Authenticate"]
    assert header.startswith('OAuth realm="'), header
    assert f'oauth_problem="{problem}"' in header
    return body


async def request_token(
    client: HttpClient, keys: KeyPair, callback: str = CALLBACK, **options: Any
) -> dict[str, str]:
    """``POST request-token`` signed with ``keys``; assert 200 and return the fields."""
    url = url_of(client, REQUEST_TOKEN)
    response = await client.post(
        REQUEST_TOKEN, headers=signed_headers(url, keys, callback=callback, **options)
    )
    text = await response.text()
    assert response.status == 200, text
    assert response.headers["Content-Type"] == "text/plain"
    return form_of(text)


async def decide(
    client: HttpClient, store: Store, token: str, username: str = "alice", decision: str = "approve"
) -> ClientResponse:
    """Log in, open the Allow/Deny page and press a button; the (unfollowed) answer."""
    session_id = await log_in(client, store, username)
    page = await client.get(AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id))
    assert page.status == 200, await page.text()
    fields = parse_page(await page.text()).hidden()
    fields[decision] = decision.title()
    return await client.post(
        AUTHORIZE, data=fields, headers=cookie(session_id), allow_redirects=False
    )


async def verifier_for(
    client: HttpClient, store: Store, token: str, username: str = "alice"
) -> str:
    """Approve a request token as ``username``; the verifier sent to the callback."""
    response = await decide(client, store, token, username)
    assert response.status == 302, await response.text()
    return form_of(response.headers["Location"].split("?", 1)[1])["oauth_verifier"]


async def access_token(
    client: HttpClient, store: Store, keys: KeyPair, username: str = "alice"
) -> dict[str, str]:
    """The whole dance for ``username``; the access-token answer's fields."""
    temporary = await request_token(client, keys)
    verifier = await verifier_for(client, store, temporary["oauth_token"], username)
    url = url_of(client, ACCESS_TOKEN)
    headers = signed_headers(url, keys, token=temporary["oauth_token"], verifier=verifier)
    response = await client.post(ACCESS_TOKEN, headers=headers)
    text = await response.text()
    assert response.status == 200, text
    return form_of(text)
