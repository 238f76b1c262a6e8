"""Composer's version names for tags and branches, and the webhook rules."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from conformance.reference import rules, versions


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("v1.0.0", ("v1.0.0", "1.0.0.0")),
        ("1.2", ("1.2", "1.2.0.0")),
        ("2.0.0-RC1", ("2.0.0-RC1", "2.0.0.0-RC1")),
        ("v3.1.4-beta.2", ("v3.1.4-beta.2", "3.1.4.0-beta2")),
        ("1.0.0-alpha", ("1.0.0-alpha", "1.0.0.0-alpha")),
        ("1.0.0-p1", ("1.0.0-p1", "1.0.0.0-patch1")),
        ("1.0.0-stable", ("1.0.0-stable", "1.0.0.0")),
        ("release-candidate", None),
        ("1.0.x-dev", None),
        ("v1.0.0-dev", None),
    ],
)
def test_a_tag_is_a_version_when_composer_can_normalise_it(
    tag: str, expected: tuple[str, str] | None
) -> None:
    assert rules.tag_version(tag) == expected


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("main", ("dev-main", "dev-main")),
        ("release/1.x", ("dev-release/1.x", "dev-release/1.x")),
        ("1.x", ("1.x-dev", "1.9999999.9999999.9999999-dev")),
        ("2.1", ("2.1.x-dev", "2.1.9999999.9999999-dev")),
        ("v3", ("3.x-dev", "3.9999999.9999999.9999999-dev")),
    ],
)
def test_a_branch_is_a_dev_version(branch: str, expected: tuple[str, str]) -> None:
    assert rules.branch_version(branch) == expected
    assert versions.is_dev(expected[0])


def test_package_names_are_composers() -> None:
    assert rules.package_name({"name": "Acme/Core"}) == "acme/core"
    assert rules.package_name({"name": "acme"}) is None
    assert rules.package_name({"name": 3}) is None
    assert rules.package_name(["acme/core"]) is None


def test_a_sync_keeps_what_bitbucket_has_now() -> None:
    assert rules.kept_versions({"a": 1, "b": 2}, {"b": 3}) == {"b": 3}
    assert rules.still_readable(("P", "r"), frozenset({("P", "r")}))
    assert not rules.still_readable(("P", "r"), frozenset())


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2017-09-19T09:58:11-0800", "2017-09-19T17:58:11"),
        ("2017-09-19T09:45:32+1000", "2017-09-18T23:45:32"),
        ("2026-12-03T07:43:24+0000", "2026-12-03T07:43:24"),
        ("2026-12-03T07:43:24+0530", "2026-12-03T02:13:24"),
    ],
)
def test_the_delivery_date_is_read_with_its_offset(text: str, utc: str) -> None:
    from datetime import UTC, datetime

    expected = datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()
    assert rules.parse_webhook_date(text) == expected


@pytest.mark.parametrize(
    "text", ["2017-09-19T09:58:11-08:00", "2017-09-19 09:58:11", "2017-13-40T00:00:00+0000", 5]
)
def test_a_date_of_another_form_is_unreadable(text: object) -> None:
    assert rules.parse_webhook_date(text) is None


def test_a_delivery_older_than_an_hour_or_undated_is_stale() -> None:
    assert not rules.webhook_stale(1000.0, 1000.0 + 3600)
    assert rules.webhook_stale(1000.0, 1000.0 + 3601)
    assert not rules.webhook_stale(5000.0, 1000.0)
    assert rules.webhook_stale(None, 0.0)


def test_the_signature_is_the_hmac_of_the_raw_body() -> None:
    body = b'{"eventKey":"repo:refs_changed"}'
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert rules.signature_valid("s3cret", body, f"sha256={digest}")
    assert rules.signature_valid("s3cret", body, f"sha256={digest.upper()}")
    assert not rules.signature_valid("other", body, f"sha256={digest}")
    assert not rules.signature_valid("s3cret", body + b" ", f"sha256={digest}")
    assert not rules.signature_valid("s3cret", body, digest)
    assert not rules.signature_valid("s3cret", body, None)


def test_the_webhook_asks_for_refs_changed_only() -> None:
    hook = rules.webhook_definition("n", "http://r/webhooks/bitbucket/x", "s")
    assert hook["events"] == ["repo:refs_changed"]
    assert hook["configuration"] == {"secret": "s"}
