"""OAuth 1.0a for the reference: the generated RSA key pair and the request signer.

The integration generates its consumer's key pair (:func:`generate_consumer`) and hands the
admin the public half as a self-signed X.509 certificate, as Private Packagist does. Every
request to Bitbucket's OAuth 1 servlets and to the REST API is signed by
:class:`OAuth1Signer` with oauthlib's :class:`~oauthlib.oauth1.Client` (RSA-SHA1, parameters
in the ``Authorization`` header, the query string of the URL included in the signature); no
base string is built here.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client

from conformance.reference import rules
from conformance.reference.models import OAuth1Consumer

#: RSA's usual public exponent.
PUBLIC_EXPONENT = 65537


def generate_consumer(consumer_key: str, common_name: str, now: float) -> OAuth1Consumer:
    """A consumer key with a fresh RSA key pair; the public key as a self-signed certificate
    (subject and issuer ``CN=<common_name>``, valid from ``now``)."""
    key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=rules.RSA_KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(minutes=5))
        .not_valid_after(start + datetime.timedelta(days=rules.CERTIFICATE_DAYS))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return OAuth1Consumer(
        consumer_key=consumer_key,
        private_key=private_pem.decode("ascii"),
        certificate=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


@dataclass(frozen=True, slots=True)
class OAuth1Signer:
    """Signs requests as one consumer, optionally with a token (request or access token).

    ``now`` is the integration's clock (``oauth_timestamp``); each :meth:`sign` makes a new
    nonce.
    """

    consumer_key: str
    private_key: str
    now: Callable[[], float]
    token: str | None = None
    token_secret: str | None = None
    #: ``oauth_callback`` (request-token only).
    callback: str | None = None
    #: ``oauth_verifier`` (access-token only).
    verifier: str | None = None

    def sign(self, method: str, url: str) -> tuple[str, dict[str, str]]:
        """The URL to send (as signed) and the headers carrying the signature. ``url`` is the
        full URL, query included: its parameters are part of the signature."""
        client = Client(
            self.consumer_key,
            resource_owner_key=self.token,
            resource_owner_secret=self.token_secret,
            callback_uri=self.callback,
            verifier=self.verifier,
            signature_method=rules.OAUTH1_SIGNATURE_METHOD,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            rsa_key=loaded_private_key(self.private_key),
            timestamp=str(int(self.now())),
        )
        signed_url, headers, _ = client.sign(url, http_method=method)
        return str(signed_url), {str(k): str(v) for k, v in headers.items()}


@functools.lru_cache(maxsize=64)
def loaded_private_key(pem: str) -> rsa.RSAPrivateKey:
    """The private key parsed once: oauthlib would parse (and check) the PEM on every
    signature, about 50 ms each; it signs with an already loaded key object too."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the consumer's private key is not an RSA key")
    return key
