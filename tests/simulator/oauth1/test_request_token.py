"""``POST /plugins/servlet/oauth/request-token``: signed by the consumer's RSA key."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_PLAINTEXT,
    SIGNATURE_RSA_SHA256,
    SIGNATURE_RSA_SHA512,
    SIGNATURE_TYPE_QUERY,
)
from oauthlib.oauth1 import Client as Client1

from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth1.signing import (
    CALLBACK,
    CONSUMER_KEY,
    FORM,
    REQUEST_TOKEN,
    KeyPair,
    form_of,
    make_link,
    problem_of,
    request_token,
    signed_headers,
    url_of,
)


def relative(url: str) -> str:
    """A URL on the test server without its scheme and host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def signed(client: Client, keys: KeyPair, **options: Any) -> dict[str, str]:
    """Headers of a signed request-token request (callback given)."""
    return signed_headers(url_of(client, REQUEST_TOKEN), keys, callback=CALLBACK, **options)


# -- success ------------------------------------------------------------------------------------


async def test_request_token_answers_token_secret_and_callback_confirmed(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(REQUEST_TOKEN, headers=signed(client, keys))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    text = await response.text()
    assert list(form_of(text)) == ["oauth_token", "oauth_token_secret", "oauth_callback_confirmed"]
    body = form_of(text)
    assert body["oauth_callback_confirmed"] == "true"
    stored = store.oauth1.request_tokens[body["oauth_token"]]
    assert stored.secret == body["oauth_token_secret"]
    assert stored.callback == CALLBACK
    assert stored.consumer_key == CONSUMER_KEY


async def test_link_with_a_certificate_verifies_signatures(
    client: Client, store: Store, keys: KeyPair, certificate: str
) -> None:
    make_link(store, certificate)
    assert (await request_token(client, keys))["oauth_token"]


async def test_oob_callback_is_accepted_and_stored_as_none(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    body = await request_token(client, keys, callback="oob")
    assert store.oauth1.request_tokens[body["oauth_token"]].callback is None


async def test_form_body_parameters_are_part_of_the_signature(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    body = "scope=all&note=a+b"
    headers = signed(client, keys, body=body, headers={"Content-Type": FORM})
    response = await client.post(REQUEST_TOKEN, data=body, headers=headers)
    assert response.status == 200, await response.text()


async def test_form_body_changed_after_signing_is_signature_invalid(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys, body="scope=all", headers={"Content-Type": FORM})
    response = await client.post(REQUEST_TOKEN, data="scope=none", headers=headers)
    await problem_of(response, 401, "signature_invalid")


async def test_json_body_is_not_part_of_the_signature(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = {**signed(client, keys), "Content-Type": "application/json"}
    response = await client.post(REQUEST_TOKEN, data=json.dumps({"a": 1}), headers=headers)
    assert response.status == 200, await response.text()


async def test_get_answers_an_empty_200_as_the_servlet_does(client: Client) -> None:
    response = await client.get(REQUEST_TOKEN)
    assert response.status == 200
    assert await response.read() == b""


# -- problems -----------------------------------------------------------------------------------


async def test_unknown_consumer_is_consumer_key_unknown_with_the_realm(
    client: Client, store: Store, keys: KeyPair
) -> None:
    response = await client.post(REQUEST_TOKEN, headers=signed(client, keys))
    await problem_of(response, 401, "consumer_key_unknown")
    realm = quote(store.base_url, safe="~")
    assert response.headers["WWW-Authenticate"] == (
        f'OAuth realm="{realm}", oauth_problem="consumer_key_unknown"'
    )


async def test_tampered_signature_is_signature_invalid_with_the_base_string(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys)
    headers["Authorization"] = headers["Authorization"].replace(
        'oauth_signature="', 'oauth_signature="AAAA'
    )
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 401, "signature_invalid"
    )
    assert body["oauth_signature_method"] == "RSA-SHA1"
    assert body["oauth_signature"].startswith("AAAA")
    assert body["oauth_signature_base_string"].startswith("POST&http%3A%2F%2F127.0.0.1")
    assert "oauth_callback%3D" in body["oauth_signature_base_string"]


async def test_signature_with_another_key_is_signature_invalid(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(REQUEST_TOKEN, headers=signed(client, other_keys))
    await problem_of(response, 401, "signature_invalid")


async def test_replayed_nonce_is_nonce_used(client: Client, store: Store, keys: KeyPair) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys)
    assert (await client.post(REQUEST_TOKEN, headers=headers)).status == 200
    await problem_of(await client.post(REQUEST_TOKEN, headers=headers), 401, "nonce_used")


async def test_stale_timestamp_is_timestamp_refused_with_the_acceptable_range(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys)
    store.clock.advance(301)
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "timestamp_refused"
    )
    low, high = (int(part) for part in body["oauth_acceptable_timestamps"].split("-"))
    assert low <= int(store.clock.now()) <= high
    assert "oauth_acceptable_timestamps=" in response_header(body)


def response_header(body: dict[str, str]) -> str:
    """The body's fields re-joined, to look for a name."""
    return "&".join(f"{k}={v}" for k, v in body.items())


async def test_timestamp_far_in_the_future_is_refused(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    future = str(int(store.clock.now()) + 3600)
    response = await client.post(REQUEST_TOKEN, headers=signed(client, keys, timestamp=future))
    await problem_of(response, 400, "timestamp_refused")


async def test_timestamp_that_is_not_a_number_is_parameter_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(REQUEST_TOKEN, headers=signed(client, keys, timestamp="soon"))
    body = await problem_of(response, 400, "parameter_rejected")
    assert body["oauth_parameters_rejected"] == "oauth_timestamp"


async def test_short_timestamp_is_timestamp_refused(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(REQUEST_TOKEN, headers=signed(client, keys, timestamp="12345"))
    await problem_of(response, 400, "timestamp_refused")


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT])
async def test_hmac_and_plaintext_are_signature_method_rejected(
    client: Client, store: Store, keys: KeyPair, method: str
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys, signature_method=method, client_secret="s3cret")
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "signature_method_rejected"
    )
    assert body["oauth_acceptable_signature_methods"] == "RSA-SHA1"


async def test_rsa_sha256_is_rejected_by_default(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys, signature_method=SIGNATURE_RSA_SHA256)
    await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "signature_method_rejected"
    )


