"""A real client that insists on HTTPS logs in through the simulator over TLS: Backstage's
Bitbucket Server auth provider (its npm package, installed by name from the committed lock
file) builds ``https://{host}/rest/oauth2/latest/...`` itself, exchanges the code, then reads
``/plugins/servlet/applinks/whoami`` and ``users/{name}`` with the token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.simulator.oauth2.test_oauth2_flow import parse_page

CLIENT = Path(__file__).resolve().parent / "backstage"
CALLBACK = "http://localhost:7007/api/auth/bitbucketServer/handler/frame"
STATE = "backstage-nonce-0123456789"


@pytest.fixture(scope="module")
def backstage() -> Path:
    """The client's folder, its packages installed (``npm ci``, from the lock file)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"npm ci could not install Backstage's provider: {done.stderr[-500:]}")
    return CLIENT


def log_in_as(http: requests.Session, base: str, authorize: str, username: str) -> str:
    """Log in on the simulator's pages and allow access; where Bitbucket sends the browser."""
    login = http.post(
        base + "/j_atl_security_check",
        data={"j_username": username, "j_password": username},
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text
    consent = http.get(authorize, allow_redirects=False)
    assert consent.status_code == 303, consent.text
    page = http.get(consent.headers["Location"])
    assert page.status_code == 200
    allowed = http.post(
        base + "/rest/oauth2/latest/authorize",
        data={**parse_page(page.text).hidden(), "decision": "allow"},
        allow_redirects=False,
    )
    assert allowed.status_code == 303, allowed.text
    return allowed.headers["Location"]


def test_backstage_logs_in_over_tls(backstage: Path, tmp_path: Path) -> None:
    settings = Settings(port=0, tls=True, tls_dir=str(tmp_path))
    with SimulatorServer(settings) as bitbucket, requests.Session() as http:
        assert bitbucket.ca_file is not None
        http.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        http.verify = str(bitbucket.ca_file)
        http.headers["Connection"] = "close"
        base = bitbucket.base_url
        assert base.startswith("https://")
        link = http.post(
            base + "/_sim/applinks",
            json={
                "type": "oauth2",
                "name": "Backstage",
                "redirect_urls": [CALLBACK],
                "scope": "REPO_READ",
            },
        ).json()
        env = {
            **os.environ,
            "NODE_EXTRA_CA_CERTS": str(bitbucket.ca_file),
            "BITBUCKET_HOST": urlsplit(base).netloc,
            "CLIENT_ID": link["client_id"],
            "CLIENT_SECRET": link["client_secret"],
            "CALLBACK_URL": CALLBACK,
            "STATE": STATE,
        }
        with subprocess.Popen(
            ["node", "login.cjs"],
            cwd=backstage,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as client:
            assert client.stdout is not None
            assert client.stdin is not None
            first = client.stdout.readline()
            assert first, client.stderr.read() if client.stderr else ""
            authorize = json.loads(first)["authorize"]
            assert authorize.startswith(base + "/rest/oauth2/latest/authorize?")
            # alice: Backstage reads users/{X-AUSERNAME}, taking the name for the slug, so a
            # user whose slug differs (jane@example.com, slug jane_example.com) fails with
            # "Failed to retrieve the user" (docs/simulator.md, "Real clients").
            callback = log_in_as(http, base, authorize, "alice")
            query = parse_qs(urlsplit(callback).query)
            assert callback.startswith(CALLBACK)
            assert query["state"] == [STATE]
            out, err = client.communicate(callback + "\n", timeout=60)
        journal = http.get(base + "/_sim/journal").json()
    assert client.returncode == 0, err
    profile = json.loads(out.strip().splitlines()[-1])
    assert profile["username"] == "alice"
    assert profile["scope"] == "REPO_READ"
    assert profile["hasRefreshToken"] is True
    paths = [entry["path"] for entry in journal["entries"]]
    assert "/rest/oauth2/latest/token" in paths
    assert "/plugins/servlet/applinks/whoami" in paths
