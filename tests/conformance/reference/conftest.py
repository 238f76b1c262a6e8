"""Fixtures: one reference server per session (reset per test), the plugin's simulator
(``bitbucket_server``, reset per test), a browser, and the in-process driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    Browser,
    Setup,
    set_up_integration,
    set_up_oauth1_integration,
)


@pytest.fixture(scope="session")
def reference_session() -> Iterator[ReferenceServer]:
    """The reference, served once."""
    with ReferenceServer() as server:
        yield server


@pytest.fixture
def reference(reference_session: ReferenceServer) -> ReferenceServer:
    """The reference with no integration and no session."""
    reference_session.call(_reset(reference_session))
    return reference_session


async def _reset(server: ReferenceServer) -> None:
    server.reference.reset()


@pytest.fixture
def ref(reference: ReferenceServer) -> str:
    """The reference's base URL."""
    return reference.base_url


@pytest.fixture
def bitbucket(bitbucket_server: SimulatorServer) -> SimulatorServer:
    """The simulator, reset to its seed."""
    return bitbucket_server


@pytest.fixture
def integrator(reference: ReferenceServer) -> ReferenceIntegrator:
    """The in-process driver of the same reference."""
    return ReferenceIntegrator(reference)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A fresh browser."""
    session = Browser()
    yield session
    session.close()


@pytest.fixture
def setup(ref: str, bitbucket: SimulatorServer) -> Setup:
    """An integration created, linked on Bitbucket and submitted."""
    return set_up_integration(ref, bitbucket)


@pytest.fixture
def oauth1_setup(ref: str, bitbucket: SimulatorServer) -> Setup:
    """An OAuth 1 integration created, linked on Bitbucket with its key and submitted."""
    return set_up_oauth1_integration(ref, bitbucket)
