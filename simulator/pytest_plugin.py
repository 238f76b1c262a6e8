"""pytest plugin (entry point ``pytest11``): a ``bitbucket_server`` fixture.

One simulator is started per test session (per xdist worker) and reset before every test.
Override ``bitbucket_server_settings`` in a ``conftest.py`` to change how it starts:

    @pytest.fixture(scope="session")
    def bitbucket_server_settings() -> Settings:
        return Settings(port=0, bitbucket_version=BitbucketVersion.parse("8.19.1"))

pytest loads this module in every run of an environment where the package is installed, so
it imports nothing of the simulator until a fixture is used (``bench/plugin_cost.py``
measures what it adds to an unrelated run).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from simulator.settings import Settings
    from simulator.testing import SimulatorServer


@pytest.fixture(scope="session")
def bitbucket_server_settings() -> Settings:
    """How the session's simulator starts; override to change version, seed or base URL."""
    from simulator.settings import Settings

    return Settings(port=0)


@pytest.fixture(scope="session")
def bitbucket_server_session(bitbucket_server_settings: Settings) -> Iterator[SimulatorServer]:
    """The session's simulator, started once."""
    from simulator.testing import SimulatorServer

    with SimulatorServer(bitbucket_server_settings) as server:
        yield server


@pytest.fixture
def bitbucket_server(bitbucket_server_session: SimulatorServer) -> SimulatorServer:
    """The simulator, reset to its seed before the test."""
    bitbucket_server_session.store.reset()
    return bitbucket_server_session
