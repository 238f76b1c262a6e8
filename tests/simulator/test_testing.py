"""SimulatorServer (background thread) and the pytest plugin's fixtures."""

from __future__ import annotations

import json
import urllib.request

import pytest

from simulator.settings import Settings
from simulator.testing import SimulatorServer, bound_base_url


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, response.read()


def test_serves_from_a_thread_and_stops_cleanly() -> None:
    server = SimulatorServer(Settings(port=0)).start()
    try:
        assert server.port > 0
        status, body = fetch(server.base_url + "/_sim/health")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    finally:
        server.stop()
    with pytest.raises(OSError):  # noqa: PT011 - connection refused is an OSError subclass
        fetch(server.base_url + "/_sim/health")


def test_context_path_is_kept_in_the_base_url() -> None:
    settings = Settings(port=0, base_url="http://127.0.0.1:0/bitbucket")
    with SimulatorServer(settings) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/bitbucket"
        status, _ = fetch(server.base_url + "/_sim/health")
        assert status == 200


def test_bound_base_url_keeps_an_explicit_port() -> None:
    settings = Settings(port=0, base_url="https://bitbucket.example.com/bb/")
    assert bound_base_url(settings, 4321) == "https://bitbucket.example.com:4321/bb"
    fixed = Settings(port=7990, base_url="https://bitbucket.example.com:8443/bb")
    assert bound_base_url(fixed, 7990) == "https://bitbucket.example.com:8443/bb"
    assert bound_base_url(Settings(port=0), 555) == "http://127.0.0.1:555"


def test_a_failed_start_is_reported() -> None:
    with SimulatorServer(Settings(port=0)) as first:
        clash = SimulatorServer(Settings(port=first.port))
        with pytest.raises(RuntimeError, match="failed to start"):
            clash.start()


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_pytest_plugin_gives_a_reset_server(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import json, urllib.request

        def test_first(bitbucket_server):
            bitbucket_server.store.config.patch({"version": "7.0.0"})
            bitbucket_server.store.clock.advance(100)

        def test_second_sees_a_reset_server(bitbucket_server):
            assert str(bitbucket_server.store.config.version) != "7.0.0"
            assert bitbucket_server.store.clock.offset == 0
            with urllib.request.urlopen(bitbucket_server.base_url + "/_sim/health") as r:
                assert json.loads(r.read())["status"] == "ok"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


def test_pytest_plugin_settings_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(
        """
        import pytest
        from simulator.settings import Settings

        @pytest.fixture(scope="session")
        def bitbucket_server_settings():
            return Settings(port=0).with_overrides(bitbucket_version="8.19.1")
        """
    )
    pytester.makepyfile(
        """
        def test_version(bitbucket_server):
            assert str(bitbucket_server.store.config.version) == "8.19.1"
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_the_pytest_plugin_imports_nothing_heavy_until_a_fixture_is_used() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, simulator.pytest_plugin; "
        "print(sorted(m for m in ('aiohttp', 'simulator.testing', 'simulator.app', "
        "'simulator.settings') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
