"""BitbucketVersion: parsing, build numbers, capability gates."""

from __future__ import annotations

import pytest

from simulator.version import DEFAULT_VERSION, BitbucketVersion, VersionError


@pytest.mark.parametrize(
    ("text", "build"),
    [("7.21.0", 7021000), ("8.19.1", 8019001), ("9.4.16", 9004016), ("4.8.5", 4008005)],
)
def test_build_number_is_major_minor_patch(text: str, build: int) -> None:
    version = BitbucketVersion.parse(text)
    assert version.build_number == build
    assert str(version) == text


def test_missing_patch_reads_as_zero() -> None:
    assert BitbucketVersion.parse("7.21") == BitbucketVersion(7, 21, 0)


@pytest.mark.parametrize("text", ["", "7", "7.x", "v8.0.0", "8.0.0.1", "8.1000.0", "-1.0.0"])
def test_malformed_versions_are_rejected(text: str) -> None:
    with pytest.raises(VersionError):
        BitbucketVersion.parse(text)


def test_versions_order_numerically() -> None:
    assert BitbucketVersion.parse("7.9.0") < BitbucketVersion.parse("7.21.0")
    assert BitbucketVersion.parse("10.0.0") > BitbucketVersion.parse("9.4.16")


@pytest.mark.parametrize(
    ("text", "oauth2", "archived", "tokens"),
    [
        ("5.4.0", False, False, False),
        ("5.5.0", False, False, True),
        ("7.20.9", False, False, True),
        ("7.21.0", True, False, True),
        ("7.21.20", True, False, True),
        ("8.0.0", True, True, True),
        ("9.4.16", True, True, True),
    ],
)
def test_capability_gates(text: str, oauth2: bool, archived: bool, tokens: bool) -> None:
    version = BitbucketVersion.parse(text)
    assert version.supports_oauth2 is oauth2
    assert version.supports_archived_filter is archived
    assert version.supports_access_tokens is tokens


def test_default_is_a_9x_release() -> None:
    assert BitbucketVersion.parse(DEFAULT_VERSION).major == 9
