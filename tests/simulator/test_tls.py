"""The certificates ``serve --tls`` makes: a CA, and a server certificate for the bound names
that real TLS clients accept when they trust the CA, and refuse otherwise."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509

from simulator.tls import client_context, generate, server_context


def handshake(files_dir: Path, host: str, server_name: str, ca: Path | None) -> str:
    """Serve one TLS handshake on ``host``; connect to it as ``server_name``; the answer."""
    files = generate([host], files_dir)
    context = server_context(files)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as listener:
        listener.bind((host, 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client = client_context(ca) if ca else ssl.create_default_context()
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            data = tls.recv(5).decode()
        thread.join(5)
        return data


@pytest.mark.parametrize(("host", "name"), [("127.0.0.1", "127.0.0.1"), ("127.0.0.1", "localhost")])
def test_a_client_trusting_the_ca_accepts_the_certificate(
    tmp_path: Path, host: str, name: str
) -> None:
    assert handshake(tmp_path, host, name, tmp_path / "ca.pem") == "hello"


def test_a_client_not_trusting_the_ca_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path, "127.0.0.1", "127.0.0.1", None)


def test_a_name_the_certificate_does_not_cover_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path, "127.0.0.1", "bitbucket.example", tmp_path / "ca.pem")


def test_the_certificate_names_the_hosts_and_the_key_is_private(tmp_path: Path) -> None:
    files = generate(["bitbucket.internal", "127.0.0.2"], tmp_path)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "bitbucket.internal" in names.get_values_for_type(x509.DNSName)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} >= {"127.0.0.2", "127.0.0.1"}
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_the_simulator_serves_https_with_a_made_certificate(tmp_path: Path) -> None:
    import requests

    from simulator.settings import Settings
    from simulator.testing import SimulatorServer

    with SimulatorServer(Settings(port=0, tls=True, tls_dir=str(tmp_path))) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.ca_file == tmp_path / "ca.pem"
        answer = requests.get(
            server.base_url + "/rest/api/1.0/application-properties",
            verify=str(server.ca_file),
            # A keep-alive TLS connection still open when the server stops is left to the
            # garbage collector (a ResourceWarning): close it with the answer.
            headers={"Connection": "close"},
            timeout=10,
        )
        assert answer.status_code == 200


def test_tls_settings_come_from_the_environment() -> None:
    from simulator.settings import Settings, SettingsError

    settings = Settings.from_sources(environ={"BBDC_SIM_TLS": "yes", "BBDC_SIM_TLS_DIR": "/x"})
    assert settings.uses_tls
    assert settings.tls_dir == "/x"
    with pytest.raises(SettingsError, match="BBDC_SIM_TLS: must be true or false"):
        Settings.from_sources(environ={"BBDC_SIM_TLS": "maybe"})
    with pytest.raises(SettingsError, match="go together"):
        Settings(tls_cert="/c.pem")
