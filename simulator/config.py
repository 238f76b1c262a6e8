"""Runtime configuration: what ``GET|PATCH /_sim/config`` reads and changes.

It starts from the :class:`~simulator.settings.Settings` and goes back to them on reset.
A PATCH is a JSON merge: only the keys given change, and an unknown key or a bad value is
rejected as a whole, naming the key, with nothing changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from simulator.settings import Settings
from simulator.version import BitbucketVersion, VersionError


class ConfigError(ValueError):
    """A config patch that names an unknown key or carries a bad value; ``key`` names it."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class OAuth2Config:
    """The OAuth 2 provider's system properties that tests may change."""

    #: atlassian.oauth2.provider.access.token.expiration.seconds
    access_token_seconds: int = 3600
    #: atlassian.oauth2.provider.refresh.token.expiration.seconds (90 days)
    refresh_token_seconds: int = 7_776_000
    #: atlassian.oauth2.provider.max.client.delay.seconds: the decompiled plugin's 60 s
    code_seconds: int = 60
    #: Also take client credentials from HTTP Basic (real Bitbucket reads only the body).
    accept_basic_client_auth: bool = False
    #: atlassian.oauth2.provider.skip.redirect.url.https.requirement
    skip_redirect_https: bool = False


_LIMITS = {
    "access_token_seconds": (1, 10 * 365 * 86400),
    "refresh_token_seconds": (1, 10 * 365 * 86400),
    "code_seconds": (1, 600),
}


def _patch_dataclass(current: Any, changes: Any, prefix: str) -> Any:
    if not isinstance(changes, dict):
        raise ConfigError(f"{prefix}: must be a JSON object", prefix)
    names = {f.name: f for f in fields(current)}
    unknown = sorted(set(changes) - set(names))
    if unknown:
        keys = [f"{prefix}.{k}" for k in unknown]
        raise ConfigError(f"unknown config key: {', '.join(keys)}", keys[0])
    values: dict[str, Any] = {}
    for name, value in changes.items():
        default = getattr(current, name)
        key = f"{prefix}.{name}"
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{key}: must be true or false", key)
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{key}: must be a whole number", key)
            low, high = _LIMITS.get(name, (0, 2**31))
            if not low <= value <= high:
                raise ConfigError(f"{key}: must lie in {low}..{high}", key)
        values[name] = value
    return replace(current, **values)


@dataclass(slots=True)
class RuntimeConfig:
    """Mutable settings a test may change while the simulator runs."""

    version: BitbucketVersion
    oauth2: OAuth2Config = field(default_factory=OAuth2Config)

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeConfig:
        """The configuration the simulator starts with (and returns to on reset)."""
        return cls(version=settings.bitbucket_version)

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by ``GET /_sim/config``."""
        return {"version": str(self.version), "oauth2": asdict(self.oauth2)}

    def patch(self, changes: Any) -> None:
        """Merge a JSON object into the configuration, all or nothing."""
        if not isinstance(changes, dict):
            raise ConfigError("the config patch must be a JSON object")
        unknown = sorted(set(changes) - {"version", "oauth2"})
        if unknown:
            raise ConfigError(f"unknown config key: {', '.join(unknown)}", unknown[0])
        version = self.version
        if "version" in changes:
            raw = changes["version"]
            if not isinstance(raw, str):
                raise ConfigError('version: must be a string such as "8.19.1"', "version")
            try:
                version = BitbucketVersion.parse(raw)
            except VersionError as exc:
                raise ConfigError(f"version: {exc}", "version") from None
        oauth2 = self.oauth2
        if "oauth2" in changes:
            oauth2 = _patch_dataclass(self.oauth2, changes["oauth2"], "oauth2")
        self.version = version
        self.oauth2 = oauth2
