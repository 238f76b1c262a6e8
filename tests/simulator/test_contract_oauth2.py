"""The OpenAPI descriptions of the OAuth 2 provider (:mod:`simulator.contract.oauth2`): every
route is described, what the server answers fits the description where schemathesis cannot
reach (a browser session, a real code or token, a changed config), and the schemas of the
client REST's body admit everything the server accepts (else schemathesis' negative data
would be accepted)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from jsonschema import Draft202012Validator

from simulator.app import create_app
from simulator.clock import Clock
from simulator.config import OAuth2Config
from simulator.contract import describe, handler_key
from simulator.contract.components import component_schemas
from simulator.contract.oauth2 import CLIENT_REQUEST, OPERATIONS, REDIRECT_URL
from simulator.contract.spec import Operation, error
from simulator.control.openapi import SCHEMAS, path_template
from simulator.oauth2.backend import OAuth2Backend, check_redirect
from simulator.oauth2.errors import ClientValidationError
from simulator.oauth2.scopes import Scope, ScopeError, parse_scopes
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, basic
from tests.simulator.oauth2.test_oauth2_flow import (
    AUTHORIZE,
    CONSENT,
    ERROR_PAGE,
    TOKEN,
    authorize_params,
    cookie,
    exchange,
    log_in,
    make_link,
    obtain_code,
    path_of,
    refresh,
)

PREFIXES = ("/rest/oauth2/", "/plugins/servlet/oauth2/")
ADMIN = basic("admin")
FORM = "application/x-www-form-urlencoded"
COMPONENTS = {"schemas": {**component_schemas(), **SCHEMAS}}
#: What the document adds to every operation (simulator.control.openapi).
UNIVERSAL = {"401": error("A credential was given and is wrong, expired or revoked.")}


def oauth2_routes(app: web.Application) -> list[web.AbstractRoute]:
    """The app's routes under the provider's prefixes, without aiohttp's implied HEADs."""
    routes = []
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        if resource.canonical.startswith(PREFIXES) and route.method != "HEAD":
            routes.append(route)
    return routes


def described_operations() -> dict[tuple[str, str], Operation]:
    """This area's operations by (method, path template), as the document lays them out."""
    out: dict[tuple[str, str], Operation] = {}
    for route in oauth2_routes(create_app(Settings(port=0))):
        assert route.resource is not None
        operation = OPERATIONS.get(handler_key(route.handler))
        if operation is not None:
            out[(route.method.lower(), path_template(route.resource, ""))] = operation
    return out


AT = described_operations()


def test_every_oauth2_route_is_described() -> None:
    routes = oauth2_routes(create_app(Settings(port=0)))
    assert len(routes) == 26  # 12 under /rest/oauth2/{1.0,latest}/, and the two servlets
    for route in routes:
        assert route.resource is not None
        assert describe(route.handler) is not None, (route.method, route.resource.canonical)


