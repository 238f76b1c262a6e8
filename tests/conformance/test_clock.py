"""An integration that refreshes ahead of ``expires_in`` by its own clock passes once it
declares ``clock``: "an hour passes" then moves its clock with Bitbucket's (``POST /clock``).
Without the declaration its clock never moves, and the refresh scenarios catch that it never
refreshes on Bitbucket's rejection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.report import RESULTS_FILE
from conformance.sut import Capabilities
from tests.schemas import validate

ROOT = Path(__file__).resolve().parents[2]
REFRESH_SCENARIOS = {
    "An expired access token is refreshed",
    "Each refresh keeps the new refresh token Bitbucket issued",
    "An expired access token is refreshed at the version under test",
}


def run(factory: str, report: Path) -> tuple[int, dict[str, str]]:
    """The OAuth 2 scenarios against ``clock_suts:<factory>``: exit code, outcome by name."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.runner",
            "--sut",
            f"tests.conformance.clock_suts:{factory}",
            "--tags",
            "oauth2 and section:share-the-login-link",
            "--report",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = json.loads((report / RESULTS_FILE).read_text(encoding="utf-8"))
    outcomes = {s["name"]: s["outcome"] for s in results["scenarios"]}
    return done.returncode, outcomes


def test_refreshing_ahead_by_its_own_clock_passes_when_it_declares_clock(
    tmp_path: Path,
) -> None:
    code, outcomes = run("refreshes_ahead_with_clock", tmp_path)
    assert code == 0, outcomes
    assert {outcomes[name] for name in REFRESH_SCENARIOS} == {"passed"}


def test_without_the_declaration_its_clock_never_moves(tmp_path: Path) -> None:
    code, outcomes = run("refreshes_ahead_without_clock", tmp_path)
    assert code == 1
    assert {name for name, outcome in outcomes.items() if outcome == "failed"} == REFRESH_SCENARIOS


@pytest.mark.parametrize("clock", [True, False])
def test_capabilities_may_declare_clock(clock: bool) -> None:
    body = {"protocol": 1, "name": "x", "oauth_versions": [2], "repositories": False}
    validate({**body, "clock": clock}, "driver/capabilities.json")
    validate(body, "driver/capabilities.json")
    assert Capabilities(1, "x", (2,), False).clock is False


def test_post_clock_moves_the_clock_of_a_reference_that_offers_it() -> None:
    import requests

    from conformance.reference.server import ReferenceServer
    from tests.conformance.clock_suts import _factory

    server = ReferenceServer(factory=_factory(True)).start()
    try:
        url = server.base_url + "/clock"
        assert requests.post(url, json={"advance_seconds": 3600}, timeout=10).status_code == 204
        for bad in (
            {"advance_seconds": -1},
            {"advance_seconds": "1"},
            {},
            {"advance_seconds": True},
        ):
            assert requests.post(url, json=bad, timeout=10).status_code == 400
        assert requests.post(url, data=b"[", timeout=10).status_code == 400
    finally:
        server.stop()


def test_the_http_driver_posts_the_seconds() -> None:
    from conformance.drivers.http import HttpIntegrator
    from conformance.reference.server import ReferenceServer
    from tests.conformance.clock_suts import _factory

    server = ReferenceServer(factory=_factory(True)).start()
    try:
        driver = HttpIntegrator(server.base_url)
        assert driver.capabilities().clock is True
        offset = server.reference.state.clock.offset
        driver.advance_clock(3600)
        assert server.reference.state.clock.offset == offset + 3600
    finally:
        server.stop()
