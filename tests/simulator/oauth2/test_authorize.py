"""``GET /rest/oauth2/latest/authorize``, the first hop: always a 303, in the plugin's order."""

from __future__ import annotations

import pytest

from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth2.test_oauth2_flow import (
    AUTHORIZE,
    CHALLENGE,
    CONSENT,
    ERROR_PAGE,
    REDIRECT,
    VERIFIER,
    authorize,
    authorize_params,
    make_link,
    path_of,
    query_of,
)

EVIL = "https://evil.example/cb"


def assert_error_page(store: Store, url: str, name: str) -> dict[str, str]:
    """The redirect goes to Bitbucket's own error page with this errorName."""
    assert path_of(store, url).startswith(ERROR_PAGE + "?"), url
    query = query_of(url)
    assert query["errorName"] == name, query
    assert query["errorDescription"]
    assert set(query) == {"errorName", "errorDescription"}
    return query


def assert_client_error(url: str, redirect_uri: str, error: str) -> dict[str, str]:
    """The redirect goes back to the client with an RFC 6749 error."""
    assert url.startswith(redirect_uri + "?"), url
    query = query_of(url)
    assert query["error"] == error, query
    assert query["error_description"]
    return query


# -- success --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [AUTHORIZE, "/rest/oauth2/1.0/authorize"])
async def test_good_request_goes_to_consent_with_the_same_parameters(
    client: Client, store: Store, path: str
) -> None:
    link = make_link(store)
    params = authorize_params(link)
    url = await authorize(client, params, path)
    assert path_of(store, url).startswith(CONSENT + "?")
    assert query_of(url) == params


async def test_consent_url_leaves_out_blank_state_and_pkce(client: Client, store: Store) -> None:
    link = make_link(store)
    params = authorize_params(link, state="", code_challenge=None, code_challenge_method=None)
    url = await authorize(client, params)
    assert set(query_of(url)) == {"client_id", "redirect_uri", "response_type", "scope"}


async def test_second_registered_redirect_is_accepted(client: Client, store: Store) -> None:
    other = "http://localhost:8080/callback"
    link = make_link(store, redirects=(REDIRECT, other))
    url = await authorize(client, authorize_params(link, redirect_uri=other))
    assert path_of(store, url).startswith(CONSENT + "?")


@pytest.mark.parametrize(
    ("configured", "requested"),
    [
        ((Scope.REPO_READ,), "PUBLIC_REPOS"),
        ((Scope.REPO_READ,), "PUBLIC_REPOS REPO_READ"),
        ((Scope.REPO_ADMIN,), "REPO_READ"),
        ((Scope.ADMIN_WRITE,), "ACCOUNT_WRITE PROJECT_ADMIN"),
        ((Scope.SYSTEM_ADMIN,), "SYSTEM_ADMIN"),
    ],
)
async def test_scope_within_the_links_closure_goes_to_consent(
    client: Client, store: Store, configured: tuple[Scope, ...], requested: str
) -> None:
    link = make_link(store, scopes=configured)
    url = await authorize(client, authorize_params(link, scope=requested))
    assert path_of(store, url).startswith(CONSENT + "?")


@pytest.mark.parametrize(
    ("method", "challenge"),
    [("s256", CHALLENGE), ("Plain", VERIFIER), (None, VERIFIER), ("S256", "a" * 128)],
)
async def test_well_formed_pkce_goes_to_consent(
    client: Client, store: Store, method: str | None, challenge: str
) -> None:
    link = make_link(store)
    params = authorize_params(link, code_challenge=challenge, code_challenge_method=method)
    url = await authorize(client, params)
    assert path_of(store, url).startswith(CONSENT + "?")


async def test_wrong_response_type_is_not_checked_on_the_first_hop(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, response_type="token"))
    assert path_of(store, url).startswith(CONSENT + "?")


# -- the error page -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "response_type"])
@pytest.mark.parametrize("value", [None, "", "   "])
async def test_missing_or_blank_parameter_goes_to_the_error_page(
    client: Client, store: Store, name: str, value: str | None
) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, **{name: value}))
    query = assert_error_page(store, url, "invalid_request")
    assert name in query["errorDescription"]


