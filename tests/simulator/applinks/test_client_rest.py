"""The OAuth 2 client REST resource (simulator/applinks/client_rest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.oauth2.backend import TokenRequest
from simulator.oauth2.errors import OAuth2Error
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.applinks import issue_access_token, login, open_page, path_of, submit

LATEST = "/rest/oauth2/latest/client"
V1 = "/rest/oauth2/1.0/client"
ADMIN = basic("admin")
REDIRECT = "https://packagist.example/oauth/register/service/bitbucketserver"
SECOND_REDIRECT = "https://packagist.example/oauth/login/check-custom/bitbucketserver"
NEW_CLIENT = {"name": "Packagist", "redirects": [REDIRECT], "scope": "REPO_READ"}
AUTH_REQUIRED = "com.atlassian.plugins.rest.api.security.exception.AuthenticationRequiredException"


def make_link(store: Store, name: str = "Packagist") -> OAuth2Client:
    """A client created straight in the backend."""
    return store.oauth2.create_client(name, [REDIRECT], (Scope.REPO_READ,), user_key="1")


async def error_of(response: Any, status: int) -> dict[str, Any]:
    """The single error of an envelope response with this status."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "error.json")
    (error,) = body["errors"]
    return dict(error)


# -- who may call -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [LATEST, V1])
async def test_anonymous_get_answers_401(client: Client, prefix: str) -> None:
    error = await error_of(await client.get(prefix), 401)
    assert error["exceptionName"] == AUTH_REQUIRED


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", LATEST),
        ("POST", LATEST),
        ("GET", LATEST + "/x"),
        ("PUT", LATEST + "/x"),
        ("DELETE", LATEST + "/x"),
        ("PUT", LATEST + "/reset/x"),
    ],
)
async def test_non_admin_answers_401(client: Client, store: Store, method: str, path: str) -> None:
    response = await client.request(method, path, json=NEW_CLIENT, headers=basic("alice"))
    error = await error_of(response, 401)
    assert error["exceptionName"] == "com.atlassian.bitbucket.AuthorisationException"
    assert store.oauth2.clients == {}


async def test_sysadmin_session_cookie_may_call_with_json(client: Client, store: Store) -> None:
    await login(client)
    response = await client.post(LATEST, json=NEW_CLIENT)
    assert response.status == 201
    assert len(store.oauth2.clients) == 1


@pytest.mark.parametrize("prefix", [LATEST, V1])
async def test_every_path_answers_404_below_7_21(client: Client, store: Store, prefix: str) -> None:
    link = make_link(store)
    store.config.patch({"version": "7.20.0"})
    assert (await client.get(prefix)).status == 404
    assert (await client.get(prefix, headers=ADMIN)).status == 404
    assert (await client.get(f"{prefix}/{link.id}", headers=ADMIN)).status == 404
    response = await client.post(prefix, json=NEW_CLIENT, headers=ADMIN)
    await error_of(response, 404)
    assert len(store.oauth2.clients) == 1


# -- list and get -----------------------------------------------------------------------------


async def test_list_is_empty_at_first(client: Client) -> None:
    response = await client.get(LATEST, headers=ADMIN)
    assert response.status == 200
    assert validate(await response.json(), "oauth2/clients.json") == []


async def test_list_shows_every_client_with_its_secret(client: Client, store: Store) -> None:
    first, second = make_link(store, "A"), make_link(store, "B")
    response = await client.get(V1, headers=ADMIN)
    body = validate(await response.json(), "oauth2/clients.json")
    assert [c["clientId"] for c in body] == [first.client_id, second.client_id]
    assert body[0] == {
        "id": first.id,
        "clientId": first.client_id,
        "clientSecret": first.client_secret,
        "name": "A",
        "redirects": [REDIRECT],
        "userKey": "1",
        "scope": "REPO_READ",
    }


@pytest.mark.parametrize("key", ["id", "client_id"])
async def test_get_one_client_by_id_or_client_id(client: Client, store: Store, key: str) -> None:
    link = make_link(store)
    response = await client.get(f"{LATEST}/{getattr(link, key)}", headers=ADMIN)
    assert response.status == 200
    assert validate(await response.json(), "oauth2/client.json")["id"] == link.id


async def test_get_unknown_client_answers_404(client: Client) -> None:
    error = await error_of(await client.get(LATEST + "/nope", headers=ADMIN), 404)
    assert error["exceptionName"] == "com.atlassian.bitbucket.NoSuchEntityException"


# -- create -----------------------------------------------------------------------------------


async def test_create_answers_201_with_the_new_client(client: Client, store: Store) -> None:
    body = {**NEW_CLIENT, "redirects": [REDIRECT, SECOND_REDIRECT]}
    response = await client.post(LATEST, json=body, headers=ADMIN)
    assert response.status == 201
    created = validate(await response.json(), "oauth2/client.json")
    assert created["name"] == "Packagist"
    assert created["redirects"] == [REDIRECT, SECOND_REDIRECT]
    assert created["scope"] == "REPO_READ"
    assert created["userKey"] == "1"
    stored = store.oauth2.clients[created["clientId"]]
    assert (stored.id, stored.client_secret) == (created["id"], created["clientSecret"])


