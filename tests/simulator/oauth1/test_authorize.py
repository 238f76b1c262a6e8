"""``/plugins/servlet/oauth/authorize``: login, the Allow/Deny page, and back to the consumer."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from simulator.app import create_app
from simulator.keys import store_key
from simulator.oauth1.models import Authorization
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, ClientFactory, basic
from tests.simulator.oauth1.signing import (
    ACCESS_TOKEN,
    AUTHORIZE,
    CALLBACK,
    REQUEST_TOKEN,
    KeyPair,
    access_token,
    decide,
    form_of,
    make_link,
    request_token,
    signed_headers,
    url_of,
)
from tests.simulator.oauth2.test_oauth2_flow import cookie, log_in, parse_page

HTML = "text/html;charset=UTF-8"
MARKUP = '<script>alert("x")</script>'


async def fresh_token(
    client: Client, store: Store, keys: KeyPair, callback: str = CALLBACK, **link: str
) -> str:
    """A link and a request token for it."""
    make_link(store, keys.public_pem, **link)
    return (await request_token(client, keys, callback=callback))["oauth_token"]


async def open_page(client: Client, store: Store, token: str, username: str = "alice") -> str:
    """The Allow/Deny page's HTML for a logged-in user."""
    session_id = await log_in(client, store, username)
    response = await client.get(
        AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id)
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    return await response.text()


def location_query(location: str) -> dict[str, str]:
    """The query of a redirect target."""
    return dict(parse_qsl(urlsplit(location).query))


# -- login --------------------------------------------------------------------------------------


async def test_anonymous_user_is_sent_to_log_in_and_back(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    response = await client.get(AUTHORIZE, params={"oauth_token": token}, allow_redirects=False)
    assert response.status == 302
    next_path = f"{AUTHORIZE}?oauth_token={token}"
    assert response.headers["Location"] == (
        f"{store.base_url}/login?next={quote(next_path, safe='')}"
    )


async def test_basic_credentials_do_not_count_as_a_login(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    response = await client.get(
        AUTHORIZE, params={"oauth_token": token}, headers=basic("alice"), allow_redirects=False
    )
    assert response.status == 302
    assert "/login?next=" in response.headers["Location"]


async def test_login_form_returns_to_the_page(client: Client, store: Store, keys: KeyPair) -> None:
    token = await fresh_token(client, store, keys)
    redirect = await client.get(AUTHORIZE, params={"oauth_token": token}, allow_redirects=False)
    next_path = dict(parse_qsl(urlsplit(redirect.headers["Location"]).query))["next"]
    login = await client.post(
        "/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice", "next": next_path},
        allow_redirects=False,
    )
    assert login.headers["Location"] == store.base_url + next_path


# -- the page -----------------------------------------------------------------------------------


async def test_page_names_consumer_and_user_and_posts_token_and_xsrf(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys, consumer_name="Acme Packages")
    page = parse_page(await open_page(client, store, token))
    assert "Acme Packages" in page.text
    assert "alice" in page.text
    assert page.forms[0]["action"] == store.base_url + AUTHORIZE
    hidden = page.hidden()
    assert hidden["oauth_token"] == token
    assert hidden["atl_token"]
    assert {b["name"] for b in page.buttons} == {"approve", "deny"}


async def test_consumer_fields_are_escaped(client: Client, store: Store, keys: KeyPair) -> None:
    token = await fresh_token(client, store, keys, consumer_name=MARKUP, description=MARKUP)
    html = await open_page(client, store, token)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


async def test_callback_in_the_query_is_carried_escaped(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        AUTHORIZE,
        params={"oauth_token": token, "oauth_callback": 'https://x.example/"><b>'},
        headers=cookie(session_id),
    )
    html = await response.text()
    assert "<b>" not in html
    assert parse_page(html).hidden()["oauth_callback"] == 'https://x.example/"><b>'


# -- decisions ----------------------------------------------------------------------------------


async def test_allow_redirects_to_the_callback_with_token_and_verifier(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    response = await decide(client, store, token)
    assert response.status == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "&oauth_token=")
    query = location_query(location)
    assert query["org"] == "acme"
    assert query["oauth_token"] == token
    stored = store.oauth1.request_tokens[token]
    assert query["oauth_verifier"] == stored.verifier
    assert stored.authorization is Authorization.AUTHORIZED
    assert stored.user_id == store.catalog.users_by_name["alice"].id


async def test_deny_redirects_with_verifier_denied(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    response = await decide(client, store, token, decision="deny")
    assert response.status == 302
    assert location_query(response.headers["Location"])["oauth_verifier"] == "denied"
    assert store.oauth1.request_tokens[token].authorization is Authorization.DENIED


async def test_oob_uses_the_links_callback(client: Client, store: Store, keys: KeyPair) -> None:
    token = await fresh_token(
        client, store, keys, callback="oob", callback_url="https://link.example/cb"
    )
    response = await decide(client, store, token)
    assert response.headers["Location"].startswith("https://link.example/cb?oauth_token=")


async def test_the_requests_callback_wins_over_the_links(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys, callback_url="https://link.example/cb")
    response = await decide(client, store, token)
    assert response.headers["Location"].startswith(CALLBACK)


async def test_no_callback_anywhere_shows_the_verifier(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys, callback="oob")
    response = await decide(client, store, token)
    assert response.status == 200
    html = await response.text()
    verifier = store.oauth1.request_tokens[token].verifier
    assert verifier is not None
    assert f'<code id="oauth-verifier">{verifier}</code>' in html


async def test_no_callback_and_deny_shows_a_denied_page(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys, callback="oob")
    response = await decide(client, store, token, decision="deny")
    assert response.status == 200
    assert "denied" in (await response.text())
    assert "oauth-verifier" not in (await response.text())


async def test_post_without_a_decision_shows_the_page_again(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    session_id = await log_in(client, store, "alice")
    page = await client.get(AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id))
    fields = parse_page(await page.text()).hidden()
    response = await client.post(AUTHORIZE, data=fields, headers=cookie(session_id))
    assert response.status == 200
    assert parse_page(await response.text()).hidden()["oauth_token"] == token
    assert store.oauth1.request_tokens[token].authorization is Authorization.NONE


async def test_missing_xsrf_token_is_a_403_page_and_changes_nothing(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    session_id = await log_in(client, store, "alice")
    response = await client.post(
        AUTHORIZE,
        data={"oauth_token": token, "approve": "Allow", "atl_token": "forged"},
        headers=cookie(session_id),
        allow_redirects=False,
    )
    assert response.status == 403
    assert "Xsrf token validation failed" in await response.text()
    assert store.oauth1.request_tokens[token].authorization is Authorization.NONE


async def test_anonymous_post_with_no_check_header_is_sent_to_log_in(
    client: Client, store: Store, keys: KeyPair
) -> None:
    token = await fresh_token(client, store, keys)
    response = await client.post(
        AUTHORIZE,
        data={"oauth_token": token, "approve": "Allow"},
        headers={"X-Atlassian-Token": "no-check"},
        allow_redirects=False,
    )
    assert response.status == 302
    assert "/login?next=" in response.headers["Location"]
    assert store.oauth1.request_tokens[token].authorization is Authorization.NONE


# -- bad tokens -----------------------------------------------------------------------------------


def assert_error_page(headers: dict[str, str], problem: str) -> None:
    """An HTML error page carrying the problem in ``WWW-Authenticate``."""
    assert headers["Content-Type"] == HTML
    assert f'oauth_problem="{problem}"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize(("params", "status"), [({}, 400), ({"oauth_token": "nope"}, 401)])
async def test_missing_or_unknown_token_is_an_error_page(
    client: Client, store: Store, params: dict[str, str], status: int
) -> None:
    session_id = await log_in(client, store, "alice")
    response = await client.get(AUTHORIZE, params=params, headers=cookie(session_id))
    assert response.status == status
    problem = "parameter_absent" if not params else "token_rejected"
    assert_error_page(dict(response.headers), problem)
    page = parse_page(await response.text())
    assert not page.forms


async def test_decided_token_is_token_used(client: Client, store: Store, keys: KeyPair) -> None:
    token = await fresh_token(client, store, keys)
    assert (await decide(client, store, token)).status == 302
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id)
    )
    assert response.status == 401
    assert_error_page(dict(response.headers), "token_used")


async def test_expired_token_is_token_expired(client: Client, store: Store, keys: KeyPair) -> None:
    token = await fresh_token(client, store, keys)
    store.clock.advance(601)
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id)
    )
    assert response.status == 401
    assert_error_page(dict(response.headers), "token_expired")


