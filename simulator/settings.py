"""Start-up settings: a frozen object built from CLI flags and ``BBDC_SIM_*`` variables.

Precedence: explicit values (CLI flags, or keyword arguments in tests) over the environment
over the defaults. Every parse failure names the key it came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from simulator.version import DEFAULT_VERSION, BitbucketVersion, VersionError

ENV_PREFIX = "BBDC_SIM_"
Dataset = Literal["small", "medium", "large"]
DATASETS: tuple[str, ...] = get_args(Dataset)


class SettingsError(ValueError):
    """A setting with an unknown name or a value that cannot be used; names the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything fixed when the simulator starts. Runtime changes live in ``RuntimeConfig``."""

    host: str = "127.0.0.1"
    port: int = 7990
    #: The public base URL, possibly with a context path; derived from host and port if unset.
    base_url: str | None = None
    bitbucket_version: BitbucketVersion = BitbucketVersion.parse(DEFAULT_VERSION)  # noqa: RUF009
    seed: int = 1
    dataset: Dataset = "small"
    #: Explicit dataset sizes; each overrides the dataset's own count when set.
    users: int | None = None
    projects: int | None = None
    repos: int | None = None
    #: Required as ``X-Sim-Control-Token`` on ``/_sim/`` when bound beyond loopback.
    control_token: str | None = None
    #: More host names the control API answers to (a container's service name, a proxy's).
    control_hosts: tuple[str, ...] = ()
    journal_size: int = 1000
    max_page_limit: int = 1000
    #: Serve HTTPS with a certificate made at start (its CA in ``tls_dir``), or with
    #: ``tls_cert`` and ``tls_key`` when both are given.
    #: Seconds a connection may stay without a complete request (idle, or half-sent
    #: headers), as Tomcat's connectionTimeout (20 s) closes them.
    connection_timeout: float = 20.0
    #: Keep the state in this SQLite file across restarts (None: in memory only).
    state_file: str | None = None
    tls: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    #: Where the made CA and certificate go (default: a new temporary folder).
    tls_dir: str | None = None
    #: Let webhooks deliver beyond loopback (simulator/webhooks/targets.py says why not).
    webhook_remote_targets: bool = False
    #: Seconds a webhook delivery may take, connecting and answering.
    webhook_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise SettingsError(f"dataset: must be one of {', '.join(DATASETS)}: {self.dataset!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port: must lie in 0..65535: {self.port}")
        for name in ("users", "projects", "repos"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SettingsError(f"{name}: must not be negative: {value}")
        if self.journal_size < 1:
            raise SettingsError(f"journal_size: must be at least 1: {self.journal_size}")
        if self.max_page_limit < 1:
            raise SettingsError(f"max_page_limit: must be at least 1: {self.max_page_limit}")
        if self.base_url is not None:
            _check_base_url(self.base_url)
        if not 0 < self.connection_timeout <= 3600:
            raise SettingsError(
                f"connection_timeout: must lie in (0, 3600] seconds: {self.connection_timeout}"
            )
        if not 0 < self.webhook_timeout <= 60:
            raise SettingsError(
                f"webhook_timeout: must lie in (0, 60] seconds: {self.webhook_timeout}"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("tls_cert: --tls-cert and --tls-key go together")

    @property
    def uses_tls(self) -> bool:
        """Whether the simulator serves HTTPS."""
        return self.tls or self.tls_cert is not None

    @property
    def context_path(self) -> str:
        """The path part of the base URL without a trailing slash ('' at the root)."""
        if self.base_url is None:
            return ""
        return urlsplit(self.base_url).path.rstrip("/")

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed; string values are parsed as from the environment."""
        parsed = {
            name: _parse(name, value) if isinstance(value, str) else value
            for name, value in changes.items()
        }
        unknown = set(parsed) - _FIELD_NAMES
        if unknown:
            raise SettingsError(f"unknown setting: {', '.join(sorted(unknown))}")
        return replace(self, **parsed)

    @classmethod
    def from_sources(
        cls,
        explicit: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build settings from explicit values over ``BBDC_SIM_*`` variables over defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            name = key.removeprefix(ENV_PREFIX).lower()
            if name not in _FIELD_NAMES:
                raise SettingsError(f"{key}: unknown setting (known: {_known_env_names()})")
            values[name] = _parse(name, raw, label=key)
        for name, value in (explicit or {}).items():
            if value is None:
                continue
            if name not in _FIELD_NAMES:
                raise SettingsError(f"unknown setting: {name}")
            values[name] = (
                _parse(name, value, label=f"--{name.replace('_', '-')}")
                if isinstance(value, str)
                else value
            )
        return cls(**values)


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"base_url: must be an absolute http(s) URL: {url!r}")
    if parts.query or parts.fragment:
        raise SettingsError(f"base_url: must have no query or fragment: {url!r}")


def _parse_int(text: str) -> int:
    return int(text.strip())


def _parse_optional_int(text: str) -> int | None:
    return None if text.strip() == "" else int(text.strip())


def _parse_version(text: str) -> BitbucketVersion:
    return BitbucketVersion.parse(text)


def _parse_str(text: str) -> str:
    return text


def _parse_float(text: str) -> float:
    return float(text.strip())


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false (1/0, yes/no): {text!r}")


def _parse_names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


_PARSERS: dict[str, Callable[[str], Any]] = {
    "host": _parse_str,
    "port": _parse_int,
    "base_url": _parse_str,
    "bitbucket_version": _parse_version,
    "seed": _parse_int,
    "dataset": _parse_str,
    "users": _parse_optional_int,
    "projects": _parse_optional_int,
    "repos": _parse_optional_int,
    "control_token": _parse_str,
    "control_hosts": _parse_names,
    "journal_size": _parse_int,
    "max_page_limit": _parse_int,
    "connection_timeout": _parse_float,
    "state_file": _parse_str,
    "tls": _parse_bool,
    "tls_cert": _parse_str,
    "tls_key": _parse_str,
    "tls_dir": _parse_str,
    "webhook_remote_targets": _parse_bool,
    "webhook_timeout": _parse_float,
}
_FIELD_NAMES = frozenset(f.name for f in fields(Settings))
assert set(_PARSERS) == _FIELD_NAMES, "every setting needs a parser"


def _known_env_names() -> str:
    return ", ".join(ENV_PREFIX + name.upper() for name in sorted(_FIELD_NAMES))


def _parse(name: str, raw: str, label: str | None = None) -> Any:
    try:
        return _PARSERS[name](raw)
    except (ValueError, VersionError) as exc:
        raise SettingsError(f"{label or name}: {exc}") from None
