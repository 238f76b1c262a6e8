"""``bbdc-sim conform --sut-command CMD``: start the system under test, read its URL, stop it.

A CI pipeline in any language hands the harness the command that starts its integration in
its test configuration. The harness runs it (split like a shell would, :func:`shlex.split`,
but without a shell; in the current directory; with the environment inherited, plus
``PYTHONUNBUFFERED=1`` unless set), and:

- reads the first ``http://`` or ``https://`` URL on a line of its **stdout**: that is the
  driver protocol's base URL, used as ``--sut`` (with ``--sut URL`` given as well, that URL is
  used instead and nothing is read);
- waits until ``GET {URL}/capabilities`` gets an HTTP answer (any status: the run itself
  then checks the answer and diagnoses a wrong one);
- gives up after :data:`START_TIMEOUT` seconds for both, or as soon as the process exits,
  with :class:`LaunchError` naming its exit status and its last lines of output;
- keeps draining its stdout and stderr in the background, keeping the last
  :data:`KEPT_LINES` lines for diagnostics;
- at the end, whatever the outcome (a failure, an error, Ctrl-C), stops it: ``SIGTERM`` to
  its process group, ``SIGKILL`` after :data:`STOP_GRACE` seconds.

The simulated Bitbucket is started later, by the run itself (one per run, on a free port), so
its URL is not known yet and the command gets none: the driver protocol's ``POST
/integrations`` carries it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import IO, Final
from urllib.parse import urlsplit

#: Seconds the command has to print its URL and answer ``GET /capabilities``.
START_TIMEOUT: Final = 30.0
#: Seconds between ``SIGTERM`` and ``SIGKILL`` when stopping it.
STOP_GRACE: Final = 5.0
#: How many of its last lines of output (stdout and stderr) are kept for diagnostics.
KEPT_LINES: Final = 50
#: A kept line is cut after this many characters.
_LINE_CHARS: Final = 2000
#: Seconds one ``GET /capabilities`` attempt may take, and between two attempts.
_PROBE_TIMEOUT: Final = 2.0
_PROBE_INTERVAL: Final = 0.05
_URL: Final = re.compile(r"https?://[^\s\"'<>`]+")
#: Punctuation that ends a sentence rather than the URL (``... at http://host:1/x.``).
_URL_TRAILER: Final = ".,;:!?)]}"


class LaunchError(Exception):
    """The command cannot serve as the system under test; the message says why, with its
    exit status and its last lines of output."""


def first_url(line: str) -> str | None:
    """The first ``http://`` or ``https://`` URL in ``line``, without trailing punctuation."""
    match = _URL.search(line)
    if match is None:
        return None
    url = match.group(0).rstrip(_URL_TRAILER)
    return url if urlsplit(url).hostname else None


