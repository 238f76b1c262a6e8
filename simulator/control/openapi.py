"""``GET /_sim/openapi.json``: an OpenAPI 3.1 document built at request time.

The control API's operations are written out here with their request and response schemas;
every other route is derived from the app's router: method, canonical path (relative to the
context path, which the ``servers`` entry carries) and path parameters from ``{name}`` and
``{name:regex}`` segments, with the regex as the parameter's ``pattern``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiohttp import hdrs, web

from simulator.contract import describe
from simulator.contract.components import component_schemas
from simulator.journal import is_control_path
from simulator.lazy import resolve
from simulator.settings import Settings
from simulator.store import Store
from simulator.webhooks import control as webhook_control

OPENAPI_VERSION = "3.1.0"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM_RE = re.compile(r"\{([^{}]+)\}")
_GROUP_RE = re.compile(r"\(\?P<(\w+)>")

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STRING_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "Bitbucket's error envelope.",
        "required": ["errors"],
        "additionalProperties": False,
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["context", "message", "exceptionName"],
                    "additionalProperties": False,
                    "properties": {
                        "context": {"type": ["string", "null"]},
                        "message": {"type": "string"},
                        "exceptionName": {"type": ["string", "null"]},
                    },
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "version"],
        "additionalProperties": False,
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
        },
    },
    "Reset": {
        "type": "object",
        "required": ["reset"],
        "additionalProperties": False,
        "properties": {"reset": {"const": True}},
    },
    "Config": {
        "type": "object",
        "description": "The runtime configuration; later releases add keys.",
        "required": ["version"],
        "properties": {"version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"}},
    },
    "ConfigPatch": {
        "type": "object",
        "description": "A JSON merge: only the keys given change; all or nothing.",
        "properties": {"version": {"type": "string", "examples": ["8.19.1"]}},
    },
    "Clock": {
        "type": "object",
        "required": ["now", "now_ms", "offset_seconds"],
        "additionalProperties": False,
        "properties": {
            "now": {"type": "number", "description": "Simulated epoch seconds."},
            "now_ms": {"type": "integer", "description": "Simulated epoch milliseconds."},
            "offset_seconds": {"type": "number", "minimum": 0},
        },
    },
    "ClockAdvance": {
        "type": "object",
        "required": ["advance_seconds"],
        "additionalProperties": False,
        "properties": {"advance_seconds": {"type": "number", "minimum": 0}},
    },
    "Exchange": {
        "type": "object",
        "description": "One recorded exchange; secret values read '<redacted>'.",
        "required": ["id", "time", "method", "path", "query", "form", "headers", "status"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "time": {"type": "number"},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "query": {"type": "object", "additionalProperties": _STRING_OR_LIST},
            "form": {"type": "object", "additionalProperties": _STRING_OR_LIST},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "status": {"type": "integer"},
            "extra": {"type": "object"},
        },
    },
    "Journal": {
        "type": "object",
        "required": ["entries", "size"],
        "additionalProperties": False,
        "properties": {
            "entries": {"type": "array", "items": _ref("Exchange")},
            "size": {"type": "integer", "minimum": 0},
        },
    },
    "FaultRequest": {
        "type": "object",
        "required": ["path_prefix"],
        "additionalProperties": False,
        "properties": {
            "path_prefix": {
                "type": "string",
                "pattern": "^/",
                "description": "Matched against paths relative to the context path.",
            },
            "status": {"type": ["integer", "null"], "minimum": 200, "maximum": 599},
            "delay_seconds": {"type": ["number", "null"], "minimum": 0, "maximum": 30},
            "times": {
                "type": ["integer", "null"],
                "minimum": 1,
                "default": 1,
                "description": "How many requests it applies to; null means until reset.",
            },
        },
    },
    "Fault": {
        "type": "object",
        "required": ["path_prefix", "status", "delay_seconds", "times"],
        "additionalProperties": False,
        "properties": {
            "path_prefix": {"type": "string", "pattern": "^/"},
            "status": {"type": ["integer", "null"]},
            "delay_seconds": {"type": "number", "minimum": 0},
            "times": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Uses left; null means until reset.",
            },
        },
    },
    "Faults": {
        "type": "object",
        "required": ["faults", "size"],
        "additionalProperties": False,
        "properties": {
            "faults": {"type": "array", "items": _ref("Fault")},
            "size": {"type": "integer", "minimum": 0},
        },
    },
    "AppLinkRequest": {
        "oneOf": [_ref("OAuth2LinkRequest"), _ref("OAuth1LinkRequest")],
        "discriminator": {"propertyName": "type"},
    },
    "OAuth2LinkRequest": {
        "type": "object",
        "required": ["type", "name", "redirect_urls"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "oauth2"},
            "name": {"type": "string", "minLength": 1},
            "redirect_urls": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "scope": {"type": "string", "default": "REPO_READ"},
        },
    },
    "OAuth1LinkRequest": {
        "type": "object",
        "description": "An Atlassian product link with its Incoming Authentication (OAuth 1).",
        "required": ["type", "name", "consumer_key", "public_key"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "oauth1"},
            "name": {"type": "string", "minLength": 1},
            "consumer_key": {"type": "string", "minLength": 1},
            "public_key": {
                "type": "string",
                "description": "A PEM RSA public key or X.509 certificate.",
            },
            "callback_url": {"type": ["string", "null"], "default": None},
            "consumer_name": {
                "type": ["string", "null"],
                "description": "Defaults to the name.",
            },
            "description": {"type": "string", "default": ""},
            "two_legged": {"type": "boolean", "default": False},
            "execute_as": {"type": ["string", "null"], "default": None},
            "impersonation": {"type": "boolean", "default": False},
        },
    },
    "AppLink": {
        "oneOf": [_ref("OAuth2Link"), _ref("OAuth1Link")],
        "discriminator": {"propertyName": "type"},
    },
    "OAuth2Link": {
        "type": "object",
        "required": ["type", "id", "name", "client_id", "client_secret", "redirect_urls", "scope"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "oauth2"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
            "redirect_urls": {"type": "array", "items": {"type": "string"}},
            "scope": {"type": "string"},
        },
    },
    "OAuth1Link": {
        "type": "object",
        "required": [
            "type",
            "id",
            "name",
            "consumer_key",
            "consumer_name",
            "description",
            "public_key",
            "callback_url",
            "two_legged",
            "execute_as",
            "impersonation",
        ],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "oauth1"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "consumer_key": {"type": "string"},
            "consumer_name": {"type": "string"},
            "description": {"type": "string"},
            "public_key": {"type": "string"},
            "callback_url": {"type": ["string", "null"]},
            "two_legged": {"type": "boolean"},
            "execute_as": {"type": ["string", "null"]},
            "impersonation": {"type": "boolean"},
        },
    },
    "AppLinks": {
        "type": "object",
        "required": ["applinks", "size"],
        "additionalProperties": False,
        "properties": {
            "applinks": {"type": "array", "items": _ref("AppLink")},
            "size": {"type": "integer", "minimum": 0},
        },
    },
}

SCHEMAS.update(
    {
        "CommitRequest": {
            "type": "object",
            "required": ["branch", "message", "files"],
            "additionalProperties": False,
            "properties": {
                "branch": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "files": {
                    "type": "object",
                    "minProperties": 1,
                    "description": "Path to new content: UTF-8 text, {base64}, or null "
                    "to delete the file.",
                    "additionalProperties": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["base64"],
                                "additionalProperties": False,
                                "properties": {"base64": {"type": "string"}},
                            },
                        ]
                    },
                },
                "author": {
                    "type": ["object", "null"],
                    "required": ["name", "email"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
                },
                "startPoint": {"type": ["string", "null"]},
            },
        },
        "TagRequest": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "startPoint": {"type": ["string", "null"]},
                "message": {"type": ["string", "null"]},
            },
        },
    }
)

_BAD_REQUEST = {"400": _json(_ERROR, "Malformed JSON, or a field with a bad value (context).")}
_NO_CONTENT = {"204": {"description": "Done."}}

#: Hand-written operations of the control API, by (method, path relative to the context).
CONTROL_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_sim/health"): {
        "operationId": "get_health",
        "summary": "Whether the simulator is up, and the Bitbucket version it reports.",
        "responses": {"200": _json(_ref("Health"), "Up.")},
    },
    ("POST", "/_sim/reset"): {
        "operationId": "reset",
        "summary": "Back to the seed: config, clock, sessions, tokens, journal and faults.",
        "responses": {"200": _json(_ref("Reset"), "Reset in place.")},
    },
    ("GET", "/_sim/config"): {
        "operationId": "get_config",
        "summary": "The runtime configuration.",
        "responses": {"200": _json(_ref("Config"), "The configuration.")},
    },
    ("PATCH", "/_sim/config"): {
        "operationId": "update_config",
        "summary": "Merge keys into the runtime configuration, all or nothing.",
        "requestBody": {"required": True, **_json(_ref("ConfigPatch"), "Keys to change.")},
        "responses": {"200": _json(_ref("Config"), "The new configuration."), **_BAD_REQUEST},
    },
    ("GET", "/_sim/clock"): {
        "operationId": "get_clock",
        "summary": "The simulated now.",
        "responses": {"200": _json(_ref("Clock"), "The simulated now.")},
    },
    ("POST", "/_sim/clock"): {
        "operationId": "advance_clock",
        "summary": "Move simulated time forward.",
        "requestBody": {"required": True, **_json(_ref("ClockAdvance"), "How far.")},
        "responses": {"200": _json(_ref("Clock"), "The new simulated now."), **_BAD_REQUEST},
    },
    ("GET", "/_sim/journal"): {
        "operationId": "get_journal",
        "summary": "The recorded exchanges, oldest first, secrets redacted.",
        "parameters": [
            {
                "name": "path_prefix",
                "in": "query",
                "required": False,
                "description": "Only entries whose recorded (full) path starts with this.",
                "schema": {"type": "string", "pattern": "^/"},
            },
            {
                "name": "method",
                "in": "query",
                "required": False,
                "description": "Only entries with this HTTP method (case-insensitive).",
                "schema": {"type": "string"},
            },
            {
                "name": "since",
                "in": "query",
                "required": False,
                "description": "Only entries with a greater id (ids grow across clears).",
                "schema": {"type": "integer", "minimum": 0},
            },
        ],
        "responses": {"200": _json(_ref("Journal"), "The entries."), **_BAD_REQUEST},
    },
    ("DELETE", "/_sim/journal"): {
        "operationId": "clear_journal",
        "summary": "Forget every recorded exchange.",
        "responses": _NO_CONTENT,
    },
    ("GET", "/_sim/faults"): {
        "operationId": "get_faults",
        "summary": "The faults in force, in matching order.",
        "responses": {"200": _json(_ref("Faults"), "The faults.")},
    },
    ("POST", "/_sim/faults"): {
        "operationId": "add_fault",
        "summary": "Answer a status and/or delay for a path prefix, a number of times.",
        "requestBody": {"required": True, **_json(_ref("FaultRequest"), "The fault.")},
        "responses": {"201": _json(_ref("Fault"), "In force."), **_BAD_REQUEST},
    },
    ("DELETE", "/_sim/faults"): {
        "operationId": "clear_faults",
        "summary": "Remove every fault.",
        "responses": _NO_CONTENT,
    },
    ("GET", "/_sim/applinks"): {
        "operationId": "get_applinks",
        "summary": "Every application link, with its credentials.",
        "responses": {"200": _json(_ref("AppLinks"), "The links.")},
    },
    ("POST", "/_sim/applinks"): {
        "operationId": "create_applink",
        "summary": "Create an OAuth 2 or OAuth 1 incoming link in one call; answers it.",
        "requestBody": {"required": True, **_json(_ref("AppLinkRequest"), "The link.")},
        "responses": {"201": _json(_ref("AppLink"), "Created."), **_BAD_REQUEST},
    },
    ("POST", "/_sim/repos/{projectKey}/{repositorySlug}/commits"): {
        "operationId": "add_commit",
        "summary": "Add a commit to a branch (created from startPoint if missing), as a push.",
        "requestBody": {"required": True, **_json(_ref("CommitRequest"), "The commit.")},
        "responses": {
            "201": _json(_ref("commit"), "Committed: the commit as the REST API shows it."),
            **_BAD_REQUEST,
            "404": _json(_ERROR, "No such repository, or startPoint names no commit."),
        },
    },
    ("POST", "/_sim/repos/{projectKey}/{repositorySlug}/tags"): {
        "operationId": "add_tag",
        "summary": "Create a tag (annotated when there is a message), as a push.",
        "requestBody": {"required": True, **_json(_ref("TagRequest"), "The tag.")},
        "responses": {
            "201": _json(_ref("tag"), "Created: the tag as the REST API shows it."),
            **_BAD_REQUEST,
            "404": _json(_ERROR, "No such repository, or startPoint names no commit."),
            "409": _json(_ERROR, "The tag exists."),
        },
    },
    ("DELETE", "/_sim/repos/{projectKey}/{repositorySlug}/tags/{name}"): {
        "operationId": "delete_tag",
        "summary": "Delete a tag, as a push would.",
        "responses": {**_NO_CONTENT, "404": _json(_ERROR, "No such repository or tag.")},
    },
    ("DELETE", "/_sim/repos/{projectKey}/{repositorySlug}/branches/{name}"): {
        "operationId": "delete_branch",
        "summary": "Delete a branch, as a push would.",
        "responses": {**_NO_CONTENT, "404": _json(_ERROR, "No such repository or branch.")},
    },
    ("GET", "/_sim/openapi.json"): {
        "operationId": "get_openapi",
        "summary": "This document.",
        "responses": {
            "200": _json(
                {"type": "object", "required": ["openapi", "info", "paths"]}, "OpenAPI 3.1."
            )
        },
    },
}

# The webhooks' control operations are written beside their handlers.
CONTROL_OPERATIONS.update(webhook_control.OPERATIONS)
SCHEMAS.update(webhook_control.SCHEMAS)

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "basicAuth": {"type": "http", "scheme": "basic"},
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Access token."},
    "session": {"type": "apiKey", "in": "cookie", "name": "BITBUCKETSESSIONID"},
    "controlToken": {"type": "apiKey", "in": "header", "name": "X-Sim-Control-Token"},
}
_BITBUCKET_SECURITY: list[dict[str, list[str]]] = [
    {},
    {"basicAuth": []},
    {"bearerAuth": []},
    {"session": []},
]


def group_patterns(regex: str) -> dict[str, str]:
    """The sub-pattern of each named group ``(?P<name>...)`` in a route's regex."""
    out: dict[str, str] = {}
    for match in _GROUP_RE.finditer(regex):
        start = index = match.end()
        depth, in_class = 1, False
        while index < len(regex) and depth:
            char = regex[index]
            if char == "\\":
                index += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            index += 1
        out[match.group(1)] = regex[start : index - 1]
    return out


