"""OAuth 1 guide, "Open the Add Integration form": with OAuth 1 chosen, the integration
generates the Client ID / Key (Bitbucket's Consumer Key) and an RSA key pair, and shows the
Consumer Key, the Public Key (Packagist supplies a self-signed certificate), the Application
URL to link Bitbucket to, and that the Consumer Callback URL is to be left empty.

The form is opened with the common steps (``selects "Bitbucket Data Center / Server" with
the server's base URL and OAuth 1``); these steps read what it shows
(:class:`~conformance.sut.CreatedIntegration`'s OAuth 1 fields).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.context import ScenarioContext
from conformance.steps import expect, then
from conformance.steps.open_the_add_integration_form import on_server
from conformance.sut import CreatedIntegration

#: The longest value Bitbucket's Incoming Authentication and Application URL fields take.
MAX_FIELD_LENGTH = 255
#: The smallest RSA key Bitbucket's OAuth 1 links accept.
MIN_RSA_BITS = 1024
_LEAVE_EMPTY = re.compile(r"callback.*\bempty\b|\bempty\b.*callback", re.IGNORECASE | re.DOTALL)
_NOT_OAUTH1 = "(was the form opened with OAuth 1?)"


def rsa_public_key(text: str | None) -> rsa.RSAPublicKey | None:
    """The RSA public key in a PEM X.509 certificate or PEM public key; None otherwise."""
    if not text:
        return None
    data = text.replace("\r\n", "\n").strip().encode("ascii", "replace")
    key: object = None
    try:
        key = x509.load_pem_x509_certificate(data).public_key()
    except ValueError:
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def same_public_key(first: str | None, second: str | None) -> bool:
    """Whether two PEM texts (certificate or public key) hold the same RSA public key."""
    one, other = rsa_public_key(first), rsa_public_key(second)
    return one is not None and other is not None and one.public_numbers() == other.public_numbers()


def describe_oauth1_form(form: CreatedIntegration) -> str:
    """What an OAuth 1 form shows, for messages (the Public Key by its first line)."""
    public = (form.public_key or "").strip().splitlines()
    shown = f"{public[0]}… ({len(form.public_key or '')} characters)" if public else "none"
    messages = "; ".join(form.messages) or "none"
    return (
        f"Consumer Key {form.consumer_key!r}, Public Key {shown}, Application URL "
        f"{form.application_url!r}, setup link {form.setup_link!r}, messages: {messages}"
    )


# -- steps -----------------------------------------------------------------------------------------


@then("the integration displays a generated Consumer Key")
def displays_consumer_key(ctx: ScenarioContext) -> None:
    """Asserts the form shows a Consumer Key (the "Client ID / Key") that Bitbucket's Consumer
    Key field takes: not empty, no spaces, at most 255 characters."""
    form = ctx.form
    key = form.consumer_key or ""
    expect(
        key and not re.search(r"\s", key) and len(key) <= MAX_FIELD_LENGTH,
        "a generated Consumer Key (Client ID / Key): not empty, without spaces, at most "
        f"{MAX_FIELD_LENGTH} characters",
        f"the form shows {describe_oauth1_form(form)}",
        _NOT_OAUTH1 if form.consumer_key is None else None,
    )


@then("the integration displays its Public Key as an RSA certificate or public key")
def displays_public_key(ctx: ScenarioContext) -> None:
    """Asserts the form's Public Key is a PEM X.509 certificate or PEM public key holding an
    RSA key of at least 1024 bits (what Bitbucket's Public Key field accepts)."""
    form = ctx.form
    key = rsa_public_key(form.public_key)
    expect(
        key is not None and key.key_size >= MIN_RSA_BITS,
        f"a Public Key Bitbucket accepts: a PEM certificate or public key, RSA of at least "
        f"{MIN_RSA_BITS} bits",
        f"the form shows {describe_oauth1_form(form)}"
        + (f" (an RSA key of {key.key_size} bits)" if key is not None else ""),
        _NOT_OAUTH1 if form.public_key is None else None,
    )


@then("the integration displays the Application URL to link Bitbucket to")
def displays_application_url(ctx: ScenarioContext) -> None:
    """Asserts the form shows an absolute http(s) Application URL of at most 255 characters,
    the integration's own (not on the Bitbucket server)."""
    form = ctx.form
    url = form.application_url or ""
    parts = urlsplit(url)
    expect(
        parts.scheme in ("http", "https")
        and parts.netloc
        and len(url) <= MAX_FIELD_LENGTH
        and not on_server(ctx, url),
        "the integration's Application URL for the link: an absolute http(s) URL of at most "
        f"{MAX_FIELD_LENGTH} characters, not on the Bitbucket server {ctx.base_url}",
        f"the form shows {describe_oauth1_form(form)}",
        _NOT_OAUTH1 if form.application_url is None else None,
    )


@then("the admin is told to leave the Consumer Callback URL empty")
def told_to_leave_callback_empty(ctx: ScenarioContext) -> None:
    """Asserts one of the form's messages says to leave the (Consumer) Callback URL empty."""
    form = ctx.form
    expect(
        any(_LEAVE_EMPTY.search(message) for message in form.messages),
        "a message saying to leave the Consumer Callback URL empty (naming 'callback' and 'empty')",
        f"the form shows {describe_oauth1_form(form)}",
    )


@then("the two forms display different Consumer Keys and Public Keys")
def two_forms_have_their_own_keys(ctx: ScenarioContext) -> None:
    """Asserts the last two forms share neither the Consumer Key nor the RSA key pair."""
    expect(len(ctx.forms) >= 2, "two forms opened in this scenario", f"{len(ctx.forms)} form(s)")
    first, second = ctx.forms[-2], ctx.forms[-1]
    expect(
        first.consumer_key and first.consumer_key != second.consumer_key,
        "each integration to generate its own Consumer Key",
        f"the first shows {first.consumer_key!r}, the second {second.consumer_key!r}",
    )
    keys = [rsa_public_key(first.public_key), rsa_public_key(second.public_key)]
    expect(
        None not in keys and not same_public_key(first.public_key, second.public_key),
        "each integration to generate its own key pair (two different RSA Public Keys)",
        "both forms display the same RSA public key"
        if None not in keys
        else f"a Public Key is not an RSA certificate or public key: {describe_oauth1_form(first)}"
        f" / {describe_oauth1_form(second)}",
    )
