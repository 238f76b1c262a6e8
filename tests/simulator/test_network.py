"""Connections without a complete request are closed after ``connection_timeout``; running
out of descriptors is logged at most once a second."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from simulator.network import quiet_exhaustion
from simulator.settings import Settings
from simulator.testing import SimulatorServer

TIMEOUT = 0.5


def closed_within(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closed the connection (reading to EOF), at most ``limit``."""
    started = time.monotonic()
    sock.settimeout(limit)
    while sock.recv(65536):
        pass
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /rest/api/1.0/projects HTTP/1.1\r\nHost: x\r\n"],
    ids=["idle", "half-sent-headers"],
)
def test_a_connection_without_a_complete_request_is_closed(sent: bytes) -> None:
    with SimulatorServer(Settings(port=0, connection_timeout=TIMEOUT)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(sent)
            assert closed_within(sock, 5) < 4
        # The server still answers others.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other:
            other.sendall(
                b"GET /_sim/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert other.recv(12).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    "path",
    ["/rest/api/1.0/projects", "/rest/oauth2/latest/token", "/_sim/clock"],
    ids=["rest", "token-endpoint", "control"],
)
def test_a_body_that_does_not_all_arrive_is_answered_408_and_closed(path: str) -> None:
    with SimulatorServer(Settings(port=0, connection_timeout=TIMEOUT)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            )
            sock.sendall(head.encode() + b"grant_type=")  # and then nothing more
            sock.settimeout(5)
            answer = b""
            started = time.monotonic()
            while chunk := sock.recv(65536):
                answer += chunk
            assert time.monotonic() - started < 4
        status, _, rest = answer.partition(b"\r\n")
        assert status == b"HTTP/1.1 408 Request Timeout", answer
        assert b"java.net.SocketTimeoutException" in rest
        assert b"X-AREQUESTID" in rest


def test_a_body_that_arrives_reaches_the_handler() -> None:
    with SimulatorServer(Settings(port=0, connection_timeout=TIMEOUT)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            body = b"grant_type=client_credentials"
            head = (
                f"POST /rest/oauth2/latest/token HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            sock.sendall(head.encode() + body[:5])
            sock.sendall(body[5:])  # the body in two writes, the rest well within the timeout
            sock.settimeout(5)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        # The token endpoint's own refusal, naming the grant type it read from the body.
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert b"client_credentials" in answer, answer


def test_the_default_timeout_is_tomcats() -> None:
    assert Settings().connection_timeout == 20.0


def test_exhaustion_is_logged_once_a_second(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        quiet_exhaustion(loop)
        handler = loop.get_exception_handler()
        assert handler is not None
        with caplog.at_level(logging.ERROR, logger="simulator.network"):
            for _ in range(500):
                handler(
                    loop,
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(24, "Too many open files"),
                    },
                )
        records = [r for r in caplog.records if r.name == "simulator.network"]
        assert len(records) == 1
        assert records[0].exc_info is None
        assert "Too many open files" in records[0].getMessage()
    finally:
        loop.close()