def _path_parameters(resource: web.AbstractResource, template: str) -> list[dict[str, Any]]:
    names = _PARAM_RE.findall(template)
    if not names:
        return []
    compiled = resource.get_info().get("pattern")
    patterns = group_patterns(compiled.pattern) if isinstance(compiled, re.Pattern) else {}
    parameters = []
    for name in names:
        schema: dict[str, Any] = {"type": "string"}
        if name in patterns:
            schema["pattern"] = f"^(?:{patterns[name]})$"
        elif isinstance(resource, web.StaticResource):
            schema["pattern"] = "^.+$"
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def path_template(resource: web.AbstractResource, context_path: str) -> str:
    """The OpenAPI path of a resource: its canonical path without the context path."""
    path = resource.canonical
    if isinstance(resource, web.StaticResource):
        path = path.rstrip("/") + "/{filename}"
    if context_path and (path == context_path or path.startswith(context_path + "/")):
        path = path[len(context_path) :]
    return path or "/"


def _methods(route: web.AbstractRoute) -> list[str]:
    if route.method != hdrs.METH_ANY:
        return [route.method.lower()]
    handler = route.handler
    if isinstance(handler, type) and issubclass(handler, web.View):
        return [m for m in _METHODS if hasattr(handler, m)]
    return ["get", "put", "post", "delete", "patch"]


