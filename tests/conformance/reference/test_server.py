"""ReferenceServer: bound on a free port, ready when start() returns, stopped cleanly."""

from __future__ import annotations

import socket

import pytest
import requests

from conformance.reference.server import ReferenceServer, ServerNotRunningError


async def _answer() -> int:
    return 42


def test_server_serves_on_a_free_port_and_runs_coroutines_on_its_loop() -> None:
    with ReferenceServer() as server:
        assert server.port != 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert requests.get(server.base_url + "/capabilities", timeout=10).ok
        assert server.call(_answer()) == 42
    with pytest.raises(requests.ConnectionError):
        requests.get(server.base_url + "/capabilities", timeout=10)


def test_call_after_stop_raises() -> None:
    server = ReferenceServer().start()
    server.stop()
    with pytest.raises(ServerNotRunningError):
        server.call(_answer())


def test_start_on_a_taken_port_raises() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ReferenceServer(port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="failed to start"):
            server.start()


def test_public_url_can_be_given() -> None:
    with ReferenceServer(public_url="http://packagist.test/") as server:
        assert server.base_url == "http://packagist.test"
