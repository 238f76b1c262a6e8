"""The control API refuses what a web page could send through a developer's browser: another
Host (DNS rebinding), another Origin (cross-site fetch or form), a body that is not JSON."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client
from tests.schemas import validate

LINK = {"type": "oauth2", "name": "Planted", "redirect_urls": ["https://x.example/cb"]}


async def refused(response: Any, status: int, context: str) -> str:
    """Assert a refusal in Bitbucket's envelope; return its message."""
    assert response.status == status, await response.text()
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["context"] == context
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:7990", "10.0.0.1"])
async def test_a_foreign_host_is_refused_dns_rebinding(client: Client, host: str) -> None:
    response = await client.get("/_sim/applinks", headers={"Host": host})
    assert "control_hosts" in await refused(response, 403, "Host")


@pytest.mark.parametrize("host", ["127.0.0.1:7990", "localhost", "[::1]:7990", "LOCALHOST:1"])
async def test_loopback_hosts_are_answered(client: Client, host: str) -> None:
    assert (await client.get("/_sim/health", headers={"Host": host})).status == 200


@pytest.mark.parametrize(
    "origin", ["https://attacker.example", "http://127.0.0.1:3000", "null", "http://localhost"]
)
async def test_a_page_of_another_origin_cannot_plant_a_link(
    client: Client, store: Store, origin: str
) -> None:
    response = await client.post("/_sim/applinks", json=LINK, headers={"Origin": origin})
    await refused(response, 403, "Origin")
    assert store.oauth2.clients == {}


async def test_the_servers_own_origin_is_answered(client: Client) -> None:
    server = client.server
    own = f"http://{server.host}:{server.port}"
    assert (await client.get("/_sim/health", headers={"Origin": own})).status == 200


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
async def test_a_form_body_is_refused_even_when_empty(
    client: Client, store: Store, content_type: str
) -> None:
    body = b'{"type":"oauth2","name":"Planted","redirect_urls":["https://x.example/cb"]}'
    for data in (body, b""):
        response = await client.post(
            "/_sim/applinks", data=data, headers={"Content-Type": content_type}
        )
        await refused(response, 415, "Content-Type")
    store.clock.advance(5)
    reset = await client.post("/_sim/reset", headers={"Content-Type": content_type})
    await refused(reset, 415, "Content-Type")
    assert store.clock.offset == 5
    assert store.oauth2.clients == {}


async def test_a_bodyless_post_needs_no_content_type(client: Client) -> None:
    assert (await client.post("/_sim/reset")).status == 200


@pytest.fixture
def settings() -> Settings:
    return Settings(port=0, control_hosts=("bitbucket", "sim.internal"))


async def test_the_control_hosts_setting_adds_names(client: Client) -> None:
    assert (await client.get("/_sim/health", headers={"Host": "bitbucket:7990"})).status == 200
    assert (await client.get("/_sim/health", headers={"Host": "sim.internal"})).status == 200
    assert (await client.get("/_sim/health", headers={"Host": "other"})).status == 403


def test_control_hosts_come_from_the_environment() -> None:
    settings = Settings.from_sources(environ={"BBDC_SIM_CONTROL_HOSTS": "bitbucket, sim.internal"})
    assert settings.control_hosts == ("bitbucket", "sim.internal")
