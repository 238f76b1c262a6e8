"""Runtime configuration: what ``GET|PATCH /_sim/config`` reads and changes.

It starts from the :class:`~simulator.settings.Settings` and goes back to them on reset.
A PATCH is a JSON merge: only the keys given change, and an unknown key or a bad value is
rejected as a whole, naming the key, with nothing changed.
"""

from __future__ import annotations

import ipaddress
import re
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
    #: RFC 9700 where Bitbucket is laxer (docs/simulator.md): refuse a code_verifier for a
    #: code issued without a challenge; revoke a replayed code's tokens only for the client
    #: that authenticates; a replayed rotated refresh token revokes the grant's live tokens.
    strict_rfc9700: bool = False


@dataclass(frozen=True, slots=True)
class OAuth1Config:
    """The OAuth 1 provider's settings that tests may change."""

    #: Accept RSA-SHA256 and RSA-SHA512 signatures too (Bitbucket takes only RSA-SHA1).
    accept_rsa_sha2: bool = False
    #: How far an oauth_timestamp may stray from the simulated now, in seconds.
    timestamp_window_seconds: int = 300
    #: Lifetime of an unauthorised or authorised request token.
    request_token_seconds: int = 600
    #: Lifetime of an access token (Jira's sample: about five years).
    access_token_seconds: int = 157_680_000


TFA_ENFORCE = ("none", "all", "groups", "all-except-groups")
TFA_BLOCKED_RESPONSES = ("redirect", "401", "403")


@dataclass(frozen=True, slots=True)
class TfaConfig:
    """The "U2F & TOTP" two-factor plugin (by Alpha Serve)."""

    installed: bool = False
    #: "Enable OAuth whitelist": OAuth logins and tokens pass without a second factor.
    oauth_whitelist: bool = False
    #: Who must use 2FA once the plugin is installed.
    enforce: str = "all"
    groups: tuple[str, ...] = ()
    #: Addresses or CIDR ranges whose users skip 2FA.
    ip_whitelist: tuple[str, ...] = ()
    #: What a blocked OAuth request gets (the real answer is not public).
    blocked_response: str = "redirect"
    #: Take the client address from X-Forwarded-For (only behind a trusted proxy).
    trust_x_forwarded_for: bool = False


@dataclass(frozen=True, slots=True)
class SessionsConfig:
    """Browser sessions (``BITBUCKETSESSIONID``)."""

    #: server.session.timeout: a session unused this long is gone (30 minutes, UNCONFIRMED).
    idle_seconds: int = 1800
    #: At most this many sessions are kept; the least recently used go first.
    max_sessions: int = 10_000


#: The config's sections (each a dataclass patched key by key).
SECTIONS = ("oauth2", "oauth1", "tfa", "sessions")

_CHOICES: dict[str, tuple[str, ...]] = {
    "enforce": TFA_ENFORCE,
    "blocked_response": TFA_BLOCKED_RESPONSES,
}

_OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2})")

_LIMITS = {
    "access_token_seconds": (1, 10 * 365 * 86400),
    "refresh_token_seconds": (1, 10 * 365 * 86400),
    "code_seconds": (1, 600),
    "timestamp_window_seconds": (1, 86400),
    "request_token_seconds": (1, 86400),
    "idle_seconds": (1, 365 * 86400),
    "max_sessions": (1, 1_000_000),
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
        elif isinstance(default, str):
            choices = _CHOICES.get(name, ())
            if not isinstance(value, str) or (choices and value not in choices):
                raise ConfigError(f"{key}: must be one of {', '.join(choices)}", key)
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key}: must be a list of strings", key)
            if name == "ip_whitelist":
                for entry in value:
                    try:
                        ipaddress.ip_network(entry, strict=False)
                    except ValueError:
                        raise ConfigError(f"{key}: not an address or range: {entry}", key) from None
            values[name] = tuple(value)
            continue
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{key}: must be a whole number", key)
            low, high = _LIMITS.get(name, (0, 2**31))
            if not low <= value <= high:
                raise ConfigError(f"{key}: must lie in {low}..{high}", key)
        values[name] = value
    return replace(current, **values)


def utc_offset_minutes(text: str) -> int | None:
    """The minutes east of UTC that ``+HH:MM`` / ``-HH:MM`` names, or None when it is not one
    (hours at most 14, minutes below 60)."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"])
    total = hours * 60 + minutes
    if minutes >= 60 or total > 14 * 60:
        return None
    return -total if match["sign"] == "-" else total


@dataclass(slots=True)
class RuntimeConfig:
    """Mutable settings a test may change while the simulator runs."""

    version: BitbucketVersion
    #: The admin-configurable cap on a page's ``limit`` (Bitbucket's default is 1000).
    max_page_limit: int = 1000
    #: The server's UTC offset (``+HH:MM``), in which webhook payloads write their ``date``.
    time_zone: str = "+00:00"
    oauth2: OAuth2Config = field(default_factory=OAuth2Config)
    oauth1: OAuth1Config = field(default_factory=OAuth1Config)
    tfa: TfaConfig = field(default_factory=TfaConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)

    @classmethod
    def from_settings(cls, settings: Settings) -> RuntimeConfig:
        """The configuration the simulator starts with (and returns to on reset)."""
        return cls(version=settings.bitbucket_version, max_page_limit=settings.max_page_limit)

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by ``GET /_sim/config``."""
        return {
            "version": str(self.version),
            "max_page_limit": self.max_page_limit,
            "time_zone": self.time_zone,
            "oauth2": asdict(self.oauth2),
            "oauth1": asdict(self.oauth1),
            "tfa": {
                **asdict(self.tfa),
                "groups": list(self.tfa.groups),
                "ip_whitelist": list(self.tfa.ip_whitelist),
            },
            "sessions": asdict(self.sessions),
        }

    def patch(self, changes: Any) -> None:
        """Merge a JSON object into the configuration, all or nothing."""
        if not isinstance(changes, dict):
            raise ConfigError("the config patch must be a JSON object")
        unknown = sorted(set(changes) - {"version", "max_page_limit", "time_zone", *SECTIONS})
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
        limit = self.max_page_limit
        if "max_page_limit" in changes:
            limit = changes["max_page_limit"]
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100_000:
                raise ConfigError(
                    "max_page_limit: must be a whole number in 1..100000", "max_page_limit"
                )
        time_zone = self.time_zone
        if "time_zone" in changes:
            time_zone = changes["time_zone"]
            if not isinstance(time_zone, str) or utc_offset_minutes(time_zone) is None:
                raise ConfigError(
                    'time_zone: must be an offset from UTC such as "+10:00" or "-08:00" '
                    "(at most 14 hours)",
                    "time_zone",
                )
        sections = {
            name: _patch_dataclass(getattr(self, name), changes[name], name)
            for name in SECTIONS
            if name in changes
        }
        self.version = version
        self.max_page_limit = limit
        self.time_zone = time_zone
        for name, value in sections.items():
            setattr(self, name, value)
