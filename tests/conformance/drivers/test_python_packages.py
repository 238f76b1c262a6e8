"""The Python driver forwards the optional package and webhook operations to an object that
implements :class:`~conformance.sut.Packaged` / :class:`~conformance.sut.Hooked`, and holds
the packages to the same schema as over HTTP."""

from __future__ import annotations

import pytest

from conformance.drivers.python import CheckedIntegrator, packages_json
from conformance.sut import Cookies, DriverError, Integrator, Packages, PackageVersion
from tests.conformance.drivers.sample_sut import SampleSut

VERSION = PackageVersion("pkg/core", "v1.0.0", "a" * 40, "http://bb/scm/pkg/core.git")


class PackagedSut(SampleSut):
    """The sample SUT plus packages and code credentials."""

    def __init__(self, held: object = None) -> None:
        super().__init__()
        self.held = held if held is not None else {"pkg/core": (VERSION,)}
        self.calls: list[tuple[str, object]] = []

    def packages(self, cookies: Cookies) -> Packages:
        self.calls.append(("packages", dict(cookies)))
        return self.held  # type: ignore[return-value]

    def synchronise(self, cookies: Cookies) -> None:
        self.calls.append(("synchronise", dict(cookies)))

    def add_code_credential(self, username: str, token: str) -> None:
        self.calls.append(("add_code_credential", (username, token)))


def checked(sut: object) -> CheckedIntegrator:
    assert isinstance(sut, Integrator)
    return CheckedIntegrator(sut, "m:f")


def test_the_operations_are_forwarded_with_the_cookies() -> None:
    sut = PackagedSut()
    driver = checked(sut)
    driver.synchronise({"sid": "1"})
    assert driver.packages({"sid": "1"}) == {"pkg/core": (VERSION,)}
    driver.add_code_credential("alice", "token")
    assert sut.calls == [
        ("synchronise", {"sid": "1"}),
        ("packages", {"sid": "1"}),
        ("add_code_credential", ("alice", "token")),
    ]


def test_an_object_without_the_operations_is_reported() -> None:
    driver = checked(SampleSut())
    with pytest.raises(DriverError, match="not a Packaged"):
        driver.packages({})
    with pytest.raises(DriverError, match="not a Packaged"):
        driver.synchronise({})
    with pytest.raises(DriverError, match="not a Hooked"):
        driver.add_code_credential("a", "t")


@pytest.mark.parametrize(
    ("held", "problem"),
    [
        ([VERSION], "expected a mapping"),
        ({"pkg/core": ("v1",)}, "expected conformance.sut.PackageVersion"),
        ({"pkg/core": (PackageVersion("pkg/core", "", "a", "u"),)}, "driver/packages.json"),
    ],
)
def test_wrong_answers_are_refused(held: object, problem: str) -> None:
    with pytest.raises(DriverError, match=problem):
        checked(PackagedSut(held)).packages({})


def test_packages_convert_to_the_protocols_json() -> None:
    with_dist = PackageVersion("a/b", "dev-main", "c", "http://s", "http://d.zip")
    assert packages_json({"a/b": (with_dist, VERSION)}) == {
        "packages": {
            "a/b": [
                {
                    "name": "a/b",
                    "version": "dev-main",
                    "source": {"type": "git", "url": "http://s", "reference": "c"},
                    "dist": {"type": "zip", "url": "http://d.zip", "reference": "c"},
                },
                {
                    "name": "pkg/core",
                    "version": "v1.0.0",
                    "source": {"type": "git", "url": VERSION.source_url, "reference": "a" * 40},
                },
            ]
        }
    }
