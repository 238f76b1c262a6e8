"""The Python driver: ``--sut package.module:factory``.

The factory is a zero-argument callable (a function or a class) returning an object that
implements :class:`conformance.sut.Integrator`. :func:`load_python_driver` imports it, calls it,
checks the object has every method of the protocol, and wraps it in a
:class:`CheckedIntegrator`, which holds each answer to the same JSON Schemas as the HTTP
driver (``conformance/schemas/driver/``), so both drivers diagnose an implementation alike.
Every problem raises :class:`~conformance.sut.DriverError` naming the spec.
"""

from __future__ import annotations

import dataclasses
import importlib
import traceback
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Final, TypeVar

from conformance.drivers.http import (
    check_oauth_fields,
    check_protocol,
    validate_body,
)
from conformance.sut import (
    Capabilities,
    Clocked,
    Cookies,
    CreatedIntegration,
    DriverError,
    Hooked,
    IntegrationSummary,
    Integrator,
    Packaged,
    Packages,
    PackageVersion,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

#: The operations of :class:`~conformance.sut.Integrator`, in protocol order.
INTEGRATOR_METHODS: Final = (
    "capabilities",
    "reset",
    "create_integration",
    "submit",
    "integrations",
    "session",
    "repositories",
)

_T = TypeVar("_T")


def split_spec(spec: str) -> tuple[str, str]:
    """``"package.module:factory"`` -> ``("package.module", "factory")``.

    The factory may be a dotted attribute path (``module:Class.create``).
    """
    module, sep, attribute = spec.partition(":")
    if not sep or not _dotted(module) or not _dotted(attribute):
        hint = (f"a base URL needs its scheme: http://{spec}",) if attribute.isdigit() else ()
        raise DriverError(
            f"--sut {spec}",
            "is not a Python factory: expected 'package.module:factory' "
            "(dotted module path, a colon, the factory's name)",
            hint,
        )
    return module, attribute


def load_factory(spec: str) -> Callable[[], object]:
    """Import the module of ``spec`` and return its factory (not called)."""
    module_name, attribute = split_spec(spec)
    where = f"--sut {spec}"
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and not _is_prefix(exc.name, module_name):
            raise DriverError(
                where, f"importing module {module_name!r} failed: {exc}", _origin(exc)
            ) from exc
        hint = "is it installed, or is its directory on sys.path (PYTHONPATH)?"
        raise DriverError(where, f"cannot import module {module_name!r}: {exc}", (hint,)) from exc
    except Exception as exc:
        raise DriverError(
            where,
            f"importing module {module_name!r} raised {type(exc).__name__}: {exc}",
            _origin(exc),
        ) from exc
    walked: list[str] = []
    for name in attribute.split("."):
        if not hasattr(target, name):
            owner = f"{module_name}:{'.'.join(walked)}" if walked else f"module {module_name}"
            raise DriverError(where, f"{owner} has no attribute {name!r}", _candidates(target))
        target = getattr(target, name)
        walked.append(name)
    if not callable(target):
        raise DriverError(
            where,
            f"{attribute!r} is a {type(target).__name__}, not a factory: "
            "give a zero-argument callable (a function or a class) returning an Integrator",
        )
    factory: Callable[[], object] = target
    return factory


def missing_methods(obj: object) -> list[str]:
    """The :class:`~conformance.sut.Integrator` methods ``obj`` lacks (or has but cannot call)."""
    missing = []
    for name in INTEGRATOR_METHODS:
        if not hasattr(obj, name):
            missing.append(name)
        elif not callable(getattr(obj, name)):
            missing.append(f"{name} (not callable)")
    return missing


def load_python_driver(spec: str) -> CheckedIntegrator:
    """Import ``package.module:factory``, call the factory, check and wrap what it returns."""
    factory = load_factory(spec)
    where = f"--sut {spec}"
    _, attribute = split_spec(spec)
    try:
        obj = factory()
    except Exception as exc:
        raise DriverError(
            where, f"calling {attribute}() raised {type(exc).__name__}: {exc}", _origin(exc)
        ) from exc
    missing = missing_methods(obj)
    if missing or not isinstance(obj, Integrator):
        raise DriverError(
            where,
            f"{attribute}() returned a {type(obj).__qualname__}, which is not a "
            f"conformance.sut.Integrator: missing {', '.join(missing)}",
            ("see conformance/sut.py and docs/driver-protocol.md",),
        )
    return CheckedIntegrator(obj, spec)


class CheckedIntegrator:
    """Wraps an in-process :class:`~conformance.sut.Integrator` and checks every answer.

    Each method calls the wrapped one; a :class:`DriverError` it raises passes through, any
    other exception becomes a :class:`DriverError` naming the call (the original is chained).
    Answers must be the documented types and, converted to the protocol's JSON, match the
    protocol's schemas.
    """

    def __init__(self, inner: Integrator, spec: str) -> None:
        self.inner = inner
        self.spec = spec

    def __repr__(self) -> str:
        return f"CheckedIntegrator({self.spec!r}, {self.inner!r})"

    def capabilities(self) -> Capabilities:
        """Checked :meth:`Integrator.capabilities`."""
        where, result = self._call("capabilities", self.inner.capabilities)
        value = _expect_type(where, result, Capabilities)
        body = _jsonable(value)
        check_protocol(where, body)
        validate_body(where, body, "capabilities.json")
        return value

    def reset(self) -> None:
        """Checked :meth:`Integrator.reset`."""
        self._call("reset", self.inner.reset)

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """Checked :meth:`Integrator.create_integration`."""
        where, result = self._call(
            "create_integration",
            lambda: self.inner.create_integration(platform, base_url, oauth_version),
        )
        value = _expect_type(where, result, CreatedIntegration)
        body = {key: item for key, item in _jsonable(value).items() if item is not None}
        body.setdefault("setup_link", None)
        validate_body(where, body, "created-integration.json")
        check_oauth_fields(where, oauth_version, body)
        return value

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """Checked :meth:`Integrator.submit`."""
        where, result = self._call(
            "submit", lambda: self.inner.submit(integration_id, client_id, client_secret)
        )
        value = _expect_type(where, result, SubmitResult)
        if (value.redirect_to is None) == (value.error is None):
            raise DriverError(
                where, "returned a SubmitResult with both or neither of redirect_to and error"
            )
        if value.error is None:
            validate_body(where, {"redirect_to": value.redirect_to}, "submit-result.json")
        else:
            validate_body(where, {"error": value.error}, "error.json")
        return value

    def integrations(self) -> list[IntegrationSummary]:
        """Checked :meth:`Integrator.integrations`."""
        where, result = self._call("integrations", self.inner.integrations)
        rows = _expect_list(where, result, IntegrationSummary)
        validate_body(where, [_jsonable(row) for row in rows], "integrations.json")
        return rows

    def session(self, cookies: Cookies) -> SessionState:
        """Checked :meth:`Integrator.session`."""
        where, result = self._call("session", lambda: self.inner.session(cookies))
        value = _expect_type(where, result, SessionState)
        validate_body(where, _jsonable(value), "session.json")
        return value

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """Checked :meth:`Integrator.repositories`."""
        where, result = self._call("repositories", lambda: self.inner.repositories(cookies))
        rows = _expect_list(where, result, RepositoryEntry)
        validate_body(where, [_jsonable(row) for row in rows], "repositories.json")
        return rows

    def advance_clock(self, seconds: int) -> None:
        """Checked ``advance_clock(seconds)`` of an object declaring ``clock``."""
        where = f"{self.spec}().advance_clock()"
        if not isinstance(self.inner, Clocked):
            raise DriverError(where, "declares capabilities.clock but has no advance_clock method")
        inner = self.inner
        self._call("advance_clock", lambda: inner.advance_clock(seconds))

    def packages(self, cookies: Cookies) -> Packages:
        """Checked ``packages(cookies)`` of an object declaring ``packages``."""
        where = f"{self.spec}().packages()"
        if not isinstance(self.inner, Packaged):
            raise DriverError(where, "declares capabilities.packages but is not a Packaged")
        inner = self.inner
        where, result = self._call("packages", lambda: inner.packages(cookies))
        if not isinstance(result, Mapping):
            raise DriverError(
                where,
                f"returned a {type(result).__qualname__}, expected a mapping of package names "
                "to tuples of conformance.sut.PackageVersion",
            )
        value = {
            name: tuple(_expect_list(where, rows, PackageVersion)) for name, rows in result.items()
        }
        validate_body(where, packages_json(value), "packages.json")
        return value

    def synchronise(self, cookies: Cookies) -> None:
        """Checked ``synchronise(cookies)`` of an object declaring ``packages``."""
        if not isinstance(self.inner, Packaged):
            raise DriverError(
                f"{self.spec}().synchronise()",
                "declares capabilities.packages but is not a Packaged",
            )
        inner = self.inner
        self._call("synchronise", lambda: inner.synchronise(cookies))

    def add_code_credential(self, username: str, token: str) -> None:
        """Checked ``add_code_credential(username, token)`` of an object declaring
        ``webhooks``."""
        if not isinstance(self.inner, Hooked):
            raise DriverError(
                f"{self.spec}().add_code_credential()",
                "declares capabilities.webhooks but is not a Hooked",
            )
        inner = self.inner
        self._call("add_code_credential", lambda: inner.add_code_credential(username, token))

    def close(self) -> None:
        """Call the wrapped object's ``close()``, when it has one (at the end of a run)."""
        closer = getattr(self.inner, "close", None)
        if callable(closer):
            self._call("close", closer)

    def _call(self, method: str, call: Callable[[], object]) -> tuple[str, object]:
        where = f"{self.spec}().{method}()"
        try:
            return where, call()
        except DriverError:
            raise
        except Exception as exc:
            raise DriverError(where, f"raised {type(exc).__name__}: {exc}", _origin(exc)) from exc


def _expect_type(where: str, value: object, expected: type[_T]) -> _T:
    if not isinstance(value, expected):
        raise DriverError(
            where,
            f"returned a {type(value).__qualname__}, expected conformance.sut.{expected.__name__}",
        )
    return value


def _expect_list(where: str, value: object, item: type[_T]) -> list[_T]:
    if not isinstance(value, list | tuple):
        raise DriverError(
            where,
            f"returned a {type(value).__qualname__}, "
            f"expected a list of conformance.sut.{item.__name__}",
        )
    for index, row in enumerate(value):
        if not isinstance(row, item):
            raise DriverError(
                where,
                f"returned a {type(row).__qualname__} at index {index}, "
                f"expected conformance.sut.{item.__name__}",
            )
    return list(value)


def _jsonable(value: Any) -> dict[str, Any]:
    """A protocol dataclass as the JSON the HTTP protocol would carry (tuples -> lists)."""
    fields = dataclasses.asdict(value)
    return {key: list(item) if isinstance(item, tuple) else item for key, item in fields.items()}


def packages_json(packages: Packages) -> dict[str, Any]:
    """:data:`~conformance.sut.Packages` as the ``GET /packages`` JSON (the fields the
    dataclass carries)."""
    return {
        "packages": {
            name: [
                {
                    "name": row.name,
                    "version": row.version,
                    "source": {"type": "git", "url": row.source_url, "reference": row.reference},
                    **(
                        {"dist": {"type": "zip", "url": row.dist_url, "reference": row.reference}}
                        if row.dist_url is not None
                        else {}
                    ),
                }
                for row in rows
            ]
            for name, rows in packages.items()
        }
    }


def _is_prefix(package: str, module: str) -> bool:
    """Whether ``package`` is ``module`` or one of its parent packages."""
    return module == package or module.startswith(package + ".")


def _dotted(path: str) -> bool:
    return bool(path) and all(part.isidentifier() for part in path.split("."))


def _candidates(target: object) -> tuple[str, ...]:
    if not hasattr(target, "__dict__"):
        return ()
    home = getattr(target, "__name__", None) if isinstance(target, ModuleType) else None
    names = sorted(
        name
        for name, value in vars(target).items()
        if not name.startswith("_")
        and callable(value)
        and (home is None or getattr(value, "__module__", None) == home)
    )
    if not names:
        return ()
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return (f"callables there: {shown}",)


def _origin(exc: BaseException) -> tuple[str, ...]:
    """Where an exception was raised (its innermost frame), as a detail line."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return (f"at {exc.filename}:{exc.lineno}",)
    if not frames:
        return ()
    frame = frames[-1]
    return (f"at {frame.filename}:{frame.lineno} in {frame.name}",)