async def test_create_reduces_the_scope_to_the_strongest(client: Client) -> None:
    body = {**NEW_CLIENT, "scope": "REPO_READ REPO_ADMIN ACCOUNT_WRITE"}
    response = await client.post(LATEST, json=body, headers=ADMIN)
    assert response.status == 201
    assert (await response.json())["scope"] == "ACCOUNT_WRITE REPO_ADMIN"


async def test_create_ignores_the_read_only_fields_of_the_entity(
    client: Client, store: Store
) -> None:
    body = {**NEW_CLIENT, "id": "mine", "clientId": "mine", "clientSecret": "s", "userKey": "9"}
    response = await client.post(LATEST, json=body, headers=ADMIN)
    created = validate(await response.json(), "oauth2/client.json")
    assert "mine" not in (created["id"], created["clientId"])
    assert created["userKey"] == "1"


@pytest.mark.parametrize(
    ("changes", "context"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"redirects": []}, "redirects"),
        ({"redirects": REDIRECT}, "redirects"),
        ({"redirects": [5]}, "redirects"),
        ({"redirects": ["http://packagist.example/cb"]}, "redirects"),
        ({"redirects": ["https://packagist.example/cb#x"]}, "redirects"),
        ({"redirects": ["/relative"]}, "redirects"),
        ({"scope": ""}, "scope"),
        ({"scope": "REPO_READ WRITE_EVERYTHING"}, "scope"),
        ({"scope": "repo_read"}, "scope"),
        ({"scope": ["REPO_READ"]}, "scope"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_create_with_a_bad_field_answers_400_naming_it(
    client: Client, store: Store, changes: dict[str, Any], context: str
) -> None:
    body = {**NEW_CLIENT, **changes}
    if changes == {"name": None}:
        del body["name"]
    error = await error_of(await client.post(LATEST, json=body, headers=ADMIN), 400)
    assert error["context"] == context
    assert (
        error["exceptionName"] == "com.atlassian.bitbucket.validation.ArgumentValidationException"
    )
    assert store.oauth2.clients == {}


async def test_create_keeps_a_redirect_with_a_comma_as_one_url(client: Client) -> None:
    joined = f"{REDIRECT},{SECOND_REDIRECT}"
    response = await client.post(LATEST, json={**NEW_CLIENT, "redirects": [joined]}, headers=ADMIN)
    assert response.status == 201
    assert (await response.json())["redirects"] == [joined]


async def test_create_with_a_taken_name_answers_400(client: Client, store: Store) -> None:
    make_link(store, "packagist")
    error = await error_of(await client.post(LATEST, json=NEW_CLIENT, headers=ADMIN), 400)
    assert error["context"] == "name"
    assert "already exists" in error["message"]
    assert len(store.oauth2.clients) == 1


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_create_with_a_body_that_is_not_a_json_object_answers_400(
    client: Client, store: Store, raw: bytes
) -> None:
    response = await client.post(
        LATEST, data=raw, headers={**ADMIN, "Content-Type": "application/json"}
    )
    error = await error_of(response, 400)
    assert error["exceptionName"] == "com.atlassian.bitbucket.rest.exception.BadRequestException"
    assert store.oauth2.clients == {}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\\ud800", "redirects": ["https://packagist.example/cb"], "scope": "REPO_READ"}',
        b'{"\\udfff": 1}',
        b'{"name": ["\\ud83d"]}',
        b"[" * 100_000,
    ],
    ids=["lone-surrogate-value", "lone-surrogate-key", "nested-surrogate", "too-deep"],
)
async def test_json_a_store_could_not_write_back_answers_400_and_stores_nothing(
    client: Client, store: Store, raw: bytes
) -> None:
    # RFC 8259 section 8.2: a string with a lone surrogate is not interoperable text; the
    # store cannot answer it in UTF-8, so such a client once made every later list a 500.
    response = await client.post(
        LATEST, data=raw, headers={**ADMIN, "Content-Type": "application/json"}
    )
    error = await error_of(response, 400)
    assert error["exceptionName"] == "com.atlassian.bitbucket.rest.exception.BadRequestException"
    assert store.oauth2.clients == {}
    assert (await client.get(LATEST, headers=ADMIN)).status == 200


async def test_form_encoded_post_without_no_check_fails_the_xsrf_check(
    client: Client, store: Store
) -> None:
    response = await client.post(LATEST, data={"name": "x"}, headers=ADMIN)
    error = await error_of(response, 403)
    assert error["message"] == "XSRF check failed"
    assert store.oauth2.clients == {}


