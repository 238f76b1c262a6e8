"""OAuth 2 under the "U2F & TOTP" plugin: consent, decision, token issue and Bearer REST
calls are blocked for users to whom 2FA applies unless "Enable OAuth whitelist" is on; each
setting changes the outcome; personal access tokens are never blocked."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.oauth2.models import OAuth2Client
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import (
    AUTHORIZE,
    authorize,
    authorize_params,
    bearer,
    consent_fields,
    cookie,
    decide,
    exchange,
    make_link,
    obtain_code,
    obtain_tokens,
    path_of,
    query_of,
    refresh,
    token_body,
)
from tests.simulator.test_access_tokens import create as create_access_token
from tests.simulator.tfa.support import (
    BLOCKED,
    configure,
    envelope,
    html_page,
    install,
    names_two_factor,
)

PROPERTIES = "/rest/api/1.0/application-properties"
REPOS = "/rest/api/1.0/repos"
AUTHENTICATION_REQUIRED = (
    "com.atlassian.plugins.rest.api.security.exception.AuthenticationRequiredException"
)
AUTHORISATION = "com.atlassian.bitbucket.AuthorisationException"


def session_of(store: Store, username: str) -> str:
    """A browser session of a user who has passed any second factor already."""
    return store.create_session(store.catalog.users_by_name[username]).id


async def consent(client: Client, store: Store, link: OAuth2Client, username: str) -> Any:
    """GET the consent page as ``username`` (no redirects followed)."""
    consent_url = await authorize(client, authorize_params(link))
    return await client.get(
        path_of(store, consent_url),
        headers=cookie(session_of(store, username)),
        allow_redirects=False,
    )


async def blocked_token(response: Any, status: int) -> str:
    """The token endpoint's blocked answer; its description."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Cache-Control"] == "no-store"
    body = validate(await response.json(), "tfa/token-blocked.json")
    return str(body["error_description"])


async def rest_call(client: Client, token: str, path: str = PROPERTIES) -> Any:
    """A Bearer REST call (no redirects followed)."""
    return await client.get(path, headers=bearer(token), allow_redirects=False)


async def rest_user(client: Client, token: str) -> str:
    """The user a Bearer call on application-properties ran as (asserting success)."""
    response = await rest_call(client, token)
    assert response.status == 200, await response.text()
    validate(await response.json(), "application-properties.json")
    return str(response.headers["X-AUSERNAME"])


# -- consent --------------------------------------------------------------------------------------


async def test_consent_is_blocked_with_a_redirect_to_the_2fa_page(
    client: Client, store: Store
) -> None:
    await install(client)
    response = await consent(client, store, make_link(store), "alice")
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + BLOCKED
    page = await html_page(await client.get(BLOCKED))
    assert "Two-factor authentication is required" in page
    assert "OAuth whitelist" in page


async def test_consent_is_shown_with_the_oauth_whitelist(client: Client, store: Store) -> None:
    await install(client, oauth_whitelist=True)
    response = await consent(client, store, make_link(store), "alice")
    assert "wants to access your Bitbucket account" in await html_page(response)


async def test_consent_is_shown_when_the_plugin_is_not_installed(
    client: Client, store: Store
) -> None:
    await configure(client, installed=False, oauth_whitelist=False)
    response = await consent(client, store, make_link(store), "alice")
    await html_page(response)


@pytest.mark.parametrize("status", [401, 403])
async def test_consent_blocked_answers_the_2fa_page_with_the_configured_status(
    client: Client, store: Store, status: int
) -> None:
    await install(client, blocked_response=str(status))
    response = await consent(client, store, make_link(store), "alice")
    page = await html_page(response, status=status)
    assert "Two-factor authentication is required" in page
    assert "X-AUSERNAME" in response.headers  # the session user is known; OAuth is refused


async def test_consent_follows_group_enforcement(client: Client, store: Store) -> None:
    await install(client, enforce="groups", groups=["administrators"])
    link = make_link(store)
    assert (await consent(client, store, link, "admin")).status == 302
    await html_page(await consent(client, store, link, "alice"))


async def test_consent_is_shown_from_a_whitelisted_address(client: Client, store: Store) -> None:
    await install(client, ip_whitelist=["127.0.0.0/8"])
    await html_page(await consent(client, store, make_link(store), "alice"))


# -- decision -------------------------------------------------------------------------------------


async def test_decision_is_blocked_with_a_303_to_the_2fa_page(client: Client, store: Store) -> None:
    link = make_link(store)
    session_id = session_of(store, "alice")
    consent_url = await authorize(client, authorize_params(link))
    page = await consent_fields(client, store, consent_url, session_id)
    await install(client)
    where = await decide(client, session_id, page.hidden())
    assert where == store.base_url + BLOCKED
    assert store.oauth2.codes == {}


