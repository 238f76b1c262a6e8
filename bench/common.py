"""Shared benchmark helpers: server subprocesses, HTTP timing, RSS and CPU, result printing.

Everything here is standard library only, so the helpers run in the benchmark driver without
touching the event loop of the servers under test.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
READY_PATTERN = re.compile(r"\bready at (https?://\S+)")
#: Where server subprocesses keep their bytecode, so that every start after the first reads
#: compiled modules even where PYTHONDONTWRITEBYTECODE is set, without writing into the tree.
PYCACHE_PREFIX = Path(tempfile.gettempdir()) / "bbdc-sim-bench-pycache"

Status = Literal["PASS", "MISS", "N/A"]


class BenchError(RuntimeError):
    """A benchmark could not run (a server failed to start, a request failed)."""


# -- commands -------------------------------------------------------------------------------


def sim_executable() -> str:
    """The ``bbdc-sim`` console script next to this interpreter (the project's venv)."""
    beside = Path(sys.executable).parent / "bbdc-sim"
    if beside.exists():
        return str(beside)
    venv = ROOT / ".venv" / "bin" / "bbdc-sim"
    if venv.exists():
        return str(venv)
    raise BenchError("bbdc-sim is not installed: run `make install` first")


def sim_command(*extra: str) -> list[str]:
    """``bbdc-sim serve --port 0`` plus extra flags."""
    return [sim_executable(), "serve", "--port", "0", *extra]


def baseline_command(*extra: str) -> list[str]:
    """The bare aiohttp baseline app on port 0, plus extra flags."""
    return [sys.executable, str(BENCH_DIR / "baseline_app.py"), "--port", "0", *extra]


# -- server processes -----------------------------------------------------------------------


def server_environment() -> dict[str, str]:
    """The environment of server subprocesses: ours, with a private bytecode cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE_PREFIX)
    return env


def parse_ready_line(line: str) -> str | None:
    """The base URL in a ``... ready at http://127.0.0.1:<port>`` line, else None."""
    match = READY_PATTERN.search(line)
    return match.group(1).rstrip("/") if match else None


@dataclass
class Server:
    """A server subprocess that has printed its ready line."""

    process: subprocess.Popen[str]
    url: str
    stderr: IO[str]
    #: perf_counter() just before the process was spawned.
    spawned_at: float
    #: perf_counter() when the ready line was read.
    ready_at: float

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    @property
    def host(self) -> str:
        """Host of the bound URL."""
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """Port of the bound URL."""
        port = urlsplit(self.url).port
        if port is None:
            raise BenchError(f"no port in {self.url}")
        return port

    @property
    def path_prefix(self) -> str:
        """The context path of the base URL ('' at the root)."""
        return urlsplit(self.url).path.rstrip("/")


def _stderr_tail(stream: IO[str], limit: int = 2000) -> str:
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
        stream.seek(0)
        return stream.read()[-limit:]
    return ""


def start_server(argv: Sequence[str], timeout: float = 60.0) -> Server:
    """Spawn a server and wait (bounded) for its ready line; raise BenchError on failure."""
    stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed in stop
    spawned_at = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        bufsize=1,
        cwd=ROOT,
        env=server_environment(),
    )
    assert process.stdout is not None
    deadline = spawned_at + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise BenchError(f"{argv[0]} printed no ready line within {timeout:.0f} s")
            if not selector.select(remaining):
                continue
            line = process.stdout.readline()
            if not line:
                process.wait(timeout=5)
                raise BenchError(
                    f"{' '.join(argv)} exited ({process.returncode}) before it was ready:\n"
                    + _stderr_tail(stderr)
                )
            url = parse_ready_line(line)
            if url is not None:
                return Server(process, url, stderr, spawned_at, time.perf_counter())
    except BaseException:
        _terminate(process)
        stderr.close()
        raise
    finally:
        selector.close()


