"""``bbdc-sim`` as a user runs it: every bad input is one line and a documented exit code,
never a traceback; ``serve`` stops cleanly on SIGTERM and SIGINT; the simulator package
never imports the harness."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

BBDC_SIM = str(Path(sys.executable).parent / "bbdc-sim")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BBDC_SIM, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_one_clear_line(done: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert text in done.stderr


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == "bbdc-sim 0.1.0"


@pytest.mark.parametrize("command", ["conform", "serve", "steps"])
def test_an_unknown_flag_prints_that_subcommands_usage(command: str) -> None:
    done = run(command, "--frobnicate")
    assert_one_clear_line(done, 2, f"bbdc-sim {command}: error: unrecognized arguments")
    assert f"usage: bbdc-sim {command}" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "code", "text"),
    [
        (["serve", "--log-level", "loud"], {}, 2, "'loud' is not a log level"),
        (["serve"], {"BBDC_SIM_PORT": "abc"}, 2, "BBDC_SIM_PORT: invalid literal"),
        (["serve"], {"BBDC_SIM_LOG_LEVEL": "loud"}, 2, "BBDC_SIM_LOG_LEVEL"),
        (["serve", "--port", "70000"], {}, 2, "port: must lie in 0..65535"),
        (["serve", "--bitbucket-version", "x"], {}, 2, "bitbucket"),
        (["serve"], {"BBDC_SIM_NOPE": "1"}, 2, "BBDC_SIM_NOPE: unknown setting"),
        (["conform", "--timeout", "0"], {}, 2, "the timeout must be more than 0 seconds"),
        (["conform", "--timeout", "-1"], {}, 2, "the timeout must be more than 0 seconds"),
        (["conform"], {"BBDC_SIM_CONFORM_TIMEOUT": "0"}, 2, "BBDC_SIM_CONFORM_TIMEOUT"),
        (["conform", "-n", "0"], {}, 2, "is not a number of workers"),
        (["conform", "--matrix", "7.x"], {}, 2, "--matrix"),
        (["steps", "--format", "yaml"], {}, 2, "invalid choice: 'yaml'"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    args: list[str], env: dict[str, str], code: int, text: str
) -> None:
    assert_one_clear_line(run(*args, env=env), code, text)


def test_an_unwritable_report_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = run("conform", "--report", str(blocker / "report"))
    assert_one_clear_line(done, 4, "cannot write there")
    assert "passed" not in done.stdout  # nothing ran


def test_conform_flags_have_variables() -> None:
    done = run("conform", env={"BBDC_SIM_CONFORM_TAGS": "section:no-such-section"})
    assert done.returncode == 5, done.stdout + done.stderr
    assert "NO SCENARIO RAN" in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_busy_port_is_one_line_and_exit_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--port", str(port))
    assert_one_clear_line(done, 3, f"cannot listen on 127.0.0.1:{port}: the port is in use")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_0_on_sigterm_and_sigint(signum: signal.Signals) -> None:
    with subprocess.Popen(
        [BBDC_SIM, "serve", "--port", "0", "--access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout is not None
        ready = server.stdout.readline()
        url = ready.split(" ready at ", 1)[1].strip()
        secret = "c0de-s3cret"
        with urllib.request.urlopen(  # noqa: S310 - loopback
            f"{url}/rest/api/1.0/application-properties?code={secret}", timeout=10
        ) as answer:
            assert answer.status == 200
        server.send_signal(signum)
        _, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert "Traceback" not in err
    access = [line for line in err.splitlines() if "aiohttp.access" in line]
    assert len(access) == 1, err
    assert "/rest/api/1.0/application-properties?code=<redacted>" in access[0]
    assert secret not in err


def test_the_simulator_never_imports_the_harness() -> None:
    probe = (
        "import sys, simulator.cli, simulator.app, simulator.testing, simulator.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'conformance'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_python_m_simulator_serves_alone() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "conform"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "unrecognized arguments: conform" in done.stderr
