"""``--sut``: which driver each value selects, and the errors for values that select none."""

from __future__ import annotations

import pytest

from conformance.drivers.http import HttpIntegrator
from conformance.drivers.loader import REFERENCE, is_reference, load_driver
from conformance.drivers.python import CheckedIntegrator
from conformance.sut import DriverError
from tests.conformance.drivers.fake_sut import Running
from tests.conformance.drivers.sample_sut import SampleSut

NOT_A_SUT = (
    "is not a system under test: expected 'reference', an http:// or https:// base URL "
    "serving the driver protocol, or 'package.module:factory'"
)


def test_reference_is_recognised() -> None:
    assert is_reference(REFERENCE)
    assert is_reference(" reference ")
    assert not is_reference("http://127.0.0.1:5000")


def test_reference_is_left_to_the_plugin() -> None:
    with pytest.raises(ValueError, match="started by the pytest plugin"):
        load_driver("reference")


@pytest.mark.parametrize("spec", ["http://127.0.0.1:5000", "https://sut.example/driver/"])
def test_a_url_selects_the_http_driver(spec: str) -> None:
    driver = load_driver(spec, timeout=3)

    assert isinstance(driver, HttpIntegrator)
    assert driver.base_url == spec.rstrip("/")
    assert driver.timeout == 3


def test_a_url_does_not_contact_the_implementation(fake_sut: Running) -> None:
    load_driver(fake_sut.base_url)

    assert fake_sut.fake.received == []


def test_the_loaded_http_driver_speaks_the_protocol(fake_sut: Running) -> None:
    assert load_driver(fake_sut.base_url).capabilities().name == "fake"


def test_the_observer_is_handed_to_the_http_driver() -> None:
    seen: list[object] = []

    driver = load_driver("http://127.0.0.1:5000", observer=seen.append)

    assert isinstance(driver, HttpIntegrator)
    assert driver.observer is not None


def test_a_factory_selects_the_python_driver() -> None:
    driver = load_driver("tests.conformance.drivers.sample_sut:make")

    assert isinstance(driver, CheckedIntegrator)
    assert isinstance(driver.inner, SampleSut)


def test_a_bad_factory_is_reported_by_the_python_driver() -> None:
    with pytest.raises(DriverError) as caught:
        load_driver("tests.conformance.drivers.sample_sut:nothing")

    assert caught.value.problem == (
        "module tests.conformance.drivers.sample_sut has no attribute 'nothing'"
    )


@pytest.mark.parametrize("spec", ["ftp://host/x", "sut.example", "./sut", "C:/sut:make"])
def test_anything_else_is_refused_naming_the_spec(spec: str) -> None:
    with pytest.raises(DriverError) as caught:
        load_driver(spec)

    assert (caught.value.where, caught.value.problem) == (f"--sut {spec}", NOT_A_SUT)
    assert caught.value.details == ("see docs/driver-protocol.md",)


def test_an_empty_spec_is_refused() -> None:
    with pytest.raises(DriverError) as caught:
        load_driver("  ")

    assert caught.value.where == "--sut (empty)"


def test_a_bad_url_is_refused_naming_the_spec() -> None:
    with pytest.raises(DriverError) as caught:
        load_driver("http://")

    assert str(caught.value) == "--sut http://: is not an http:// or https:// URL with a host"
