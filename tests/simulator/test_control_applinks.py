"""``/_sim/applinks``: create an OAuth 2 incoming link in one call."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate

LINK = {
    "type": "oauth2",
    "name": "Packagist",
    "redirect_urls": [
        "https://packagist.com/oauth/register/service/acme",
        "https://packagist.com/oauth/login/check-custom/acme",
    ],
    "scope": "REPO_READ",
}


async def test_create_answers_the_credentials(client: Client, store: Store) -> None:
    response = await client.post("/_sim/applinks", json=LINK)
    assert response.status == 201
    body = validate(await response.json(), "control/applink.json")
    assert body["redirect_urls"] == LINK["redirect_urls"]
    assert body["scope"] == "REPO_READ"
    stored = store.oauth2.clients[body["client_id"]]
    assert stored.client_secret == body["client_secret"]
    assert stored.name == "Packagist"


async def test_created_link_is_on_the_admin_rest_and_the_list(client: Client) -> None:
    created = await (await client.post("/_sim/applinks", json=LINK)).json()
    rest = await client.get("/rest/oauth2/latest/client", headers=basic("admin"))
    assert [c["clientId"] for c in await rest.json()] == [created["client_id"]]
    listing = await client.get("/_sim/applinks")
    body = validate(await listing.json(), "control/applinks.json")
    assert body["size"] == 1


async def test_scope_defaults_to_repo_read(client: Client) -> None:
    link = {k: v for k, v in LINK.items() if k != "scope"}
    body = await (await client.post("/_sim/applinks", json=link)).json()
    assert body["scope"] == "REPO_READ"


@pytest.mark.parametrize(
    ("change", "context"),
    [
        ({"type": "oauth3"}, "type"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"redirect_urls": "https://x.example/cb"}, "redirect_urls"),
        ({"redirect_urls": []}, "redirect_urls"),
        ({"redirect_urls": ["http://plain.example/cb"]}, "redirect_urls"),
        ({"redirect_urls": ["https://x.example/cb#f"]}, "redirect_urls"),
        ({"scope": "REPO_EVERYTHING"}, "scope"),
        ({"scope": ""}, "scope"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_links_are_400_naming_the_field(
    client: Client, store: Store, change: dict[str, Any], context: str
) -> None:
    response = await client.post("/_sim/applinks", json={**LINK, **change})
    assert response.status == 400
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["context"] == context
    assert store.oauth2.clients == {}


async def test_duplicate_name_is_refused(client: Client) -> None:
    assert (await client.post("/_sim/applinks", json=LINK)).status == 201
    again = await client.post("/_sim/applinks", json={**LINK, "name": "packagist"})
    assert again.status == 400
    assert (await again.json())["errors"][0]["context"] == "name"


async def test_oauth2_links_need_7_21(client: Client, store: Store) -> None:
    store.config.patch({"version": "7.20.0"})
    response = await client.post("/_sim/applinks", json=LINK)
    assert response.status == 400
    assert "7.21" in (await response.json())["errors"][0]["message"]


async def test_reset_forgets_links(client: Client, store: Store) -> None:
    await client.post("/_sim/applinks", json=LINK)
    await client.post("/_sim/reset")
    assert store.oauth2.clients == {}