async def test_non_json_body_with_no_check_answers_415(client: Client, store: Store) -> None:
    response = await client.post(
        LATEST,
        data=b"name=x",
        headers={**ADMIN, "X-Atlassian-Token": "no-check", "Content-Type": "text/plain"},
    )
    await error_of(response, 415)
    assert store.oauth2.clients == {}


# -- update, delete, reset --------------------------------------------------------------------


async def test_update_answers_204_and_keeps_the_credentials(client: Client, store: Store) -> None:
    link = make_link(store)
    credentials = (link.id, link.client_id, link.client_secret)
    body = {"name": "Renamed", "redirects": [SECOND_REDIRECT], "scope": "REPO_WRITE"}
    response = await client.put(f"{LATEST}/{link.id}", json=body, headers=ADMIN)
    assert response.status == 204
    assert (link.name, link.redirects, link.scope) == ("Renamed", (SECOND_REDIRECT,), "REPO_WRITE")
    assert (link.id, link.client_id, link.client_secret) == credentials
    fetched = await (await client.get(f"{LATEST}/{link.id}", headers=ADMIN)).json()
    assert validate(fetched, "oauth2/client.json")["name"] == "Renamed"


async def test_update_with_a_bad_field_answers_400_and_changes_nothing(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    body = {**NEW_CLIENT, "redirects": ["http://evil.example/cb"]}
    response = await client.put(f"{LATEST}/{link.id}", json=body, headers=ADMIN)
    assert (await error_of(response, 400))["context"] == "redirects"
    assert link.redirects == (REDIRECT,)


async def test_update_needs_every_writable_field(client: Client, store: Store) -> None:
    link = make_link(store)
    response = await client.put(f"{LATEST}/{link.id}", json={"name": "x"}, headers=ADMIN)
    assert (await error_of(response, 400))["context"] == "redirects"
    assert link.name == "Packagist"


async def test_update_unknown_client_answers_404(client: Client) -> None:
    response = await client.put(LATEST + "/nope", json=NEW_CLIENT, headers=ADMIN)
    await error_of(response, 404)


async def test_delete_answers_204_and_revokes_the_clients_tokens(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    token = issue_access_token(store, link, REDIRECT)
    response = await client.delete(f"{V1}/{link.id}", headers=ADMIN)
    assert response.status == 204
    assert store.oauth2.clients == {}
    assert store.oauth2.lookup_access_token(token) is None
    await error_of(await client.get(f"{V1}/{link.id}", headers=ADMIN), 404)


async def test_delete_unknown_client_answers_404(client: Client) -> None:
    await error_of(await client.delete(LATEST + "/nope", headers=ADMIN), 404)


async def test_reset_answers_the_client_with_a_new_secret(client: Client, store: Store) -> None:
    link = make_link(store)
    old_secret = link.client_secret
    response = await client.put(f"{LATEST}/reset/{link.client_id}", headers=ADMIN)
    assert response.status == 200
    body = validate(await response.json(), "oauth2/client.json")
    assert body["clientId"] == link.client_id
    assert body["clientSecret"] == link.client_secret != old_secret
    code = store.oauth2.issue_code(
        link,
        redirect_uri=REDIRECT,
        scopes=(Scope.REPO_READ,),
        user_id=2,
        challenge=None,
        method=None,
    )
    request = TokenRequest("authorization_code", code, REDIRECT, link.client_id, old_secret)
    with pytest.raises(OAuth2Error) as caught:
        store.oauth2.token(request)
    assert caught.value.error == "invalid_client"


async def test_reset_unknown_client_answers_404(client: Client) -> None:
    await error_of(await client.put(LATEST + "/reset/nope", headers=ADMIN), 404)


# -- the same store as the pages --------------------------------------------------------------


async def test_client_created_through_rest_shows_on_the_list_page(
    client: Client, store: Store
) -> None:
    response = await client.post(LATEST, json={**NEW_CLIENT, "name": "From REST"}, headers=ADMIN)
    created = await response.json()
    await login(client)
    page = await open_page(client, "/plugins/servlet/applinks/listApplicationLinks")
    (row,) = page.all("tr", "application-link")
    assert row.attrs["data-client-id"] == created["clientId"]
    assert row.all("span", "application-name")[0].text == "From REST"


async def test_link_created_on_the_page_shows_in_rest(client: Client, store: Store) -> None:
    await login(client)
    form = (await open_page(client, "/plugins/servlet/applinks/oauth2/incoming/new")).by_id(
        "incoming-link-form"
    )
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "From page", "redirects": REDIRECT, "scope": "REPO_ADMIN"},
    )
    assert response.status == 303
    credentials = await open_page(client, path_of(response.headers["Location"], store.base_url))
    listed = validate(await (await client.get(LATEST, headers=ADMIN)).json(), "oauth2/clients.json")
    assert [(c["name"], c["scope"], c["clientId"]) for c in listed] == [
        ("From page", "REPO_ADMIN", credentials.by_id("client-id").text)
    ]
