"""Composer's version names for git refs, as its ``VcsRepository`` and ``VersionParser``
make them (composer/semver ``VersionParser::normalize`` and ``normalizeBranch``).

- A tag is a version when its name normalises: ``v1.2.0`` keeps its name as ``version`` and
  is ``1.2.0.0`` normalised; ``2.0.0-RC1`` is ``2.0.0.0-RC1``. Other tags are not versions
  (Composer skips them), nor are tags that normalise to a dev version.
- A branch is ``dev-<name>``, except a numeric one: ``1.x`` is ``1.x-dev`` (normalised
  ``1.9999999.9999999.9999999-dev``), ``2.1`` is ``2.1.x-dev``.

Nothing here does I/O; :mod:`conformance.reference.rules` names which of these the flow uses.
"""

from __future__ import annotations

import re

#: ``stable``, ``beta``, ... and their short forms, as Composer expands them.
_STABILITIES = {
    "stable": "stable",
    "beta": "beta",
    "b": "beta",
    "alpha": "alpha",
    "a": "alpha",
    "rc": "RC",
    "patch": "patch",
    "pl": "patch",
    "p": "patch",
}
_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?"
_CLASSICAL = re.compile(r"^v?(\d{1,5})(\.\d+)?(\.\d+)?(\.\d+)?" + _MODIFIER + r"$", re.IGNORECASE)
_DATE = re.compile(r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + _MODIFIER + r"$", re.I)
_NUMERIC_BRANCH = re.compile(r"^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$")
_NINES = re.compile(r"(\.9{7})+")


def normalize(version: str) -> str | None:
    """Composer's normalised form of a version string, or None when it is not one."""
    text = version.strip()
    match = _CLASSICAL.match(text)
    if match:
        numbers = [match.group(1)] + [(match.group(i) or ".0")[1:] for i in (2, 3, 4)]
        base = ".".join(numbers)
        stability, number, dev = match.group(5), match.group(6), match.group(7)
    else:
        match = _DATE.match(text)
        if match is None:
            return None
        base = re.sub(r"\D", ".", match.group(1))
        stability, number, dev = match.group(2), match.group(3), match.group(4)
    if stability and _STABILITIES[stability.lower()] != "stable":
        base += "-" + _STABILITIES[stability.lower()] + (number or "").lstrip(".-")
    if dev:
        base += "-dev"
    return base


def tag_version(tag: str) -> tuple[str, str] | None:
    """``(version, version_normalized)`` of a tag, or None when Composer skips it."""
    normalized = normalize(tag)
    if normalized is None or normalized.endswith("-dev"):
        return None
    return tag, normalized


def branch_version(branch: str) -> tuple[str, str]:
    """``(version, version_normalized)`` of a branch: ``dev-<name>``, or ``1.x-dev`` for a
    numeric branch."""
    match = _NUMERIC_BRANCH.match(branch)
    if match is None:
        return f"dev-{branch}", f"dev-{branch}"
    parts = [match.group(1)]
    for index in (2, 3, 4):
        part = match.group(index)
        parts.append("9999999" if part is None or part[1:] in "xX*" else part[1:])
    normalized = ".".join(parts) + "-dev"
    return _NINES.sub(".x", normalized), normalized


def is_dev(version: str) -> bool:
    """Whether a version name is a dev version (Composer serves them in ``~dev.json``)."""
    return version.startswith("dev-") or version.endswith("-dev")
