"""The OpenAPI descriptions of the OAuth 1 servlets and the Application Links admin pages
(:mod:`simulator.contract.oauth1`): every route is described, and real answers, through the
whole OAuth 1 dance and the pages' branches, fit what the document says of them (including
what schemathesis cannot check: form-encoded and plain-text bodies)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import ClientResponse
from jsonschema import Draft202012Validator

from simulator.app import create_app
from simulator.contract import describe
from simulator.contract.oauth1 import OPERATIONS
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, basic
from tests.simulator.oauth1.signing import (
    ACCESS_TOKEN,
    AUTHORIZE,
    REQUEST_TOKEN,
    KeyPair,
    decide,
    make_key_pair,
    make_link,
    request_token,
    signed_headers,
    url_of,
)
from tests.simulator.oauth1.test_access_token import renewal
from tests.simulator.oauth2.test_oauth2_flow import cookie, log_in

PREFIXES = ("/plugins/servlet/oauth/", "/plugins/servlet/applinks/")
FORM = "application/x-www-form-urlencoded"
APPLINKS = "/plugins/servlet/applinks"
NO_CHECK = {"X-Atlassian-Token": "no-check"}


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    """A consumer's key pair."""
    return make_key_pair()


def test_every_oauth1_and_applinks_page_route_is_described() -> None:
    app = create_app(Settings(port=0))
    seen = 0
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        if not resource.canonical.startswith(PREFIXES) or route.method == "HEAD":
            continue
        seen += 1
        assert describe(route.handler) is not None, (route.method, resource.canonical)
    assert seen >= 25


