"""``--sut-command``: the harness starts the SUT, reads its URL, and stops it whatever happens.

The commands are small Python scripts written to ``tmp_path``: a fake driver on a free port
that prints its URL, one that exits at once, one that prints no URL, one that ignores
``SIGTERM``, one that starts a child of its own."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conformance import runner
from conformance.drivers import launch
from conformance.drivers.launch import LaunchError, first_url, launched_sut
from conformance.runner import ConformOptions

ROOT = Path(__file__).resolve().parents[2]

FAKE_DRIVER = """
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CAPABILITIES = {"protocol": 1, "name": "fake driver", "oauth_versions": [1], "repositories": False}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(CAPABILITIES).encode()
        self.send_response(200 if self.path.endswith("/capabilities") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
with open(sys.argv[1], "w") as pid_file:
    pid_file.write(str(os.getpid()))
print("fake driver: starting", file=sys.stderr)
if port == 0:
    print(f"driver protocol at http://127.0.0.1:{server.server_address[1]}/_conformance.")
else:
    print("listening (no URL printed)")
server.serve_forever()
"""

EXITS_AT_ONCE = """
import sys
print("loading the configuration")
print("boom: DATABASE_URL is not set", file=sys.stderr)
sys.exit(3)
"""

NO_URL = """
import sys, time
print("still booting", flush=True)
time.sleep(60)
"""

IGNORES_SIGTERM = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1], "w") as pid_file:
    pid_file.write(str(os.getpid()))
print("stubborn at http://127.0.0.1:9/_conformance", flush=True)
time.sleep(60)
"""

WRAPPER = """
import subprocess, sys
child = subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])
child.wait()
"""


def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def command(*parts: str | Path) -> str:
    """A ``--sut-command`` running this interpreter with ``parts``."""
    return shlex.join([sys.executable, *map(str, parts)])


def read_pid(path: Path) -> int:
    """The pid a script wrote (it writes it before printing its URL)."""
    return int(path.read_text(encoding="utf-8"))


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended: no such process, or a zombie left to its new parent (which
    may take a moment, or, in a container without init, forever, to reap it)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def capabilities(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/capabilities", timeout=5) as answer:  # noqa: S310
        body: dict[str, object] = json.load(answer)
        return body


def test_first_url_is_the_url_without_sentence_punctuation() -> None:
    assert first_url("driver protocol at http://127.0.0.1:5/_conformance") == (
        "http://127.0.0.1:5/_conformance"
    )
    assert first_url("Running on https://[::1]:8443/x/, press CTRL+C.") == "https://[::1]:8443/x/"
    assert first_url("see (http://localhost:1/a) and http://b") == "http://localhost:1/a"
    assert first_url("listening on port 5000") is None
    assert first_url("http:// is a scheme") is None


def test_the_printed_url_is_used_as_sut_and_the_process_is_gone_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    seen: dict[str, object] = {}

    def fake_pytest_main(args: list[str]) -> int:
        url = args[args.index("--sut") + 1]
        seen["url"] = url
        seen["capabilities"] = capabilities(url)
        return 0

    monkeypatch.setattr(pytest, "main", fake_pytest_main)
    out = io.StringIO()
    code = runner.run(ConformOptions(sut_command=command(driver, pid_file)), out)

    assert code == 0
    url = str(seen["url"])
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/_conformance")  # the sentence's full stop is not part of it
    assert seen["capabilities"] == {
        "protocol": 1,
        "name": "fake driver",
        "oauth_versions": [1],
        "repositories": False,
    }
    assert "PASSED" in out.getvalue()
    assert gone(read_pid(pid_file))


def test_sut_command_end_to_end_runs_the_suite_against_the_printed_url(tmp_path: Path) -> None:
    """``python -m conformance.runner --sut-command`` in a child process, as CI runs it: the
    fake declares OAuth 1 only, so the OAuth 2 scenarios are all skipped (exit 5), after the
    harness asked its capabilities at the URL it printed."""
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.runner",
            "--sut-command",
            command(driver, pid_file),
            "--tags",
            "oauth2 and section:version-note",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 5, result.stdout + result.stderr
    assert "system under test: http://127.0.0.1:" in result.stdout
    assert "/_conformance (fake driver)" in result.stdout
    assert gone(read_pid(pid_file))


def test_a_given_sut_url_is_waited_for_and_used(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    with socket.socket() as probe:  # a free port, for a command that cannot print its URL
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    given = f"http://127.0.0.1:{port}/_conformance"
    with launched_sut(command(driver, pid_file, port), sut=given, timeout=20) as url:
        assert url == given
        assert capabilities(url)["name"] == "fake driver"
    assert gone(read_pid(pid_file))


def test_a_command_that_exits_first_is_exit_4_with_its_status_and_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exits = script(tmp_path, "exits.py", EXITS_AT_ONCE)

    def no_run(args: list[str]) -> int:
        raise AssertionError("the suite ran without a SUT")

    monkeypatch.setattr(pytest, "main", no_run)
    code = runner.run(ConformOptions(sut_command=command(exits)), io.StringIO())

    assert code == 4
    err = capsys.readouterr().err
    headline = err.splitlines()[0]
    assert headline.startswith("bbdc-sim conform: --sut-command ")
    assert "exited before printing an http(s):// URL on stdout (exit status 3)" in headline
    assert "  loading the configuration" in err
    assert "  [stderr] boom: DATABASE_URL is not set" in err


def test_a_command_that_cannot_be_started_is_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-program"
    code = runner.with_launched_sut(str(missing), None, lambda url: 0)
    assert code == 4
    assert "cannot be started" in capsys.readouterr().err


def test_no_url_in_time_is_a_launch_error_and_the_process_is_stopped(tmp_path: Path) -> None:
    silent = script(tmp_path, "silent.py", NO_URL)
    started = time.monotonic()
    with (
        pytest.raises(LaunchError, match=r"printed no http\(s\):// URL on stdout within 0\.5 s"),
        launched_sut(command(silent), timeout=0.5),
    ):
        pytest.fail("no URL was printed")
    assert time.monotonic() - started < 10


def test_no_url_in_time_message_names_it_still_running_with_its_output(tmp_path: Path) -> None:
    silent = script(tmp_path, "silent.py", NO_URL)
    process = launch.SutProcess(command(silent))
    try:
        with pytest.raises(LaunchError) as raised:
            process.wait_for_url(0.5)
    finally:
        process.stop()
    assert "(still running)" in str(raised.value)
    assert "  still booting" in str(raised.value)
    assert process.process.poll() is not None


def test_sigterm_ignored_is_followed_by_sigkill(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    stubborn = script(tmp_path, "stubborn.py", IGNORES_SIGTERM)
    process = launch.SutProcess(command(stubborn, pid_file))
    assert process.wait_for_url(20) == "http://127.0.0.1:9/_conformance"
    process.stop(grace=0.3)
    assert process.process.returncode == -signal.SIGKILL
    assert gone(read_pid(pid_file))


def test_what_the_command_starts_is_stopped_with_it(tmp_path: Path) -> None:
    """A wrapper (``npm start``, a shell script) whose server is its child: the whole process
    group is stopped."""
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    wrapper = script(tmp_path, "wrapper.py", WRAPPER)
    with launched_sut(command(wrapper, driver, pid_file), timeout=20) as url:
        assert capabilities(url)["name"] == "fake driver"
        server_pid = read_pid(pid_file)
    assert gone(server_pid)


def test_the_process_is_stopped_on_keyboard_interrupt(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    with pytest.raises(KeyboardInterrupt), launched_sut(command(driver, pid_file), timeout=20):
        raise KeyboardInterrupt
    assert gone(read_pid(pid_file))


def test_a_process_that_dies_during_the_run_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file = tmp_path / "pid"
    driver = script(tmp_path, "driver.py", FAKE_DRIVER)
    with launched_sut(command(driver, pid_file), timeout=20):
        pid = read_pid(pid_file)
        os.kill(pid, signal.SIGKILL)
        # Until it can be reaped (all its threads ended), without reaping it (WNOWAIT).
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            time.sleep(0.01)
    err = capsys.readouterr().err
    assert "exited during the run (killed by SIGKILL)" in err
    assert "[stderr] fake driver: starting" in err


def test_sut_command_with_a_python_factory_is_a_bad_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = runner.run(ConformOptions(sut="pkg.mod:factory", sut_command="true"), io.StringIO())
    assert code == 2
    assert "--sut pkg.mod:factory is not an http(s):// URL" in capsys.readouterr().err
