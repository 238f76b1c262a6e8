"""Runtime configuration: what ``GET|PATCH /_sim/config`` reads and changes.

It starts from the :class:`~simulator.settings.Settings` and goes back to them on reset.
A PATCH is a JSON merge: only the keys given change, and an unknown key or a bad value is
rejected as a whole, naming the key, with nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.settings import Settings
from simulator.version import BitbucketVersion, VersionError


class ConfigError(ValueError):
    """A config patch that names an unknown key or carries a bad value."""


@dataclass(slots=True)
class RuntimeConfig:
    """Mutable settings a test may change while the simulator runs."""

    version: BitbucketVersion

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeConfig:
        """The configuration the simulator starts with (and returns to on reset)."""
        return cls(version=settings.bitbucket_version)

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by ``GET /_sim/config``."""
        return {"version": str(self.version)}

    def patch(self, changes: Any) -> None:
        """Merge a JSON object into the configuration, all or nothing."""
        if not isinstance(changes, dict):
            raise ConfigError("the config patch must be a JSON object")
        unknown = sorted(set(changes) - {"version"})
        if unknown:
            raise ConfigError(f"unknown config key: {', '.join(unknown)}")
        version = self.version
        if "version" in changes:
            raw = changes["version"]
            if not isinstance(raw, str):
                raise ConfigError('version: must be a string such as "8.19.1"')
            try:
                version = BitbucketVersion.parse(raw)
            except VersionError as exc:
                raise ConfigError(f"version: {exc}") from None
        self.version = version
