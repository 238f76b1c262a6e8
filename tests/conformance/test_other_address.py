"""An integration reachable only at another loopback address (127.0.0.2), tested against a
simulator the harness binds there (``--bitbucket-host``): nothing assumes 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conformance.reference.server import ReferenceServer
from tests.conformance.running import conform

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "127.0.0.2"


def can_bind(address: str) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((address, 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not can_bind(ADDRESS), reason=f"{ADDRESS} cannot be bound here")
def test_an_integration_on_127_0_0_2_passes_against_a_simulator_bound_there() -> None:
    with ReferenceServer(host=ADDRESS) as reference:
        assert reference.base_url.startswith(f"http://{ADDRESS}:")
        with socket.socket() as probe:  # not reachable at 127.0.0.1
            assert probe.connect_ex(("127.0.0.1", reference.port)) != 0
        done = conform(
            "--sut",
            reference.base_url,
            "--bitbucket-host",
            ADDRESS,
            "--tags",
            "oauth2 and (section:finish-the-setup or section:share-the-login-link)",
        )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " 0 failed" in done.stdout


def test_a_simulator_already_running_is_used_through_its_control_api() -> None:
    from simulator.settings import Settings
    from simulator.testing import SimulatorServer

    with SimulatorServer(Settings(port=0, control_token="s3cret")) as bitbucket:
        done = conform(
            "--bitbucket",
            bitbucket.base_url,
            "--bitbucket-control-token",
            "s3cret",
            "--tags",
            "oauth2 and section:open-the-add-integration-form",
            "--verbose",
        )
        journal = bitbucket.store.journal.entries()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "SKIPPED" in done.stdout  # the context-path scenario needs a simulator of its own
    assert any(entry.path == "/rest/api/1.0/application-properties" for entry in journal)


def test_the_suite_runs_over_tls_against_the_reference(tmp_path: Path) -> None:
    done = conform(
        "--bitbucket-tls",
        "--tags",
        "oauth2 and (section:open-the-add-integration-form or section:share-the-login-link)",
        "--report",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "simulated Bitbucket: https://127.0.0.1:" in done.stdout
    assert " 0 failed" in done.stdout
