"""GET /_sim/openapi.json: an OpenAPI 3.1 document of the control API and every route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from simulator import control
from simulator.control.openapi import (
    CONTROL_OPERATIONS,
    build_paths,
    group_patterns,
    path_template,
)
from simulator.settings import Settings
from tests.conftest import Client
from tests.schemas import validate

CONTEXT = Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")
TOKEN = Settings(port=0, control_token="t")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


async def document_of(client: Client, path: str = "/_sim/openapi.json", **headers: str) -> Any:
    """The document, checked against the OpenAPI subset schema."""
    response = await client.get(path, headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    return validate(await response.json(), "control/openapi-subset.json")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) of a document."""
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]


def component_validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema of the document that may $ref its components."""
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_document_is_openapi_3_1_with_info_and_paths(client: Client) -> None:
    document = await document_of(client)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"] == "9.4.16"
    assert document["paths"]
    assert document["servers"] == [{"url": "http://127.0.0.1:0"}]


async def test_every_path_parameter_is_declared_and_every_declared_one_is_used(
    client: Client,
) -> None:
    document = await document_of(client)
    for path, item in document["paths"].items():
        in_template = set(re.findall(r"\{([^{}]+)\}", path))
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert in_template == declared, path


async def test_operation_ids_are_unique(client: Client) -> None:
    document = await document_of(client)
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))


async def test_every_control_route_has_its_hand_written_operation(client: Client) -> None:
    document = await document_of(client)
    documented = {
        (method.upper(), path): operation["operationId"]
        for path, method, operation in operations(document)
        if path.startswith("/_sim/")
    }
    routes = {
        (route.method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path))
        for route in control.routes()
        if not getattr(route.handler, "openapi_hidden", False)
    }
    assert set(documented) == routes == set(CONTROL_OPERATIONS)
    for key, operation_id in documented.items():
        assert operation_id == CONTROL_OPERATIONS[key]["operationId"]


async def test_every_route_of_the_app_is_in_the_document(client: Client) -> None:
    document = await document_of(client)
    assert client.app is not None
    for route in client.app.router.routes():
        resource = route.resource
        assert resource is not None
        if route.method in ("HEAD", "*") or getattr(route.handler, "openapi_hidden", False):
            continue
        template = path_template(resource, "")
        assert route.method.lower() in document["paths"][template], template


async def test_component_schemas_are_valid_json_schemas(client: Client) -> None:
    document = await document_of(client)
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


async def test_control_responses_match_the_documented_schemas(client: Client) -> None:
    await client.get("/rest/api/1.0/probe?code=x")
    await client.post("/_sim/faults", json={"path_prefix": "/x", "status": 503})
    document = await document_of(client)
    for path, method, operation in operations(document):
        if not path.startswith("/_sim/") or method != "get" or path == "/_sim/openapi.json":
            continue
        response = await client.get(path)
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        component_validator(document, schema).validate(await response.json())


async def test_documented_error_schema_matches_an_actual_error(client: Client) -> None:
    document = await document_of(client)
    operation = document["paths"]["/_sim/faults"]["post"]
    schema = operation["responses"]["400"]["content"]["application/json"]["schema"]
    response = await client.post("/_sim/faults", json={"path_prefix": "nope"})
    component_validator(document, schema).validate(await response.json())


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_under_a_context_path_paths_are_relative_and_the_server_carries_it(
    client: Client,
) -> None:
    document = await document_of(client, "/bitbucket/_sim/openapi.json")
    assert document["servers"] == [{"url": "http://127.0.0.1:7990/bitbucket"}]
    assert "/_sim/health" in document["paths"]
    assert not any(path.startswith("/bitbucket") for path in document["paths"])


@pytest.mark.parametrize("settings", [TOKEN])
async def test_with_a_control_token_control_operations_declare_it(client: Client) -> None:
    document = await document_of(client, **{"X-Sim-Control-Token": "t"})
    health = document["paths"]["/_sim/health"]["get"]
    assert health["security"] == [{"controlToken": []}]
    assert "401" in health["responses"]
    assert document["components"]["securitySchemes"]["controlToken"]["name"] == (
        "X-Sim-Control-Token"
    )


async def test_without_a_control_token_control_operations_need_no_security(
    client: Client,
) -> None:
    document = await document_of(client)
    assert "security" not in document["paths"]["/_sim/health"]["get"]


# -- derivation from a router -----------------------------------------------------------------


async def get_thing(request: web.Request) -> web.Response:
    """Get one thing.

    More text that is not the summary.
    """
    return web.Response()


class ThingView(web.View):
    """A class-based view."""

    async def get(self) -> web.Response:
        return web.Response()

    async def delete(self) -> web.Response:
        return web.Response()


def derived_paths(context: str = "") -> dict[str, dict[str, Any]]:
    """The paths derived from a small app's router."""
    app = web.Application()
    app.router.add_get(context + "/rest/api/1.0/projects/{projectKey}", get_thing)
    app.router.add_get(context + "/rest/api/latest/projects/{projectKey}", get_thing)
    app.router.add_get(context + "/raw/{path:.*}", get_thing)
    app.router.add_get(context + "/keys/{key:[A-Z~][A-Z0-9_]*}/x", get_thing)
    app.router.add_view(context + "/view", ThingView)
    app.router.add_route("*", context + "/any", get_thing)
    return build_paths(app.router.routes(), context, token=False)


