"""The reference integration declaring less than it supports, for ``test_capabilities.py``.

Each factory below (``--sut tests.conformance.capability_suts:<factory>``) starts the bundled
reference and wraps it in a :class:`DeclaringIntegrator`: it answers ``capabilities()`` with
one declared set (``oauth_versions``, and ``repositories`` with what builds on the listing,
``packages`` and ``webhooks``, declared together) and delegates everything else to
the reference, which supports every capability. So a run shows what the harness does with a
declaration alone: which scenarios it skips, and whether it still calls the integration for
something undeclared.

Every call is recorded, one JSON object a line (``{"method": ..., "oauth_version": ...}``,
the OAuth version for ``create_integration`` only), into the file named by the environment
variable :data:`CALL_LOG_VARIABLE`, when it is set.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from conformance.reference.integrator import create
from conformance.sut import (
    Capabilities,
    Cookies,
    CreatedIntegration,
    Hooked,
    IntegrationSummary,
    Integrator,
    Packaged,
    Packages,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

#: The environment variable naming the file every call is appended to.
CALL_LOG_VARIABLE: Final = "BBDC_SIM_CAPABILITY_CALL_LOG"


@dataclass(frozen=True, slots=True)
class Declared:
    """What an integration declares in ``GET /capabilities``."""

    oauth_versions: tuple[int, ...]
    repositories: bool

    @property
    def label(self) -> str:
        """E.g. ``oauth [2, 1], repositories false``."""
        versions = ", ".join(str(v) for v in self.oauth_versions)
        return f"oauth [{versions}], repositories {str(self.repositories).lower()}"


class DeclaringIntegrator:
    """Delegates to ``inner`` but declares ``declared``; records every call."""

    def __init__(self, inner: Integrator, declared: Declared, log: Path | None) -> None:
        self.inner = inner
        self.declared = declared
        self.log = log
        self._lock = threading.Lock()

    def _record(self, method: str, **details: Any) -> None:
        if self.log is None:
            return
        line = json.dumps({"method": method, **details})
        with self._lock, self.log.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def capabilities(self) -> Capabilities:
        """The reference's protocol and name, with the declared set."""
        self._record("capabilities")
        actual = self.inner.capabilities()
        return Capabilities(
            protocol=actual.protocol,
            name=f"{actual.name} declaring {self.declared.label}",
            oauth_versions=self.declared.oauth_versions,
            repositories=self.declared.repositories,
            packages=self.declared.repositories,
            webhooks=self.declared.repositories,
        )

    def reset(self) -> None:
        """Delegated."""
        self._record("reset")
        self.inner.reset()

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """Delegated; the OAuth version is recorded."""
        self._record("create_integration", oauth_version=oauth_version)
        return self.inner.create_integration(platform, base_url, oauth_version)

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """Delegated."""
        self._record("submit")
        return self.inner.submit(integration_id, client_id, client_secret)

    def integrations(self) -> list[IntegrationSummary]:
        """Delegated."""
        self._record("integrations")
        return self.inner.integrations()

    def session(self, cookies: Cookies) -> SessionState:
        """Delegated."""
        self._record("session")
        return self.inner.session(cookies)

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """Delegated (the reference lists repositories whatever is declared)."""
        self._record("repositories")
        return self.inner.repositories(cookies)

    def packages(self, cookies: Cookies) -> Packages:
        """Delegated."""
        self._record("packages")
        return self._packaged().packages(cookies)

    def synchronise(self, cookies: Cookies) -> None:
        """Delegated."""
        self._record("synchronise")
        self._packaged().synchronise(cookies)

    def add_code_credential(self, username: str, token: str) -> None:
        """Delegated."""
        self._record("add_code_credential")
        inner = self.inner
        assert isinstance(inner, Hooked)
        inner.add_code_credential(username, token)

    def _packaged(self) -> Packaged:
        inner = self.inner
        assert isinstance(inner, Packaged)
        return inner

    def close(self) -> None:
        """Stop the reference."""
        closer = getattr(self.inner, "close", None)
        if callable(closer):
            closer()


class DeclaringFactory:
    """A zero-argument ``--sut`` factory: the reference declaring :attr:`declared`."""

    def __init__(self, oauth_versions: tuple[int, ...], repositories: bool) -> None:
        self.declared = Declared(oauth_versions, repositories)

    def __repr__(self) -> str:
        return f"DeclaringFactory({self.declared.label})"

    def __call__(self) -> Integrator:
        log = os.environ.get(CALL_LOG_VARIABLE)
        return DeclaringIntegrator(create(), self.declared, Path(log) if log else None)


# Every subset of [2, 1], in both orders, with and without the repository listing.
declares_oauth2_only = DeclaringFactory((2,), True)
declares_oauth2_only_no_repositories = DeclaringFactory((2,), False)
declares_oauth1_only = DeclaringFactory((1,), True)
declares_oauth1_only_no_repositories = DeclaringFactory((1,), False)
declares_oauth1_and_2 = DeclaringFactory((1, 2), True)
declares_oauth1_and_2_no_repositories = DeclaringFactory((1, 2), False)
declares_oauth2_and_1 = DeclaringFactory((2, 1), True)
declares_oauth2_and_1_no_repositories = DeclaringFactory((2, 1), False)

#: Factory name (``--sut tests.conformance.capability_suts:<name>``) -> what it declares.
CAPABILITY_SETS: Final = {
    name: value.declared
    for name, value in dict(globals()).items()
    if isinstance(value, DeclaringFactory)
}
