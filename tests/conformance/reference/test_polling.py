"""The reference's poll: where no webhook reports pushes, a user's packages are read again
12 hours (on its clock) after their last synchronisation, and only those repositories."""

from __future__ import annotations

import requests

from conformance.reference import rules
from conformance.reference.package_store import UserKey
from conformance.reference.server import ReferenceServer
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import TIMEOUT, Browser, Setup
from tests.conformance.reference.test_packages import packages_of
from tests.conformance.reference.test_webhooks import (
    administered,
    alice,
    packaged,
    refuse_deliveries,
    settle,
)

__all__ = ["alice"]

HALF_DAY = int(rules.POLL_INTERVAL_SECONDS)


def advance(reference: ReferenceServer, seconds: int) -> None:
    """Move the reference's clock (in process: the reference does not declare ``clock``),
    then wait for the pass of its poller that this wakes."""

    async def move() -> None:
        reference.reference.advance_clock(seconds)
        await reference.reference.poller.idle()

    reference.call(move())


def push_tag(bitbucket: SimulatorServer, project: str, slug: str, name: str) -> None:
    control = f"{bitbucket.base_url}/_sim/repos/{project}/{slug}/tags"
    assert requests.post(control, json={"name": name}, timeout=TIMEOUT).status_code == 201


def versions(ref: str, browser: Browser, package: str) -> set[str]:
    return {v["version"] for v in packages_of(ref, browser).get(package, [])}


def run_due(reference: ReferenceServer) -> list[UserKey]:
    polled: list[UserKey] = reference.call(reference.reference.poller.run_due())
    return polled


def test_without_a_webhook_a_push_arrives_with_the_poll_12_hours_after_the_sync(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer, reference: ReferenceServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    push_tag(bitbucket, "PKG", "to-official", "v9.9.0")
    advance(reference, HALF_DAY - 60)
    assert "v9.9.0" not in versions(ref, browser, "pkg/to-official")
    advance(reference, 60)
    assert "v9.9.0" in versions(ref, browser, "pkg/to-official")


def test_a_user_is_polled_once_an_interval(
    ref: str, setup: Setup, browser: Browser, reference: ReferenceServer
) -> None:
    browser.log_in(setup.login_link, "alice")
    assert run_due(reference) == []
    reference.call(_advance_only(reference, HALF_DAY))
    (polled,) = run_due(reference)
    assert polled[1] == "alice"
    assert run_due(reference) == []


async def _advance_only(reference: ReferenceServer, seconds: int) -> None:
    """Move the clock without waking the poller (the test runs the pass itself)."""
    reference.state.clock.advance(seconds)


def test_the_poll_leaves_repositories_with_a_webhook_to_it(
    ref: str,
    browser: Browser,
    bitbucket: SimulatorServer,
    alice: str,
    reference: ReferenceServer,
) -> None:
    hooked = ("PKG", "to-official")
    unhooked = sorted(packaged(ref, browser) - administered(bitbucket, alice))
    assert hooked in administered(bitbucket, alice)
    assert unhooked, "alice reads a package repository she does not administer"
    refuse_deliveries(bitbucket, ref)
    push_tag(bitbucket, *hooked, "v9.9.0")
    push_tag(bitbucket, *unhooked[0], "v9.9.1")
    settle(bitbucket)
    advance(reference, HALF_DAY)
    polled = {
        v["version"]
        for versions_ in packages_of(ref, browser).values()
        for v in versions_
        if v["version"] in ("v9.9.0", "v9.9.1")
    }
    assert polled == {"v9.9.1"}


def test_the_poller_stops_with_the_app() -> None:
    with ReferenceServer() as server:
        poller = server.reference.poller
        assert poller._task is not None
    assert poller._task is None
