"""The reference's rules, one by one (no I/O)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conformance.reference import rules
from conformance.reference.rules import RefusalError, declared_name
from conformance.reference.service import next_page_start


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://bitbucket.example.com", "https://bitbucket.example.com"),
        ("https://bitbucket.example.com/", "https://bitbucket.example.com"),
        ("  HTTPS://host:8443/bitbucket/ ", "https://host:8443/bitbucket"),
        ("http://host/a/b//", "http://host/a/b"),
    ],
)
def test_base_url_keeps_its_context_path_without_trailing_slash(raw: str, expected: str) -> None:
    assert rules.normalise_base_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "bitbucket.example.com",
        "/bitbucket",
        "ftp://host",
        "http://",
        "http://h/?q=1",
        "http://h/#x",
    ],
)
def test_base_url_that_is_not_absolute_http_is_refused(raw: str) -> None:
    with pytest.raises(RefusalError) as caught:
        rules.normalise_base_url(raw)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9.4.16", (9, 4, 16)), ("7.21", (7, 21, 0)), ("8.19.1-rc1", (8, 19, 1)), ("x", None)],
)
def test_version_parsing(text: str, expected: tuple[int, int, int] | None) -> None:
    assert rules.parse_version(text) == expected


@pytest.mark.parametrize(
    ("version", "offered"),
    [
        ((7, 17, 0), False),
        ((7, 20, 9), False),
        ((7, 21, 0), True),
        ((8, 19, 1), True),
        ((9, 4, 0), True),
    ],
)
def test_oauth2_needs_7_21(version: tuple[int, int, int], offered: bool) -> None:
    assert rules.offers_oauth2(version) is offered


def test_s256_challenge_is_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert rules.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_and_state_are_long_random_and_url_safe() -> None:
    verifiers = {rules.new_code_verifier() for _ in range(20)}
    assert len(verifiers) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", v) for v in verifiers)
    assert len({rules.new_state() for _ in range(20)}) == 20


def test_authorize_url_asks_for_code_repo_read_state_and_s256() -> None:
    url = rules.authorize_url("https://h/bb", "cid", "https://r/cb", "st", "ch")
    parts = urlsplit(url)
    assert parts.path == "/bb/rest/oauth2/latest/authorize"
    assert parse_qs(parts.query) == {
        "client_id": ["cid"],
        "redirect_uri": ["https://r/cb"],
        "response_type": ["code"],
        "scope": ["REPO_READ"],
        "state": ["st"],
        "code_challenge": ["ch"],
        "code_challenge_method": ["S256"],
    }


@pytest.mark.parametrize(
    ("expected", "given", "matches"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", None, False),
        (None, "abc", False),
        ("", "", False),
    ],
)
def test_state_must_be_the_sessions(expected: str | None, given: str | None, matches: bool) -> None:
    assert rules.state_matches(expected, given) is matches


def test_callback_errors_are_named() -> None:
    assert rules.callback_error("access_denied", "no") == rules.ACCESS_DENIED
    assert "invalid_scope: bad" in rules.callback_error("invalid_scope", "bad")


def test_two_factor_is_recognised_only_on_401_and_403() -> None:
    text = "Two-factor authentication is required for this user."
    assert rules.two_factor_blocked(401, text)
    assert rules.two_factor_blocked(403, text)
    assert not rules.two_factor_blocked(400, text)
    assert not rules.two_factor_blocked(401, "invalid_client Bad secret")


def test_token_errors_name_the_client_credentials() -> None:
    assert rules.token_error("invalid_client", "x") == rules.LOGIN_CLIENT_REJECTED
    assert "invalid_grant" in rules.token_error("invalid_grant", "")


def test_token_is_rejected_on_401_or_when_bitbucket_saw_nobody() -> None:
    assert rules.token_rejected(401, "alice")
    assert rules.token_rejected(200, None)
    assert not rules.token_rejected(200, "alice")
    assert not rules.token_rejected(404, "alice")


def test_token_expiry_has_a_margin() -> None:
    assert not rules.token_expired(1000.0, 900.0)
    assert rules.token_expired(1000.0, 1000.0 - rules.EXPIRY_MARGIN_SECONDS)


def test_refused_refresh_ends_the_login_but_an_outage_does_not() -> None:
    assert rules.refresh_failure_logs_out(400)
    assert rules.refresh_failure_logs_out(401)
    assert not rules.refresh_failure_logs_out(500)


@pytest.mark.parametrize(
    ("page", "start", "expected"),
    [
        ({"isLastPage": False, "nextPageStart": 25}, 0, 25),
        ({"isLastPage": True}, 0, None),
        ({"isLastPage": False}, 0, None),
        ({"isLastPage": False, "nextPageStart": 0}, 0, None),
        ({}, 0, None),
    ],
)
def test_paging_follows_next_page_start_only(
    page: dict[str, object], start: int, expected: int | None
) -> None:
    assert next_page_start(page, start) == expected


def test_the_declared_name_is_the_composer_name_as_written() -> None:
    assert declared_name({"name": "Acme/Lib"}) == "Acme/Lib"
    assert declared_name({"name": ""}) is None
    assert declared_name({"name": 3}) is None
    assert declared_name([]) is None


# -- OAuth 1 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "warned"),
    [
        ((7, 17, 0), False),
        ((7, 20, 9), False),
        ((7, 21, 0), False),
        ((7, 99, 9), False),
        ((8, 0, 0), True),
        ((8, 19, 1), True),
        ((9, 4, 0), True),
    ],
)
def test_oauth1_synchronisation_warning_starts_at_8_0(
    version: tuple[int, int, int], warned: bool
) -> None:
    assert rules.warns_oauth1_synchronisation(version) is warned
    messages = rules.oauth1_messages(version)
    assert (rules.OAUTH1_NO_SYNCHRONISATION in messages) is warned
    assert rules.OAUTH1_CALLBACK_LEAVE_EMPTY in messages


def test_oauth1_form_without_a_known_version_does_not_warn() -> None:
    assert rules.oauth1_messages(None) == (rules.OAUTH1_CALLBACK_LEAVE_EMPTY,)


def test_oauth1_urls_are_specific_to_the_integration_and_keep_the_context_path() -> None:
    assert rules.oauth1_callback_url("https://p", "s") == "https://p/oauth1/callback/s"
    assert rules.application_url("https://p") == "https://p/"
    assert rules.consumer_key("ab12") == "packagist-ab12"
    url = rules.oauth1_authorize_url("https://h/bb", "t/k+n")
    parts = urlsplit(url)
    assert parts.path == "/bb/plugins/servlet/oauth/authorize"
    assert parse_qs(parts.query) == {"oauth_token": ["t/k+n"]}


@pytest.mark.parametrize(
    ("expected", "given", "matches"),
    [
        ("tok", "tok", True),
        ("tok", "toK", False),
        ("tok", None, False),
        (None, "tok", False),
        ("", "", False),
    ],
)
def test_oauth1_callback_token_must_be_the_sessions(
    expected: str | None, given: str | None, matches: bool
) -> None:
    assert rules.request_token_matches(expected, given) is matches


def test_oauth1_deny_is_the_verifier_denied() -> None:
    assert rules.oauth1_denied("denied")
    assert not rules.oauth1_denied("a1B2c3")
    assert not rules.oauth1_denied("")


def test_request_token_must_confirm_the_callback() -> None:
    assert rules.callback_confirmed({"oauth_token": "t", "oauth_callback_confirmed": "true"})
    assert not rules.callback_confirmed({"oauth_token": "t"})
    assert not rules.callback_confirmed({"oauth_callback_confirmed": "false"})


def test_link_problems_name_what_the_admin_must_fix() -> None:
    unknown = rules.link_problem("consumer_key_unknown", "packagist-x")
    assert unknown == (
        "Bitbucket does not know the consumer key packagist-x: create the application link and "
        "paste it into Incoming Authentication."
    )
    assert "Public Key" in rules.link_problem("signature_invalid", "packagist-x")
    assert "timestamp_refused" in rules.link_problem("timestamp_refused", "packagist-x")


def test_oauth1_login_problems_name_the_problem_and_its_advice() -> None:
    assert "token_rejected" in rules.oauth1_login_problem("token_rejected", "")
    assert "nonce_used: again" in rules.oauth1_login_problem("nonce_used", "again")


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("/orgs/acme/packages", "http://127.0.0.1:5000/orgs/acme/packages"),
        ("/packages?page=2", "http://127.0.0.1:5000/packages?page=2"),
        (None, rules.home_page("http://127.0.0.1:5000")),
        ("", rules.home_page("http://127.0.0.1:5000")),
        ("https://attacker.example/phish", rules.home_page("http://127.0.0.1:5000")),
        ("//attacker.example/phish", rules.home_page("http://127.0.0.1:5000")),
        ("/\\attacker.example", rules.home_page("http://127.0.0.1:5000")),
        ("javascript:alert(1)", rules.home_page("http://127.0.0.1:5000")),
    ],
)
def test_the_page_after_the_login_is_a_path_on_the_integration_or_home(
    requested: str | None, expected: str
) -> None:
    assert rules.after_login_page("http://127.0.0.1:5000", requested) == expected
