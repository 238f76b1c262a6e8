"""Steps of the version matrix: a Bitbucket server at *the version under test*, and the guide's
version cut-offs.

The version under test is ``--bitbucket-version`` (each column of ``bbdc-sim conform
--matrix``), else the simulator's default version. Scenarios that name their version
(``at version "8.19.1"``) keep it whatever the run's version; only scenarios written with these
steps follow it, and they skip themselves where the guide does not apply to that version.
"""

from __future__ import annotations

from typing import Final

import pytest

from conformance.context import FeatureFileError, ScenarioContext
from conformance.steps import given
from simulator.version import DEFAULT_VERSION, BitbucketVersion, VersionError

#: The key of ``ctx.notes`` holding the version under test (the report shows it).
VERSION_UNDER_TEST: Final = "version_under_test"


def version_under_test(ctx: ScenarioContext) -> BitbucketVersion:
    """The run's version under test (noted in the scenario's context for the report)."""
    version = BitbucketVersion.parse(ctx.default_version or DEFAULT_VERSION)
    ctx.notes[VERSION_UNDER_TEST] = str(version)
    return version


def _version(text: str) -> BitbucketVersion:
    try:
        return BitbucketVersion.parse(text)
    except VersionError as exc:
        raise FeatureFileError(str(exc)) from None


@given("a Bitbucket Data Center server at the version under test")
def server_at_version_under_test(ctx: ScenarioContext) -> None:
    """Uses the simulated Bitbucket at the root path, at the run's version under test
    (--bitbucket-version, a column of --matrix, else the simulator's default)."""
    version = version_under_test(ctx)
    ctx.use_bitbucket("")
    ctx.sim.set_version(str(version))


@given('the version under test is "{minimum}" or later')
def version_at_least(ctx: ScenarioContext, minimum: str) -> None:
    """Skips the scenario when the version under test is older than ``minimum``."""
    limit = _version(minimum)
    version = version_under_test(ctx)
    if version < limit:
        pytest.skip(f"applies from Bitbucket {limit}; the version under test is {version}")


@given('the version under test is older than "{limit}"')
def version_older_than(ctx: ScenarioContext, limit: str) -> None:
    """Skips the scenario when the version under test is ``limit`` or later."""
    bound = _version(limit)
    version = version_under_test(ctx)
    if version >= bound:
        pytest.skip(f"applies below Bitbucket {bound}; the version under test is {version}")
