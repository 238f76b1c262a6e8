"""``POST /plugins/servlet/oauth/access-token``: exchange an authorized request token, renew."""

from __future__ import annotations

from typing import Any

from oauthlib.oauth1 import SIGNATURE_TYPE_BODY
from oauthlib.oauth1 import Client as OAuthClient

from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth1.signing import (
    ACCESS_TOKEN,
    FORM,
    KeyPair,
    access_token,
    decide,
    form_of,
    make_link,
    problem_of,
    request_token,
    signed_headers,
    url_of,
    verifier_for,
)


def exchange_headers(
    client: Client, keys: KeyPair, token: str, verifier: str | None, **options: Any
) -> dict[str, str]:
    """A signed access-token request for a request token."""
    return signed_headers(
        url_of(client, ACCESS_TOKEN), keys, token=token, verifier=verifier, **options
    )


async def approved(client: Client, store: Store, keys: KeyPair) -> tuple[str, str]:
    """A request token alice approved, and its verifier."""
    make_link(store, keys.public_pem)
    token = (await request_token(client, keys))["oauth_token"]
    return token, await verifier_for(client, store, token)


# -- success ------------------------------------------------------------------------------------


async def test_exchange_answers_the_plugins_fields_and_lifetimes(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    response = await client.post(
        ACCESS_TOKEN, headers=exchange_headers(client, keys, token, verifier)
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    body = form_of(await response.text())
    assert list(body) == [
        "oauth_token",
        "oauth_token_secret",
        "oauth_expires_in",
        "oauth_session_handle",
        "oauth_authorization_expires_in",
    ]
    assert body["oauth_expires_in"] == "157680000"
    assert body["oauth_authorization_expires_in"] == "160272000"
    stored = store.oauth1.access_tokens[body["oauth_token"]]
    assert stored.user_id == store.catalog.users_by_name["alice"].id
    assert stored.session_handle == body["oauth_session_handle"]
    assert token not in store.oauth1.request_tokens


async def test_exchange_accepts_a_json_body(client: Client, store: Store, keys: KeyPair) -> None:
    token, verifier = await approved(client, store, keys)
    headers = {
        **exchange_headers(client, keys, token, verifier),
        "Content-Type": "application/json",
    }
    response = await client.post(ACCESS_TOKEN, data='{"grant": "x"}', headers=headers)
    assert response.status == 200, await response.text()


async def test_exchange_accepts_a_form_body(client: Client, store: Store, keys: KeyPair) -> None:
    token, verifier = await approved(client, store, keys)
    body = "extra=1"
    headers = exchange_headers(
        client, keys, token, verifier, body=body, headers={"Content-Type": FORM}
    )
    response = await client.post(ACCESS_TOKEN, data=body, headers=headers)
    assert response.status == 200, await response.text()


async def test_lifetime_follows_the_setting(client: Client, store: Store, keys: KeyPair) -> None:
    store.config.patch({"oauth1": {"access_token_seconds": 3600}})
    make_link(store, keys.public_pem)
    body = await access_token(client, store, keys)
    assert body["oauth_expires_in"] == "3600"
    assert body["oauth_authorization_expires_in"] == str(3600 + 30 * 86400)


def renewal(client: Client, keys: KeyPair, token: str, handle: str, **options: Any) -> str:
    """A renewal request's form body: every OAuth parameter, the session handle among them,
    signed in the body (oauthlib accepts OAuth parameters from one place only)."""
    signer = OAuthClient(
        "packagist-acme",
        resource_owner_key=token,
        signature_method="RSA-SHA1",
        rsa_key=keys.private_pem,
        signature_type=SIGNATURE_TYPE_BODY,
        **options,
    )
    _, _, body = signer.sign(
        url_of(client, ACCESS_TOKEN),
        http_method="POST",
        body=f"oauth_session_handle={handle}",
        headers={"Content-Type": FORM},
    )
    return str(body)


async def test_session_handle_renews_the_access_token(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    first = await access_token(client, store, keys)
    body = renewal(client, keys, first["oauth_token"], first["oauth_session_handle"])
    response = await client.post(ACCESS_TOKEN, data=body, headers={"Content-Type": FORM})
    assert response.status == 200, await response.text()
    second = form_of(await response.text())
    assert second["oauth_session_handle"] == first["oauth_session_handle"]
    assert second["oauth_token"] != first["oauth_token"]
    assert first["oauth_token"] not in store.oauth1.access_tokens
    assert second["oauth_token"] in store.oauth1.access_tokens


async def test_get_answers_an_empty_200(client: Client) -> None:
    response = await client.get(ACCESS_TOKEN)
    assert response.status == 200
    assert await response.read() == b""


# -- problems -----------------------------------------------------------------------------------


async def test_reused_request_token_is_token_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    first = await client.post(ACCESS_TOKEN, headers=exchange_headers(client, keys, token, verifier))
    assert first.status == 200
    again = await client.post(ACCESS_TOKEN, headers=exchange_headers(client, keys, token, verifier))
    await problem_of(again, 401, "token_rejected")


async def test_wrong_verifier_is_token_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    wrong = "x" + verifier[1:] if verifier[0] != "x" else "y" + verifier[1:]
    response = await client.post(ACCESS_TOKEN, headers=exchange_headers(client, keys, token, wrong))
    await problem_of(response, 401, "token_rejected")
    assert token in store.oauth1.request_tokens


async def test_missing_verifier_is_parameter_absent(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, _ = await approved(client, store, keys)
    response = await client.post(ACCESS_TOKEN, headers=exchange_headers(client, keys, token, None))
    body = await problem_of(response, 400, "parameter_absent")
    assert body["oauth_parameters_absent"] == "oauth_verifier"


async def test_missing_token_is_parameter_absent(client: Client, keys: KeyPair) -> None:
    headers = signed_headers(url_of(client, ACCESS_TOKEN), keys)
    body = await problem_of(
        await client.post(ACCESS_TOKEN, headers=headers), 400, "parameter_absent"
    )
    assert body["oauth_parameters_absent"] == "oauth_token"


async def test_unknown_token_is_token_rejected(client: Client, keys: KeyPair) -> None:
    headers = exchange_headers(client, keys, "no-such-token", "abcdef")
    await problem_of(await client.post(ACCESS_TOKEN, headers=headers), 401, "token_rejected")


async def test_undecided_request_token_is_permission_unknown(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    token = (await request_token(client, keys))["oauth_token"]
    response = await client.post(
        ACCESS_TOKEN, headers=exchange_headers(client, keys, token, "abcdef")
    )
    await problem_of(response, 401, "permission_unknown")


async def test_denied_request_token_is_permission_denied(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    token = (await request_token(client, keys))["oauth_token"]
    assert (await decide(client, store, token, decision="deny")).status == 302
    response = await client.post(
        ACCESS_TOKEN, headers=exchange_headers(client, keys, token, "denied")
    )
    await problem_of(response, 401, "permission_denied")


async def test_expired_request_token_is_token_expired(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    store.clock.advance(601)
    response = await client.post(
        ACCESS_TOKEN, headers=exchange_headers(client, keys, token, verifier)
    )
    await problem_of(response, 401, "token_expired")


async def test_request_token_of_another_consumer_is_token_rejected(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    make_link(store, other_keys.public_pem, name="Other", consumer_key="other")
    headers = exchange_headers(client, other_keys, token, verifier, consumer_key="other")
    await problem_of(await client.post(ACCESS_TOKEN, headers=headers), 401, "token_rejected")


async def test_exchange_signed_with_another_key_is_signature_invalid(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    headers = exchange_headers(client, other_keys, token, verifier)
    await problem_of(await client.post(ACCESS_TOKEN, headers=headers), 401, "signature_invalid")
    assert token in store.oauth1.request_tokens


async def test_replayed_exchange_is_nonce_used_before_the_token_is_spent(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    headers = exchange_headers(client, keys, token, verifier)
    headers["Authorization"] = headers["Authorization"].replace(
        'oauth_signature="', 'oauth_signature="AAAA'
    )
    await problem_of(await client.post(ACCESS_TOKEN, headers=headers), 401, "signature_invalid")
    await problem_of(await client.post(ACCESS_TOKEN, headers=headers), 401, "nonce_used")


async def test_request_token_of_a_deleted_link_is_token_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token, verifier = await approved(client, store, keys)
    link = store.oauth1.link_by_consumer_key("packagist-acme")
    assert link is not None
    store.oauth1.delete_link(link.id)
    response = await client.post(
        ACCESS_TOKEN, headers=exchange_headers(client, keys, token, verifier)
    )
    await problem_of(response, 401, "token_rejected")


async def test_renewal_with_a_wrong_session_handle_is_token_rejected(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    first = await access_token(client, store, keys)
    body = renewal(client, keys, first["oauth_token"], "wrong")
    response = await client.post(ACCESS_TOKEN, data=body, headers={"Content-Type": FORM})
    await problem_of(response, 401, "token_rejected")


async def test_renewal_without_a_session_handle_is_parameter_absent(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    first = await access_token(client, store, keys)
    headers = signed_headers(url_of(client, ACCESS_TOKEN), keys, token=first["oauth_token"])
    body = await problem_of(
        await client.post(ACCESS_TOKEN, headers=headers), 400, "parameter_absent"
    )
    assert body["oauth_parameters_absent"] == "oauth_session_handle"


async def test_renewal_signed_with_another_key_is_signature_invalid(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    first = await access_token(client, store, keys)
    body = renewal(client, other_keys, first["oauth_token"], first["oauth_session_handle"])
    response = await client.post(ACCESS_TOKEN, data=body, headers={"Content-Type": FORM})
    await problem_of(response, 401, "signature_invalid")
    assert first["oauth_token"] in store.oauth1.access_tokens


async def test_renewal_after_the_session_is_permission_denied(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    first = await access_token(client, store, keys)
    store.clock.advance(160_272_001)
    body = renewal(
        client,
        keys,
        first["oauth_token"],
        first["oauth_session_handle"],
        timestamp=str(int(store.clock.now())),
    )
    response = await client.post(ACCESS_TOKEN, data=body, headers={"Content-Type": FORM})
    await problem_of(response, 401, "permission_denied")