def _terminate(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def stop_server(server: Server) -> None:
    """Stop a server started by :func:`start_server` (terminate, then kill if needed)."""
    _terminate(server.process)
    server.stderr.close()


@contextlib.contextmanager
def serving(argv: Sequence[str], timeout: float = 60.0) -> Iterator[Server]:
    """A running server for the duration of a ``with`` block."""
    server = start_server(argv, timeout)
    try:
        yield server
    finally:
        stop_server(server)


# -- /proc ------------------------------------------------------------------------------------


def parse_vmrss_kib(status_text: str) -> int | None:
    """``VmRSS`` in KiB from the text of ``/proc/<pid>/status``, else None."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def rss_kib(pid: int) -> int | None:
    """Resident memory (VmRSS) of a process in KiB, or None where /proc is not readable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return parse_vmrss_kib(text)


def fmt_memory(kib: int) -> str:
    """KiB as decimal megabytes (the unit goals are stated in) with MiB alongside."""
    return f"{kib_to_mb(kib):.1f} MB ({kib / 1024:.1f} MiB)"


def kib_to_mb(kib: int) -> float:
    """KiB to decimal megabytes (10^6 bytes)."""
    return kib * 1024 / 1_000_000


def parse_cpu_ticks(stat_text: str) -> int:
    """User plus system clock ticks from the text of ``/proc/<pid>/stat``."""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat_text[stat_text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used, or None where /proc is not readable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return parse_cpu_ticks(text) / os.sysconf("SC_CLK_TCK")


# -- HTTP -----------------------------------------------------------------------------------


def basic_auth(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    raw = f"{username}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class Reply:
    """One HTTP exchange as the benchmark driver saw it."""

    status: int
    body: bytes
    seconds: float


class Http:
    """A keep-alive HTTP/1.1 client (http.client) that times each exchange."""

    def __init__(self, server: Server, timeout: float = 30.0) -> None:
        self.server = server
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.server.host, self.server.port, timeout=self.timeout
            )
        return self._connection

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        """Send one request (path relative to the base URL) and read the whole answer."""
        target = self.server.path_prefix + path
        for attempt in (1, 2):
            connection = self._connect()
            started = time.perf_counter()
            try:
                connection.request(method, target, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError) as exc:
                # A closed keep-alive connection: reconnect once, then give up.
                self.close()
                if attempt == 2:
                    raise BenchError(f"{method} {target}: {exc}") from exc
                continue
            seconds = time.perf_counter() - started
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Reply(response.status, data, seconds)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for_status(
    server: Server, path: str, status: int = 200, timeout: float = 30.0, pause: float = 0.001
) -> Reply:
    """Poll ``path`` quickly (bounded in time) until it answers ``status``; the last reply.

    Returns early with a non-matching reply if the server keeps answering 404 (an endpoint
    that does not exist yet), so callers can report it as not available.
    """
    deadline = time.perf_counter() + timeout
    not_found = 0
    last: Reply | None = None
    while time.perf_counter() < deadline:
        try:
            with Http(server, timeout=max(0.1, deadline - time.perf_counter())) as client:
                last = client.request("GET", path)
        except (BenchError, OSError):
            time.sleep(pause)
            continue
        if last.status == status:
            return last
        not_found = not_found + 1 if last.status == 404 else 0
        if not_found >= 3:
            return last
        time.sleep(pause)
    if last is None:
        raise BenchError(f"GET {path}: no answer within {timeout:.0f} s")
    return last


# -- figures and verdicts ---------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, infinite when the denominator is zero."""
    if denominator == 0:
        return float("inf") if numerator else 1.0
    return numerator / denominator


def verdict(value: float, goal: float, at_most: bool) -> Status:
    """PASS when ``value`` meets the goal (``<= goal`` if ``at_most``, else ``>= goal``)."""
    met = value <= goal if at_most else value >= goal
    return "PASS" if met else "MISS"


def fmt_seconds(seconds: float) -> str:
    """A duration with a unit that suits its size."""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1_000_000:.1f} us"


@dataclass
class Result:
    """One benchmark's figures, its headline ratio and verdict against the goal."""

    name: str
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    #: (label, value, goal, at_most) of each checked goal.
    checks: list[tuple[str, float, float, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Set when the benchmark could not run; the verdict is then N/A.
    unavailable: str | None = None

    def add(self, label: str, value: str) -> None:
        """Add a figure line."""
        self.figures.append((label, value))

    def check(self, label: str, value: float, goal: float, at_most: bool) -> None:
        """Add a goal to check."""
        self.checks.append((label, value, goal, at_most))

    @property
    def status(self) -> Status:
        """N/A if not available or nothing checked, MISS if any goal is missed, else PASS."""
        if self.unavailable is not None or not self.checks:
            return "N/A"
        verdicts = [verdict(value, goal, at_most) for _, value, goal, at_most in self.checks]
        return "MISS" if "MISS" in verdicts else "PASS"


def format_check(label: str, value: float, goal: float, at_most: bool) -> str:
    """``label: 1.23 (goal <= 1.5) PASS``."""
    sign = "<=" if at_most else ">="
    shown = f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"
    return f"{label}: {shown} (goal {sign} {goal:g}) {verdict(value, goal, at_most)}"


def format_result(result: Result) -> str:
    """The printed block of one benchmark."""
    lines = [f"== {result.name}: {result.title}"]
    width = max((len(label) for label, _ in result.figures), default=0)
    lines.extend(f"  {label.ljust(width)}  {value}" for label, value in result.figures)
    if result.unavailable is not None:
        lines.append(f"  not available: {result.unavailable}")
    lines.extend("  " + format_check(*check) for check in result.checks)
    lines.extend(f"  note: {note}" for note in result.notes)
    lines.append(f"  verdict: {result.status}")
    return "\n".join(lines)