@pytest.mark.parametrize("method", [SIGNATURE_RSA_SHA256, SIGNATURE_RSA_SHA512])
async def test_rsa_sha2_is_accepted_with_the_setting(
    client: Client, store: Store, keys: KeyPair, method: str
) -> None:
    make_link(store, keys.public_pem)
    store.config.patch({"oauth1": {"accept_rsa_sha2": True}})
    assert (await request_token(client, keys, signature_method=method))["oauth_token"]


async def test_rsa_sha256_signed_with_another_key_is_still_invalid(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    store.config.patch({"oauth1": {"accept_rsa_sha2": True}})
    headers = signed(client, other_keys, signature_method=SIGNATURE_RSA_SHA256)
    await problem_of(await client.post(REQUEST_TOKEN, headers=headers), 401, "signature_invalid")


@pytest.mark.parametrize(
    "header",
    [
        "OAuth",
        "OAuth ",
        "OAuth garbage",
        "OAuth ,,,===",
        "oauth",
    ],
)
async def test_malformed_authorization_header_is_parameter_absent(
    client: Client, store: Store, keys: KeyPair, header: str
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(REQUEST_TOKEN, headers={"Authorization": header})
    body = await problem_of(response, 400, "parameter_absent")
    assert body["oauth_parameters_absent"].startswith("oauth_consumer_key&")


async def test_header_with_only_an_unknown_consumer_is_consumer_key_unknown(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = {"Authorization": 'OAuth oauth_consumer_key="unterminated'}
    await problem_of(await client.post(REQUEST_TOKEN, headers=headers), 401, "consumer_key_unknown")


async def test_header_of_another_scheme_is_ignored(client: Client) -> None:
    response = await client.post(REQUEST_TOKEN, headers={"Authorization": "Basic YWxpY2U6YWxpY2U="})
    body = await problem_of(response, 400, "parameter_absent")
    assert body["oauth_parameters_absent"] == "oauth_consumer_key"


async def test_no_authorization_at_all_is_parameter_absent(client: Client) -> None:
    body = await problem_of(await client.post(REQUEST_TOKEN), 400, "parameter_absent")
    assert body["oauth_parameters_absent"] == "oauth_consumer_key"


async def test_missing_callback_is_parameter_absent(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed_headers(url_of(client, REQUEST_TOKEN), keys)
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "parameter_absent"
    )
    assert body["oauth_parameters_absent"] == "oauth_callback"


@pytest.mark.parametrize("callback", ["/relative/path", "javascript:alert(1)", "ftp://x.example/"])
async def test_bad_callback_is_parameter_rejected_with_advice(
    client: Client, store: Store, keys: KeyPair, callback: str
) -> None:
    make_link(store, keys.public_pem)
    headers = signed_headers(url_of(client, REQUEST_TOKEN), keys, callback=callback)
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "parameter_rejected"
    )
    assert body["oauth_parameters_rejected"] == "oauth_callback"
    assert callback in body["oauth_problem_advice"]


async def test_repeated_oauth_parameter_is_parameter_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    query_signer = Client1(
        CONSUMER_KEY,
        signature_method="RSA-SHA1",
        rsa_key=keys.private_pem,
        callback_uri=CALLBACK,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    uri, _, _ = query_signer.sign(url_of(client, REQUEST_TOKEN), http_method="POST")
    response = await client.post(relative(uri) + "&oauth_nonce=again")
    body = await problem_of(response, 400, "parameter_rejected")
    assert "oauth_nonce=again" in body["oauth_parameters_rejected"]


async def test_parameters_signed_in_the_query_are_accepted(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    query_signer = Client1(
        CONSUMER_KEY,
        signature_method="RSA-SHA1",
        rsa_key=keys.private_pem,
        callback_uri=CALLBACK,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    uri, _, _ = query_signer.sign(url_of(client, REQUEST_TOKEN), http_method="POST")
    response = await client.post(relative(uri))
    assert response.status == 200, await response.text()


async def test_oauth_parameters_split_between_header_and_query_are_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    response = await client.post(
        REQUEST_TOKEN, params={"oauth_extra": "x"}, headers=signed(client, keys)
    )
    body = await problem_of(response, 400, "parameter_rejected")
    assert body["oauth_parameters_rejected"] == "oauth_extra"


async def test_other_oauth_version_is_version_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = signed(client, keys)
    headers["Authorization"] = headers["Authorization"].replace(
        'oauth_version="1.0"', 'oauth_version="2.0"'
    )
    body = await problem_of(
        await client.post(REQUEST_TOKEN, headers=headers), 400, "version_rejected"
    )
    assert body["oauth_acceptable_versions"] == "1.0-1.0"


@pytest.mark.parametrize("body", [b"\xff\xfe=\x00", b"a=%ZZ&b", b"<xml/>"])
async def test_form_bodies_that_are_not_form_encoding_are_left_out_of_the_signature(
    client: Client, store: Store, keys: KeyPair, body: bytes
) -> None:
    make_link(store, keys.public_pem)
    headers = {**signed(client, keys), "Content-Type": FORM}
    response = await client.post(REQUEST_TOKEN, data=body, headers=headers)
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("body", [b"%", b"=&=&", b"a=1;b=2"])
async def test_unsigned_form_parameters_are_signature_invalid(
    client: Client, store: Store, keys: KeyPair, body: bytes
) -> None:
    make_link(store, keys.public_pem)
    headers = {**signed(client, keys), "Content-Type": FORM}
    response = await client.post(REQUEST_TOKEN, data=body, headers=headers)
    await problem_of(response, 401, "signature_invalid")


async def test_oauth_parameters_in_header_and_body_are_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    headers = {**signed(client, keys), "Content-Type": FORM}
    response = await client.post(
        REQUEST_TOKEN, data=b"oauth_token=x&oauth_token=y", headers=headers
    )
    body = await problem_of(response, 400, "parameter_rejected")
    assert body["oauth_parameters_rejected"] == "oauth_token"
