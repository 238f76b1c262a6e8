"""The JSON Schemas of ``fixtures/schemas/`` as OpenAPI component schemas.

The same files the tests validate answers with, so the document and the tests cannot drift.
An installed wheel carries them at ``simulator/schemas/`` (the build copies them there); a
checkout reads ``fixtures/schemas/`` beside the package. Each file becomes one component named
by its path without ``.json``, ``/`` read as ``-`` (``oauth2/token-response.json`` is
``oauth2-token-response``); its ``$id`` and ``$schema`` go, and its references are rewritten
to point inside the document (``user.json`` -> ``#/components/schemas/user``, ``#/$defs/x``
-> ``#/components/schemas/<name>/$defs/x``). The control API's files are left out: the
document writes those operations out itself.
"""

from __future__ import annotations

import json
import posixpath
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Folders of ``fixtures/schemas/`` that are not Bitbucket's answers.
_SKIPPED = ("control", "driver")


def schema_dir() -> Path:
    """Where the schema files are: in the package when installed, else the checkout's."""
    package = Path(__file__).resolve().parent.parent
    bundled = package / "schemas"
    return bundled if bundled.is_dir() else package.parent / "fixtures" / "schemas"


def component_name(relative: str) -> str:
    """The component name of a schema file's path relative to the schema folder."""
    return relative.removesuffix(".json").replace("/", "-")


def _rewrite(node: Any, folder: str, own: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("$id", "$schema"):
                continue
            if key == "$ref" and isinstance(value, str):
                out[key] = _target(value, folder, own)
            else:
                out[key] = _rewrite(value, folder, own)
        return out
    if isinstance(node, list):
        return [_rewrite(item, folder, own) for item in node]
    return node


def _target(reference: str, folder: str, own: str) -> str:
    document, _, fragment = reference.partition("#")
    name = (
        own
        if not document
        else component_name(posixpath.normpath(posixpath.join(folder, document)))
    )
    return f"#/components/schemas/{name}{fragment}"


@lru_cache(maxsize=1)
def component_schemas() -> dict[str, dict[str, Any]]:
    """Every Bitbucket answer schema, by component name."""
    root = schema_dir()
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.json")):
        relative = path.relative_to(root).as_posix()
        if relative.split("/", 1)[0] in _SKIPPED:
            continue
        folder = posixpath.dirname(relative)
        name = component_name(relative)
        out[name] = _rewrite(json.loads(path.read_text(encoding="utf-8")), folder, name)
    return out
