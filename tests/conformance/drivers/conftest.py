"""Fixtures: a conforming fake implementation of the driver protocol and its HTTP driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.drivers.http import HttpIntegrator
from tests.conformance.drivers.fake_sut import Running, serve


@pytest.fixture
def fake_sut() -> Iterator[Running]:
    """A fake implementation serving the protocol; fails the test if a request was malformed."""
    with serve() as running:
        yield running
    assert running.fake.request_errors == []


@pytest.fixture
def driver(fake_sut: Running) -> HttpIntegrator:
    """The HTTP driver pointed at ``fake_sut``."""
    return HttpIntegrator(fake_sut.base_url, timeout=5)
