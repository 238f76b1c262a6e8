"""``bbdc-sim serve`` as a real process: the ready line, port 0, bad settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

SERVE = [sys.executable, "-m", "simulator", "serve"]


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    process = subprocess.Popen(
        [*SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert " ready at " in line, line + (process.stderr.read() if process.stderr else "")
        yield line.strip().rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.communicate(timeout=10)  # also closes the pipes


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def test_serve_on_port_0_prints_the_url_it_bound() -> None:
    with serving("--port", "0", "--bitbucket-version", "8.19.1") as url:
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
        assert get_json(url + "/_sim/health") == {"status": "ok", "version": "8.19.1"}


def test_serve_honours_a_context_path() -> None:
    with serving("--port", "0", "--base-url", "http://127.0.0.1:0/bitbucket") as url:
        assert url.endswith("/bitbucket")
        body = get_json(url + "/rest/api/1.0/application-properties")
        assert isinstance(body, dict)
        assert body["displayName"] == "Bitbucket"


def test_environment_variables_configure_serve() -> None:
    with serving("--port", "0", env={"BBDC_SIM_BITBUCKET_VERSION": "7.21.3"}) as url:
        body = get_json(url + "/rest/api/1.0/application-properties")
        assert isinstance(body, dict)
        assert body["version"] == "7.21.3"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVE, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_bad_environment_value_exits_2_naming_the_key() -> None:
    result = run("--port", "0", env={"BBDC_SIM_SEED": "many"})
    assert result.returncode == 2
    assert "BBDC_SIM_SEED" in result.stderr


def test_unknown_environment_key_exits_2() -> None:
    result = run("--port", "0", env={"BBDC_SIM_COLOUR": "blue"})
    assert result.returncode == 2
    assert "BBDC_SIM_COLOUR" in result.stderr


def test_binding_beyond_loopback_needs_a_control_token() -> None:
    result = run("--host", "0.0.0.0", "--port", "0")  # noqa: S104 - refused before binding
    assert result.returncode == 2
    assert "--control-token" in result.stderr
