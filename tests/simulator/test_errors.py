"""The error envelope and the error middleware."""

from __future__ import annotations

from tests.conftest import Client, basic
from tests.schemas import validate


async def test_unknown_path_is_404_in_the_envelope(client: Client) -> None:
    response = await client.get("/rest/api/1.0/no-such-thing")
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["X-AREQUESTID"]
    body = validate(await response.json(), "error.json")
    assert "/rest/api/1.0/no-such-thing" in body["errors"][0]["message"]


async def test_bad_basic_credentials_are_401_with_bitbucket_body(client: Client) -> None:
    response = await client.get("/rest/api/1.0/no-such-thing", headers=basic("admin", "wrong"))
    assert response.status == 401
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["exceptionName"] == (
        "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
    )
    assert "X-AUSERNAME" not in response.headers


async def test_malformed_basic_header_is_401_not_500(client: Client) -> None:
    response = await client.get("/x", headers={"Authorization": "Basic !!!not-base64"})
    assert response.status == 401
    validate(await response.json(), "error.json")


async def test_every_405_names_the_allowed_methods(client: Client) -> None:
    """Every fixed path, asked with a method it does not serve, answers 405 with ``Allow``
    listing the methods it does serve (RFC 9110 15.5.6)."""
    app = client.app
    assert app is not None
    served: dict[str, set[str]] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if "path" in info and route.method != "*":
            served.setdefault(info["path"], set()).add(route.method)
    assert len(served) > 20
    checked = 0
    for path, methods in sorted(served.items()):
        method = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in methods)
        response = await client.request(method, path)
        if response.status != 405:
            continue  # a catch-all of its area answers (a 404 of the REST API, a redirect)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert methods <= allowed, (path, methods, allowed)
        checked += 1
    assert checked > 20, checked
