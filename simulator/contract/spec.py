"""Builders for OpenAPI operation fragments: parameters, bodies and answers.

An :data:`Operation` is a plain dict holding any of ``parameters``, ``requestBody`` and
``responses``; the builders keep the fragments short and alike across areas.
"""

from __future__ import annotations

from typing import Any

Operation = dict[str, Any]
Schema = dict[str, Any]

ERROR: Schema = {"$ref": "#/components/schemas/Error"}
STRING: Schema = {"type": "string"}
BOOLEAN_TEXT: Schema = {"type": "string", "enum": ["true", "false"]}
WHOLE: Schema = {"type": "integer", "minimum": 0}


def ref(name: str) -> Schema:
    """A component schema: the name of a file under ``fixtures/schemas/`` without ``.json``,
    ``/`` read as ``-`` (``repository``, ``oauth2-token-response``), or a control schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def op(
    *,
    parameters: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    responses: dict[str, dict[str, Any]],
) -> Operation:
    """An operation fragment."""
    operation: Operation = {"responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = body
    return operation


# -- parameters ------------------------------------------------------------------------------


def query(
    name: str, schema: Schema, description: str = "", *, required: bool = False
) -> dict[str, Any]:
    """A query parameter (an array schema means the name may repeat)."""
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": required}
    if description:
        parameter["description"] = description
    parameter["schema"] = schema
    return parameter


def header(name: str, schema: Schema, description: str = "") -> dict[str, Any]:
    """An optional request header."""
    parameter: dict[str, Any] = {"name": name, "in": "header", "required": False}
    if description:
        parameter["description"] = description
    parameter["schema"] = schema
    return parameter


#: A query parameter sent empty (``?start=``): Jersey reads it as absent, and so do handlers.
BLANK: Schema = {"const": ""}
#: A Java ``int`` (what Jersey's ``int`` parameters take): 400 beyond it.
JAVA_INT_MAX = 2**31 - 1

PAGING: tuple[dict[str, Any], ...] = (
    query(
        "start",
        {"anyOf": [{"type": "integer", "minimum": 0, "maximum": JAVA_INT_MAX}, BLANK]},
        "Index of the first item of the page (default 0, also when empty).",
    ),
    query(
        "limit",
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": JAVA_INT_MAX}, BLANK]},
        "Page size (default 25, also when empty); capped at the server's maximum "
        "(1000 by default).",
    ),
)


# -- request bodies --------------------------------------------------------------------------


def json_body(schema: Schema, description: str = "", *, required: bool = True) -> dict[str, Any]:
    """A JSON request body."""
    body: dict[str, Any] = {
        "required": required,
        "content": {"application/json": {"schema": schema}},
    }
    if description:
        body["description"] = description
    return body


def form_body(
    properties: dict[str, Schema],
    required: tuple[str, ...] | list[str] = (),
    description: str = "",
) -> dict[str, Any]:
    """An HTML form (``application/x-www-form-urlencoded``); other fields are ignored."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    body: dict[str, Any] = {
        "required": bool(required),
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }
    if description:
        body["description"] = description
    return body


# -- answers ---------------------------------------------------------------------------------


def json_answer(schema: Schema, description: str) -> dict[str, Any]:
    """A JSON answer."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict[str, Any]:
    """An answer in Bitbucket's error envelope."""
    return json_answer(ERROR, description)


def html(description: str) -> dict[str, Any]:
    """An HTML page."""
    return {"description": description, "content": {"text/html": {"schema": STRING}}}


def media(media_type: str, description: str) -> dict[str, Any]:
    """An answer of another media type (a file, an archive, plain text)."""
    return {"description": description, "content": {media_type: {"schema": STRING}}}


def redirect(description: str) -> dict[str, Any]:
    """A redirect; ``Location`` says where."""
    return {
        "description": description,
        "headers": {"Location": {"required": True, "schema": STRING}},
    }


def empty(description: str) -> dict[str, Any]:
    """An answer without a body."""
    return {"description": description}


def with_headers(answer: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
    """An answer with more (declared) response headers."""
    return {**answer, "headers": {**answer.get("headers", {}), **headers}}


def either(description: str, *answers: dict[str, Any]) -> dict[str, Any]:
    """One status in several media types: the answers' contents merged (a header is required
    only where every one of them carries it)."""
    content: dict[str, Any] = {}
    for answer in answers:
        content.update(answer.get("content", {}))
    merged: dict[str, Any] = {"description": description, "content": content}
    headers: dict[str, Any] = {}
    for answer in answers:
        for name, declared in answer.get("headers", {}).items():
            everywhere = all(name in other.get("headers", {}) for other in answers)
            headers[name] = {**declared, "required": bool(declared.get("required")) and everywhere}
    if headers:
        merged["headers"] = headers
    return merged
