"""The local demo's set-up: the guide's steps against a simulator, ending in a login link."""

from __future__ import annotations

import pytest

from conformance.reference.demo import main, set_up
from conformance.reference.integrator import ReferenceIntegrator
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import Browser


def test_demo_set_up_gives_a_login_link_that_logs_alice_in(
    integrator: ReferenceIntegrator, bitbucket: SimulatorServer, browser: Browser
) -> None:
    login_link = set_up(integrator, bitbucket.base_url)
    browser.log_in(login_link, "alice")
    assert integrator.session(browser.cookies()).username == "alice"


def test_demo_set_up_with_oauth1_gives_a_login_link_that_logs_alice_in(
    integrator: ReferenceIntegrator, bitbucket: SimulatorServer, browser: Browser
) -> None:
    login_link = set_up(integrator, bitbucket.base_url, oauth_version=1)
    browser.log_in_oauth1(login_link, "alice")
    assert integrator.session(browser.cookies()).username == "alice"


def test_demo_help_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    assert "python -m conformance.reference" in capsys.readouterr().out
