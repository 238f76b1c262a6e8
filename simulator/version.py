"""Bitbucket versions: parsing, build numbers and the capability gates that depend on them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION_RE = re.compile(r"^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$")

#: A current 9.x long-term-support release; what the simulator reports unless told otherwise.
DEFAULT_VERSION = "9.4.16"


class VersionError(ValueError):
    """A version string that is not of the form MAJOR.MINOR[.PATCH]."""


@dataclass(frozen=True, order=True, slots=True)
class BitbucketVersion:
    """A Bitbucket Data Center version such as ``8.19.1``; ordered numerically."""

    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> BitbucketVersion:
        """Parse ``7.21``, ``7.21.0`` or ``9.4.16``; raise :class:`VersionError` otherwise."""
        match = _VERSION_RE.match(text.strip())
        if match is None:
            raise VersionError(f"not a Bitbucket version (want MAJOR.MINOR[.PATCH]): {text!r}")
        major, minor, patch = match.groups()
        if int(minor) > 999 or int(patch or 0) > 999:
            raise VersionError(f"minor and patch must be below 1000: {text!r}")
        return cls(int(major), int(minor), int(patch or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def build_number(self) -> int:
        """Bitbucket's ``buildNumber``: major*1000000 + minor*1000 + patch."""
        return self.major * 1_000_000 + self.minor * 1_000 + self.patch

    @property
    def supports_oauth2(self) -> bool:
        """OAuth 2 incoming links ("External application") exist from 7.21."""
        return self >= BitbucketVersion(7, 21)

    @property
    def supports_archived_filter(self) -> bool:
        """Repository archiving, and the ``archived`` filter of ``/repos``, exist from 8.0."""
        return self >= BitbucketVersion(8, 0)

    @property
    def supports_access_tokens(self) -> bool:
        """Personal access tokens exist from 5.5."""
        return self >= BitbucketVersion(5, 5)

    @property
    def oauth1_serves_synchronisation(self) -> bool:
        """Before 8.0, OAuth 1 links can serve Packagist synchronisations."""
        return self < BitbucketVersion(8, 0)