class SutProcess:
    """The command, started, with its output drained in the background."""

    def __init__(self, command: str) -> None:
        self.command = command
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise LaunchError(f"--sut-command {command!r} cannot be split: {exc}") from None
        if not argv:
            raise LaunchError("--sut-command is empty")
        environment = dict(os.environ)
        environment.setdefault("PYTHONUNBUFFERED", "1")
        self._lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._lock = threading.Lock()
        self._url: str | None = None
        self._url_seen = threading.Event()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - the user's own command, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                # Its own process group, so that stopping it stops what it started too, and
                # a Ctrl-C in the terminal reaches the harness only (which then stops it).
                start_new_session=os.name == "posix",
            )
        except OSError as exc:
            raise LaunchError(f"--sut-command {command!r} cannot be started: {exc}") from None
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._drain, args=(self.process.stdout, ""), daemon=True),
            threading.Thread(
                target=self._drain, args=(self.process.stderr, "[stderr] "), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, stream: IO[str], prefix: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # the pipe broke or was closed
            for raw in stream:
                line = raw.rstrip("\r\n")[:_LINE_CHARS]
                with self._lock:
                    self._lines.append(prefix + line)
                if not prefix and self._url is None:
                    url = first_url(line)
                    if url is not None:
                        self._url = url
                        self._url_seen.set()

    def last_lines(self) -> list[str]:
        """Its last :data:`KEPT_LINES` lines of output, stderr's marked ``[stderr]``."""
        with self._lock:
            return list(self._lines)

    def _failure(self, problem: str) -> LaunchError:
        """``problem``, with the exit status (if it exited) and the last lines."""
        code = self.process.poll()
        if code is not None:
            # It exited: whatever it printed last is in the pipes; let the readers catch up.
            for reader in self._readers:
                reader.join(timeout=1.0)
        status = "still running" if code is None else describe_status(code)
        lines = self.last_lines()
        tail = (
            f"; its last {len(lines)} lines of output:\n" + "\n".join(f"  {x}" for x in lines)
            if lines
            else "; it printed nothing"
        )
        return LaunchError(f"--sut-command {self.command!r} {problem} ({status}){tail}")

    def wait_for_url(self, timeout: float) -> str:
        """The first URL on its stdout; :class:`LaunchError` when it exits or prints none in
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._url_seen.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            if self.process.poll() is not None:
                self._readers[0].join(timeout=1.0)
                if self._url is not None:
                    break
                raise self._failure("exited before printing an http(s):// URL on stdout")
            if time.monotonic() >= deadline:
                raise self._failure(f"printed no http(s):// URL on stdout within {timeout:g} s")
        assert self._url is not None
        return self._url

    def wait_until_serving(self, url: str, deadline: float, timeout: float) -> None:
        """Until ``GET {url}/capabilities`` gets an HTTP answer (tried at least once);
        :class:`LaunchError` when it exits first or none comes by ``deadline`` (a
        :func:`time.monotonic` value, ``timeout`` seconds after the start)."""
        target = url.rstrip("/") + "/capabilities"
        while True:
            if self.process.poll() is not None:
                raise self._failure(f"exited before GET {target} answered")
            try:
                probe(target, min(_PROBE_TIMEOUT, max(0.1, deadline - time.monotonic())))
            except (OSError, http.client.HTTPException) as exc:
                last_error = str(exc) or type(exc).__name__
            else:
                return
            if time.monotonic() >= deadline:
                raise self._failure(
                    f"did not answer GET {target} within {timeout:g} s (last: {last_error})"
                )
            time.sleep(min(_PROBE_INTERVAL, max(0.0, deadline - time.monotonic())))

    def exited_early(self) -> str | None:
        """When it has exited on its own: a line saying so, with its status and last lines."""
        if self.process.poll() is None:
            return None
        return str(self._failure("exited during the run"))

    def stop(self, grace: float = STOP_GRACE) -> None:
        """``SIGTERM`` (its process group), ``SIGKILL`` after ``grace`` seconds; then wait
        for it and for the readers."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
                self.process.wait()
        for reader, stream in zip(
            self._readers, (self.process.stdout, self.process.stderr), strict=True
        ):
            reader.join(timeout=1.0)
            # A reader still blocked means something it started outlived it and holds the
            # pipe: closing the pipe under that reader would block too, so leave both be.
            if not reader.is_alive() and stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _signal(self, signum: int) -> None:
        # Not yet reaped (we have not waited for it), so its process group id is still its.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.name == "posix":
                os.killpg(self.process.pid, signum)
            elif signum == signal.SIGTERM:
                self.process.terminate()
            else:
                self.process.kill()


def describe_status(code: int) -> str:
    """``exit status 1``, or ``killed by SIGSEGV`` for a negative :attr:`Popen.returncode`."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


def probe(url: str, timeout: float) -> int:
    """One ``GET url``: its status; ``OSError`` or ``HTTPException`` when none comes."""
    parts = urlsplit(url)
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path or "/", headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextlib.contextmanager
def launched_sut(
    command: str,
    *,
    sut: str | None = None,
    timeout: float = START_TIMEOUT,
    grace: float = STOP_GRACE,
) -> Iterator[str]:
    """Start ``command``, and give the driver protocol's base URL: ``sut`` when given, else
    the first URL it prints; once ``GET {url}/capabilities`` answers. Stops it on the way
    out, whatever happens; :class:`LaunchError` when it cannot be used. A line on stderr
    when it exited on its own during the run."""
    started = SutProcess(command)
    try:
        deadline = time.monotonic() + timeout
        url = sut or started.wait_for_url(timeout)
        started.wait_until_serving(url, deadline, timeout)
        yield url
        note = started.exited_early()
        if note is not None:
            print(f"bbdc-sim conform: {note}", file=sys.stderr)
    finally:
        started.stop(grace)
