"""``/_sim/applinks``: create an OAuth 2 or OAuth 1 incoming link in one call."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth1.signing import KeyPair, make_key_pair, self_signed_certificate

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
        ({"type": None}, "type"),
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


# -- OAuth 1 links --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_keys() -> KeyPair:
    """A consumer key pair for the OAuth 1 links."""
    return make_key_pair()


def oauth1_link(keys: KeyPair, **changes: Any) -> dict[str, Any]:
    """A good ``POST /_sim/applinks`` body for an OAuth 1 link."""
    return {
        "type": "oauth1",
        "name": "Packagist",
        "consumer_key": "packagist-acme",
        "public_key": keys.public_pem,
        "callback_url": None,
        **changes,
    }


async def test_create_oauth1_link_answers_the_link(
    client: Client, store: Store, rsa_keys: KeyPair
) -> None:
    response = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys))
    assert response.status == 201
    body = validate(await response.json(), "control/applink.json")
    assert body["type"] == "oauth1"
    assert body["consumer_key"] == "packagist-acme"
    assert body["consumer_name"] == "Packagist"
    assert body["callback_url"] is None
    assert body["two_legged"] is False
    stored = store.oauth1.links[body["id"]]
    assert stored.public_key == rsa_keys.public_pem.strip()


async def test_oauth1_link_takes_a_certificate_and_the_optional_fields(
    client: Client, store: Store, rsa_keys: KeyPair
) -> None:
    link = oauth1_link(
        rsa_keys,
        public_key=self_signed_certificate(rsa_keys),
        callback_url="https://packagist.example/cb",
        consumer_name="Acme",
        description="Packages",
        two_legged=True,
        execute_as="bob",
        impersonation=True,
    )
    response = await client.post("/_sim/applinks", json=link)
    assert response.status == 201, await response.text()
    body = validate(await response.json(), "control/applink.json")
    assert body["callback_url"] == "https://packagist.example/cb"
    assert (body["consumer_name"], body["description"]) == ("Acme", "Packages")
    assert (body["two_legged"], body["execute_as"], body["impersonation"]) == (True, "bob", True)


async def test_oauth1_links_exist_in_every_version(
    client: Client, store: Store, rsa_keys: KeyPair
) -> None:
    store.config.patch({"version": "7.0.0"})
    response = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys))
    assert response.status == 201


async def test_listing_shows_both_kinds_oldest_first(
    client: Client, store: Store, rsa_keys: KeyPair
) -> None:
    await client.post("/_sim/applinks", json=LINK)
    store.clock.advance(1)
    await client.post("/_sim/applinks", json=oauth1_link(rsa_keys, name="Legacy"))
    body = validate(await (await client.get("/_sim/applinks")).json(), "control/applinks.json")
    assert [link["type"] for link in body["applinks"]] == ["oauth2", "oauth1"]
    assert body["size"] == 2


@pytest.mark.parametrize(
    ("change", "context"),
    [
        (
            {"public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"},
            "public_key",
        ),
        ({"public_key": "not a key"}, "public_key"),
        ({"public_key": None}, "public_key"),
        ({"consumer_key": ""}, "consumer_key"),
        ({"consumer_key": 7}, "consumer_key"),
        ({"name": " "}, "name"),
        ({"callback_url": "/relative"}, "callback_url"),
        ({"callback_url": 5}, "callback_url"),
        ({"consumer_name": ["x"]}, "consumer_name"),
        ({"two_legged": "yes"}, "two_legged"),
        ({"impersonation": 1}, "impersonation"),
        ({"execute_as": "nobody"}, "execute_as"),
        ({"redirect_urls": ["https://x.example/cb"]}, "redirect_urls"),
    ],
)
async def test_bad_oauth1_links_are_400_naming_the_field(
    client: Client, store: Store, rsa_keys: KeyPair, change: dict[str, Any], context: str
) -> None:
    response = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys, **change))
    assert response.status == 400
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["context"] == context
    assert store.oauth1.links == {}


async def test_private_key_is_refused_with_advice(client: Client, rsa_keys: KeyPair) -> None:
    link = oauth1_link(rsa_keys, public_key=rsa_keys.private_pem)
    response = await client.post("/_sim/applinks", json=link)
    assert response.status == 400
    assert "private key" in (await response.json())["errors"][0]["message"]


async def test_oauth1_consumer_keys_and_names_are_unique(client: Client, rsa_keys: KeyPair) -> None:
    assert (await client.post("/_sim/applinks", json=LINK)).status == 201
    same_name = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys))
    assert (await same_name.json())["errors"][0]["context"] == "name"
    first = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys, name="A"))
    assert first.status == 201
    again = await client.post("/_sim/applinks", json=oauth1_link(rsa_keys, name="B"))
    assert (await again.json())["errors"][0]["context"] == "consumer_key"


async def test_reset_forgets_oauth1_links(client: Client, store: Store, rsa_keys: KeyPair) -> None:
    await client.post("/_sim/applinks", json=oauth1_link(rsa_keys))
    await client.post("/_sim/reset")
    assert store.oauth1.links == {}
