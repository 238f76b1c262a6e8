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
