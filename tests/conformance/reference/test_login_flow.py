"""The reference against a served simulator, through a browser: login, refresh, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conformance.reference import rules
from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    TIMEOUT,
    Browser,
    Setup,
    advance_clock,
    clear_journal,
    delete_link,
    journal,
    patch_config,
    session_of,
    with_query,
)


def test_login_link_sends_the_browser_to_authorize_with_state_pkce_and_repo_read(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    answer = browser.get(setup.login_link, follow=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == bitbucket.base_url
    assert location.path == "/rest/oauth2/latest/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == setup.link["client_id"]
    assert query["redirect_uri"] == setup.created["callback_urls"][1]
    assert query["response_type"] == "code"
    assert query["scope"] == "REPO_READ"
    assert len(query["state"]) >= 32
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert rules.SESSION_COOKIE in answer.cookies


def test_login_logs_alice_in_and_lands_on_the_home_page(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    home = browser.log_in(setup.login_link, "alice")
    assert home.status_code == 200
    assert home.url == ref + "/"
    assert 'id="username">alice<' in home.text
    assert session_of(ref, browser) == {"authenticated": True, "username": "alice", "error": None}
    (exchange,) = journal(bitbucket, "/rest/oauth2/latest/token")
    assert exchange["extra"]["grant_type"] == "authorization_code"
    assert exchange["extra"]["client_auth"] == "body"
    assert exchange["extra"]["has_code_verifier"] is True
    assert exchange["extra"]["redirect_uri"] == setup.created["callback_urls"][1]


def test_login_rotates_the_session_id(ref: str, setup: Setup, browser: Browser) -> None:
    browser.get(setup.login_link, follow=False)
    before = browser.cookies()[rules.SESSION_COOKIE]
    browser.log_in(setup.login_link, "alice")
    assert browser.cookies()[rules.SESSION_COOKIE] != before


def test_user_whose_name_differs_from_the_slug_is_found(
    ref: str, setup: Setup, browser: Browser
) -> None:
    browser.log_in(setup.login_link, "jane@example.com")
    assert session_of(ref, browser)["username"] == "jane@example.com"


def test_repositories_list_what_alice_reads_with_composer_json_as_on_bitbucket(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    answer = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT)
    assert answer.status_code == 200
    rows = answer.json()
    expected = requests.get(
        bitbucket.base_url + "/rest/api/1.0/repos",
        params={"permission": "REPO_READ", "limit": "1000"},
        auth=("alice", "alice"),
        timeout=TIMEOUT,
    ).json()["values"]
    assert [(r["project"], r["slug"]) for r in rows] == [
        (r["project"]["key"], r["slug"]) for r in expected
    ]
    for row in rows:
        raw = requests.get(
            f"{bitbucket.base_url}/rest/api/1.0/projects/{row['project']}/repos/{row['slug']}"
            "/raw/composer.json",
            auth=("alice", "alice"),
            timeout=TIMEOUT,
        )
        assert row["has_composer_json"] is (raw.status_code == 200), row
    assert any(r["has_composer_json"] for r in rows)
    assert not all(r["has_composer_json"] for r in rows)


def test_repositories_follow_next_page_start(
    ref: str,
    setup: Setup,
    browser: Browser,
    bitbucket: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "PAGE_LIMIT", 3)
    browser.log_in(setup.login_link, "alice")  # the home page lists them too
    clear_journal(bitbucket)
    rows = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT).json()
    pages = journal(bitbucket, "/rest/api/1.0/repos")
    assert len(rows) > 3
    assert len(pages) == -(-len(rows) // 3)
    assert [entry["query"]["start"] for entry in pages] == [
        str(n) for n in range(0, 3 * len(pages), 3)
    ]
    assert {entry["query"]["limit"] for entry in pages} == {"3"}


def test_tampered_state_is_rejected_without_exchanging_the_code(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    page = browser.get(with_query(callback, state="forged"))
    assert rules.STATE_MISMATCH in page.text.replace("&#x27;", "'")
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.STATE_MISMATCH,
    }
    assert journal(bitbucket, "/rest/oauth2/latest/token") == []


def test_missing_state_is_rejected(ref: str, setup: Setup, browser: Browser) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    browser.get(with_query(callback, state=None))
    assert session_of(ref, browser)["error"] == rules.STATE_MISMATCH


def test_callback_in_another_browser_is_rejected(ref: str, setup: Setup, browser: Browser) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    victim = Browser()
    try:
        victim.get(callback)
        assert session_of(ref, victim)["error"] == rules.STATE_MISMATCH
    finally:
        victim.close()


def test_state_is_used_once(ref: str, setup: Setup, browser: Browser) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    browser.get(callback)
    browser.get(callback)
    assert session_of(ref, browser)["error"] == rules.STATE_MISMATCH


def test_deny_leaves_the_user_logged_out_with_an_error(
    ref: str, setup: Setup, browser: Browser
) -> None:
    page = browser.log_in(setup.login_link, "alice", decision="deny")
    assert "You denied access to Bitbucket" in page.text
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.ACCESS_DENIED,
    }


def test_two_factor_plugin_without_whitelist_blocks_the_token_exchange_with_a_named_error(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    patch_config(bitbucket, {"tfa": {"installed": True}})
    browser.get(callback)
    state = session_of(ref, browser)
    assert state == {"authenticated": False, "username": None, "error": rules.TWO_FACTOR_BLOCKED}
    assert "OAuth whitelist" in rules.TWO_FACTOR_BLOCKED


def test_two_factor_plugin_with_whitelist_lets_the_login_through(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide(browser.consent_page(setup.login_link, "alice"), "allow")
    patch_config(bitbucket, {"tfa": {"installed": True, "oauth_whitelist": True}})
    browser.get(callback)
    assert session_of(ref, browser)["authenticated"] is True


def test_two_factor_plugin_installed_after_login_is_reported_by_session(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    patch_config(bitbucket, {"tfa": {"installed": True}})
    assert session_of(ref, browser)["error"] == rules.TWO_FACTOR_BLOCKED
    patch_config(bitbucket, {"tfa": {"oauth_whitelist": True}})
    assert session_of(ref, browser)["authenticated"] is True


def test_expired_access_token_is_refreshed_with_credentials_in_the_body(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    advance_clock(bitbucket, 3601)
    assert session_of(ref, browser) == {"authenticated": True, "username": "alice", "error": None}
    assert session_of(ref, browser)["authenticated"] is True
    grants = [e["extra"] for e in journal(bitbucket, "/rest/oauth2/latest/token")]
    assert [g["grant_type"] for g in grants] == ["authorization_code", "refresh_token"]
    assert grants[1]["client_auth"] == "body"


def test_rotated_refresh_token_is_kept_for_the_next_refresh(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    for _ in range(2):
        advance_clock(bitbucket, 3601)
        assert session_of(ref, browser)["authenticated"] is True
    grants = [e["extra"]["grant_type"] for e in journal(bitbucket, "/rest/oauth2/latest/token")]
    assert grants == ["authorization_code", "refresh_token", "refresh_token"]


def test_token_expired_by_the_integrations_own_clock_is_refreshed_before_use(
    ref: str,
    setup: Setup,
    browser: Browser,
    bitbucket: SimulatorServer,
    reference: ReferenceServer,
) -> None:
    browser.log_in(setup.login_link, "alice")
    advance_clock(bitbucket, 3601)
    reference.state.clock.advance(3601)
    properties_before = len(journal(bitbucket, "/rest/api/1.0/application-properties"))
    assert session_of(ref, browser)["authenticated"] is True
    calls = journal(bitbucket, "/rest/api/1.0/application-properties")[properties_before:]
    assert len(calls) == 1  # the dead token was never sent
    grants = [e["extra"]["grant_type"] for e in journal(bitbucket, "/rest/oauth2/latest/token")]
    assert grants == ["authorization_code", "refresh_token"]


def test_deleted_link_logs_the_session_out(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    delete_link(bitbucket, setup.link)
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.LOGIN_NO_LONGER_VALID,
    }
    answer = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT)
    assert answer.status_code == 401
    assert answer.json() == {"error": rules.LOGIN_NO_LONGER_VALID}


def test_repositories_refresh_an_expired_token(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    before = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT).json()
    advance_clock(bitbucket, 3601)
    after = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT)
    assert after.status_code == 200
    assert after.json() == before
    grants = [e["extra"]["grant_type"] for e in journal(bitbucket, "/rest/oauth2/latest/token")]
    assert grants == ["authorization_code", "refresh_token"]


def test_wrong_client_secret_after_setup_names_the_client_credentials_at_login(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    requests.put(
        f"{bitbucket.base_url}/rest/oauth2/latest/client/reset/{setup.link['client_id']}",
        auth=("admin", "admin"),
        timeout=TIMEOUT,
    ).raise_for_status()
    browser.log_in(setup.login_link, "alice")
    assert session_of(ref, browser)["error"] == rules.LOGIN_CLIENT_REJECTED