def test_plain_parameters_become_required_path_parameters() -> None:
    item = derived_paths()["/rest/api/1.0/projects/{projectKey}"]
    assert item["parameters"] == [
        {
            "name": "projectKey",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^(?:[^{}/]+)$"},
        }
    ]
    assert item["get"]["summary"] == "Get one thing."
    assert item["get"]["tags"] == ["rest"]
    assert "head" not in item


def test_regex_parameters_keep_their_pattern() -> None:
    paths = derived_paths()
    assert paths["/raw/{path}"]["parameters"][0]["schema"]["pattern"] == "^(?:.*)$"
    key = paths["/keys/{key}/x"]["parameters"][0]
    assert key["schema"]["pattern"] == "^(?:[A-Z~][A-Z0-9_]*)$"


def test_duplicate_handlers_get_distinct_operation_ids() -> None:
    paths = derived_paths()
    first = paths["/rest/api/1.0/projects/{projectKey}"]["get"]["operationId"]
    second = paths["/rest/api/latest/projects/{projectKey}"]["get"]["operationId"]
    assert (first, second) == ("get_thing", "get_thing_2")


def test_views_and_any_method_routes_list_their_methods() -> None:
    paths = derived_paths()
    assert {m for m in paths["/view"] if m in HTTP_METHODS} == {"get", "delete"}
    assert {m for m in paths["/any"] if m in HTTP_METHODS} == {
        "get",
        "put",
        "post",
        "delete",
        "patch",
    }


def test_the_context_path_is_stripped_from_derived_paths() -> None:
    assert set(derived_paths("/ctx")) == set(derived_paths())


@pytest.mark.parametrize(
    ("regex", "groups"),
    [
        (r"/a/(?P<x>[^{}/]+)/b", {"x": "[^{}/]+"}),
        (r"/a/(?P<x>(?:ab|cd)+)/(?P<y>[()]x)", {"x": "(?:ab|cd)+", "y": "[()]x"}),
        (r"/a/(?P<x>\)+)", {"x": r"\)+"}),
        ("/plain", {}),
    ],
)
def test_group_patterns_finds_each_named_group(regex: str, groups: dict[str, str]) -> None:
    assert group_patterns(regex) == groups


async def test_the_control_catch_all_route_is_not_documented(client: Client) -> None:
    document = await document_of(client)
    assert not any("{tail}" in path for path in document["paths"])
