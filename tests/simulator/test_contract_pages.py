"""The OpenAPI description of the pages (simulator/contract/pages.py): every route of the
login pages, the stylesheet and the "U2F & TOTP" plugin is described, and the answers of
the real flows (which a fuzzer cannot reach: a live pending login, a valid code, a form's
XSRF token, a blocked OAuth token) have a status, media type, headers and body the
document declares."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from jsonschema import Draft202012Validator

from simulator.app import create_app
from simulator.contract import describe
from simulator.settings import Settings
from simulator.store import SESSION_COOKIE, Store
from simulator.tfa.enrolment import PENDING_COOKIE
from simulator.web.stylesheet import STYLESHEET_PATH
from tests.conftest import Client, basic
from tests.simulator.oauth2.test_oauth2_flow import bearer, make_link, obtain_tokens
from tests.simulator.tfa.support import (
    ADMIN,
    BLOCKED,
    ENROL,
    VERIFY,
    code_now,
    configure,
    cookie_header,
    enrol_form,
    install,
    password_login,
    pending_id,
    verify_form,
)

#: The handler modules of this area.
AREA_MODULES = ("simulator.web.login", "simulator.web.stylesheet", "simulator.tfa.routes")
#: The area's paths in the document.
AREA_PATHS = re.compile(r"^/(plugins/servlet/tfa/|login$|dashboard$|j_atl|s/|$)")
CONTEXT = Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")


def area_routes(settings: Settings) -> list[Any]:
    """The routes of the area in an app's routers (the context root's included)."""
    app = create_app(settings)
    routers = [app.router]
    for resource in app.router.resources():
        sub = resource.get_info().get("app")
        if isinstance(sub, web.Application):
            routers.append(sub.router)
    return [
        route
        for router in routers
        for route in router.routes()
        if route.method != "HEAD" and getattr(route.handler, "__module__", "") in AREA_MODULES
    ]


@pytest.mark.parametrize("settings", [Settings(port=0), CONTEXT], ids=["root", "context"])
def test_every_route_of_the_pages_area_is_described(settings: Settings) -> None:
    routes = area_routes(settings)
    assert len(routes) >= 13
    for route in routes:
        assert describe(route.handler) is not None, route


def test_the_area_covers_every_page_path_of_the_app() -> None:
    app = create_app(Settings(port=0))
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        if route.method != "HEAD" and AREA_PATHS.match(resource.canonical):
            assert route.handler.__module__ in AREA_MODULES, resource.canonical


# -- answers against the document ---------------------------------------------------------------


class Document:
    """The served document, and a check of answers against it."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def operation(self, path: str, method: str) -> dict[str, Any]:
        """The operation of a path template and method."""
        operation: dict[str, Any] = self.body["paths"][path][method.lower()]
        return operation

    def area(self) -> list[tuple[str, str]]:
        """Every (path, method) of the area."""
        return [
            (path, method)
            for path, item in self.body["paths"].items()
            if AREA_PATHS.match(path)
            for method in ("get", "post")
            if method in item
        ]

    async def check(self, response: ClientResponse, path: str, method: str = "get") -> None:
        """Assert the answer is one the operation declares."""
        operation = self.operation(path, method)
        answers = operation["responses"]
        status = str(response.status)
        assert status in answers, (path, method, status, await response.text())
        answer = answers[status]
        body = await response.read()
        content = answer.get("content")
        if content is None:
            assert not body, (path, method, status)
        else:
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            assert media_type in content, (path, method, status, media_type)
            schema = content[media_type]["schema"]
            value: Any = await response.json() if media_type == "application/json" else None
            if value is not None:
                validator = Draft202012Validator({**schema, "components": self.body["components"]})
                validator.validate(value)
        for name, declared in answer.get("headers", {}).items():
            if declared.get("required"):
                assert name in response.headers, (path, method, status, name)
            if name in response.headers and name != "Set-Cookie":
                Draft202012Validator(declared["schema"]).validate(response.headers[name])


@pytest.fixture
async def document(client: Client) -> Document:
    response = await client.get("/_sim/openapi.json")
    assert response.status == 200
    return Document(await response.json())


STYLESHEET = STYLESHEET_PATH


async def test_login_pages_answer_as_described(client: Client, document: Document) -> None:
    for path in ("/", "/dashboard", "/login"):
        for headers in ({}, basic("alice")):
            response = await client.get(path, headers=headers, allow_redirects=False)
            await document.check(response, path)
    failed = await client.post("/j_atl_security_check", data={"j_username": "alice"})
    await document.check(failed, "/j_atl_security_check", "post")
    done = await password_login(client, "alice", "/dashboard")
    await document.check(done, "/j_atl_security_check", "post")
    session = {SESSION_COOKIE: done.cookies[SESSION_COOKIE].value}
    for path in ("/", "/dashboard", "/login"):
        response = await client.get(path, headers=cookie_header(**session), allow_redirects=False)
        await document.check(response, path)
    for method in ("get", "post"):
        response = await client.request(
            method,
            "/j_atl_security_logout",
            headers=cookie_header(**session),
            allow_redirects=False,
        )
        await document.check(response, "/j_atl_security_logout", method)


