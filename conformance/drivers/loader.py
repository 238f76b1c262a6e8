"""Choose the driver for ``--sut``.

``--sut`` takes one of:

- ``reference`` (the default): the bundled reference implementation. It is *not* loaded
  here: the pytest plugin starts it (and stops it at the end of the run), so callers check
  :func:`is_reference` first; :func:`load_driver` refuses it with a :class:`ValueError`
  (a programming error, not bad user input).
- ``http://...`` or ``https://...``: an implementation in any language serving the driver
  protocol under that base URL -> :class:`~conformance.drivers.http.HttpIntegrator`.
- ``package.module:factory``: an in-process Python implementation ->
  :class:`~conformance.drivers.python.CheckedIntegrator` around the factory's object.

Bad input raises :class:`~conformance.sut.DriverError` naming the spec; loading never
contacts the implementation, so callers probe it with ``capabilities()`` (which raises
:class:`~conformance.sut.DriverError` naming the endpoint when it is unreachable or
answers off-protocol).
"""

from __future__ import annotations

from typing import Final

from conformance.drivers.http import DEFAULT_TIMEOUT, HttpIntegrator, Observer
from conformance.drivers.python import load_python_driver
from conformance.sut import DriverError, Integrator

#: The ``--sut`` value that selects the bundled reference implementation.
REFERENCE: Final = "reference"


def is_reference(spec: str) -> bool:
    """Whether ``spec`` selects the bundled reference implementation."""
    return spec.strip() == REFERENCE


def load_driver(
    spec: str, *, timeout: float = DEFAULT_TIMEOUT, observer: Observer | None = None
) -> Integrator:
    """The :class:`~conformance.sut.Integrator` for a ``--sut`` value other than ``reference``.

    ``timeout`` and ``observer`` apply to the HTTP driver (seconds per request; a callback
    receiving every exchange). Raises :class:`~conformance.sut.DriverError` for a spec that
    is malformed or names a factory that cannot be imported, called, or does not return an
    Integrator; :class:`ValueError` for ``reference``.
    """
    spec = spec.strip()
    if spec == REFERENCE:
        raise ValueError(
            "--sut reference is started by the pytest plugin, not by load_driver: "
            "check is_reference(spec) first"
        )
    if spec.lower().startswith(("http://", "https://")):
        return HttpIntegrator(spec, timeout=timeout, observer=observer)
    if ":" in spec and "/" not in spec:
        return load_python_driver(spec)
    raise DriverError(
        f"--sut {spec}" if spec else "--sut (empty)",
        "is not a system under test: expected 'reference', an http:// or https:// base URL "
        "serving the driver protocol, or 'package.module:factory'",
        ("see docs/driver-protocol.md",),
    )
