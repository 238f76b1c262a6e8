"""Fixtures for the browser tests: the simulator, a callback receiver and Debian's Chromium.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's Python package; Playwright
never downloads a browser of its own here. The tests are skipped, with the reason, only when
that executable is missing or cannot be launched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from simulator.settings import Settings
from simulator.testing import SimulatorServer
from tests.browser.callback import CallbackReceiver

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long one browser action or expectation may wait (ms): pages come from loopback.
ACTION_TIMEOUT_MS = 5_000
LAUNCH_TIMEOUT_MS = 30_000

NewContext = Callable[[], BrowserContext]

#: Where the page screenshots go (``BBDC_SIM_SCREENSHOTS`` names another folder).
SCREENSHOTS = Path(
    os.environ.get("BBDC_SIM_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "build" / "screenshots"
)
#: The screenshots this run saved, for the summary line.
TAKEN: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the page screenshots went."""
    if TAKEN:
        terminalreporter.write_line(f"screenshots of {len(TAKEN)} pages saved in {SCREENSHOTS}")


def launch_failure(exc: PlaywrightError) -> str:
    """Playwright's launch error in brief: its first line, Chromium's stderr and exit status."""
    lines = [line.strip() for line in (exc.message or str(exc)).strip().splitlines()]
    kept = lines[:1]
    kept += [line.split("[err]", 1)[1].strip() for line in lines if "[err]" in line][:3]
    kept += [line.lstrip("- ") for line in lines if "process did exit" in line][:1]
    return "; ".join(dict.fromkeys(line for line in kept if line))


@pytest.fixture(scope="session")
def simulator_session() -> Iterator[SimulatorServer]:
    """One simulator for the browser tests, on a free port of 127.0.0.1."""
    with SimulatorServer(Settings(port=0)) as server:
        yield server


@pytest.fixture
def simulator(simulator_session: SimulatorServer) -> SimulatorServer:
    """The simulator, reset to its seed before the test."""
    simulator_session.store.reset()
    return simulator_session


@pytest.fixture(scope="session")
def callback_session() -> Iterator[CallbackReceiver]:
    """One OAuth 2 client callback for the browser tests."""
    with CallbackReceiver() as receiver:
        yield receiver


@pytest.fixture
def callback(callback_session: CallbackReceiver) -> CallbackReceiver:
    """The callback receiver, with no request recorded yet."""
    callback_session.clear()
    return callback_session


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; skips the test when it is missing or cannot launch.

    Module-scoped so that Playwright's driver is gone before the async tests of other modules.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium'; "
            ".ci/run installs it when it can)"
        )
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                timeout=LAUNCH_TIMEOUT_MS,
            )
        except PlaywrightError as exc:
            pytest.skip(f"Chromium at {CHROMIUM} cannot be launched: {launch_failure(exc)}")
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(chromium: Browser) -> Iterator[NewContext]:
    """Make fresh browser contexts (own cookies, logged out); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = chromium.new_context(viewport={"width": 1024, "height": 768})
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