def test_every_answer_has_a_description_and_a_valid_schema() -> None:
    assert len(OPERATIONS) == 14
    for key, operation in OPERATIONS.items():
        for status, answer in operation["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), (key, status)
            assert answer["description"], (key, status)
            for content in answer.get("content", {}).values():
                Draft202012Validator.check_schema(content["schema"])
        for content in operation.get("requestBody", {}).get("content", {}).values():
            Draft202012Validator.check_schema(content["schema"])


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema of the document that may $ref its components."""
    return Draft202012Validator({**schema, "components": COMPONENTS})


async def conforms(response: ClientResponse, method: str, template: str) -> Any:
    """Assert the answer is one the operation declares: status, headers, media type and body
    (JSON decoded, else text); return the body."""
    answers = {**UNIVERSAL, **AT[(method, template)]["responses"]}
    status = str(response.status)
    assert status in answers, (method, template, status, await response.text())
    answer = answers[status]
    for name, declared in answer.get("headers", {}).items():
        value = response.headers.get(name)
        if declared.get("required"):
            assert value is not None, (template, status, name)
        if value is not None:
            Draft202012Validator(declared["schema"]).validate(value)
    raw = await response.read()
    content = answer.get("content")
    if not content:
        assert raw == b"", (template, status)
        return None
    media = response.headers["Content-Type"].split(";")[0].strip()
    assert media in content, (template, status, media)
    body = json.loads(raw) if media == "application/json" else raw.decode()
    validator(content[media]["schema"]).validate(body)
    return body


def form_schema_accepts(method: str, template: str, fields: dict[str, str]) -> bool:
    """Whether the operation's form schema admits these fields."""
    schema = AT[(method, template)]["requestBody"]["content"][FORM]["schema"]
    return validator(schema).is_valid(fields)


# -- the flow a fuzzer cannot drive -----------------------------------------------------------


@pytest.mark.parametrize("version", ["latest", "1.0"])
async def test_a_whole_login_fits_the_descriptions(
    client: Client, store: Store, version: str
) -> None:
    authorize_path = f"/rest/oauth2/{version}/authorize"
    token_path = f"/rest/oauth2/{version}/token"
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    params = authorize_params(link)

    first = await client.get(authorize_path, params=params, allow_redirects=False)
    await conforms(first, "get", authorize_path)
    consent_url = first.headers["Location"]
    page = await client.get(
        path_of(store, consent_url), headers=cookie(session_id), allow_redirects=False
    )
    html = await conforms(page, "get", CONSENT)
    token = re.search(r'name="atl_token" value="([^"]+)"', html)
    assert token is not None
    decision = {**params, "decision": "allow", "atl_token": token.group(1)}
    assert form_schema_accepts("post", authorize_path, decision)
    back = await client.post(
        authorize_path, data=decision, headers=cookie(session_id), allow_redirects=False
    )
    await conforms(back, "post", authorize_path)
    code = back.headers["Location"].split("code=")[1].split("&")[0]

    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": link.redirects[0],
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    }
    assert form_schema_accepts("post", token_path, fields)
    tokens = await conforms(await client.post(token_path, data=fields), "post", token_path)

    renewal = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": link.client_id,
        "client_secret": link.client_secret,
    }
    assert form_schema_accepts("post", token_path, renewal)
    renewed = await conforms(await client.post(token_path, data=renewal), "post", token_path)

    revoke_path = f"/rest/oauth2/{version}/revoke"
    revocation = {
        "token": renewed["refresh_token"],
        "token_type_hint": "refresh_token",
        "client_id": link.client_id,
        "client_secret": link.client_secret,
    }
    assert form_schema_accepts("post", revoke_path, revocation)
    await conforms(await client.post(revoke_path, data=revocation), "post", revoke_path)
    replayed = await client.post(token_path, data=fields)
    assert replayed.status == 400
    await conforms(replayed, "post", token_path)


