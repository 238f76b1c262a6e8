"""The control-API client (conformance.simulator_control) against a served simulator."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator

import pytest

from conformance.simulator_control import SimulatorControl, SimulatorControlError
from conformance.useragent import UserAgent
from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.schemas import validate
from tests.simulator.oauth1.signing import make_key_pair

CALLBACK = "http://127.0.0.1:9/oauth/callback"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    """One simulator for this module."""
    with SimulatorServer(Settings(port=0)) as server:
        yield server


@pytest.fixture
def sim(simulator: SimulatorServer) -> SimulatorControl:
    """The client, on a simulator just reset."""
    control = SimulatorControl(simulator.base_url)
    control.reset()
    return control


def test_health_answers_ok_and_the_version(sim: SimulatorControl) -> None:
    health = validate(sim.health(), "control/health.json")

    assert health["status"] == "ok"


def test_patch_config_merges_and_reset_restores(sim: SimulatorControl) -> None:
    default = sim.config()["version"]

    changed = sim.patch_config({"version": "7.20.0", "tfa": {"installed": True}})

    validate(changed, "control/config.json")
    assert changed["version"] == "7.20.0"
    assert sim.config()["tfa"]["installed"] is True
    assert sim.health()["version"] == "7.20.0"
    sim.reset()
    assert sim.config()["version"] == default


def test_set_version_changes_the_reported_version(sim: SimulatorControl) -> None:
    sim.set_version("8.19.1")

    assert sim.health()["version"] == "8.19.1"


def test_a_bad_config_key_raises_naming_the_call_and_the_key(sim: SimulatorControl) -> None:
    with pytest.raises(SimulatorControlError) as caught:
        sim.patch_config({"colour": "blue"})

    error = caught.value
    assert error.call == "patch_config"
    assert error.status == 400
    assert error.context == "colour"
    assert str(error).startswith("simulator control patch_config: PATCH http://")
    assert "colour" in error.message


def test_advance_clock_moves_simulated_time(sim: SimulatorControl) -> None:
    before = sim.clock()

    after = validate(sim.advance_clock(3601), "control/clock.json")

    assert after["offset_seconds"] == before["offset_seconds"] + 3601
    assert after["now"] >= before["now"] + 3601


def test_a_negative_clock_advance_raises(sim: SimulatorControl) -> None:
    with pytest.raises(SimulatorControlError, match=r"advance_clock.*400 \[advance_seconds\]"):
        sim.advance_clock(-1)


def test_journal_filters_by_path_and_method_and_clears(
    sim: SimulatorControl, simulator: SimulatorServer
) -> None:
    browser = UserAgent()
    browser.get(simulator.base_url + "/rest/api/1.0/application-properties")
    browser.log_in_to_bitbucket(simulator.base_url, "admin", "admin")

    posts = sim.journal(method="post")
    properties = sim.journal(path_prefix="/rest/api/1.0/application")

    for entry in posts + properties:
        validate(entry, "control/exchange.json")
    assert [e["path"] for e in posts] == ["/j_atl_security_check"]
    assert posts[0]["form"]["j_password"] == "<redacted>"
    assert [e["path"] for e in properties] == ["/rest/api/1.0/application-properties"]
    sim.clear_journal()
    assert sim.journal() == []


def test_a_bad_journal_filter_raises(sim: SimulatorControl) -> None:
    with pytest.raises(SimulatorControlError, match=r"journal.*\[path_prefix\]"):
        sim.journal(path_prefix="no-slash")


def test_faults_are_added_listed_and_cleared(
    sim: SimulatorControl, simulator: SimulatorServer
) -> None:
    fault = validate(sim.add_fault("/rest/api/1.0/users", status=503), "control/fault.json")

    assert fault["status"] == 503
    assert [f["path_prefix"] for f in sim.faults()] == ["/rest/api/1.0/users"]
    page = UserAgent().get(simulator.base_url + "/rest/api/1.0/users")
    assert page.status == 503
    sim.clear_faults()
    assert sim.faults() == []


def test_create_oauth2_link_answers_credentials_listed_by_applinks(sim: SimulatorControl) -> None:
    link = validate(sim.create_oauth2_link("Packagist", [CALLBACK]), "control/applink.json")

    assert link["scope"] == "REPO_READ"
    assert link["redirect_urls"] == [CALLBACK]
    assert [entry["client_id"] for entry in sim.applinks()] == [link["client_id"]]


def test_an_invalid_oauth2_link_raises_naming_the_field(sim: SimulatorControl) -> None:
    with pytest.raises(SimulatorControlError) as caught:
        sim.create_oauth2_link("Packagist", ["not a url"])

    assert caught.value.call == "create_oauth2_link"
    assert caught.value.context == "redirect_urls"


def test_oauth2_links_below_7_21_raise(sim: SimulatorControl) -> None:
    sim.set_version("7.20.0")

    with pytest.raises(SimulatorControlError, match=r"7\.21"):
        sim.create_oauth2_link("Packagist", [CALLBACK])


def test_create_oauth1_link_with_a_public_key(sim: SimulatorControl) -> None:
    keys = make_key_pair(1024)

    link = sim.create_oauth1_link(
        "Packagist OAuth 1", "packagist-acme", keys.public_pem, description="Acme"
    )

    assert link["type"] == "oauth1"
    assert link["consumer_key"] == "packagist-acme"
    assert [entry["type"] for entry in sim.applinks()] == ["oauth1"]


def test_an_oauth1_link_with_a_bad_key_raises_naming_the_field(sim: SimulatorControl) -> None:
    with pytest.raises(SimulatorControlError) as caught:
        sim.create_oauth1_link("Packagist", "packagist-acme", "not a key")

    assert caught.value.context == "public_key"


def test_an_unreachable_simulator_raises_naming_the_call() -> None:
    with SimulatorServer(Settings(port=0)) as server:
        url = server.base_url
    control = SimulatorControl(url, timeout=5)

    with pytest.raises(SimulatorControlError, match=r"simulator control health: GET .* failed"):
        control.health()


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="Not an http"):
        SimulatorControl("ftp://127.0.0.1:7990")


def test_the_control_token_is_sent_when_configured() -> None:
    with SimulatorServer(Settings(port=0, control_token="t0ken")) as server:
        with pytest.raises(SimulatorControlError) as caught:
            SimulatorControl(server.base_url).reset()
        assert caught.value.status == 401
        assert caught.value.context == "X-Sim-Control-Token"

        SimulatorControl(server.base_url, token="t0ken").reset()
        assert SimulatorControl(server.base_url).health()["status"] == "ok"  # needs no token


def test_tags_and_commits_change_the_repository_as_a_push(
    sim: SimulatorControl, simulator: SimulatorServer
) -> None:
    request = urllib.request.Request(  # noqa: S310 - the test's own simulator
        simulator.base_url + "/rest/api/1.0/projects/PKG/repos?limit=1",
        headers={"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        slug = json.load(answer)["values"][0]["slug"]
    commit = sim.commit("PKG", slug, "main-work", "Add a file", {"NOTES.md": "hello\n"})
    assert len(commit["id"]) == 40
    tag = sim.create_tag("PKG", slug, "v9.9.9", start_point=commit["id"])
    assert tag["latestCommit"] == commit["id"]
    with pytest.raises(SimulatorControlError) as refused:
        sim.create_tag("PKG", slug, "v9.9.9")
    assert refused.value.status == 409
    sim.delete_tag("PKG", slug, "v9.9.9")
    with pytest.raises(SimulatorControlError) as missing:
        sim.delete_tag("PKG", slug, "v9.9.9")
    assert missing.value.status == 404


def test_webhook_deliveries_settle_and_faults(sim: SimulatorControl) -> None:
    assert sim.webhook_deliveries() == []
    settled = sim.settle_webhooks(1)
    assert settled["settled"] is True
    fault = sim.add_webhook_fault("http://127.0.0.1:9/hook", error="refused", times=2)
    assert fault["url_prefix"] == "http://127.0.0.1:9/hook"
    sim.clear_webhook_faults()
    with pytest.raises(SimulatorControlError) as refused:
        sim.add_webhook_fault("http://127.0.0.1:9/hook")
    assert refused.value.status == 400
