"""The driver protocol the reference serves: shapes, statuses, the version check, submit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conformance.reference import rules
from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    TIMEOUT,
    Browser,
    Setup,
    create_link,
    journal,
    patch_config,
    session_of,
    set_up_integration,
)


def create(ref: str, base_url: Any, oauth_version: Any = 2, **extra: Any) -> requests.Response:
    """``POST /integrations``."""
    body = {"platform": "bitbucket-server", "base_url": base_url, "oauth_version": oauth_version}
    return requests.post(ref + "/integrations", json={**body, **extra}, timeout=TIMEOUT)


def submit(ref: str, integration_id: str, client_id: str, secret: str) -> requests.Response:
    """``POST /integrations/{id}/submit``."""
    return requests.post(
        f"{ref}/integrations/{integration_id}/submit",
        json={"client_id": client_id, "client_secret": secret},
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def context_path_bitbucket() -> Iterator[SimulatorServer]:
    """A simulator served under ``/bitbucket``."""
    with SimulatorServer(Settings(port=0, base_url="http://127.0.0.1:0/bitbucket")) as server:
        yield server


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_capabilities_name_the_protocol_and_offer_both_oauth_versions_and_repositories(
    ref: str,
) -> None:
    answer = requests.get(ref + "/capabilities", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {
        "protocol": 1,
        "name": "bbdc-sim reference",
        "oauth_versions": [1, 2],
        "repositories": True,
        "clock": False,
        "packages": True,
        "webhooks": True,
    }


def test_the_clock_is_not_offered_so_post_clock_is_404(ref: str) -> None:
    answer = requests.post(ref + "/clock", json={"advance_seconds": 60}, timeout=TIMEOUT)
    assert answer.status_code == 404
    assert "capabilities.clock" in answer.json()["error"]


def test_create_shows_setup_link_and_two_callback_urls_with_empty_credentials(
    ref: str, bitbucket: SimulatorServer
) -> None:
    answer = create(ref, bitbucket.base_url)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {
        "id",
        "setup_link",
        "callback_urls",
        "client_id",
        "client_secret",
        "messages",
    }
    slug = f"bitbucketserver-{body['id']}"
    assert (
        body["setup_link"] == bitbucket.base_url + "/plugins/servlet/applinks/listApplicationLinks"
    )
    assert body["callback_urls"] == [
        f"{ref}/oauth/register/service/{slug}",
        f"{ref}/oauth/login/check-custom/{slug}",
    ]
    assert (body["client_id"], body["client_secret"], body["messages"]) == ("", "", [])


def test_create_asks_bitbucket_its_version_anonymously(
    ref: str, bitbucket: SimulatorServer
) -> None:
    create(ref, bitbucket.base_url)
    (call,) = journal(bitbucket, "/rest/api/1.0/application-properties")
    assert "Authorization" not in call["headers"]


def test_each_integration_has_its_own_callback_urls(ref: str, bitbucket: SimulatorServer) -> None:
    first, second = (create(ref, bitbucket.base_url).json() for _ in range(2))
    assert first["id"] != second["id"]
    assert not set(first["callback_urls"]) & set(second["callback_urls"])


def test_create_drops_a_trailing_slash(ref: str, bitbucket: SimulatorServer) -> None:
    body = create(ref, bitbucket.base_url + "/").json()
    assert (
        body["setup_link"] == bitbucket.base_url + "/plugins/servlet/applinks/listApplicationLinks"
    )


def test_context_path_is_kept_through_the_whole_login(
    ref: str, context_path_bitbucket: SimulatorServer, browser: Browser
) -> None:
    context_path_bitbucket.store.reset()
    base = context_path_bitbucket.base_url
    assert base.endswith("/bitbucket")
    setup = set_up_integration(ref, context_path_bitbucket)
    assert setup.created["setup_link"] == base + "/plugins/servlet/applinks/listApplicationLinks"
    browser.log_in(setup.login_link, "bob")
    assert session_of(ref, browser) == {"authenticated": True, "username": "bob", "error": None}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"platform": "github", "base_url": "http://127.0.0.1:9", "oauth_version": 2}, 422),
        (
            {
                "platform": "bitbucket-server",
                "base_url": "bitbucket.example.com",
                "oauth_version": 2,
            },
            422,
        ),
        (
            {"platform": "bitbucket-server", "base_url": "ftp://127.0.0.1:9", "oauth_version": 2},
            422,
        ),
        (
            {
                "platform": "bitbucket-server",
                "base_url": "http://127.0.0.1:9?x=1",
                "oauth_version": 2,
            },
            422,
        ),
        (
            {"platform": "bitbucket-server", "base_url": "http://127.0.0.1:9", "oauth_version": 0},
            422,
        ),
        (
            {"platform": "bitbucket-server", "base_url": "http://127.0.0.1:9", "oauth_version": 3},
            422,
        ),
        (
            {
                "platform": "bitbucket-server",
                "base_url": "http://127.0.0.1:9",
                "oauth_version": "2",
            },
            400,
        ),
        (
            {
                "platform": "bitbucket-server",
                "base_url": "http://127.0.0.1:9",
                "oauth_version": True,
            },
            400,
        ),
        ({"platform": "bitbucket-server", "oauth_version": 2}, 400),
        ({"base_url": "http://127.0.0.1:9", "oauth_version": 2}, 400),
    ],
)
def test_bad_create_input_is_refused_with_an_error(
    ref: str, body: dict[str, Any], status: int
) -> None:
    answer = requests.post(ref + "/integrations", json=body, timeout=TIMEOUT)
    assert answer.status_code == status
    assert set(answer.json()) == {"error"}
    assert requests.get(ref + "/integrations", timeout=TIMEOUT).json() == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b""])
def test_malformed_body_is_400(ref: str, raw: bytes) -> None:
    answer = requests.post(ref + "/integrations", data=raw, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json() == {"error": "The body must be a JSON object."}


def test_unreachable_bitbucket_is_named_with_its_url(ref: str, closed_port: int) -> None:
    base = f"http://127.0.0.1:{closed_port}"
    answer = create(ref, base)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith(f"Bitbucket at {base} did not answer: ")


def test_a_server_that_is_not_bitbucket_is_refused(ref: str) -> None:
    answer = create(ref, ref)
    assert answer.status_code == 422
    assert "application-properties" in answer.json()["error"]


def test_version_below_7_21_offers_no_oauth2_and_points_to_oauth1(
    ref: str, bitbucket: SimulatorServer
) -> None:
    patch_config(bitbucket, {"version": "7.20.0"})
    answer = create(ref, bitbucket.base_url)
    assert answer.status_code == 201
    body = answer.json()
    assert body["setup_link"] is None
    assert len(body["callback_urls"]) == 2
    assert body["messages"] == [rules.oauth2_unavailable("7.20.0")]
    assert body["messages"][0].startswith(
        "Bitbucket 7.20.0 does not offer OAuth 2 (it needs 7.21 or later); use OAuth 1 instead: "
    )
    refused = submit(ref, body["id"], "id", "secret")
    assert refused.status_code == 422
    assert refused.json() == {"error": rules.oauth2_unavailable("7.20.0")}


def test_version_7_21_offers_oauth2(ref: str, bitbucket: SimulatorServer) -> None:
    patch_config(bitbucket, {"version": "7.21.0"})
    body = create(ref, bitbucket.base_url).json()
    assert body["messages"] == []
    assert body["setup_link"]


def test_submit_with_the_links_credentials_sends_the_admin_to_the_list(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create(ref, bitbucket.base_url).json()
    link = create_link(bitbucket, body["callback_urls"])
    answer = submit(ref, body["id"], link["client_id"], link["client_secret"])
    assert answer.status_code == 200
    assert answer.json() == {"redirect_to": ref + "/integrations"}
    assert requests.get(ref + "/integrations", timeout=TIMEOUT).json() == [
        {
            "id": body["id"],
            "platform": "bitbucket-server",
            "base_url": bitbucket.base_url,
            "oauth_version": 2,
            "login_link": f"{ref}/login/bitbucketserver-{body['id']}",
        }
    ]


def test_submit_checks_credentials_with_a_revoke_probe_in_the_body(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create(ref, bitbucket.base_url).json()
    link = create_link(bitbucket, body["callback_urls"])
    submit(ref, body["id"], link["client_id"], link["client_secret"])
    (probe,) = journal(bitbucket, "/rest/oauth2/latest/revoke")
    assert probe["method"] == "POST"
    assert probe["status"] == 200
    assert probe["extra"]["client_auth"] == "body"
    assert probe["form"]["client_id"] == link["client_id"]


def test_wrong_secret_is_reported_to_the_admin_and_nothing_is_created(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create(ref, bitbucket.base_url).json()
    link = create_link(bitbucket, body["callback_urls"])
    answer = submit(ref, body["id"], link["client_id"], "not-the-secret")
    assert answer.status_code == 422
    assert answer.json() == {"error": rules.WRONG_CLIENT_CREDENTIALS}
    assert requests.get(ref + "/integrations", timeout=TIMEOUT).json() == []


def test_unknown_client_id_is_reported_like_a_wrong_secret(
    ref: str, bitbucket: SimulatorServer
) -> None:
    body = create(ref, bitbucket.base_url).json()
    answer = submit(ref, body["id"], "no-such-client", "secret")
    assert answer.json() == {"error": rules.WRONG_CLIENT_CREDENTIALS}


def test_empty_credentials_are_refused(ref: str, bitbucket: SimulatorServer) -> None:
    body = create(ref, bitbucket.base_url).json()
    answer = submit(ref, body["id"], "", "")
    assert answer.status_code == 422
    assert answer.json() == {"error": rules.MISSING_CREDENTIALS}


def test_credentials_that_are_not_strings_are_400(ref: str, bitbucket: SimulatorServer) -> None:
    body = create(ref, bitbucket.base_url).json()
    answer = requests.post(
        f"{ref}/integrations/{body['id']}/submit", json={"client_id": 1}, timeout=TIMEOUT
    )
    assert answer.status_code == 400


def test_unknown_integration_is_404(ref: str) -> None:
    answer = submit(ref, "nope", "id", "secret")
    assert answer.status_code == 404
    assert set(answer.json()) == {"error"}


def test_session_without_cookies_is_anonymous(ref: str) -> None:
    answer = requests.get(ref + "/session", timeout=TIMEOUT)
    assert answer.json() == {"authenticated": False, "username": None, "error": None}


def test_session_with_an_unknown_cookie_is_anonymous(ref: str) -> None:
    answer = requests.get(
        ref + "/session", cookies={rules.SESSION_COOKIE: "forged"}, timeout=TIMEOUT
    )
    assert answer.json() == {"authenticated": False, "username": None, "error": None}


def test_repositories_without_login_are_401(ref: str) -> None:
    answer = requests.get(ref + "/repositories", timeout=TIMEOUT)
    assert answer.status_code == 401
    assert answer.json() == {"error": rules.NOT_LOGGED_IN}


def test_reset_forgets_integrations_and_sessions(ref: str, setup: Setup, browser: Browser) -> None:
    browser.log_in(setup.login_link, "alice")
    answer = requests.post(ref + "/reset", timeout=TIMEOUT)
    assert answer.status_code == 204
    assert requests.get(ref + "/integrations", timeout=TIMEOUT).json() == []
    assert session_of(ref, browser)["authenticated"] is False


def test_unknown_login_link_is_404(ref: str, browser: Browser) -> None:
    assert browser.get(ref + "/login/bitbucketserver-nope").status_code == 404


def test_login_link_of_an_unsubmitted_integration_is_404(
    ref: str, bitbucket: SimulatorServer, browser: Browser
) -> None:
    body = create(ref, bitbucket.base_url).json()
    assert browser.get(f"{ref}/login/bitbucketserver-{body['id']}").status_code == 404


def test_unknown_path_and_wrong_method_answer_json_errors(ref: str) -> None:
    missing = requests.get(ref + "/nope", timeout=TIMEOUT)
    assert (missing.status_code, set(missing.json())) == (404, {"error"})
    wrong = requests.get(ref + "/reset", timeout=TIMEOUT)
    assert (wrong.status_code, set(wrong.json())) == (405, {"error"})