@pytest.mark.parametrize("value", [None, "", "  "])
async def test_missing_scope_of_an_unknown_client_goes_to_the_error_page(
    client: Client, store: Store, value: str | None
) -> None:
    link = make_link(store)
    params = authorize_params(link, client_id="no-such-client", scope=value)
    url = await authorize(client, params)
    assert "scope" in assert_error_page(store, url, "invalid_request")["errorDescription"]


async def test_no_parameters_at_all_go_to_the_error_page(client: Client, store: Store) -> None:
    url = await authorize(client, {})
    assert_error_page(store, url, "invalid_request")


async def test_unknown_client_goes_to_the_error_page(client: Client, store: Store) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, client_id="0" * 32))
    assert_error_page(store, url, "invalid_client")


async def test_client_is_not_found_by_its_internal_id(client: Client, store: Store) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, client_id=link.id))
    assert_error_page(store, url, "invalid_client")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT[:-3],  # prefix
        REDIRECT + "/more",  # suffix
        REDIRECT + "/",  # trailing slash
        REDIRECT + "?next=" + EVIL,  # extra query
        REDIRECT.upper(),  # case
        REDIRECT.replace("packagist.example", "PACKAGIST.example"),  # host case
        REDIRECT.replace("https:", "http:"),  # scheme downgrade
        REDIRECT + "," + EVIL,  # comma injection
        EVIL + "," + REDIRECT,
        REDIRECT + " " + EVIL,
        REDIRECT + "#fragment",
        "https://packagist.example.evil.example/oauth/login/check-custom/acme",
        EVIL,
        "javascript:alert(1)",
    ],
)
async def test_redirect_not_exactly_registered_goes_to_the_error_page(
    client: Client, store: Store, redirect_uri: str
) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, redirect_uri=redirect_uri))
    assert_error_page(store, url, "invalid_request")
    assert "evil" not in url.split("?")[0]


async def test_comma_joined_registered_redirects_do_not_match_either(
    client: Client, store: Store
) -> None:
    other = "https://packagist.example/cb2"
    link = make_link(store, redirects=(REDIRECT, other))
    url = await authorize(client, authorize_params(link, redirect_uri=f"{REDIRECT},{other}"))
    assert_error_page(store, url, "invalid_request")


@pytest.mark.parametrize(
    ("method", "challenge"),
    [
        ("S256", CHALLENGE[:42]),  # too short (42)
        ("plain", "a" * 129),  # too long
        ("S256", CHALLENGE[:-1] + "="),  # base64 padding
        ("S256", CHALLENGE[:-1] + "+"),  # not base64url
        ("plain", "a" * 42 + " "),
        ("plain", "ä" * 43),
        ("S512", CHALLENGE),  # unknown method
        ("", "%" * 43),
        ("S256", ""),  # method without challenge
    ],
)
async def test_malformed_pkce_goes_to_the_error_page(
    client: Client, store: Store, method: str, challenge: str
) -> None:
    link = make_link(store)
    params = authorize_params(link, code_challenge=challenge, code_challenge_method=method)
    url = await authorize(client, params)
    assert_error_page(store, url, "invalid_request")


async def test_control_characters_in_parameters_never_break_the_redirect(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    params = authorize_params(link, redirect_uri=REDIRECT + "\r\nSet-Cookie: x=1", state="a\r\nb")
    url = await authorize(client, params)
    assert_error_page(store, url, "invalid_request")


# -- back to the client: the scope pre-check ------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "requested"),
    [
        ((Scope.REPO_READ,), "REPO_WRITE"),
        ((Scope.REPO_READ,), "REPO_READ PROJECT_ADMIN"),
        ((Scope.REPO_ADMIN,), "PROJECT_ADMIN"),
        ((Scope.ACCOUNT_WRITE,), "REPO_READ"),
        ((Scope.PROJECT_ADMIN,), "SYSTEM_ADMIN"),
        ((Scope.REPO_READ,), "NOT_A_SCOPE"),
        ((Scope.REPO_READ,), "repo_read"),
        ((Scope.REPO_READ,), "REPO_READ,PUBLIC_REPOS"),
    ],
)
async def test_scope_beyond_the_link_goes_back_as_invalid_scope_with_state(
    client: Client, store: Store, configured: tuple[Scope, ...], requested: str
) -> None:
    link = make_link(store, scopes=configured)
    url = await authorize(client, authorize_params(link, scope=requested))
    query = assert_client_error(url, REDIRECT, "invalid_scope")
    assert query["state"] == "st4te"


