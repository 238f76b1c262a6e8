"""OAuth 1 as Private Packagist does it, against a served simulator: the generated consumer key
and certificate, the signed request-token check on submit, the browser's login (request
token, Allow/Deny, verifier, access token), signed REST calls, the 8.0 warning, the 2FA
block, a deleted link; and OAuth 2 beside it."""

from __future__ import annotations

import html
import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.reference import rules
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.protocol import created_json
from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    TIMEOUT,
    Browser,
    Setup,
    clear_journal,
    create_integration,
    create_oauth1_link,
    delete_oauth1_link,
    forms_of,
    journal,
    patch_config,
    session_of,
    set_up_integration,
    set_up_oauth1_integration,
    with_query,
)
from tests.schemas import validate

REQUEST_TOKEN = "/plugins/servlet/oauth/request-token"
ACCESS_TOKEN = "/plugins/servlet/oauth/access-token"


def submit(ref: str, integration_id: str) -> requests.Response:
    """``POST /integrations/{id}/submit`` as the protocol says for OAuth 1: empty strings."""
    return requests.post(
        f"{ref}/integrations/{integration_id}/submit",
        json={"client_id": "", "client_secret": ""},
        timeout=TIMEOUT,
    )


def listed(ref: str) -> list[dict[str, Any]]:
    """``GET /integrations``, validated."""
    body: list[dict[str, Any]] = validate(
        requests.get(ref + "/integrations", timeout=TIMEOUT).json(), "driver/integrations.json"
    )
    return body


def repositories(ref: str, browser: Browser) -> requests.Response:
    """``GET /repositories`` with the browser's cookies."""
    return requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT)


def signed_entries(bitbucket: SimulatorServer, prefix: str) -> list[dict[str, Any]]:
    """Journal entries under ``prefix`` that carried an OAuth signature."""
    return [
        e
        for e in journal(bitbucket, prefix)
        if e["headers"].get("Authorization", "").startswith("OAuth ")
    ]


# -- the form ------------------------------------------------------------------------------------