async def test_decision_blocked_as_403_is_the_2fa_page_not_the_envelope(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    session_id = session_of(store, "alice")
    consent_url = await authorize(client, authorize_params(link))
    page = await consent_fields(client, store, consent_url, session_id)
    await install(client, blocked_response="403")
    response = await client.post(
        AUTHORIZE, data={**page.hidden(), "decision": "allow"}, headers=cookie(session_id)
    )
    assert "Two-factor authentication is required" in await html_page(response, status=403)


async def test_decision_with_the_oauth_whitelist_sends_the_code(
    client: Client, store: Store
) -> None:
    await install(client, oauth_whitelist=True)
    link = make_link(store)
    session_id = session_of(store, "alice")
    consent_url = await authorize(client, authorize_params(link))
    page = await consent_fields(client, store, consent_url, session_id)
    where = await decide(client, session_id, page.hidden())
    assert "code" in query_of(where)


# -- token issue ----------------------------------------------------------------------------------


async def test_token_issue_is_blocked_with_401_access_denied(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, "alice")
    await install(client)
    description = await blocked_token(await exchange(client, link, code), 401)
    assert "Two-factor authentication" in description
    assert store.oauth2.tokens == {}


async def test_token_issue_blocked_as_403(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, "alice")
    await install(client, blocked_response="403")
    await blocked_token(await exchange(client, link, code), 403)


async def test_token_issue_blocked_as_401_setting(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, "alice")
    await install(client, blocked_response="401")
    await blocked_token(await exchange(client, link, code), 401)


async def test_blocked_code_works_once_the_whitelist_is_enabled(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, "alice")
    await install(client)
    await blocked_token(await exchange(client, link, code), 401)
    await configure(client, oauth_whitelist=True)
    tokens = await token_body(await exchange(client, link, code))
    assert await rest_user(client, tokens["access_token"]) == "alice"


async def test_refresh_is_blocked_and_the_refresh_token_survives(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    await install(client)
    await blocked_token(await refresh(client, link, tokens["refresh_token"]), 401)
    await configure(client, installed=False)
    await token_body(await refresh(client, link, tokens["refresh_token"]))


async def test_invalid_code_gets_its_own_error_not_the_2fa_answer(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    await install(client)
    response = await exchange(client, link, "not-a-code")
    assert response.status == 400
    body = validate(await response.json(), "oauth2/token-error.json")
    assert body["error"] == "invalid_request"


async def test_token_issue_follows_all_except_groups(client: Client, store: Store) -> None:
    link = make_link(store)
    admin_code = await obtain_code(client, store, link, "admin")
    alice_code = await obtain_code(client, store, link, "alice")
    await install(client, enforce="all-except-groups", groups=["administrators"])
    await token_body(await exchange(client, link, admin_code))
    await blocked_token(await exchange(client, link, alice_code), 401)


# -- Bearer REST calls ----------------------------------------------------------------------------


async def obtain_alice_tokens(client: Client, store: Store) -> dict[str, Any]:
    """Tokens of alice obtained before the plugin was installed."""
    return await obtain_tokens(client, store, make_link(store), "alice")


async def test_bearer_rest_call_is_blocked_with_401_naming_two_factor(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client)
    response = await rest_call(client, tokens["access_token"])
    body = await envelope(response, 401)
    assert names_two_factor(body)
    assert body["errors"][0]["exceptionName"] == AUTHENTICATION_REQUIRED
    assert "X-AUSERNAME" not in response.headers


async def test_a_blocked_bearer_token_does_not_block_the_control_api(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client)
    response = await rest_call(client, tokens["access_token"], "/_sim/health")
    assert response.status == 200, await response.text()


async def test_bearer_rest_call_blocked_as_403(client: Client, store: Store) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, blocked_response="403")
    body = await envelope(await rest_call(client, tokens["access_token"], REPOS), 403)
    assert names_two_factor(body)
    assert body["errors"][0]["exceptionName"] == AUTHORISATION


async def test_bearer_rest_call_blocked_as_401_setting(client: Client, store: Store) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, blocked_response="401")
    assert names_two_factor(await envelope(await rest_call(client, tokens["access_token"]), 401))


async def test_bearer_rest_call_passes_with_the_oauth_whitelist(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, oauth_whitelist=True)
    assert await rest_user(client, tokens["access_token"]) == "alice"


async def test_bearer_rest_call_passes_when_the_plugin_is_not_installed(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await configure(client, installed=False, enforce="all")
    assert await rest_user(client, tokens["access_token"]) == "alice"


async def test_bearer_rest_call_follows_group_enforcement(client: Client, store: Store) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, enforce="groups", groups=["administrators"])
    assert await rest_user(client, tokens["access_token"]) == "alice"
    await configure(client, enforce="all-except-groups")
    await envelope(await rest_call(client, tokens["access_token"]), 401)
    await configure(client, enforce="none")
    assert await rest_user(client, tokens["access_token"]) == "alice"


async def test_bearer_rest_call_from_a_whitelisted_address_passes(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, ip_whitelist=["127.0.0.1/32"])
    assert await rest_user(client, tokens["access_token"]) == "alice"


async def test_bearer_rest_call_with_spoofed_x_forwarded_for_stays_blocked(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client, ip_whitelist=["10.0.0.0/8"])
    spoofed = {**bearer(tokens["access_token"]), "X-Forwarded-For": "10.9.9.9"}
    await envelope(await client.get(PROPERTIES, headers=spoofed), 401)
    await configure(client, trust_x_forwarded_for=True)
    trusted = await client.get(PROPERTIES, headers=spoofed)
    assert trusted.status == 200
    assert trusted.headers["X-AUSERNAME"] == "alice"


async def test_bearer_on_a_browser_path_is_redirected_to_the_2fa_page(
    client: Client, store: Store
) -> None:
    tokens = await obtain_alice_tokens(client, store)
    await install(client)
    response = await client.get(
        "/dashboard", headers=bearer(tokens["access_token"]), allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + BLOCKED


# -- personal access tokens and other credentials -------------------------------------------------


async def test_personal_access_token_is_never_blocked(client: Client, store: Store) -> None:
    token = await create_access_token(client, "alice")
    await install(client, blocked_response="403")
    assert await rest_user(client, token["token"]) == "alice"
    as_basic = await client.get(PROPERTIES, headers=basic("alice", token["token"]))
    assert as_basic.status == 200
    assert as_basic.headers["X-AUSERNAME"] == "alice"


async def test_basic_password_rest_call_is_not_blocked(client: Client) -> None:
    await install(client)
    response = await client.get(PROPERTIES, headers=basic("alice"))
    assert response.status == 200
    assert response.headers["X-AUSERNAME"] == "alice"
