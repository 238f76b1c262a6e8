"""The HTTP driver against a fake implementation: the protocol, and every off-protocol answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.drivers.http import DriverExchange, HttpIntegrator, cookie_header
from conformance.sut import (
    Capabilities,
    DriverError,
    IntegrationSummary,
    Integrator,
    RepositoryEntry,
    SessionState,
)
from tests.conformance.drivers.fake_sut import (
    ALICE_SESSION,
    SESSION_COOKIE,
    Reply,
    Running,
    json_reply,
    raw_server,
    refusing_port,
    serve,
    silent_port,
)

BITBUCKET = "http://bitbucket.example:7990"
HTML_PAGE = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>" + "x" * 400


def off_protocol(driver: HttpIntegrator, fake_sut: Running, reply: Reply) -> DriverError:
    """The error the driver raises when ``GET /session`` answers ``reply``."""
    fake_sut.fake.overrides["GET", "/session"] = reply
    with pytest.raises(DriverError) as caught:
        driver.session({})
    return caught.value


# --- the protocol, answered correctly ------------------------------------------------------------


def test_http_integrator_is_an_integrator(driver: HttpIntegrator) -> None:
    assert isinstance(driver, Integrator)


def test_capabilities_are_read_from_a_conforming_implementation(driver: HttpIntegrator) -> None:
    assert driver.capabilities() == Capabilities(
        protocol=1, name="fake", oauth_versions=(1, 2), repositories=True
    )


def test_reset_posts_and_accepts_204(driver: HttpIntegrator, fake_sut: Running) -> None:
    driver.create_integration("bitbucket-server", BITBUCKET, 2)

    driver.reset()

    assert fake_sut.fake.received[-1].method == "POST"
    assert fake_sut.fake.integrations == {}


def test_create_integration_sends_the_form_as_json(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    driver.create_integration("bitbucket-server", BITBUCKET, 2)

    request = fake_sut.fake.received[-1]
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "platform": "bitbucket-server",
        "base_url": BITBUCKET,
        "oauth_version": 2,
    }


def test_create_integration_returns_what_the_form_shows(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    created = driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert created.id == "int-1"
    assert created.setup_link == BITBUCKET + "/plugins/servlet/applinks/listApplicationLinks"
    assert created.callback_urls == (f"{fake_sut.base_url}/oauth2/callback",)
    assert (created.client_id, created.client_secret, created.messages) == ("", "", ())
    assert created.consumer_key is None


def test_create_oauth1_integration_carries_the_consumer_key(driver: HttpIntegrator) -> None:
    created = driver.create_integration("bitbucket-server", BITBUCKET, 1)

    assert created.consumer_key == "packagist-acme"
    assert created.public_key is not None
    assert created.application_url is not None


def test_submit_returns_where_the_admin_is_sent(driver: HttpIntegrator, fake_sut: Running) -> None:
    created = driver.create_integration("bitbucket-server", BITBUCKET, 2)

    result = driver.submit(created.id, "client-id", "client-secret")

    assert result.ok
    assert result.redirect_to == f"{fake_sut.base_url}/integrations"


def test_submit_returns_the_form_error_answered_with_422(driver: HttpIntegrator) -> None:
    created = driver.create_integration("bitbucket-server", BITBUCKET, 2)

    result = driver.submit(created.id, "client-id", "wrong")

    assert not result.ok
    assert result.error == "Bitbucket rejected the Client ID and secret"


def test_submit_escapes_the_integration_id_in_the_path(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    fake_sut.fake.integrations["a/b c"] = {}

    driver.submit("a/b c", "id", "secret")

    assert fake_sut.fake.received[-1].path == "/integrations/a%2Fb%20c/submit"


def test_integrations_lists_each_login_link(driver: HttpIntegrator, fake_sut: Running) -> None:
    driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert driver.integrations() == [
        IntegrationSummary(
            id="int-1",
            platform="bitbucket-server",
            base_url=BITBUCKET,
            oauth_version=2,
            login_link=f"{fake_sut.base_url}/login/acme/int-1",
        )
    ]


def test_session_sends_the_browsers_cookies_as_one_cookie_header(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    state = driver.session({SESSION_COOKIE: ALICE_SESSION, "theme": "dark"})

    assert state == SessionState(authenticated=True, username="alice", error=None)
    assert fake_sut.fake.received[-1].headers["cookie"] == f"sid={ALICE_SESSION}; theme=dark"


def test_session_without_cookies_sends_no_cookie_header(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    assert driver.session({}) == SessionState(authenticated=False)
    assert "cookie" not in fake_sut.fake.received[-1].headers


def test_repositories_are_listed_for_the_browsers_cookies(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    rows = driver.repositories({SESSION_COOKIE: ALICE_SESSION})

    assert rows == [
        RepositoryEntry(project="PKG", slug="core", has_composer_json=True),
        RepositoryEntry(project="~ALICE", slug="notes", has_composer_json=False),
    ]
    assert fake_sut.fake.received[-1].headers["cookie"] == f"sid={ALICE_SESSION}"


def test_repositories_without_a_login_fail_with_the_implementations_error(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    with pytest.raises(DriverError) as caught:
        driver.repositories({})

    assert caught.value.where == f"GET {fake_sut.base_url}/repositories"
    assert caught.value.problem == "answered 401 Unauthorized, expected 200"
    assert caught.value.details == ("error: You are not logged in.",)


def test_every_request_asks_for_json() -> None:
    with serve() as running:
        HttpIntegrator(running.base_url).capabilities()

    assert running.fake.received[-1].headers["accept"] == "application/json"


def test_a_base_url_with_a_path_prefixes_every_endpoint() -> None:
    with serve(prefix="/driver") as running:
        driver = HttpIntegrator(running.base_url + "/")

        assert driver.capabilities().name == "fake"
        assert running.fake.received[-1].path == "/capabilities"


def test_cookie_header_joins_name_value_pairs() -> None:
    assert cookie_header({"a": "1", "b": "x y"}) == "a=1; b=x y"


def test_observer_sees_every_exchange_with_secrets_redacted(fake_sut: Running) -> None:
    seen: list[DriverExchange] = []
    driver = HttpIntegrator(fake_sut.base_url, observer=seen.append)
    created = driver.create_integration("bitbucket-server", BITBUCKET, 2)

    driver.submit(created.id, "client-id", "s3cret")
    driver.session({SESSION_COOKIE: ALICE_SESSION})

    assert [(e.method, e.status, e.error) for e in seen] == [
        ("POST", 201, None),
        ("POST", 200, None),
        ("GET", 200, None),
    ]
    assert seen[1].request == {"client_id": "client-id", "client_secret": "<redacted>"}
    assert seen[2].cookie_names == (SESSION_COOKIE,)
    assert ALICE_SESSION not in repr(seen)


# --- unreachable ---------------------------------------------------------------------------------


def test_a_refused_connection_names_the_endpoint() -> None:
    with refusing_port() as port:
        driver = HttpIntegrator(f"http://127.0.0.1:{port}")
        with pytest.raises(DriverError) as caught:
            driver.capabilities()

    assert caught.value.where == f"GET http://127.0.0.1:{port}/capabilities"
    assert caught.value.problem == "unreachable: connection refused"
    assert "is the implementation running" in str(caught.value)


def test_an_implementation_that_never_answers_times_out() -> None:
    with silent_port() as port:
        driver = HttpIntegrator(f"http://127.0.0.1:{port}", timeout=0.2)
        with pytest.raises(DriverError) as caught:
            driver.reset()

    assert caught.value.where == f"POST http://127.0.0.1:{port}/reset"
    assert caught.value.problem == "no answer within 0.2 s (timed out)"


def test_an_answer_that_is_not_http_is_reported() -> None:
    with raw_server(b"SSH-2.0-OpenSSH_9.6\r\n") as port, pytest.raises(DriverError) as caught:
        HttpIntegrator(f"http://127.0.0.1:{port}").capabilities()

    assert caught.value.problem.startswith("did not answer in HTTP")


def test_a_closed_connection_is_reported() -> None:
    with raw_server(b"") as port, pytest.raises(DriverError) as caught:
        HttpIntegrator(f"http://127.0.0.1:{port}").capabilities()

    assert caught.value.problem == "closed the connection without answering"


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("ftp://127.0.0.1/", "is not an http:// or https:// URL with a host"),
        ("http:///driver", "is not an http:// or https:// URL with a host"),
        ("http://127.0.0.1:99999", "is not a usable URL: Port out of range 0-65535"),
        ("http://127.0.0.1:5000/?x=1", "must not carry a query or a fragment: give the base URL"),
    ],
)
def test_an_unusable_base_url_is_refused(base_url: str, problem: str) -> None:
    with pytest.raises(DriverError) as caught:
        HttpIntegrator(base_url)

    assert (caught.value.where, caught.value.problem) == (f"--sut {base_url}", problem)


# --- off-protocol answers ------------------------------------------------------------------------


def test_html_is_reported_with_its_first_200_characters(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    error = off_protocol(
        driver, fake_sut, Reply(200, HTML_PAGE.encode(), "text/html; charset=utf-8")
    )

    assert error.where == f"GET {fake_sut.base_url}/session"
    assert error.problem == (
        "answered HTML with Content-Type text/html; charset=utf-8, expected application/json"
    )
    excerpt = HTML_PAGE[:200].replace("\n", "\\n")
    assert error.details == (f"body (first 200 of {len(HTML_PAGE)} characters): {excerpt}",)


def test_html_labelled_as_json_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(200, b"<html><body>Oops</body></html>"))

    assert error.problem == "answered HTML labelled application/json, expected JSON"
    assert error.details == ("body: <html><body>Oops</body></html>",)


def test_a_body_that_is_not_json_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(200, b"authenticated=true"))

    assert error.problem == "answered a body that is not JSON (Expecting value: line 1 column 1)"
    assert error.details == ("body: authenticated=true",)


def test_a_missing_content_type_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(200, b"{}", content_type=None))

    assert error.problem == "answered a body with Content-Type none, expected application/json"


def test_an_empty_json_body_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(200, b""))

    assert error.problem == "answered an empty body, expected JSON"


def test_json_in_another_encoding_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(200, '{"e": "é"}'.encode("latin-1")))

    assert error.problem == "answered a body that is not UTF-8 (invalid continuation byte)"


def test_json_not_matching_the_schema_names_the_schema_and_the_path(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    body = [{"project": "PKG", "slug": "core", "has_composer_json": "yes"}]
    fake_sut.fake.overrides["GET", "/repositories"] = json_reply(200, body)

    with pytest.raises(DriverError) as caught:
        driver.repositories({})

    assert caught.value.problem == (
        "answered JSON that does not match the protocol (driver/repositories.json): "
        "'yes' is not of type 'boolean'"
    )
    assert caught.value.details == ("at $[0].has_composer_json", f"body: {json.dumps(body)}")


def test_a_missing_field_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, json_reply(200, {"authenticated": False}))

    assert "'username' is a required property" in error.problem
    assert error.details[0] == "at $"


def test_an_unknown_field_is_reported(driver: HttpIntegrator, fake_sut: Running) -> None:
    body = {"authenticated": False, "username": None, "error": None, "user": "alice"}
    error = off_protocol(driver, fake_sut, json_reply(200, body))

    assert "Additional properties are not allowed ('user' was unexpected)" in error.problem


def test_authenticated_without_a_username_is_off_protocol(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    body = {"authenticated": True, "username": None, "error": None}
    error = off_protocol(driver, fake_sut, json_reply(200, body))

    assert "None is not of type 'string'" in error.problem
    assert error.details[0] == "at $.username"


def test_a_wrong_status_names_what_was_expected(driver: HttpIntegrator, fake_sut: Running) -> None:
    fake_sut.fake.overrides["POST", "/integrations"] = json_reply(
        200, {"id": "int-1", "setup_link": None}
    )

    with pytest.raises(DriverError) as caught:
        driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert caught.value.where == f"POST {fake_sut.base_url}/integrations"
    assert caught.value.problem == "answered 200 OK, expected 201"


def test_a_wrong_status_shows_the_error_the_implementation_gave(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    with pytest.raises(DriverError) as caught:
        driver.submit("missing", "id", "secret")

    assert caught.value.problem == "answered 404 Not Found, expected 200 or 422"
    assert caught.value.details == (
        f"is {fake_sut.base_url} the base URL of the driver protocol?",
        "error: no integration missing",
    )


def test_a_server_error_shows_the_start_of_its_body(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    error = off_protocol(driver, fake_sut, Reply(500, b"Traceback (most recent call last):"))

    assert error.problem == "answered 500 Internal Server Error, expected 200"
    assert error.details == ("body: Traceback (most recent call last):",)


def test_a_redirect_is_not_followed(driver: HttpIntegrator, fake_sut: Running) -> None:
    error = off_protocol(driver, fake_sut, Reply(302, headers={"Location": "/login"}))

    assert error.problem == "answered 302 Found, expected 200"
    assert error.details == ("redirect to /login, not followed",)


def test_reset_answering_200_is_off_protocol(driver: HttpIntegrator, fake_sut: Running) -> None:
    fake_sut.fake.overrides["POST", "/reset"] = json_reply(200, {})

    with pytest.raises(DriverError) as caught:
        driver.reset()

    assert caught.value.problem == "answered 200 OK, expected 204"


def test_another_protocol_version_names_the_versions_the_harness_speaks(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    fake_sut.fake.overrides["GET", "/capabilities"] = json_reply(
        200, {"protocol": 2, "name": "future", "features": []}
    )

    with pytest.raises(DriverError) as caught:
        driver.capabilities()

    assert caught.value.where == f"GET {fake_sut.base_url}/capabilities"
    assert caught.value.problem == "speaks driver protocol 2; this harness speaks protocol 1"
    assert caught.value.details == ("see docs/driver-protocol.md",)


def test_a_protocol_version_that_is_not_a_number_is_off_protocol(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    body = {"protocol": "1", "name": "x", "oauth_versions": [2], "repositories": False}
    fake_sut.fake.overrides["GET", "/capabilities"] = json_reply(200, body)

    with pytest.raises(DriverError) as caught:
        driver.capabilities()

    assert caught.value.details[0] == "at $.protocol"


def test_an_oauth1_integration_without_its_fields_is_off_protocol(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    created: dict[str, Any] = {
        "id": "int-1",
        "setup_link": None,
        "callback_urls": [],
        "client_id": "",
        "client_secret": "",
        "messages": [],
    }
    fake_sut.fake.overrides["POST", "/integrations"] = json_reply(201, created)

    with pytest.raises(DriverError) as caught:
        driver.create_integration("bitbucket-server", BITBUCKET, 1)

    assert caught.value.problem == (
        "answered an OAuth 1 integration without consumer_key, public_key, application_url"
    )


def test_an_oauth2_integration_with_oauth1_fields_is_off_protocol(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    driver.create_integration("bitbucket-server", BITBUCKET, 1)
    fake_sut.fake.overrides["POST", "/integrations"] = fake_sut.fake._create(
        {"platform": "bitbucket-server", "base_url": BITBUCKET, "oauth_version": 1}
    )

    with pytest.raises(DriverError) as caught:
        driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert caught.value.problem == (
        "answered an OAuth 2 integration with OAuth 1 fields "
        "(consumer_key, public_key, application_url)"
    )


def test_the_observer_receives_the_diagnosis(fake_sut: Running) -> None:
    seen: list[DriverExchange] = []
    driver = HttpIntegrator(fake_sut.base_url, observer=seen.append)
    fake_sut.fake.overrides["GET", "/session"] = Reply(200, b"<html></html>", "text/html")

    with pytest.raises(DriverError) as caught:
        driver.session({})

    assert len(seen) == 1
    assert seen[0].status == 200
    assert seen[0].response == "<html></html>"
    assert seen[0].error == str(caught.value)


def test_the_observer_receives_unreachable_exchanges() -> None:
    seen: list[DriverExchange] = []
    with refusing_port() as port:
        driver = HttpIntegrator(f"http://127.0.0.1:{port}", observer=seen.append)
        with pytest.raises(DriverError):
            driver.reset()

    assert [(e.status, e.error is not None) for e in seen] == [(None, True)]