def test_form_generates_a_consumer_key_and_a_self_signed_rsa_2048_certificate(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = validate(create_integration(ref, bitbucket, 1), "driver/created-integration.json")
    assert body["consumer_key"] == f"packagist-{body['id']}"
    certificate = x509.load_pem_x509_certificate(body["public_key"].encode())
    assert certificate.issuer == certificate.subject
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    assert body["public_key"].startswith("-----BEGIN CERTIFICATE-----\n")


def test_form_shows_application_url_setup_link_callback_and_nothing_to_paste_back(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    slug = f"bitbucketserver-{body['id']}"
    assert body["application_url"] == ref + "/"
    assert (
        body["setup_link"] == bitbucket.base_url + "/plugins/servlet/applinks/listApplicationLinks"
    )
    assert body["callback_urls"] == [f"{ref}/oauth1/callback/{slug}"]
    assert (body["client_id"], body["client_secret"]) == ("", "")
    assert rules.OAUTH1_CALLBACK_LEAVE_EMPTY in body["messages"]
    assert "leave the Consumer Callback URL empty" in rules.OAUTH1_CALLBACK_LEAVE_EMPTY


def test_each_oauth1_integration_has_its_own_consumer_key_and_key_pair(
    ref: str, bitbucket: SimulatorServer
) -> None:
    first, second = (create_integration(ref, bitbucket, 1) for _ in range(2))
    assert first["consumer_key"] != second["consumer_key"]
    assert first["public_key"] != second["public_key"]
    assert first["callback_urls"] != second["callback_urls"]


@pytest.mark.parametrize(
    ("version", "warned"),
    [("7.17.0", False), ("7.20.0", False), ("7.21.0", False), ("8.0.0", True), ("8.19.0", True)],
)
def test_from_bitbucket_8_the_form_warns_that_oauth1_cannot_synchronise(
    ref: str, bitbucket: SimulatorServer, version: str, warned: bool
) -> None:
    patch_config(bitbucket, {"version": version})
    body = create_integration(ref, bitbucket, 1)
    assert (rules.OAUTH1_NO_SYNCHRONISATION in body["messages"]) is warned
    assert body["setup_link"] is not None


def test_the_8_0_warning_has_packagists_wording(ref: str, bitbucket: SimulatorServer) -> None:
    patch_config(bitbucket, {"version": "8.19.0"})
    (warning, _) = create_integration(ref, bitbucket, 1)["messages"]
    assert (
        "from bitbucket v8 on, oauth1 links can no longer be used to set up synchronizations"
        in (warning.lower())
    )
    assert "creating an OAuth2 link and editing the integration" in warning


def test_in_process_driver_shows_the_same_oauth1_form_but_for_generated_values(
    ref: str, integrator: ReferenceIntegrator, bitbucket: SimulatorServer
) -> None:
    in_process = created_json(
        integrator.create_integration("bitbucket-server", bitbucket.base_url, 1)
    )
    http = create_integration(ref, bitbucket, 1)
    for body in (in_process, http):
        body["callback_urls"] = [url.replace(body["id"], "<id>") for url in body["callback_urls"]]
        body["consumer_key"] = body["consumer_key"].replace(body["id"], "<id>")
        body["id"] = "<id>"
        assert body.pop("public_key").startswith("-----BEGIN CERTIFICATE-----")
    assert in_process == http


def test_the_harness_http_driver_accepts_the_oauth1_form(
    ref: str, bitbucket: SimulatorServer
) -> None:
    from conformance.drivers.http import HttpIntegrator

    created = HttpIntegrator(ref).create_integration("bitbucket-server", bitbucket.base_url, 1)
    assert created.consumer_key
    assert created.public_key
    assert created.application_url == ref + "/"


# -- submit ------------------------------------------------------------------------------------


def test_submit_without_a_link_names_the_consumer_key_and_creates_nothing(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    answer = submit(ref, body["id"])
    assert answer.status_code == 422
    assert validate(answer.json(), "driver/error.json") == {
        "error": f"Bitbucket does not know the consumer key {body['consumer_key']}: create the "
        "application link and paste it into Incoming Authentication."
    }
    assert listed(ref) == []
    (probe,) = journal(bitbucket, REQUEST_TOKEN)
    assert probe["extra"]["oauth_problem"] == "consumer_key_unknown"


def test_submit_with_another_public_key_names_the_public_key(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    other = create_integration(ref, bitbucket, 1)
    create_oauth1_link(bitbucket, {**body, "public_key": other["public_key"]})
    answer = submit(ref, body["id"])
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert "signature_invalid" in error
    assert "Public Key" in error


def test_submit_with_the_link_sends_the_admin_to_the_list(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    create_oauth1_link(bitbucket, body)
    answer = submit(ref, body["id"])
    assert answer.status_code == 200
    assert validate(answer.json(), "driver/submit-result.json") == {
        "redirect_to": ref + "/integrations"
    }
    assert listed(ref) == [
        {
            "id": body["id"],
            "platform": "bitbucket-server",
            "base_url": bitbucket.base_url,
            "oauth_version": 1,
            "login_link": f"{ref}/login/bitbucketserver-{body['id']}",
        }
    ]


def test_submit_checks_the_link_with_a_request_token_signed_rsa_sha1_in_the_header(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    create_oauth1_link(bitbucket, body)
    submit(ref, body["id"])
    (probe,) = signed_entries(bitbucket, REQUEST_TOKEN)
    assert probe["method"] == "POST"
    assert probe["status"] == 200
    assert probe["query"] == {}
    assert probe["extra"] == {
        "oauth_consumer_key": body["consumer_key"],
        "oauth_signature_method": "RSA-SHA1",
    }


def test_signatures_carry_the_integrations_own_clock(
    ref: str, bitbucket: SimulatorServer, reference: ReferenceServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    create_oauth1_link(bitbucket, body)
    reference.state.clock.advance(3600)
    answer = submit(ref, body["id"])
    assert answer.status_code == 422
    assert "timestamp_refused" in answer.json()["error"]
    reference.state.clock.reset()
    assert submit(ref, body["id"]).status_code == 200


def test_submit_to_a_server_that_is_not_there_names_it(
    ref: str, bitbucket: SimulatorServer, reference: ReferenceServer
) -> None:
    body = create_integration(ref, bitbucket, 1)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{closed.getsockname()[1]}"
        reference.state.integrations[body["id"]].base_url = gone
        answer = submit(ref, body["id"])
    assert answer.status_code == 422
    assert answer.json()["error"].startswith(f"Bitbucket at {gone} did not answer: ")


def test_the_harness_http_driver_accepts_the_oauth1_submit(
    ref: str, bitbucket: SimulatorServer, integrator: ReferenceIntegrator
) -> None:
    from conformance.drivers.http import HttpIntegrator

    http = HttpIntegrator(ref)
    created = http.create_integration("bitbucket-server", bitbucket.base_url, 1)
    refused = http.submit(created.id, "", "")
    assert created.consumer_key is not None
    assert refused.error is not None
    assert created.consumer_key in refused.error
    create_oauth1_link(
        bitbucket,
        {"consumer_key": created.consumer_key, "public_key": created.public_key},
    )
    assert http.submit(created.id, "", "").ok
    assert http.integrations() == integrator.integrations()


# -- the login ---------------------------------------------------------------------------------


def test_login_link_sends_the_browser_to_authorize_a_fresh_request_token(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    clear_journal(bitbucket)
    answer = browser.get(oauth1_setup.login_link, follow=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == bitbucket.base_url
    assert location.path == "/plugins/servlet/oauth/authorize"
    assert set(parse_qs(location.query)) == {"oauth_token"}
    assert rules.SESSION_COOKIE in answer.cookies
    (issued,) = signed_entries(bitbucket, REQUEST_TOKEN)
    assert issued["status"] == 200


def test_oauth1_login_logs_alice_in_and_lands_on_the_home_page(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    before = browser.get(oauth1_setup.login_link, follow=False).cookies[rules.SESSION_COOKIE]
    home = browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    assert home.status_code == 200
    assert home.url == ref + "/"
    assert 'id="username">alice<' in home.text
    assert validate(session_of(ref, browser), "driver/session.json") == {
        "authenticated": True,
        "username": "alice",
        "error": None,
    }
    assert browser.cookies()[rules.SESSION_COOKIE] != before
    (exchange,) = signed_entries(bitbucket, ACCESS_TOKEN)
    assert exchange["status"] == 200
    assert exchange["extra"]["oauth_signature_method"] == "RSA-SHA1"


def test_oauth1_login_identifies_the_user_with_signed_rest_calls(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    clear_journal(bitbucket)
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    properties = journal(bitbucket, "/rest/api/1.0/application-properties")
    assert properties
    assert all(e["headers"]["Authorization"] == "OAuth <redacted>" for e in properties)
    (search,) = [e for e in journal(bitbucket, "/rest/api/1.0/users") if e["query"]]
    assert search["query"]["filter"] == "alice"
    assert search["status"] == 200


def test_user_whose_name_differs_from_the_slug_is_found_with_a_signed_query(
    ref: str, oauth1_setup: Setup, browser: Browser
) -> None:
    browser.log_in_oauth1(oauth1_setup.login_link, "jane@example.com")
    assert session_of(ref, browser)["username"] == "jane@example.com"


def test_repositories_through_oauth1_are_what_alice_reads_on_bitbucket(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    answer = repositories(ref, browser)
    assert answer.status_code == 200
    rows = validate(answer.json(), "driver/repositories.json")
    expected = requests.get(
        bitbucket.base_url + "/rest/api/1.0/repos",
        params={"permission": "REPO_READ", "limit": "1000"},
        auth=("alice", "alice"),
        timeout=TIMEOUT,
    ).json()["values"]
    assert [(r["project"], r["slug"]) for r in rows] == [
        (r["project"]["key"], r["slug"]) for r in expected
    ]
    assert any(r["has_composer_json"] for r in rows)
    assert not all(r["has_composer_json"] for r in rows)


def test_repositories_through_oauth1_follow_next_page_start_with_signed_queries(
    ref: str,
    oauth1_setup: Setup,
    browser: Browser,
    bitbucket: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "PAGE_LIMIT", 3)
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    clear_journal(bitbucket)
    rows = repositories(ref, browser).json()
    pages = signed_entries(bitbucket, "/rest/api/1.0/repos")
    assert len(rows) > 3
    assert len(pages) == -(-len(rows) // 3)
    assert [e["query"]["start"] for e in pages] == [str(n) for n in range(0, 3 * len(pages), 3)]
    assert {e["status"] for e in pages} == {200}


def test_deny_leaves_the_user_logged_out_with_an_error(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    page = browser.log_in_oauth1(oauth1_setup.login_link, "alice", decision="deny")
    assert html.escape(rules.ACCESS_DENIED) in page.text
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": "You denied access to Bitbucket; you are not logged in.",
    }
    assert journal(bitbucket, ACCESS_TOKEN) == []


def test_tampered_oauth_token_on_the_callback_is_rejected_without_an_access_token_call(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    page = browser.get(with_query(callback, oauth_token="forged"))
    assert html.escape(rules.OAUTH1_CALLBACK_MISMATCH) in page.text
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.OAUTH1_CALLBACK_MISMATCH,
    }
    assert journal(bitbucket, ACCESS_TOKEN) == []


def test_callback_without_oauth_token_is_rejected(
    ref: str, oauth1_setup: Setup, browser: Browser
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    browser.get(with_query(callback, oauth_token=None))
    assert session_of(ref, browser)["error"] == rules.OAUTH1_CALLBACK_MISMATCH


def test_oauth1_callback_in_another_browser_is_rejected(
    ref: str, oauth1_setup: Setup, browser: Browser
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    victim = Browser()
    try:
        victim.get(callback)
        assert session_of(ref, victim)["error"] == rules.OAUTH1_CALLBACK_MISMATCH
    finally:
        victim.close()


def test_oauth1_callback_is_used_once(ref: str, oauth1_setup: Setup, browser: Browser) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    browser.get(callback)
    browser.get(callback)
    assert session_of(ref, browser)["error"] == rules.OAUTH1_CALLBACK_MISMATCH


def test_oauth1_callback_of_another_integration_is_rejected(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    authorize = browser.authorize_page(oauth1_setup.login_link, "alice")
    callback = browser.decide_oauth1(authorize, "allow")
    other = set_up_oauth1_integration(ref, bitbucket)
    browser.get(other.created["callback_urls"][0] + "?" + urlsplit(callback).query)
    assert session_of(ref, browser)["error"] == rules.OAUTH1_CALLBACK_MISMATCH


def test_link_deleted_before_the_login_is_named_on_the_home_page(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    delete_oauth1_link(bitbucket, oauth1_setup.link)
    page = browser.get(oauth1_setup.login_link)
    assert page.url == ref + "/"
    error = rules.oauth1_login_problem("consumer_key_unknown", "")
    assert html.escape(error) in page.text
    assert session_of(ref, browser) == {"authenticated": False, "username": None, "error": error}


# -- after the login ---------------------------------------------------------------------------


def test_deleted_link_logs_the_oauth1_session_out(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    delete_oauth1_link(bitbucket, oauth1_setup.link)
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.LOGIN_NO_LONGER_VALID,
    }
    answer = repositories(ref, browser)
    assert answer.status_code == 401
    assert answer.json() == {"error": rules.LOGIN_NO_LONGER_VALID}


def test_deleted_link_answers_token_rejected_which_logs_out(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    delete_oauth1_link(bitbucket, oauth1_setup.link)
    clear_journal(bitbucket)
    session_of(ref, browser)
    (call,) = journal(bitbucket, "/rest/api/1.0/application-properties")
    assert call["status"] == 401


def test_two_factor_plugin_without_whitelist_blocks_the_access_token_with_a_named_error(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    patch_config(bitbucket, {"tfa": {"installed": True}})
    browser.get(callback)
    assert session_of(ref, browser) == {
        "authenticated": False,
        "username": None,
        "error": rules.TWO_FACTOR_BLOCKED,
    }
    assert "OAuth whitelist" in rules.TWO_FACTOR_BLOCKED
    (blocked,) = journal(bitbucket, ACCESS_TOKEN)
    assert blocked["extra"]["oauth_problem"] == "permission_denied"


def test_two_factor_plugin_answering_403_is_named_too(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    patch_config(bitbucket, {"tfa": {"installed": True, "blocked_response": "403"}})
    browser.get(callback)
    assert session_of(ref, browser)["error"] == rules.TWO_FACTOR_BLOCKED


def test_two_factor_plugin_with_whitelist_lets_the_oauth1_login_through(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    patch_config(bitbucket, {"tfa": {"installed": True, "oauth_whitelist": True}})
    browser.get(callback)
    assert session_of(ref, browser)["authenticated"] is True


def test_two_factor_plugin_installed_after_the_oauth1_login_is_reported_by_session(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    browser.log_in_oauth1(oauth1_setup.login_link, "alice")
    patch_config(bitbucket, {"tfa": {"installed": True}})
    assert session_of(ref, browser)["error"] == rules.TWO_FACTOR_BLOCKED
    answer = repositories(ref, browser)
    assert (answer.status_code, answer.json()) == (401, {"error": rules.TWO_FACTOR_BLOCKED})
    patch_config(bitbucket, {"tfa": {"oauth_whitelist": True}})
    assert session_of(ref, browser)["authenticated"] is True


def test_in_process_driver_sees_the_oauth1_login_as_the_endpoints_do(
    ref: str, oauth1_setup: Setup, browser: Browser, integrator: ReferenceIntegrator
) -> None:
    from conformance.drivers.http import HttpIntegrator

    browser.log_in_oauth1(oauth1_setup.login_link, "bob")
    cookies = browser.cookies()
    http = HttpIntegrator(ref)
    assert integrator.session(cookies) == http.session(cookies)
    assert integrator.session(cookies).username == "bob"
    assert integrator.repositories(cookies) == http.repositories(cookies)


# -- OAuth 2 beside OAuth 1 ----------------------------------------------------------------------


def test_oauth2_still_logs_in_beside_an_oauth1_integration(
    ref: str, oauth1_setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    oauth2 = set_up_integration(ref, bitbucket)
    assert "consumer_key" not in oauth2.created
    assert {row["oauth_version"] for row in listed(ref)} == {1, 2}
    browser.log_in(oauth2.login_link, "alice")
    assert session_of(ref, browser) == {"authenticated": True, "username": "alice", "error": None}
    assert repositories(ref, browser).status_code == 200
    other = Browser()
    try:
        other.log_in_oauth1(oauth1_setup.login_link, "bob")
        assert session_of(ref, other)["username"] == "bob"
    finally:
        other.close()


def test_an_oauth2_callback_does_not_finish_an_oauth1_login(
    ref: str, oauth1_setup: Setup, browser: Browser
) -> None:
    callback = browser.decide_oauth1(
        browser.authorize_page(oauth1_setup.login_link, "alice"), "allow"
    )
    slug = urlsplit(callback).path.rsplit("/", 1)[1]
    browser.get(f"{ref}/oauth/login/check-custom/{slug}?code=x&state=y")
    assert session_of(ref, browser)["error"] == rules.STATE_MISMATCH


# -- the pages -----------------------------------------------------------------------------------


def test_oauth1_setup_page_shows_what_to_paste_and_creates_the_integration(
    ref: str, browser: Browser, bitbucket: SimulatorServer
) -> None:
    form = browser.get(ref + "/integrations/new")
    page = browser.submit(form, {"base_url": bitbucket.base_url, "oauth_version": "1"})
    assert page.status_code == 200
    (fields,) = [f.fields for f in forms_of(page.text)]
    assert fields["consumer_key"].startswith("packagist-")
    assert fields["application_url"] == ref + "/"
    assert fields["application_type"] == "Generic Application"
    assert "client_secret" not in fields
    assert 'id="consumer_callback_url">Leave empty<' in page.text
    assert "-----BEGIN CERTIFICATE-----" in page.text
    public_key = html.unescape(
        page.text.split('id="public_key"')[1].split(">", 1)[1].split("</textarea>")[0]
    )
    refused = browser.submit(page, {})
    assert refused.status_code == 422
    assert fields["consumer_key"] in html.unescape(refused.text)
    create_oauth1_link(
        bitbucket, {"consumer_key": fields["consumer_key"], "public_key": public_key}
    )
    listing = browser.submit(page, {})
    assert listing.url == ref + "/integrations"
    (row,) = listed(ref)
    assert row["oauth_version"] == 1
    assert f'href="{row["login_link"]}">Login link</a>' in listing.text


def test_form_offers_oauth1_and_oauth2_with_oauth2_chosen(ref: str, browser: Browser) -> None:
    page = browser.get(ref + "/integrations/new")
    assert '<input type="radio" name="oauth_version" value="1">' in page.text
    assert '<input type="radio" name="oauth_version" value="2" checked>' in page.text
