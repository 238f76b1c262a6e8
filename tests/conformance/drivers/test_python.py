"""The Python driver: loading ``package.module:factory`` and checking the object's answers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.drivers.python import (
    CheckedIntegrator,
    load_python_driver,
    missing_methods,
    split_spec,
)
from conformance.sut import (
    Capabilities,
    Cookies,
    CreatedIntegration,
    DriverError,
    IntegrationSummary,
    Integrator,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)
from tests.conformance.drivers.sample_sut import SampleSut

SAMPLE = "tests.conformance.drivers.sample_sut"
BITBUCKET = "http://bitbucket.example:7990"

WriteModule = Callable[[str, str], None]


@pytest.fixture
def write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteModule]:
    """Write a module into a directory on sys.path; forget it from sys.modules afterwards."""
    monkeypatch.syspath_prepend(tmp_path)
    names: list[str] = []

    def write(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(source)
        names.append(name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


def load_error(spec: str) -> DriverError:
    """The error loading ``spec`` raises."""
    with pytest.raises(DriverError) as caught:
        load_python_driver(spec)
    assert caught.value.where == f"--sut {spec}"
    return caught.value


def checked(sut: object) -> CheckedIntegrator:
    """``sut`` behind the checks, as if loaded from ``sample:make``."""
    assert isinstance(sut, Integrator)
    return CheckedIntegrator(sut, "sample:make")


# --- loading -------------------------------------------------------------------------------------


def test_a_factory_function_is_called_and_its_integrator_wrapped() -> None:
    driver = load_python_driver(f"{SAMPLE}:make")

    assert isinstance(driver.inner, SampleSut)
    assert isinstance(driver, Integrator)
    assert driver.capabilities().name == "sample"


def test_a_dotted_factory_path_is_followed() -> None:
    driver = load_python_driver(f"{SAMPLE}:Factories.create")

    assert isinstance(driver.inner, SampleSut)


def test_a_class_is_a_factory() -> None:
    assert isinstance(load_python_driver(f"{SAMPLE}:SampleSut").inner, SampleSut)


def test_a_module_written_by_the_user_is_imported(write_module: WriteModule) -> None:
    write_module(
        "user_sut",
        f"from {SAMPLE} import SampleSut\n\ndef build():\n    return SampleSut()\n",
    )

    assert isinstance(load_python_driver("user_sut:build").inner, SampleSut)


def test_split_spec_separates_module_and_factory() -> None:
    assert split_spec("pkg.mod:Factory.create") == ("pkg.mod", "Factory.create")


@pytest.mark.parametrize("spec", ["pkg.mod", "pkg.mod:", ":make", "pkg-x.mod:make", "a:b:c"])
def test_a_malformed_spec_is_refused(spec: str) -> None:
    error = load_error(spec)

    assert error.problem == (
        "is not a Python factory: expected 'package.module:factory' "
        "(dotted module path, a colon, the factory's name)"
    )


def test_a_host_and_port_is_pointed_to_the_url_form() -> None:
    error = load_error("localhost:5000")

    assert error.details == ("a base URL needs its scheme: http://localhost:5000",)


def test_a_missing_module_is_named() -> None:
    error = load_error("no_such_sut_module:make")

    assert error.problem == (
        "cannot import module 'no_such_sut_module': No module named 'no_such_sut_module'"
    )
    assert error.details == ("is it installed, or is its directory on sys.path (PYTHONPATH)?",)


def test_a_missing_submodule_is_named() -> None:
    error = load_error("tests.conformance.nothing_here:make")

    assert error.problem.startswith("cannot import module 'tests.conformance.nothing_here'")


def test_a_missing_dependency_of_the_module_is_told_apart(write_module: WriteModule) -> None:
    write_module("needs_dep", "import not_installed_dependency\n")

    error = load_error("needs_dep:make")

    assert error.problem == (
        "importing module 'needs_dep' failed: No module named 'not_installed_dependency'"
    )
    assert error.details[0].endswith("needs_dep.py:1 in <module>")


def test_a_module_raising_on_import_is_reported(write_module: WriteModule) -> None:
    write_module("raises_sut", "x = 1\nraise KeyError('DATABASE_URL')\n")

    error = load_error("raises_sut:make")

    assert error.problem == "importing module 'raises_sut' raised KeyError: 'DATABASE_URL'"
    assert error.details[0].endswith("raises_sut.py:2 in <module>")


def test_a_syntax_error_names_the_file_and_line(write_module: WriteModule) -> None:
    write_module("broken_sut", "def make(:\n    pass\n")

    error = load_error("broken_sut:make")

    assert error.problem.startswith("importing module 'broken_sut' raised SyntaxError")
    assert error.details[0].endswith("broken_sut.py:1")


def test_a_missing_factory_is_named_with_the_callables_there() -> None:
    error = load_error(f"{SAMPLE}:build")

    assert error.problem == f"module {SAMPLE} has no attribute 'build'"
    assert error.details == (
        "callables there: Factories, SampleSut, make, make_failing, make_incomplete",
    )


def test_a_missing_attribute_on_a_dotted_path_is_named() -> None:
    error = load_error(f"{SAMPLE}:Factories.build")

    assert error.problem == f"{SAMPLE}:Factories has no attribute 'build'"


def test_a_factory_that_is_not_callable_is_refused() -> None:
    error = load_error(f"{SAMPLE}:INSTANCE")

    assert error.problem == (
        "'INSTANCE' is a SampleSut, not a factory: give a zero-argument callable "
        "(a function or a class) returning an Integrator"
    )


def test_a_factory_that_raises_is_reported() -> None:
    error = load_error(f"{SAMPLE}:make_failing")

    assert error.problem == "calling make_failing() raised RuntimeError: PACKAGIST_DSN is not set"
    assert error.details[0].endswith("in make_failing")


def test_an_object_lacking_methods_names_them() -> None:
    error = load_error(f"{SAMPLE}:make_incomplete")

    assert error.problem == (
        "make_incomplete() returned a make_incomplete.<locals>.Partial, which is not a "
        "conformance.sut.Integrator: missing reset (not callable), create_integration, "
        "submit, integrations, session, repositories"
    )


def test_missing_methods_of_a_complete_integrator_is_empty() -> None:
    assert missing_methods(SampleSut()) == []


# --- checked answers -----------------------------------------------------------------------------


def test_answers_of_a_conforming_object_pass_through() -> None:
    driver = checked(SampleSut())
    driver.reset()
    created = driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert (
        driver.submit(created.id, "id", "secret").redirect_to
        == "http://packagist.test/integrations"
    )
    assert driver.submit(created.id, "id", "").error == "Client Secret is required"
    assert driver.integrations()[0].login_link == "http://packagist.test/login/1"
    assert driver.session({"sid": "alice"}).username == "alice"
    assert driver.repositories({"sid": "alice"})[0].slug == "core"


def test_an_oauth1_integration_passes_with_its_fields() -> None:
    created = checked(SampleSut()).create_integration("bitbucket-server", BITBUCKET, 1)

    assert created.consumer_key == "key"


class Misbehaving(SampleSut):
    """A sample whose answers tests replace."""

    def __init__(self, **answers: object) -> None:
        super().__init__()
        self.answers = answers

    def capabilities(self) -> Capabilities:
        return self.answers.get("capabilities", super().capabilities())  # type: ignore[return-value]

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        created = super().create_integration(platform, base_url, oauth_version)
        return self.answers.get("create_integration", created)  # type: ignore[return-value]

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        return self.answers.get("submit", super().submit(integration_id, client_id, client_secret))  # type: ignore[return-value]

    def integrations(self) -> list[IntegrationSummary]:
        return self.answers.get("integrations", super().integrations())  # type: ignore[return-value]

    def session(self, cookies: Cookies) -> SessionState:
        answer = self.answers.get("session", super().session(cookies))
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        return self.answers.get("repositories", super().repositories(cookies))  # type: ignore[return-value]


def test_an_exception_becomes_a_driver_error_naming_the_call() -> None:
    driver = checked(Misbehaving(session=KeyError("sid")))

    with pytest.raises(DriverError) as caught:
        driver.session({})

    assert caught.value.where == "sample:make().session()"
    assert caught.value.problem == "raised KeyError: 'sid'"
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_driver_error_raised_by_the_object_passes_through() -> None:
    original = DriverError("somewhere", "it broke")
    driver = checked(Misbehaving(session=original))

    with pytest.raises(DriverError) as caught:
        driver.session({})

    assert caught.value is original


def test_a_wrong_return_type_is_named() -> None:
    driver = checked(Misbehaving(session={"authenticated": False}))

    with pytest.raises(DriverError) as caught:
        driver.session({})

    assert caught.value.problem == "returned a dict, expected conformance.sut.SessionState"


def test_a_list_with_a_wrong_row_names_its_index() -> None:
    row = RepositoryEntry("PKG", "core", True)
    driver = checked(Misbehaving(repositories=[row, ("PKG", "x", False)]))

    with pytest.raises(DriverError) as caught:
        driver.repositories({})

    assert caught.value.problem == (
        "returned a tuple at index 1, expected conformance.sut.RepositoryEntry"
    )


def test_a_listing_that_is_not_a_list_is_refused() -> None:
    driver = checked(Misbehaving(integrations=None))

    with pytest.raises(DriverError) as caught:
        driver.integrations()

    assert caught.value.problem == (
        "returned a NoneType, expected a list of conformance.sut.IntegrationSummary"
    )


def test_answers_are_held_to_the_protocol_schemas() -> None:
    driver = checked(Misbehaving(session=SessionState(authenticated=True)))

    with pytest.raises(DriverError) as caught:
        driver.session({})

    assert caught.value.problem.startswith(
        "answered JSON that does not match the protocol (driver/session.json)"
    )
    assert caught.value.details[0] == "at $.username"


def test_another_protocol_version_is_refused() -> None:
    capabilities = Capabilities(protocol=2, name="x", oauth_versions=(2,), repositories=False)
    driver = checked(Misbehaving(capabilities=capabilities))

    with pytest.raises(DriverError) as caught:
        driver.capabilities()

    assert caught.value.problem == "speaks driver protocol 2; this harness speaks protocol 1"


def test_a_submit_result_with_neither_outcome_is_refused() -> None:
    driver = checked(Misbehaving(submit=SubmitResult()))

    with pytest.raises(DriverError) as caught:
        driver.submit("1", "id", "secret")

    assert caught.value.problem == (
        "returned a SubmitResult with both or neither of redirect_to and error"
    )


def test_an_empty_submit_error_is_refused() -> None:
    driver = checked(Misbehaving(submit=SubmitResult(error="")))

    with pytest.raises(DriverError) as caught:
        driver.submit("1", "id", "secret")

    assert "driver/error.json" in caught.value.problem


def test_an_oauth2_integration_with_oauth1_fields_is_refused() -> None:
    created = SampleSut().create_integration("bitbucket-server", BITBUCKET, 2)
    driver = checked(Misbehaving(create_integration=replace(created, consumer_key="key")))

    with pytest.raises(DriverError) as caught:
        driver.create_integration("bitbucket-server", BITBUCKET, 2)

    assert caught.value.problem.startswith("answered JSON that does not match the protocol")
    assert caught.value.details[0] == "at $"


def test_close_is_passed_to_an_object_that_has_it() -> None:
    class Closing(SampleSut):
        closed = False

        def close(self) -> None:
            self.closed = True

    sut = Closing()
    checked(sut).close()

    assert sut.closed


def test_close_is_optional() -> None:
    checked(SampleSut()).close()