def test_every_described_answer_has_a_status_a_description_and_valid_schemas() -> None:
    for key, operation in OPERATIONS.items():
        assert operation["responses"], key
        for status, answer in operation["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), (key, status)
            assert answer["description"], (key, status)
            for content in answer.get("content", {}).values():
                Draft202012Validator.check_schema(content["schema"])
            for header in answer.get("headers", {}).values():
                Draft202012Validator.check_schema(header["schema"])


# -- answers against the document -------------------------------------------------------------


class Document:
    """The served document, and a check that an answer fits it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": self.document["components"]})

    async def check(self, template: str, method: str, response: ClientResponse) -> str:
        """Assert the answer is one the operation describes; return its body."""
        operation = self.document["paths"][template][method]
        answers = operation["responses"]
        assert str(response.status) in answers, (template, method, response.status)
        answer = answers[str(response.status)]
        text = await response.text()
        for name, header in answer.get("headers", {}).items():
            value = response.headers.get(name)
            assert value is not None or not header.get("required"), (template, name)
            if value is not None:
                self.validator(header["schema"]).validate(value)
        content = answer.get("content")
        if not content:
            assert text == "", (template, method, response.status)
            return text
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in content, (template, method, response.status, media_type)
        schema = content[media_type]["schema"]
        if media_type == "application/json":
            self.validator(schema).validate(await response.json())
        elif media_type == FORM:
            self.validator(schema).validate(dict(parse_qsl(text, keep_blank_values=True)))
        else:
            self.validator(schema).validate(text)
        return text


@pytest.fixture
async def document(client: Client) -> Document:
    response = await client.get("/_sim/openapi.json")
    assert response.status == 200
    return Document(await response.json())


async def test_the_oauth1_dance_answers_as_described(
    client: Client, store: Store, keys: KeyPair, document: Document
) -> None:
    make_link(store, keys.public_pem)
    temporary = await request_token(client, keys)
    url = url_of(client, REQUEST_TOKEN)
    response = await client.post(REQUEST_TOKEN, headers=signed_headers(url, keys, callback="oob"))
    await document.check(REQUEST_TOKEN, "post", response)

    token = temporary["oauth_token"]
    anonymous = await client.get(AUTHORIZE, params={"oauth_token": token}, allow_redirects=False)
    await document.check(AUTHORIZE, "get", anonymous)
    session_id = await log_in(client, store, "alice")
    page = await client.get(AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id))
    await document.check(AUTHORIZE, "get", page)
    again = await client.post(
        AUTHORIZE, data={"oauth_token": token, "atl_token": "nope"}, headers=cookie(session_id)
    )
    assert again.status == 403
    await document.check(AUTHORIZE, "post", again)

    decided = await decide(client, store, token)
    assert decided.status == 302
    await document.check(AUTHORIZE, "post", decided)
    used = await client.get(AUTHORIZE, params={"oauth_token": token}, headers=cookie(session_id))
    assert used.status == 401
    await document.check(AUTHORIZE, "get", used)

    verifier = dict(parse_qsl(decided.headers["Location"].split("?", 1)[1]))["oauth_verifier"]
    url = url_of(client, ACCESS_TOKEN)
    headers = signed_headers(url, keys, token=token, verifier=verifier)
    exchanged = await client.post(ACCESS_TOKEN, headers=headers)
    assert exchanged.status == 200
    fields = dict(parse_qsl(await document.check(ACCESS_TOKEN, "post", exchanged)))
    body = renewal(client, keys, fields["oauth_token"], fields["oauth_session_handle"])
    renewed = await client.post(ACCESS_TOKEN, data=body, headers={"Content-Type": FORM})
    assert renewed.status == 200, await renewed.text()
    await document.check(ACCESS_TOKEN, "post", renewed)
    replayed = await client.post(ACCESS_TOKEN, headers=headers)
    assert replayed.status == 401
    await document.check(ACCESS_TOKEN, "post", replayed)


@pytest.mark.parametrize(
    ("path", "request_options", "status"),
    [
        (REQUEST_TOKEN, {}, 400),
        (REQUEST_TOKEN, {"data": {"oauth_consumer_key": "nobody", "oauth_callback": "oob"}}, 401),
        (REQUEST_TOKEN, {"params": {"oauth_consumer_key": "x"}, "data": {"oauth_nonce": "n"}}, 401),
        (ACCESS_TOKEN, {"json": {"oauth_token": "x"}}, 400),
        (ACCESS_TOKEN, {"params": {"oauth_token": "a" * 32}}, 401),
        (ACCESS_TOKEN, {"headers": {"Authorization": "OAuth =,"}}, 400),
        (ACCESS_TOKEN, {"headers": basic("admin", "wrong")}, 401),
    ],
)
async def test_token_servlet_problems_are_answered_as_described(
    client: Client, document: Document, path: str, request_options: Any, status: int
) -> None:
    response = await client.post(path, **request_options)
    assert response.status == status
    await document.check(path, "post", response)


async def test_get_on_a_token_servlet_is_an_empty_200_as_described(
    client: Client, document: Document
) -> None:
    for path in (REQUEST_TOKEN, ACCESS_TOKEN):
        await document.check(path, "get", await client.get(path))


async def test_authorize_without_a_token_is_the_described_400_page(
    client: Client, document: Document
) -> None:
    response = await client.get(AUTHORIZE)
    assert response.status == 400
    await document.check(AUTHORIZE, "get", response)
    response = await client.post(AUTHORIZE, headers=NO_CHECK)
    assert response.status == 400
    await document.check(AUTHORIZE, "post", response)


# -- the admin pages ----------------------------------------------------------------------------


async def test_the_admin_pages_answer_as_described(
    client: Client, store: Store, keys: KeyPair, document: Document
) -> None:
    admin = {**basic("admin"), **NO_CHECK}

    async def check(method: str, template: str, path: str | None = None, **options: Any) -> int:
        response = await client.request(
            method.upper(), path or APPLINKS + template, allow_redirects=False, **options
        )
        await document.check(APPLINKS + template, method, response)
        return response.status

    assert await check("get", "/listApplicationLinks") == 302
    assert await check("get", "/listApplicationLinks", headers=basic("alice")) == 401
    assert await check("get", "/listApplicationLinks", headers=basic("alice", "x")) == 401
    assert await check("get", "/listApplicationLinks", headers=admin) == 200
    assert await check("post", "/createLink") == 302
    assert await check("post", "/createLink", headers=basic("admin")) == 403
    for data, status in (
        ({"application-type": "atlassian"}, 303),
        ({"application-type": "external", "direction": "incoming"}, 303),
        ({"application-type": "external", "direction": "outgoing"}, 501),
        ({"application-type": "other"}, 400),
    ):
        assert await check("post", "/createLink", headers=admin, data=data) == status

    new = "/oauth2/incoming/new"
    assert await check("post", new, headers=admin, data={"name": "A", "redirects": "x"}) == 400
    fields = {"name": "A", "redirects": "https://a.example/cb", "scope": "REPO_READ"}
    assert await check("post", new, headers=admin, data=fields) == 303
    client_id = next(iter(store.oauth2.clients.values())).id
    for action in ("credentials", "edit", "delete"):
        one = f"/oauth2/{{id}}/{action}"
        path = f"{APPLINKS}/oauth2/{client_id}/{action}"
        assert await check("get", one, path, headers=admin) == 200
        assert await check("get", one, f"{APPLINKS}/oauth2/nope/{action}", headers=admin) == 404
        assert await check("post", one, path, headers=basic("admin")) == 403
    assert (
        await check(
            "post",
            "/oauth2/{id}/edit",
            f"{APPLINKS}/oauth2/{client_id}/edit",
            headers=admin,
            data={"name": "", "redirects": ""},
        )
        == 400
    )
    for action in ("credentials", "edit", "delete"):
        path = f"{APPLINKS}/oauth2/{client_id}/{action}"
        assert (
            await check("post", f"/oauth2/{{id}}/{action}", path, headers=admin, data=fields) == 303
        )

    url = "https://packagist.example"
    assert await check("get", "/oauth1/new", headers=admin) == 200
    assert await check("post", "/oauth1/new", headers=admin, data={"application-url": "x"}) == 400
    assert await check("post", "/oauth1/new", headers=admin, data={"application-url": url}) == 200
    step = {"application-url": url, "entered-url": url}
    assert await check("post", "/oauth1/new", headers=admin, data=step) == 303
    link = "/oauth1/new/link"
    assert await check("get", link, headers=admin) == 400
    assert await check("get", link, headers=admin, params={"url": url}) == 200
    named = {"application-url": url, "name": "Packagist", "application-type": "jira"}
    assert await check("post", link, headers=admin, data=named) == 501
    assert await check("post", link, headers=admin, data={**named, "name": ""}) == 400
    assert (
        await check("post", link, headers=admin, data={**named, "application-type": "generic"})
        == 303
    )
    link_id = next(iter(store.oauth1_pages.pending))
    edit = f"{APPLINKS}/oauth1/{link_id}/edit"
    assert await check("get", "/oauth1/{id}/edit", edit, headers=admin) == 200
    assert (
        await check("get", "/oauth1/{id}/edit", f"{APPLINKS}/oauth1/x/edit", headers=admin) == 404
    )
    incoming = {"consumer_key": "k", "consumer_name": "n", "public_key": "nope"}
    assert await check("post", "/oauth1/{id}/edit", edit, headers=admin, data=incoming) == 400
    incoming["public_key"] = keys.public_pem
    assert await check("post", "/oauth1/{id}/edit", edit, headers=admin, data=incoming) == 303
    link_id = next(iter(store.oauth1.links))
    delete = f"{APPLINKS}/oauth1/{link_id}/delete"
    assert await check("get", "/oauth1/{id}/delete", delete, headers=admin) == 200
    assert await check("post", "/oauth1/{id}/delete", delete, headers=admin) == 303


async def test_below_7_21_the_oauth2_pages_are_the_described_404(
    client: Client, store: Store, document: Document
) -> None:
    store.config.patch({"version": "7.20.0"})
    for template in ("/oauth2/incoming/new", "/oauth2/{id}/edit"):
        path = APPLINKS + template.replace("{id}", "x")
        response = await client.get(path, headers=basic("admin"))
        assert response.status == 404
        await document.check(APPLINKS + template, "get", response)
    response = await client.post(
        APPLINKS + "/createLink",
        headers={**basic("admin"), **NO_CHECK},
        data={"application-type": "external", "direction": "incoming"},
    )
    assert response.status == 400
    await document.check(APPLINKS + "/createLink", "post", response)


def form_schema(document: Document, path: str) -> Draft202012Validator:
    body = document.document["paths"][path]["post"]["requestBody"]
    return document.validator(body["content"][FORM]["schema"])


async def test_what_the_pages_accept_fits_the_form_schemas_white_space_as_python_trims_it(
    client: Client, document: Document
) -> None:
    """negative_data_rejection counts on it: every accepted value is inside the schema (the
    servers trim with ``str.strip``, whose white space is not ECMA's ``\\s``)."""
    admin = {**basic("admin"), **NO_CHECK}
    path = APPLINKS + "/oauth1/new/link"
    for name in ("\x1cPackagist\u3000", "\ufeff", "  x  "):
        fields = {"application-url": " https://packagist.example\x85", "name": name}
        fields["application-type"] = "generic"
        assert form_schema(document, path).is_valid(fields), name
        response = await client.post(path, headers=admin, data=fields, allow_redirects=False)
        assert response.status == 303, (name, await response.text())
    for refused in ({"name": "\u2028"}, {"application-type": "jira"}, {"application-url": "x"}):
        fields = {"application-url": "https://a.example", "name": "Other", **refused}
        fields.setdefault("application-type", "generic")
        assert not form_schema(document, path).is_valid(fields), refused
        response = await client.post(path, headers=admin, data=fields, allow_redirects=False)
        assert response.status >= 400, refused
