"""The consent page, the user's decision (``POST authorize``) and Bitbucket's error page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from simulator.app import create_app
from simulator.keys import store_key
from simulator.oauth2.scopes import SCOPE_INFO, Scope
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, ClientFactory, basic
from tests.simulator.oauth2.test_authorize import assert_client_error, assert_error_page
from tests.simulator.oauth2.test_oauth2_flow import (
    AUTHORIZE,
    CONSENT,
    ERROR_PAGE,
    REDIRECT,
    authorize,
    authorize_params,
    bearer,
    consent_fields,
    cookie,
    decide,
    location,
    log_in,
    make_link,
    obtain_tokens,
    parse_page,
    path_of,
    query_of,
)

HTML = "text/html;charset=UTF-8"
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def open_consent(
    client: Client, store: Store, username: str = "alice", **overrides: str | None
) -> tuple[str, dict[str, str]]:
    """Log in, authorize with a fresh link, open consent: (session id, hidden fields)."""
    link = make_link(store)
    session_id = await log_in(client, store, username)
    url = await authorize(client, authorize_params(link, **overrides))
    page = await consent_fields(client, store, url, session_id)
    return session_id, page.hidden()


# -- the page -------------------------------------------------------------------------------------


async def test_consent_page_shows_application_user_scopes_and_both_buttons(
    client: Client, store: Store
) -> None:
    link = make_link(store, scopes=(Scope.REPO_ADMIN,))
    session_id = await log_in(client, store, "alice")
    url = await authorize(client, authorize_params(link, scope="PUBLIC_REPOS REPO_WRITE"))
    response = await client.get(path_of(store, url), headers=cookie(session_id))
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    assert response.headers["Cache-Control"] == "no-store"
    html = await response.text()
    page = parse_page(html)
    assert "Packagist" in page.text
    assert "alice" in page.text
    assert "Alice Example" in page.text
    assert "Bitbucket" in page.text
    for scope in (Scope.PUBLIC_REPOS, Scope.REPO_WRITE):
        assert SCOPE_INFO[scope].description in page.text
    assert SCOPE_INFO[Scope.REPO_ADMIN].description not in page.text
    assert len(page.forms) == 1
    assert page.forms[0]["method"] == "post"
    assert page.forms[0]["action"] == store.base_url + AUTHORIZE
    assert page.hidden() == {
        **authorize_params(link, scope="PUBLIC_REPOS REPO_WRITE"),
        "atl_token": page.hidden()["atl_token"],
    }
    assert page.hidden()["atl_token"]
    buttons = {(b["name"], b["value"], b["label"], b["type"]) for b in page.buttons}
    assert buttons == {
        ("decision", "allow", "Allow", "submit"),
        ("decision", "deny", "Deny", "submit"),
    }


async def test_consent_page_has_every_hidden_field_even_when_blank(
    client: Client, store: Store
) -> None:
    _, fields = await open_consent(
        client, store, state=None, code_challenge=None, code_challenge_method=None
    )
    assert fields["state"] == ""
    assert fields["code_challenge"] == ""
    assert fields["code_challenge_method"] == ""


async def test_markup_in_the_link_name_is_escaped(client: Client, store: Store) -> None:
    link = make_link(store, name=MARKUP)
    session_id = await log_in(client, store, "alice")
    url = await authorize(client, authorize_params(link))
    response = await client.get(path_of(store, url), headers=cookie(session_id))
    html = await response.text()
    assert "<script>" not in html
    assert "<img" not in html
    assert MARKUP in parse_page(html).text


async def test_markup_in_the_parameters_is_escaped(client: Client, store: Store) -> None:
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    state = '"><script>alert(1)</script>'
    response = await client.get(
        CONSENT, params=authorize_params(link, state=state), headers=cookie(session_id)
    )
    html = await response.text()
    assert "<script>" not in html
    assert parse_page(html).hidden()["state"] == state


async def test_anonymous_user_is_sent_to_login_and_back(client: Client, store: Store) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link))
    response = await client.get(path_of(store, url), allow_redirects=False)
    assert response.status == 302
    login = location(response)
    assert login.startswith(store.base_url + "/login?")
    assert query_of(login)["next"] == path_of(store, url)


async def test_basic_credentials_do_not_count_as_a_browser_login(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    response = await client.get(
        CONSENT, params=authorize_params(link), headers=basic("alice"), allow_redirects=False
    )
    assert response.status == 302
    assert "/login?" in location(response)


async def test_oauth2_bearer_token_cannot_open_consent(client: Client, store: Store) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link)
    response = await client.get(
        CONSENT,
        params=authorize_params(link),
        headers=bearer(tokens["access_token"]),
        allow_redirects=False,
    )
    assert response.status == 302


async def test_unknown_client_on_consent_is_400(client: Client, store: Store) -> None:
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        CONSENT, params=authorize_params(link, client_id="nope"), headers=cookie(session_id)
    )
    assert response.status == 400
    assert response.headers["Content-Type"] == HTML


async def test_consent_needs_https_unless_the_base_url_is_loopback(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(
        create_app(Settings(port=0, base_url="http://bitbucket.example.com"))
    )
    assert client.app is not None
    store = client.app[store_key]
    link = make_link(store)
    session = store.create_session(store.catalog.users_by_name["alice"])
    response = await client.get(CONSENT, params=authorize_params(link), headers=cookie(session.id))
    assert response.status == 400
    assert "HTTPS" in await response.text()


@pytest.mark.parametrize(
    "base_url", ["https://bitbucket.example.com", "http://localhost:7990", "http://[::1]:7990"]
)
async def test_consent_is_served_on_https_or_loopback(
    aiohttp_client: ClientFactory, base_url: str
) -> None:
    client = await aiohttp_client(create_app(Settings(port=0, base_url=base_url)))
    assert client.app is not None
    store = client.app[store_key]
    link = make_link(store)
    session = store.create_session(store.catalog.users_by_name["alice"])
    response = await client.get(CONSENT, params=authorize_params(link), headers=cookie(session.id))
    assert response.status == 200


async def test_consent_is_asked_every_time(client: Client, store: Store) -> None:
    link = make_link(store)
    await obtain_tokens(client, store, link)
    url = await authorize(client, authorize_params(link))
    assert path_of(store, url).startswith(CONSENT + "?")


# -- the decision ---------------------------------------------------------------------------------


async def test_allow_sends_a_code_and_the_state_back(client: Client, store: Store) -> None:
    session_id, fields = await open_consent(client, store)
    back = await decide(client, session_id, fields, "allow")
    assert back.startswith(REDIRECT + "?code=")
    query = query_of(back)
    assert set(query) == {"code", "state"}
    assert query["state"] == "st4te"
    assert query["code"] in store.oauth2.codes


async def test_allow_without_state_sends_no_state(client: Client, store: Store) -> None:
    session_id, fields = await open_consent(client, store, state=None)
    back = await decide(client, session_id, fields, "allow")
    assert set(query_of(back)) == {"code"}


async def test_allow_appends_the_code_to_a_redirect_with_a_query(
    client: Client, store: Store
) -> None:
    redirect = "https://packagist.example/cb?tenant=acme"
    link = make_link(store, redirects=(redirect,))
    session_id = await log_in(client, store, "alice")
    url = await authorize(client, authorize_params(link))
    page = await consent_fields(client, store, url, session_id)
    back = await decide(client, session_id, page.hidden())
    assert back.startswith(redirect + "&code=")


async def test_code_records_the_user_scope_and_pkce(client: Client, store: Store) -> None:
    session_id, fields = await open_consent(client, store, "bob", code_challenge_method="s256")
    back = await decide(client, session_id, fields)
    code = store.oauth2.codes[query_of(back)["code"]]
    assert code.user_id == store.catalog.users_by_name["bob"].id
    assert code.scopes == (Scope.REPO_READ,)
    assert code.method == "S256"
    assert code.redirect_uri == REDIRECT


@pytest.mark.parametrize("decision", ["deny", None, "", "ALLOW", "yes"])
async def test_anything_but_allow_is_access_denied_with_state(
    client: Client, store: Store, decision: str | None
) -> None:
    session_id, fields = await open_consent(client, store)
    back = await decide(client, session_id, fields, decision)
    query = assert_client_error(back, REDIRECT, "access_denied")
    assert query["state"] == "st4te"
    assert not store.oauth2.codes


async def test_wrong_response_type_goes_back_as_unsupported_response_type(
    client: Client, store: Store
) -> None:
    session_id, fields = await open_consent(client, store, response_type="token")
    back = await decide(client, session_id, fields)
    query = assert_client_error(back, REDIRECT, "unsupported_response_type")
    assert query["state"] == "st4te"


async def test_blank_response_type_goes_back_as_invalid_request(
    client: Client, store: Store
) -> None:
    session_id, fields = await open_consent(client, store)
    back = await decide(client, session_id, {**fields, "response_type": ""})
    query = assert_client_error(back, REDIRECT, "invalid_request")
    assert query["state"] == "st4te"


@pytest.mark.parametrize("scope", ["REPO_ADMIN", "", "BOGUS"])
async def test_tampered_scope_goes_back_as_invalid_scope(
    client: Client, store: Store, scope: str
) -> None:
    session_id, fields = await open_consent(client, store)
    back = await decide(client, session_id, {**fields, "scope": scope})
    assert_client_error(back, REDIRECT, "invalid_scope")


@pytest.mark.parametrize(
    ("field", "value", "error_name"),
    [
        ("redirect_uri", "https://evil.example/cb", "invalid_request"),
        ("redirect_uri", REDIRECT + ",https://evil.example/cb", "invalid_request"),
        ("redirect_uri", "", "invalid_request"),
        ("client_id", "nope", "invalid_client"),
        ("client_id", "", "invalid_client"),
        ("code_challenge", "short", "invalid_request"),
        ("code_challenge_method", "S512", "invalid_request"),
    ],
)
async def test_tampered_client_redirect_or_pkce_ends_on_the_error_page(
    client: Client, store: Store, field: str, value: str, error_name: str
) -> None:
    session_id, fields = await open_consent(client, store)
    back = await decide(client, session_id, {**fields, field: value})
    assert_error_page(store, back, error_name)
    assert not store.oauth2.codes


async def test_decision_without_xsrf_token_ends_on_the_error_page(
    client: Client, store: Store
) -> None:
    session_id, fields = await open_consent(client, store)
    del fields["atl_token"]
    back = await decide(client, session_id, fields)
    assert_error_page(store, back, "invalid_request")
    assert not store.oauth2.codes


async def test_decision_with_a_stale_xsrf_token_ends_on_the_error_page(
    client: Client, store: Store
) -> None:
    _, old_fields = await open_consent(client, store)
    new_session = await log_in(client, store, "alice")
    back = await decide(client, new_session, old_fields)
    assert_error_page(store, back, "invalid_request")
    assert not store.oauth2.codes


async def test_decision_with_another_users_xsrf_token_ends_on_the_error_page(
    client: Client, store: Store
) -> None:
    _, bobs_fields = await open_consent(client, store, "bob")
    alice = await log_in(client, store, "alice")
    back = await decide(client, alice, bobs_fields)
    assert_error_page(store, back, "invalid_request")


async def test_no_check_header_does_not_replace_the_xsrf_token(
    client: Client, store: Store
) -> None:
    session_id, fields = await open_consent(client, store)
    del fields["atl_token"]
    response = await client.post(
        AUTHORIZE,
        data={**fields, "decision": "allow"},
        headers={**cookie(session_id), "X-Atlassian-Token": "no-check"},
        allow_redirects=False,
    )
    assert_error_page(store, location(response), "invalid_request")


async def test_anonymous_decision_is_sent_to_login(client: Client, store: Store) -> None:
    _, fields = await open_consent(client, store)
    response = await client.post(
        AUTHORIZE, data={**fields, "decision": "allow"}, allow_redirects=False
    )
    assert response.status == 303
    login = location(response)
    assert login.startswith(store.base_url + "/login?")
    assert query_of(login)["next"].startswith(CONSENT + "?")
    assert not store.oauth2.codes


async def test_decision_sent_as_json_ends_on_the_error_page(client: Client, store: Store) -> None:
    session_id, fields = await open_consent(client, store)
    response = await client.post(
        AUTHORIZE,
        json={**fields, "decision": "allow"},
        headers=cookie(session_id),
        allow_redirects=False,
    )
    assert response.status == 303
    assert_error_page(store, location(response), "invalid_request")


async def test_decision_is_journaled(client: Client, store: Store) -> None:
    session_id, fields = await open_consent(client, store)
    await decide(client, session_id, fields, "deny")
    entry = store.journal.entries()[-1]
    assert entry.method == "POST"
    assert entry.extra["decision"] == "deny"
    assert entry.form["atl_token"] == "<redacted>"


# -- the error page -------------------------------------------------------------------------------


async def test_error_page_shows_name_and_description(client: Client) -> None:
    response = await client.get(
        ERROR_PAGE, params={"errorName": "invalid_request", "errorDescription": "Bad thing"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    text = parse_page(await response.text()).text
    assert "invalid_request" in text
    assert "Bad thing" in text


async def test_error_page_without_parameters_is_still_a_page(client: Client) -> None:
    response = await client.get(ERROR_PAGE)
    assert response.status == 200


@pytest.mark.parametrize(
    "params",
    [
        {"errorName": "x", "errorDescription": "https://evil.example/phish"},
        {"errorName": "javascript:alert(1)", "errorDescription": "javascript:alert(1)"},
        {"errorDescription": '<meta http-equiv="refresh" content="0;url=https://evil.example">'},
        {"errorName": '"><a href="https://evil.example">click</a>'},
        {"errorDescription": "<script>location='https://evil.example'</script>"},
        {"redirect_uri": "https://evil.example", "next": "https://evil.example"},
        {"errorName": "x", "redirect": "https://evil.example", "returnUrl": "//evil.example"},
    ],
)
async def test_error_page_never_redirects_or_links_elsewhere(
    client: Client, store: Store, params: dict[str, str]
) -> None:
    response = await client.get(ERROR_PAGE, params=params, allow_redirects=False)
    assert response.status == 200
    assert "Location" not in response.headers
    assert "Refresh" not in response.headers
    html = await response.text()
    page = parse_page(html)
    assert all(urlsplit(link).netloc == urlsplit(store.base_url).netloc for link in page.links)
    assert all(link.startswith(store.base_url) for link in page.links)
    assert not any(meta.get("http-equiv") for meta in page.metas)
    assert "<script" not in html
    assert "evil.example" not in "".join(page.links)
    for value in params.values():
        if value in (params.get("errorName"), params.get("errorDescription")):
            assert value in page.text


async def test_unknown_scope_names_on_a_direct_consent_link_are_shown_escaped(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    response = await client.get(
        CONSENT,
        params=authorize_params(link, scope="REPO_READ <b>BOGUS</b>"),
        headers=cookie(session_id),
    )
    assert response.status == 200
    html = await response.text()
    assert "<b>" not in html
    assert "<b>BOGUS</b>" in parse_page(html).text