async def test_access_token_cannot_be_authorized(
    client: Client, store: Store, keys: KeyPair
) -> None:
    make_link(store, keys.public_pem)
    tokens = await access_token(client, store, keys)
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        AUTHORIZE, params={"oauth_token": tokens["oauth_token"]}, headers=cookie(session_id)
    )
    assert response.status == 401
    assert_error_page(dict(response.headers), "token_rejected")


async def test_the_dance_works_under_a_context_path(
    aiohttp_client: ClientFactory, keys: KeyPair
) -> None:
    client = await aiohttp_client(
        create_app(Settings(port=0, base_url="http://127.0.0.1:0/bitbucket"))
    )
    assert client.app is not None
    store = client.app[store_key]
    make_link(store, keys.public_pem)
    path = "/bitbucket" + REQUEST_TOKEN
    headers = signed_headers(url_of(client, path), keys, callback=CALLBACK)
    response = await client.post(path, headers=headers)
    assert response.status == 200, await response.text()
    token = form_of(await response.text())["oauth_token"]
    anonymous = await client.get(
        "/bitbucket" + AUTHORIZE, params={"oauth_token": token}, allow_redirects=False
    )
    next_path = quote(f"{AUTHORIZE}?oauth_token={token}", safe="")
    assert anonymous.headers["Location"] == f"{store.base_url}/login?next={next_path}"
    session = store.create_session(store.catalog.users_by_name["alice"])
    page = await client.get(
        "/bitbucket" + AUTHORIZE, params={"oauth_token": token}, headers=cookie(session.id)
    )
    parsed = parse_page(await page.text())
    assert parsed.forms[0]["action"] == "http://127.0.0.1:0/bitbucket" + AUTHORIZE
    decision = await client.post(
        "/bitbucket" + AUTHORIZE,
        data={**parsed.hidden(), "approve": "Allow"},
        headers=cookie(session.id),
        allow_redirects=False,
    )
    verifier = location_query(decision.headers["Location"])["oauth_verifier"]
    path = "/bitbucket" + ACCESS_TOKEN
    headers = signed_headers(url_of(client, path), keys, token=token, verifier=verifier)
    exchanged = await client.post(path, headers=headers)
    assert exchanged.status == 200, await exchanged.text()