async def test_stylesheet_answers_as_described(client: Client, document: Document) -> None:
    first = await client.get(STYLESHEET)
    await document.check(first, STYLESHEET)
    again = await client.get(STYLESHEET, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    await document.check(again, STYLESHEET)


async def test_wrong_basic_credentials_are_described_everywhere(
    client: Client, document: Document
) -> None:
    await install(client)
    for path, method in document.area():
        url = STYLESHEET if path.startswith("/s/") else path
        response = await client.request(
            method, url, headers=basic("alice", "wrong"), allow_redirects=False
        )
        await document.check(response, path, method)


async def test_plugin_pages_answer_as_described_while_not_installed(
    client: Client, document: Document
) -> None:
    for path, method in document.area():
        if path.startswith("/plugins/servlet/tfa/"):
            response = await client.request(method, path, allow_redirects=False)
            assert response.status == 404
            await document.check(response, path, method)


async def test_two_factor_login_answers_as_described(
    client: Client, store: Store, document: Document
) -> None:
    await install(client)
    nobody = cookie_header(**{PENDING_COOKIE: "stale"})
    for path in (ENROL, VERIFY):
        for method in ("get", "post"):
            response = await client.request(method, path, headers=nobody, allow_redirects=False)
            assert response.status == 302
            await document.check(response, path, method)
    login = await password_login(client, "alice", "/dashboard")
    await document.check(login, "/j_atl_security_check", "post")
    pending = cookie_header(**{PENDING_COOKIE: pending_id(login)})
    await document.check(await client.get(ENROL, headers=pending), ENROL)
    for path, method in ((VERIFY, "get"), (VERIFY, "post")):
        response = await client.request(method, path, headers=pending, allow_redirects=False)
        assert response.status in (302, 303)
        await document.check(response, path, method)
    secret, fields = await enrol_form(client, pending_id(login))
    refused = await client.post(ENROL, data={"code": "000000"}, headers=pending)
    assert refused.status == 403
    await document.check(refused, ENROL, "post")
    wrong = await client.post(ENROL, data={**fields, "code": "12"}, headers=pending)
    assert wrong.status == 200
    await document.check(wrong, ENROL, "post")
    good = await client.post(
        ENROL,
        data={**fields, "code": code_now(store, secret)},
        headers=pending,
        allow_redirects=False,
    )
    assert good.status == 302
    await document.check(good, ENROL, "post")

    again = await password_login(client, "alice")
    pending = cookie_header(**{PENDING_COOKIE: pending_id(again)})
    for path, method in ((ENROL, "get"), (ENROL, "post")):
        response = await client.request(method, path, headers=pending, allow_redirects=False)
        assert response.status in (302, 303)
        await document.check(response, path, method)
    fields = await verify_form(client, pending_id(again))
    await document.check(await client.get(VERIFY, headers=pending), VERIFY)
    refused = await client.post(VERIFY, data={"code": "000000"}, headers=pending)
    assert refused.status == 403
    await document.check(refused, VERIFY, "post")
    wrong = await client.post(VERIFY, data={**fields, "code": ""}, headers=pending)
    assert wrong.status == 200
    await document.check(wrong, VERIFY, "post")
    good = await client.post(
        VERIFY,
        data={**fields, "code": code_now(store, secret)},
        headers=pending,
        allow_redirects=False,
    )
    assert good.status == 302
    await document.check(good, VERIFY, "post")
    await document.check(await client.get(BLOCKED), BLOCKED)


async def test_admin_page_answers_as_described(client: Client, document: Document) -> None:
    await install(client)
    no_check = {"X-Atlassian-Token": "no-check"}
    for method in ("get", "post"):
        for headers in ({}, basic("alice"), basic("admin")):
            response = await client.request(method, ADMIN, headers=headers, allow_redirects=False)
            await document.check(response, ADMIN, method)
    saved = await client.get(ADMIN + "?saved=true", headers=basic("admin"))
    await document.check(saved, ADMIN)
    for fields in ({"enforce": "sometimes"}, {"enforce": "groups"}, {"enforce": "all"}):
        response = await client.post(
            ADMIN, data=fields, headers={**basic("admin"), **no_check}, allow_redirects=False
        )
        assert response.status in (303, 400)
        await document.check(response, ADMIN, "post")


@pytest.mark.parametrize("blocked_response", ["redirect", "401", "403"])
async def test_blocked_oauth_requests_answer_as_described(
    client: Client, store: Store, document: Document, blocked_response: str
) -> None:
    tokens = await obtain_tokens(client, store, make_link(store), "alice")
    await install(client)
    await configure(client, blocked_response=blocked_response)
    headers = bearer(tokens["access_token"])
    for path, method in document.area():
        url = STYLESHEET if path.startswith("/s/") else path
        response = await client.request(method, url, headers=headers, allow_redirects=False)
        if path != BLOCKED:
            expected = 302 if blocked_response == "redirect" else int(blocked_response)
            assert response.status == expected, (path, method)
        await document.check(response, path, method)


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ('OAuth oauth_consumer_key="nobody"', 401),
        ('OAuth oauth_version="2.0"', 400),
    ],
)
async def test_failed_oauth1_signatures_answer_as_described(
    client: Client, document: Document, authorization: str, status: int
) -> None:
    await install(client)
    for path, method in document.area():
        url = STYLESHEET if path.startswith("/s/") else path
        response = await client.request(
            method, url, headers={"Authorization": authorization}, allow_redirects=False
        )
        if path != BLOCKED:
            assert response.status == status, (path, method)
        await document.check(response, path, method)


async def test_a_form_too_large_to_read_answers_as_described(
    client: Client, document: Document
) -> None:
    await install(client)
    body = b"code=" + b"1" * (5 * 1024 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path, headers in (
        ("/j_atl_security_check", form),
        (ADMIN, {**form, **basic("admin")}),
    ):
        response = await client.post(
            path, data=io.BytesIO(body), headers=headers, allow_redirects=False
        )
        assert response.status == 413
        await document.check(response, path, "post")