async def test_authorize_and_consent_refusals_fit_the_descriptions(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    for params in (
        {},
        authorize_params(link, scope="NOPE"),
        authorize_params(link, redirect_uri="https://elsewhere.example/cb"),
        authorize_params(link, code_challenge="short"),
    ):
        response = await client.get(AUTHORIZE, params=params, allow_redirects=False)
        await conforms(response, "get", AUTHORIZE)
    for headers in ({}, ADMIN, cookie(session_id), basic("admin", "wrong")):
        response = await client.get(
            CONSENT, params=authorize_params(link), headers=headers, allow_redirects=False
        )
        await conforms(response, "get", CONSENT)
        response = await client.get(
            CONSENT, params={"client_id": "nobody"}, headers=headers, allow_redirects=False
        )
        await conforms(response, "get", CONSENT)
    unknown = await client.get(CONSENT, params={"client_id": "x"}, headers=cookie(session_id))
    assert unknown.status == 400
    await conforms(unknown, "get", CONSENT)
    for data, headers in (
        ({"decision": "allow"}, {}),
        ({**authorize_params(link), "decision": "allow"}, cookie(session_id)),
        ({**authorize_params(link), "decision": "deny"}, ADMIN),
        ({}, basic("admin", "wrong")),
    ):
        response = await client.post(AUTHORIZE, data=data, headers=headers, allow_redirects=False)
        await conforms(response, "post", AUTHORIZE)
    page = await client.get(ERROR_PAGE, params={"errorName": "<x>", "errorDescription": "&"})
    await conforms(page, "get", ERROR_PAGE)


async def test_a_plain_http_base_url_off_loopback_fits_the_consent_description(
    aiohttp_client: Any,
) -> None:
    settings = Settings(port=0, base_url="http://bitbucket.example:7990")
    client = await aiohttp_client(create_app(settings))
    response = await client.get(CONSENT, params={"client_id": "x"})
    assert response.status == 400
    await conforms(response, "get", CONSENT)


async def test_token_and_revoke_refusals_fit_the_descriptions(client: Client, store: Store) -> None:
    link = make_link(store)
    for data in (
        {},
        {"grant_type": "password"},
        {"grant_type": "authorization_code", "code": "x"},
        {
            "grant_type": "authorization_code",
            "code": "unknown",
            "redirect_uri": link.redirects[0],
            "client_id": link.client_id,
            "client_secret": "wrong",
        },
        {"grant_type": "refresh_token", "refresh_token": "a.b.c", "client_id": link.client_id},
    ):
        await conforms(await client.post(TOKEN, data=data), "post", TOKEN)
    as_json = await client.post(TOKEN, json={"grant_type": "authorization_code"})
    assert as_json.status == 400
    await conforms(as_json, "post", TOKEN)
    code = await obtain_code(client, store, link)
    wrong_secret = await exchange(client, link, code, client_secret="wrong")
    assert wrong_secret.status == 401
    await conforms(wrong_secret, "post", TOKEN)
    await conforms(await refresh(client, link, "x.y.z"), "post", TOKEN)

    revoke = "/rest/oauth2/latest/revoke"
    for data in (
        {},
        {"token": "x", "token_type_hint": "other"},
        {"token": "x", "client_id": "nobody"},
        {"token": "x", "client_id": link.client_id, "client_secret": "wrong"},
        {"token": "x", "client_id": link.client_id, "client_secret": link.client_secret},
    ):
        response = await client.post(revoke, data=data, headers=basic("admin", "wrong"))
        await conforms(response, "post", revoke)


@pytest.mark.parametrize("blocked_response", ["redirect", "401", "403"])
async def test_two_factor_refusals_fit_the_descriptions(
    client: Client, store: Store, blocked_response: str
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    session_id = await log_in(client, store, "alice")
    patch = {"tfa": {"installed": True, "blocked_response": blocked_response}}
    assert (await client.patch("/_sim/config", json=patch)).status == 200
    blocked = await exchange(client, link, code)
    assert blocked.status in (401, 403)
    await conforms(blocked, "post", TOKEN)
    consent = await client.get(
        CONSENT, params=authorize_params(link), headers=cookie(session_id), allow_redirects=False
    )
    assert consent.status in (302, 401, 403)
    await conforms(consent, "get", CONSENT)
    decision = await client.post(
        AUTHORIZE,
        data={**authorize_params(link), "decision": "allow"},
        headers=cookie(session_id),
        allow_redirects=False,
    )
    assert decision.status in (303, 401, 403)
    await conforms(decision, "post", AUTHORIZE)


async def test_revoke_by_id_and_the_secret_reset_fit_the_descriptions(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    assert (await exchange(client, link, code)).status == 200
    token_id = next(iter(store.oauth2.tokens))
    by_id = f"/rest/oauth2/latest/revoke/{token_id}"
    template = "/rest/oauth2/latest/revoke/{id}"
    for headers, status in ((basic("bob"), 401), ({}, 401), (ADMIN, 204), (ADMIN, 404)):
        response = await client.post(by_id, headers=headers)
        assert response.status == status
        await conforms(response, "post", template)
    reset = "/rest/oauth2/1.0/token/jwt/reset"
    for headers, status in ((basic("alice"), 401), ({}, 401), (ADMIN, 204)):
        response = await client.post(reset, headers=headers)
        assert response.status == status
        await conforms(response, "post", reset)


async def test_the_client_rest_fits_the_descriptions(client: Client, store: Store) -> None:
    base = "/rest/oauth2/latest/client"
    one, reset = base + "/{id}", base + "/reset/{clientId}"
    body = {
        "name": "Packagist",
        "redirects": ["https://packagist.example/cb"],
        "scope": "REPO_READ",
    }
    assert validator(CLIENT_REQUEST).is_valid(body)
    created = await conforms(await client.post(base, json=body, headers=ADMIN), "post", base)
    path = f"{base}/{created['id']}"
    for response, method, template in (
        (await client.get(base, headers=ADMIN), "get", base),
        (await client.get(base), "get", base),
        (await client.post(base, json=body, headers=ADMIN), "post", base),
        (await client.post(base, data="name=x", headers=ADMIN), "post", base),
        (
            await client.post(
                base,
                data=b"{}",
                headers={**ADMIN, "X-Atlassian-Token": "no-check", "Content-Type": "text/plain"},
            ),
            "post",
            base,
        ),
        (await client.get(path, headers=ADMIN), "get", one),
        (await client.get(base + "/nobody", headers=ADMIN), "get", one),
        (await client.put(path, json={**body, "name": "Renamed"}, headers=ADMIN), "put", one),
        (await client.put(path, json={"name": 1}, headers=ADMIN), "put", one),
        (await client.put(f"{base}/reset/{created['clientId']}", headers=ADMIN), "put", reset),
        (await client.put(f"{base}/reset/nobody", headers=ADMIN), "put", reset),
        (await client.delete(path, headers=basic("alice")), "delete", one),
        (await client.delete(path, headers=ADMIN), "delete", one),
        (await client.delete(path, headers=ADMIN), "delete", one),
    ):
        await conforms(response, method, template)


async def test_below_7_21_every_path_answers_the_described_404(
    client: Client, store: Store
) -> None:
    store.config.patch({"version": "7.20.0"})
    for method, template in AT:
        path = template.replace("{id}", "x").replace("{clientId}", "x")
        response = await client.request(method, path, headers=ADMIN, allow_redirects=False)
        assert response.status == 404, (method, path)
        await conforms(response, method, template)


# -- the client body's schema admits what the server accepts ----------------------------------

SCHEMES = ("https://", "HTTPS://", "http://", "hTTp://", "ftp://", "//", "https:", "\x01https://")
USERINFO = ("", "u@", "u:p@", "a@b@", "[x]@")
HOSTS = (
    "example.com",
    "localhost",
    "LOCALHOST",
    "app.localhost",
    "xlocalhost",
    "localhost.",
    "127.0.0.1",
    "127.1",
    "127.000.0.1",
    "10.0.0.1",
    "[::1]",
    "[0:0::1]",
    "[::2]",
    "[v1.x]",
    "[V1.x]",
    "[fe80::1%eth0]",
    "[::1%25lo]",
    "[1.2.3.4]",
    "[::ffff:127.0.0.1]",
    "[",
    "]",
    "",
    "ex\x7fample.com",
    "\u00fc.example",
    "a[::1]",
    "[::1]x",
)
PORTS = ("", ":", ":443", ":99999", ":x", ":1:2", ":\u0663")
TAILS = ("", "/", "/cb", "?a=b", "/cb#f", "/c b", "/\x00", "/\u00fc", "?x=\t", "/\x9b")


def test_the_redirect_schema_admits_every_redirect_the_server_accepts() -> None:
    pattern = re.compile(REDIRECT_URL["pattern"])
    accepted = refused = 0
    for parts in itertools.product(SCHEMES, USERINFO, HOSTS, PORTS, TAILS):
        url = "".join(parts)
        try:
            check_redirect(url, allow_http=False)
        except ClientValidationError:
            refused += 1
            continue
        accepted += 1
        assert pattern.search(url), url
    assert accepted > 500
    assert refused > 500
    assert not pattern.search("http://example.com/cb")
    assert not pattern.search("https://example.com/cb#fragment")
    assert not pattern.search("https:///cb")


def test_the_scope_schema_admits_exactly_what_the_server_parses() -> None:
    pattern = re.compile(CLIENT_REQUEST["properties"]["scope"]["pattern"])
    words = ("REPO_READ", "SYSTEM_ADMIN", "repo_read", "NOPE", "")
    separators = (" ", "  ", "\t", "\n", ",", "\u2003")
    for count in (1, 2):
        for chosen in itertools.product(words, repeat=count):
            for separator in separators:
                for edge in ("", " ", "\t"):
                    text = edge + separator.join(chosen) + edge
                    try:
                        parse_scopes(text)
                    except ScopeError:
                        assert not pattern.search(text), repr(text)
                    else:
                        assert pattern.search(text), repr(text)
    assert all(pattern.search(scope.name) for scope in Scope)


@pytest.mark.parametrize(
    "name", ["", " ", "\t\n", "\u00a0", "\u2003", "a", " a ", "a" * 255, "a" * 256, "\x1cb"]
)
def test_the_name_schema_admits_exactly_what_the_server_accepts(name: str) -> None:
    backend = OAuth2Backend(Clock(), OAuth2Config)
    try:
        backend.validate_client(name, ["https://a.example/cb"], (Scope.REPO_READ,), exclude=None)
        accepted = True
    except ClientValidationError:
        accepted = False
    body = {"name": name, "redirects": ["https://a.example/cb"], "scope": "REPO_READ"}
    assert validator(CLIENT_REQUEST).is_valid(body) == accepted
