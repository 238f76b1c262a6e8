"""REST calls signed with OAuth 1: :func:`resolve_oauth1` and, once ``simulator/auth.py``
calls it for ``Authorization: OAuth`` requests, the REST API end to end."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from simulator.auth import Principal
from simulator.model import ProjectLevel, RepoLevel
from simulator.oauth1.message import SignedRequest
from simulator.oauth1.models import AccessToken
from simulator.oauth1.problems import OAuth1ProblemError
from simulator.oauth1.resource import resolve_oauth1, resolve_signed
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client
from tests.schemas import validate
from tests.simulator.oauth1.signing import (
    CONSUMER_KEY,
    FORM,
    KeyPair,
    access_token,
    make_link,
    problem_of,
    signed_headers,
    url_of,
)

HOST = "127.0.0.1:7990"
USER_URL = f"http://{HOST}/rest/api/1.0/users/alice"


@pytest.fixture
def offline() -> Store:
    """A store without an HTTP app, for calling the resolver directly."""
    return Store(Settings(port=0))


def grant(store: Store, keys: KeyPair, username: str = "alice", **link: Any) -> AccessToken:
    """A link and an access token of ``username`` made through the backend."""
    found = store.oauth1.link_by_consumer_key(link.get("consumer_key", CONSUMER_KEY))
    made = found or make_link(store, keys.public_pem, **link)
    request_token = store.oauth1.issue_request_token(made, None)
    store.oauth1.authorize(request_token, store.catalog.users_by_name[username].id)
    return store.oauth1.exchange(request_token)


def signed_get(
    keys: KeyPair, url: str = USER_URL, token: str | None = None, **options: Any
) -> SignedRequest:
    """A signed GET as the resolver sees it."""
    headers = signed_headers(url, keys, method="GET", token=token, **options)
    return SignedRequest.build("GET", url, headers)


def resolve(store: Store, signed: SignedRequest) -> Principal:
    """The principal, asserting it is an OAuth 1 one."""
    principal = resolve_signed(store, signed)
    assert principal.method == "oauth1"
    return principal


def problem(store: Store, signed: SignedRequest) -> OAuth1ProblemError:
    """The problem the resolver raises."""
    with pytest.raises(OAuth1ProblemError) as caught:
        resolve_signed(store, signed)
    return caught.value


# -- resolve_oauth1 ---------------------------------------------------------------------------


async def test_no_authorization_header_is_none(offline: Store) -> None:
    request = make_mocked_request("GET", "/rest/api/1.0/users/alice", headers={"Host": HOST})
    assert await resolve_oauth1(request, offline) is None


async def test_other_schemes_are_none(offline: Store) -> None:
    headers = {"Host": HOST, "Authorization": "Bearer abc"}
    request = make_mocked_request("GET", "/rest/api/1.0/users/alice", headers=headers)
    assert await resolve_oauth1(request, offline) is None


async def test_signed_request_resolves_to_the_tokens_user(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    headers = {"Host": HOST, **signed_headers(USER_URL, keys, method="GET", token=token.token)}
    request = make_mocked_request("GET", "/rest/api/1.0/users/alice", headers=headers)
    principal = await resolve_oauth1(request, offline)
    assert principal is not None
    assert principal.user is not None
    assert principal.user.name == "alice"
    assert principal.method == "oauth1"


async def test_malformed_header_raises_parameter_absent(offline: Store) -> None:
    headers = {"Host": HOST, "Authorization": "OAuth nonsense"}
    request = make_mocked_request("GET", "/rest/api/1.0/users/alice", headers=headers)
    with pytest.raises(OAuth1ProblemError) as caught:
        await resolve_oauth1(request, offline)
    assert caught.value.problem == "parameter_absent"
    assert caught.value.status == 400


# -- three-legged ---------------------------------------------------------------------------------


def test_access_token_acts_with_the_users_full_permissions(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    principal = resolve(offline, signed_get(keys, token=token.token))
    assert principal.user is not None
    assert principal.user.name == "alice"
    assert principal.repo_cap is RepoLevel.REPO_ADMIN
    assert principal.project_cap is ProjectLevel.PROJECT_ADMIN


def test_form_body_is_part_of_the_signature(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    url = "http://127.0.0.1:7990/rest/api/1.0/projects"
    body = "name=x"
    headers = signed_headers(
        url, keys, token=token.token, body=body, headers={"Content-Type": FORM}
    )
    good = SignedRequest.build("POST", url, {**headers, "Content-Type": FORM}, body)
    assert resolve(offline, good).user is not None
    token2 = grant(offline, keys)
    headers = signed_headers(
        url, keys, token=token2.token, body=body, headers={"Content-Type": FORM}
    )
    bad = SignedRequest.build("POST", url, {**headers, "Content-Type": FORM}, "name=y")
    assert problem(offline, bad).problem == "signature_invalid"


def test_tampered_signature_is_signature_invalid(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    headers = signed_headers(USER_URL, keys, method="GET", token=token.token)
    headers["Authorization"] = headers["Authorization"].replace(
        'oauth_signature="', 'oauth_signature="AAAA'
    )
    raised = problem(offline, SignedRequest.build("GET", USER_URL, headers))
    assert raised.problem == "signature_invalid"
    assert raised.status == 401
    assert raised.parameters["oauth_signature_base_string"].startswith("GET&http%3A%2F%2F")


def test_signature_with_another_key_is_signature_invalid(
    offline: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    token = grant(offline, keys)
    assert problem(offline, signed_get(other_keys, token=token.token)).problem == (
        "signature_invalid"
    )


def test_other_url_than_signed_is_signature_invalid(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    headers = signed_headers(USER_URL, keys, method="GET", token=token.token)
    moved = SignedRequest.build("GET", USER_URL.replace("alice", "bob"), headers)
    assert problem(offline, moved).problem == "signature_invalid"


def test_replayed_nonce_is_nonce_used(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    signed = signed_get(keys, token=token.token)
    resolve(offline, signed)
    assert problem(offline, signed).problem == "nonce_used"


def test_stale_timestamp_is_timestamp_refused(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    signed = signed_get(keys, token=token.token)
    offline.clock.advance(301)
    raised = problem(offline, signed)
    assert raised.problem == "timestamp_refused"
    assert raised.status == 400


def test_unknown_token_is_token_rejected(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem)
    assert problem(offline, signed_get(keys, token="unknown")).problem == "token_rejected"


def test_request_token_is_not_an_access_token(offline: Store, keys: KeyPair) -> None:
    request_token = offline.oauth1.issue_request_token(make_link(offline, keys.public_pem), None)
    assert problem(offline, signed_get(keys, token=request_token.token)).problem == (
        "token_rejected"
    )


def test_token_of_another_consumer_is_token_rejected(
    offline: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    token = grant(offline, keys)
    make_link(offline, other_keys.public_pem, name="Other", consumer_key="other")
    signed = signed_get(other_keys, token=token.token, consumer_key="other")
    assert problem(offline, signed).problem == "token_rejected"


def test_access_token_of_a_deleted_link_is_token_rejected(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    link = offline.oauth1.link_by_consumer_key(CONSUMER_KEY)
    assert link is not None
    offline.oauth1.delete_link(link.id)
    assert problem(offline, signed_get(keys, token=token.token)).problem == "token_rejected"


def test_expired_access_token_is_token_expired(offline: Store, keys: KeyPair) -> None:
    offline.config.patch({"oauth1": {"access_token_seconds": 60}})
    token = grant(offline, keys)
    offline.clock.advance(61)
    signed = signed_get(keys, token=token.token, timestamp=str(int(offline.clock.now())))
    assert problem(offline, signed).problem == "token_expired"


def test_inactive_user_is_permission_denied(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys, username="inactive.ian")
    assert problem(offline, signed_get(keys, token=token.token)).problem == "permission_denied"


def test_hmac_signed_call_is_signature_method_rejected(offline: Store, keys: KeyPair) -> None:
    token = grant(offline, keys)
    signed = signed_get(keys, token=token.token, signature_method="HMAC-SHA1", client_secret="s")
    raised = problem(offline, signed)
    assert raised.problem == "signature_method_rejected"
    assert raised.status == 400


# -- two-legged -----------------------------------------------------------------------------------


def test_two_legged_call_needs_the_links_permission(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem)
    assert problem(offline, signed_get(keys)).problem == "permission_denied"


def test_two_legged_call_without_execute_as_is_anonymous(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, two_legged=True)
    assert resolve(offline, signed_get(keys)).user is None


def test_two_legged_call_runs_as_the_execute_as_user(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, two_legged=True, execute_as="bob")
    user = resolve(offline, signed_get(keys)).user
    assert user is not None
    assert user.name == "bob"


def test_unknown_consumer_is_consumer_key_unknown(offline: Store, keys: KeyPair) -> None:
    assert problem(offline, signed_get(keys)).problem == "consumer_key_unknown"


@pytest.mark.parametrize("parameter", ["user_id", "xoauth_requestor_id"])
def test_impersonation_acts_as_the_named_user(
    offline: Store, keys: KeyPair, parameter: str
) -> None:
    make_link(offline, keys.public_pem, impersonation=True)
    user = resolve(offline, signed_get(keys, url=f"{USER_URL}?{parameter}=Alice")).user
    assert user is not None
    assert user.name == "alice"


def test_xoauth_requestor_id_wins_over_user_id(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, impersonation=True)
    url = f"{USER_URL}?user_id=alice&xoauth_requestor_id=bob"
    user = resolve(offline, signed_get(keys, url=url)).user
    assert user is not None
    assert user.name == "bob"


def test_impersonation_needs_the_links_permission(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, two_legged=True)
    signed = signed_get(keys, url=f"{USER_URL}?user_id=alice")
    assert problem(offline, signed).problem == "permission_denied"


def test_impersonating_an_unknown_user_is_anonymous(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, impersonation=True)
    assert resolve(offline, signed_get(keys, url=f"{USER_URL}?user_id=nobody")).user is None


def test_impersonating_an_inactive_user_is_permission_denied(offline: Store, keys: KeyPair) -> None:
    make_link(offline, keys.public_pem, impersonation=True)
    signed = signed_get(keys, url=f"{USER_URL}?user_id=inactive.ian")
    assert problem(offline, signed).problem == "permission_denied"


def test_two_legged_call_with_a_bad_signature_is_signature_invalid(
    offline: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    make_link(offline, keys.public_pem, impersonation=True)
    signed = signed_get(other_keys, url=f"{USER_URL}?user_id=alice")
    assert problem(offline, signed).problem == "signature_invalid"


# -- the REST API, once simulator/auth.py is wired ------------------------------------------------


async def test_signed_rest_call_runs_as_the_tokens_user(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    tokens = await access_token(client, store, keys)
    path = "/rest/api/1.0/users/alice"
    headers = signed_headers(url_of(client, path), keys, method="GET", token=tokens["oauth_token"])
    response = await client.get(path, headers=headers)
    assert response.status == 200
    assert response.headers["X-AUSERNAME"] == "alice"
    validate(await response.json(), "user.json")


async def test_badly_signed_rest_call_gets_the_oauth_problem(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    tokens = await access_token(client, store, keys)
    path = "/rest/api/1.0/users/alice"
    url = url_of(client, path)
    headers = signed_headers(url, other_keys, method="GET", token=tokens["oauth_token"])
    await problem_of(await client.get(path, headers=headers), 401, "signature_invalid")


async def test_two_legged_impersonation_over_http(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem, impersonation=True)
    path = "/rest/api/1.0/users/bob?user_id=bob"
    headers = signed_headers(url_of(client, path), keys, method="GET")
    response = await client.get(path, headers=headers)
    assert response.status == 200
    assert response.headers["X-AUSERNAME"] == "bob"