def _summary(handler: Any) -> str:
    doc = (getattr(resolve(handler), "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def _tag(template: str) -> str:
    if template.startswith("/rest/"):
        return "rest"
    if template.startswith("/plugins/"):
        return "plugins"
    return "web"


#: What every Bitbucket route may answer whatever it is: a credential that is wrong.
_WRONG_CREDENTIAL = _json(_ERROR, "A credential was given and is wrong, expired or revoked.")
_BODY_TOO_SLOW = _json(_ERROR, "The body did not all arrive within connection_timeout.")


def _derived_operation(route: web.AbstractRoute, template: str) -> dict[str, Any]:
    handler = route.handler
    operation: dict[str, Any] = {
        "operationId": getattr(handler, "__name__", "operation"),
        "tags": [_tag(template)],
        "security": _BITBUCKET_SECURITY,
    }
    summary = _summary(handler)
    if summary:
        operation["summary"] = summary
    described = describe(handler)
    if described is None:
        operation["responses"] = {
            "default": {"description": "As Bitbucket Data Center answers; errors as Error."}
        }
        return operation
    operation.update(described)
    operation["responses"] = {
        "401": _WRONG_CREDENTIAL,
        "408": _BODY_TOO_SLOW,
        **described["responses"],
    }
    return operation


def _control_operation(method: str, template: str, token: bool) -> dict[str, Any]:
    known = CONTROL_OPERATIONS.get((method.upper(), template))
    operation: dict[str, Any] = dict(known) if known else {"operationId": "control"}
    operation["tags"] = ["control"]
    responses = dict(operation.get("responses", {}))
    if token:
        operation["security"] = [{"controlToken": []}]
        responses["401"] = _json(_ERROR, "Missing or wrong X-Sim-Control-Token.")
    responses["default"] = _json(_ERROR, "Any other error, in Bitbucket's envelope.")
    operation["responses"] = responses
    return operation


def _unique(operation_id: str, taken: set[str]) -> str:
    candidate, counter = operation_id, 2
    while candidate in taken:
        candidate = f"{operation_id}_{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def build_paths(
    routes: Iterable[web.AbstractRoute], context_path: str, token: bool
) -> dict[str, dict[str, Any]]:
    """The ``paths`` object for these routes, sorted by path."""
    by_resource: dict[int, list[web.AbstractRoute]] = {}
    for route in routes:
        if route.resource is not None and not getattr(route.handler, "openapi_hidden", False):
            by_resource.setdefault(id(route.resource), []).append(route)
    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for resource_routes in by_resource.values():
        resource = resource_routes[0].resource
        assert resource is not None
        template = path_template(resource, context_path)
        item = paths.setdefault(template, {})
        parameters = _path_parameters(resource, template)
        if parameters:
            item["parameters"] = parameters
        has_get = any(route.method == hdrs.METH_GET for route in resource_routes)
        for route in resource_routes:
            for method in _methods(route):
                if method in item or (method == "head" and has_get):
                    continue  # the first route wins, as in aiohttp; HEAD of a GET is implied
                if is_control_path(template):
                    operation = _control_operation(method, template, token)
                else:
                    operation = _derived_operation(route, template)
                operation["operationId"] = _unique(operation["operationId"], taken)
                item[method] = operation
    return dict(sorted(paths.items()))


def build_document(
    routes: Iterable[web.AbstractRoute], store: Store, settings: Settings
) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for an app's routes."""
    version = str(store.config.version)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Bitbucket Data Center simulator",
            "version": version,
            "description": (
                f"Simulates Bitbucket Data Center {version}. Operations tagged 'control' are "
                "the simulator's own API under /_sim/; the others are derived from its routes "
                "and behave as Bitbucket's do."
            ),
        },
        "servers": [{"url": store.base_url}],
        "tags": [
            {"name": "control", "description": "The simulator's control API."},
            {"name": "rest", "description": "Bitbucket's REST APIs."},
            {"name": "plugins", "description": "Bitbucket plugin servlets."},
            {"name": "web", "description": "Browser-facing pages and servlets."},
        ],
        "paths": build_paths(routes, settings.context_path, bool(settings.control_token)),
        "components": {
            "schemas": {**component_schemas(), **SCHEMAS},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