@pytest.mark.parametrize("value", [None, "", "   "])
async def test_blank_scope_of_a_known_client_goes_back_as_invalid_scope(
    client: Client, store: Store, value: str | None
) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, scope=value))
    assert_client_error(url, REDIRECT, "invalid_scope")


async def test_invalid_scope_without_state_carries_no_state(client: Client, store: Store) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, scope="REPO_ADMIN", state=None))
    assert "state" not in assert_client_error(url, REDIRECT, "invalid_scope")


async def test_invalid_scope_is_appended_to_a_redirect_with_a_query(
    client: Client, store: Store
) -> None:
    redirect = "https://packagist.example/cb?tenant=acme"
    link = make_link(store, redirects=(redirect,))
    url = await authorize(client, authorize_params(link, scope="REPO_ADMIN"))
    assert url.startswith(redirect + "&error=invalid_scope&")
    assert query_of(url)["tenant"] == "acme"


async def test_scope_pre_check_runs_before_the_redirect_check_quirk(
    client: Client, store: Store
) -> None:
    """Bitbucket's quirk: a known client with a bad scope sends the user to any redirect_uri."""
    link = make_link(store)
    url = await authorize(client, authorize_params(link, redirect_uri=EVIL, scope="REPO_ADMIN"))
    assert_client_error(url, EVIL, "invalid_scope")


@pytest.mark.parametrize("redirect_uri", ["javascript:alert(1)", "/relative", "", "evil.example"])
async def test_scope_pre_check_never_redirects_to_a_non_http_url(
    client: Client, store: Store, redirect_uri: str
) -> None:
    link = make_link(store)
    params = authorize_params(link, redirect_uri=redirect_uri, scope="REPO_ADMIN")
    url = await authorize(client, params)
    assert_error_page(store, url, "invalid_request")


async def test_unknown_client_with_bad_scope_goes_to_the_error_page(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    params = authorize_params(link, client_id="nope", scope="SYSTEM_ADMIN")
    url = await authorize(client, params)
    assert_error_page(store, url, "invalid_client")


async def test_state_with_special_characters_is_echoed_unchanged(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    state = "a b&c=d/é?#"
    url = await authorize(client, authorize_params(link, scope="REPO_ADMIN", state=state))
    assert query_of(url)["state"] == state


# -- journal --------------------------------------------------------------------------------------


async def test_authorize_is_journaled_with_pkce_method_and_state_presence(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    params = authorize_params(link, state=None, code_challenge_method="s256")
    await authorize(client, params)
    entry = store.journal.entries()[-1]
    assert entry.path == AUTHORIZE
    assert entry.extra == {
        "has_state": False,
        "pkce_method": "S256",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "REPO_READ",
    }


async def test_authorize_without_pkce_journals_no_method(client: Client, store: Store) -> None:
    link = make_link(store)
    await authorize(client, authorize_params(link, code_challenge=None, code_challenge_method=None))
    assert store.journal.entries()[-1].extra["pkce_method"] is None


async def test_a_non_ascii_state_goes_back_percent_encoded(client: Client, store: Store) -> None:
    link = make_link(store)
    url = await authorize(client, authorize_params(link, scope="REPO_WRITE", state="é 漢"))
    assert url.isascii()
    query = assert_client_error(url, REDIRECT, "invalid_scope")
    assert query["state"] == "é 漢"


def test_ascii_location_encodes_only_what_is_not_ascii() -> None:
    from simulator.web.pages import ascii_location

    assert ascii_location("https://x.example/a%20b?q=1&r=/s") == "https://x.example/a%20b?q=1&r=/s"
    assert ascii_location("https://x.example/é?s=漢") == "https://x.example/%C3%A9?s=%E6%BC%A2"
