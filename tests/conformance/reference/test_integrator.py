"""The in-process driver gives the same answers as the reference's JSON endpoints."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import requests

from conformance.reference import rules
from conformance.reference.integrator import ReferenceIntegrator, create
from conformance.reference.protocol import (
    capabilities_json,
    created_json,
    repository_json,
    session_json,
    summary_json,
)
from conformance.reference.server import ReferenceServer
from conformance.sut import DriverError, Integrator, SessionState
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    TIMEOUT,
    Browser,
    Setup,
    advance_clock,
    create_link,
    delete_link,
    patch_config,
    session_of,
)


def test_factory_starts_a_reference_and_close_stops_it() -> None:
    integrator = create()
    try:
        assert isinstance(integrator, Integrator)
        assert requests.get(integrator.base_url + "/capabilities", timeout=TIMEOUT).ok
    finally:
        integrator.close()
    with pytest.raises(DriverError) as caught:
        integrator.capabilities()
    assert caught.value.where == "GET /capabilities"


def test_capabilities_match_the_endpoint(ref: str, integrator: ReferenceIntegrator) -> None:
    http = requests.get(ref + "/capabilities", timeout=TIMEOUT).json()
    assert capabilities_json(integrator.capabilities()) == http


def test_created_integration_matches_the_endpoint_but_for_its_id(
    ref: str, integrator: ReferenceIntegrator, bitbucket: SimulatorServer
) -> None:
    in_process = created_json(
        integrator.create_integration("bitbucket-server", bitbucket.base_url, 2)
    )
    http = requests.post(
        ref + "/integrations",
        json={"platform": "bitbucket-server", "base_url": bitbucket.base_url, "oauth_version": 2},
        timeout=TIMEOUT,
    ).json()
    for body in (in_process, http):
        body["callback_urls"] = [url.replace(body["id"], "<id>") for url in body["callback_urls"]]
        body["id"] = "<id>"
    assert in_process == http


def test_old_version_message_matches_the_endpoint(
    ref: str, integrator: ReferenceIntegrator, bitbucket: SimulatorServer
) -> None:
    patch_config(bitbucket, {"version": "7.20.0"})
    created = integrator.create_integration("bitbucket-server", bitbucket.base_url, 2)
    http = requests.post(
        ref + "/integrations",
        json={"platform": "bitbucket-server", "base_url": bitbucket.base_url, "oauth_version": 2},
        timeout=TIMEOUT,
    ).json()
    assert (created.setup_link, list(created.messages)) == (http["setup_link"], http["messages"])


def test_bad_input_raises_a_driver_error_naming_the_endpoint(
    integrator: ReferenceIntegrator,
) -> None:
    with pytest.raises(DriverError) as caught:
        integrator.create_integration("github", "http://127.0.0.1:9", 2)
    assert caught.value.where == "POST /integrations"
    assert "422" in caught.value.problem


def test_submit_errors_and_success_match_the_endpoint(
    ref: str, integrator: ReferenceIntegrator, bitbucket: SimulatorServer
) -> None:
    created = integrator.create_integration("bitbucket-server", bitbucket.base_url, 2)
    link = create_link(bitbucket, list(created.callback_urls))
    wrong = integrator.submit(created.id, link["client_id"], "wrong")
    assert not wrong.ok
    assert wrong.error == rules.WRONG_CLIENT_CREDENTIALS
    http_wrong = requests.post(
        f"{ref}/integrations/{created.id}/submit",
        json={"client_id": link["client_id"], "client_secret": "wrong"},
        timeout=TIMEOUT,
    )
    assert http_wrong.json() == {"error": wrong.error}
    right = integrator.submit(created.id, link["client_id"], link["client_secret"])
    assert right.ok
    assert right.redirect_to == ref + "/integrations"
    listed = requests.get(ref + "/integrations", timeout=TIMEOUT).json()
    assert [summary_json(s) for s in integrator.integrations()] == listed


def test_unknown_integration_raises_404(integrator: ReferenceIntegrator) -> None:
    with pytest.raises(DriverError) as caught:
        integrator.submit("nope", "id", "secret")
    assert caught.value.where == "POST /integrations/nope/submit"
    assert "404" in caught.value.problem


def test_session_and_repositories_match_the_endpoints_after_login(
    ref: str, setup: Setup, browser: Browser, integrator: ReferenceIntegrator
) -> None:
    browser.log_in(setup.login_link, "alice")
    cookies = browser.cookies()
    state = integrator.session(cookies)
    assert state == SessionState(authenticated=True, username="alice")
    assert session_json(state) == session_of(ref, browser)
    http = requests.get(ref + "/repositories", cookies=cookies, timeout=TIMEOUT).json()
    assert [repository_json(r) for r in integrator.repositories(cookies)] == http


def test_refresh_and_logout_are_seen_the_same_way(
    ref: str,
    setup: Setup,
    browser: Browser,
    integrator: ReferenceIntegrator,
    bitbucket: SimulatorServer,
) -> None:
    browser.log_in(setup.login_link, "alice")
    advance_clock(bitbucket, 3601)
    assert integrator.session(browser.cookies()).authenticated is True
    assert session_of(ref, browser)["authenticated"] is True
    delete_link(bitbucket, setup.link)
    assert asdict(integrator.session(browser.cookies())) == {
        "authenticated": False,
        "username": None,
        "error": rules.LOGIN_NO_LONGER_VALID,
    }
    assert session_of(ref, browser) == asdict(integrator.session(browser.cookies()))


def test_repositories_without_login_raise_401(integrator: ReferenceIntegrator) -> None:
    assert integrator.session({}) == SessionState(authenticated=False)
    with pytest.raises(DriverError) as caught:
        integrator.repositories({})
    assert caught.value.where == "GET /repositories"
    assert "401" in caught.value.problem


def test_reset_forgets_what_the_endpoints_show(
    ref: str, setup: Setup, integrator: ReferenceIntegrator
) -> None:
    integrator.reset()
    assert requests.get(ref + "/integrations", timeout=TIMEOUT).json() == []


def test_integrator_on_a_stopped_server_raises_a_driver_error() -> None:
    server = ReferenceServer().start()
    server.stop()
    with pytest.raises(DriverError, match="did not answer"):
        ReferenceIntegrator(server).integrations()


def test_the_harness_drivers_accept_the_reference_both_ways(
    ref: str,
    setup: Setup,
    browser: Browser,
    integrator: ReferenceIntegrator,
    bitbucket: SimulatorServer,
) -> None:
    """The HTTP driver (schemas checked) and the in-process driver see the same reference."""
    from conformance.drivers.http import HttpIntegrator

    http = HttpIntegrator(ref)
    assert http.capabilities() == integrator.capabilities()
    assert http.integrations() == integrator.integrations()
    browser.log_in(setup.login_link, "alice")
    cookies = browser.cookies()
    assert http.session(cookies) == integrator.session(cookies)
    assert http.repositories(cookies) == integrator.repositories(cookies)
    created = http.create_integration("bitbucket-server", bitbucket.base_url, 2)
    assert http.submit(created.id, "nope", "nope") == integrator.submit(created.id, "nope", "nope")


def test_the_python_driver_loads_the_factory() -> None:
    from conformance.drivers.loader import load_driver

    driver = load_driver("conformance.reference.integrator:create")
    try:
        assert driver.capabilities().name == "bbdc-sim reference"
    finally:
        close = getattr(driver, "close", None)
        assert callable(close)
        close()
