"""Nothing the simulator logs carries a credential: aiohttp's own records of malformed
requests (which print the raw request line and headers) included."""

from __future__ import annotations

import logging
import socket

import pytest

from simulator.logredact import RedactingFilter, redact
from simulator.settings import Settings
from simulator.testing import SimulatorServer

SECRETS = ("b3arer-t0ken", "c1ient-s3cret", "pa55word", "c0de-value", "se55ion-id", "ctl-t0k")


def send_raw(port: int, data: bytes) -> bytes:
    """Send raw bytes to the server; what it answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


MALFORMED = [
    # A request line aiohttp cannot parse, secrets in its query.
    b"GET /rest/oauth2/latest/token?client_secret=c1ient-s3cret&code=c0de-value HTTP/9.9\r\n"
    b"Authorization: Bearer b3arer-t0ken\r\n\r\n",
    # A bad header line after good ones.
    b"POST /j_atl_security_check?j_password=pa55word HTTP/1.1\r\nHost: x\r\n"
    b"Authorization: Basic b3arer-t0ken\r\nCookie: BITBUCKETSESSIONID=se55ion-id\r\n"
    b"X-Sim-Control-Token: ctl-t0k\r\nBad Header Without Colon\r\n\r\n",
    # A method with a control character.
    b"G\x01T /x?password=pa55word HTTP/1.1\r\nAuthorization: Bearer b3arer-t0ken\r\n\r\n",
    # A body longer than announced, chunked badly.
    b"POST /rest/oauth2/latest/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\nclient_secret=c1ient-s3cret\r\n",
]


@pytest.mark.parametrize("raw", MALFORMED, ids=["line", "header", "method", "chunked"])
def test_malformed_requests_leave_no_secret_in_the_log(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with SimulatorServer(Settings(port=0)) as server:
        answer = send_raw(server.port, raw)
    assert answer.startswith(b"HTTP/1.") or answer == b""
    logged = (
        "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
        + caplog.text
    )
    for secret in SECRETS:
        assert secret not in logged, (secret, logged[-2000:])


def test_redact_hides_headers_and_secret_parameters() -> None:
    text = (
        "Error handling request: b'GET /cb?code=abc&state=s&client_secret=xyz HTTP/1.1'\n"
        "<CIMultiDict('Authorization': 'Bearer tok', 'Cookie': 'SID=1; x=2')>\n"
        "refresh_token=r1&token_type_hint=refresh_token&oauth_signature%3Dsig"
    )
    shown = redact(text)
    for secret in ("abc", "xyz", "Bearer tok", "SID=1", "=r1", "3Dsig"):
        assert secret not in shown, secret
    assert "state=s" in shown
    assert "token_type_hint=refresh_token" in shown


def test_the_filter_renders_arguments_and_tracebacks_redacted() -> None:
    try:
        raise ValueError("bad line b'GET /?password=hunter2'")
    except ValueError as exc:
        record = logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Error: %s", ("token=t0p",), None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert RedactingFilter().filter(record)
    assert "t0p" not in record.getMessage()
    assert record.exc_text is not None
    assert "hunter2" not in record.exc_text
