"""Validate response bodies against the JSON Schemas in ``fixtures/schemas/``.

Each schema file's ``$id`` is its file name, so schemas ``$ref`` each other by name
(e.g. ``{"$ref": "user.json"}``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "schemas"


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resources = []
    for path in sorted(SCHEMA_DIR.rglob("*.json")):
        contents = json.loads(path.read_text())
        resources.append(
            (path.relative_to(SCHEMA_DIR).as_posix(), Resource.from_contents(contents))
        )
    return Registry().with_resources(resources)


def validate(body: Any, schema: str) -> Any:
    """Assert ``body`` matches ``fixtures/schemas/<schema>`` and return it."""
    registry = _registry()
    contents = registry.contents(schema)
    Draft202012Validator.check_schema(contents)
    Draft202012Validator(contents, registry=registry).validate(body)
    return body


def validate_def(body: Any, schema: str, name: str) -> Any:
    """Assert ``body`` matches ``$defs/<name>`` of a schema file and return it."""
    reference = {"$ref": f"{schema}#/$defs/{name}"}
    Draft202012Validator(reference, registry=_registry()).validate(body)
    return body
