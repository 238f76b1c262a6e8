"""A minimal in-process implementation of :class:`conformance.sut.Integrator` (for the
Python driver's tests: ``--sut tests.conformance.drivers.sample_sut:make``)."""

from __future__ import annotations

from conformance.sut import (
    Capabilities,
    Cookies,
    CreatedIntegration,
    IntegrationSummary,
    RepositoryEntry,
    SessionState,
    SubmitResult,
)

SITE = "http://packagist.test"


class SampleSut:
    """Remembers integrations; ``sid=alice`` is Alice's session."""

    def __init__(self) -> None:
        self.created: list[IntegrationSummary] = []

    def capabilities(self) -> Capabilities:
        """Both OAuth versions and the repository listing."""
        return Capabilities(protocol=1, name="sample", oauth_versions=(2, 1), repositories=True)

    def reset(self) -> None:
        """Forget every integration."""
        self.created.clear()

    def create_integration(
        self, platform: str, base_url: str, oauth_version: int
    ) -> CreatedIntegration:
        """An integration with one callback URL."""
        integration_id = str(len(self.created) + 1)
        self.created.append(
            IntegrationSummary(
                integration_id, platform, base_url, oauth_version, f"{SITE}/login/{integration_id}"
            )
        )
        oauth1 = oauth_version == 1
        return CreatedIntegration(
            id=integration_id,
            setup_link=f"{base_url}/plugins/servlet/applinks/listApplicationLinks",
            callback_urls=(f"{SITE}/callback",),
            client_id="",
            client_secret="",
            messages=(),
            consumer_key="key" if oauth1 else None,
            public_key="-----BEGIN PUBLIC KEY-----" if oauth1 else None,
            application_url=SITE if oauth1 else None,
        )

    def submit(self, integration_id: str, client_id: str, client_secret: str) -> SubmitResult:
        """Refuses an empty secret."""
        if not client_secret:
            return SubmitResult(error="Client Secret is required")
        return SubmitResult(redirect_to=f"{SITE}/integrations")

    def integrations(self) -> list[IntegrationSummary]:
        """Every integration created since the last reset."""
        return list(self.created)

    def session(self, cookies: Cookies) -> SessionState:
        """Alice when the browser holds ``sid=alice``."""
        if cookies.get("sid") == "alice":
            return SessionState(authenticated=True, username="alice")
        return SessionState(authenticated=False)

    def repositories(self, cookies: Cookies) -> list[RepositoryEntry]:
        """One repository for Alice."""
        if cookies.get("sid") != "alice":
            return []
        return [RepositoryEntry(project="PKG", slug="core", has_composer_json=True)]


def make() -> SampleSut:
    """The factory ``--sut`` names."""
    return SampleSut()


class Factories:
    """A factory reached through a dotted attribute path."""

    @staticmethod
    def create() -> SampleSut:
        """Same as :func:`make`."""
        return SampleSut()


def make_incomplete() -> object:
    """Returns an object lacking most of the protocol."""

    class Partial:
        def capabilities(self) -> Capabilities:
            return SampleSut().capabilities()

        reset = "not a method"

    return Partial()


def make_failing() -> SampleSut:
    """Fails like a factory whose configuration is missing."""
    raise RuntimeError("PACKAGIST_DSN is not set")


INSTANCE = SampleSut()
