"""The HTTP driver's optional endpoints: ``GET /packages``, ``POST /packages/sync`` and
``POST /code-credentials``, with their strict statuses and schema."""

from __future__ import annotations

import pytest

from conformance.drivers.http import DriverExchange, HttpIntegrator, capabilities_of
from conformance.sut import DriverError, PackageVersion
from tests.conformance.drivers.fake_sut import (
    ALICE_SESSION,
    COMMIT,
    SESSION_COOKIE,
    Reply,
    Running,
    json_reply,
)

ALICE = {SESSION_COOKIE: ALICE_SESSION}


def test_packages_are_read_for_the_browsers_cookies_as_held_without_a_sync(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    assert driver.packages(ALICE) == {}
    driver.synchronise(ALICE)
    assert driver.packages(ALICE) == {
        "pkg/core": (
            PackageVersion(
                name="pkg/core",
                version="v1.0.0",
                reference=COMMIT,
                source_url="http://bb/scm/pkg/core.git",
                dist_url="http://sut/dist/core.zip",
            ),
            PackageVersion(
                name="pkg/core",
                version="dev-main",
                reference=COMMIT,
                source_url="http://bb/scm/pkg/core.git",
            ),
        )
    }
    (sync,) = [r for r in fake_sut.fake.received if r.path == "/packages/sync"]
    assert sync.method == "POST"
    assert f"{SESSION_COOKIE}={ALICE_SESSION}" in sync.headers["cookie"]


def test_packages_without_a_login_are_off_protocol_with_the_error(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    with pytest.raises(DriverError) as caught:
        driver.packages({})
    assert caught.value.where == f"GET {fake_sut.base_url}/packages"
    assert "answered 401 Unauthorized, expected 200" in caught.value.problem
    assert "error: You are not logged in." in caught.value.details
    with pytest.raises(DriverError, match="expected 204"):
        driver.synchronise({})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "'packages' is a required property"),
        ({"packages": {"a/b": [{"name": "a/b", "version": "1.0"}]}}, "'source'"),
        (
            {"packages": {"a/b": [{"name": "a/b", "version": "1", "source": {"type": "git"}}]}},
            "'url' is a required property",
        ),
        ({"packages": [], "extra": 1}, "Additional properties"),
    ],
)
def test_a_packages_answer_of_the_wrong_shape_is_refused(
    driver: HttpIntegrator, fake_sut: Running, body: object, problem: str
) -> None:
    fake_sut.fake.overrides["GET", "/packages"] = json_reply(200, body)
    with pytest.raises(DriverError) as caught:
        driver.packages(ALICE)
    assert "does not match the protocol (driver/packages.json)" in caught.value.problem
    assert problem in caught.value.problem


def test_a_sync_answering_200_is_off_protocol(driver: HttpIntegrator, fake_sut: Running) -> None:
    fake_sut.fake.overrides["POST", "/packages/sync"] = json_reply(200, {})
    with pytest.raises(DriverError, match="answered 200 OK, expected 204"):
        driver.synchronise(ALICE)


def test_a_code_credential_is_posted_and_its_token_redacted_in_the_trace(
    fake_sut: Running,
) -> None:
    seen: list[DriverExchange] = []
    driver = HttpIntegrator(fake_sut.base_url, timeout=5, observer=seen.append)
    driver.add_code_credential("alice", "BBDC-secret-token")
    assert fake_sut.fake.code_credentials == [("alice", "BBDC-secret-token")]
    (exchange,) = seen
    assert exchange.request == {"username": "alice", "token": "<redacted>"}
    assert exchange.status == 204


def test_a_code_credential_refused_is_off_protocol(
    driver: HttpIntegrator, fake_sut: Running
) -> None:
    fake_sut.fake.overrides["POST", "/code-credentials"] = Reply(404, b'{"error": "no webhooks"}')
    with pytest.raises(DriverError, match="expected 204"):
        driver.add_code_credential("alice", "t")


def test_capabilities_read_the_optional_packages_and_webhooks_flags() -> None:
    base = {"protocol": 1, "name": "x", "oauth_versions": [2], "repositories": True}
    plain = capabilities_of(base)
    assert (plain.packages, plain.webhooks) == (False, False)
    both = capabilities_of({**base, "packages": True, "webhooks": True})
    assert (both.packages, both.webhooks) == (True, True)
