"""``GET application-properties``: the anonymous version probe and its headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.rest.capabilities import SERVED
from simulator.rest.properties import build_date
from simulator.settings import Settings
from simulator.store import Store
from simulator.version import BitbucketVersion
from tests.conftest import Client, basic
from tests.schemas import validate

PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
prefixes = pytest.mark.parametrize("prefix", PREFIXES)


@prefixes
async def test_anonymous_caller_gets_the_version_as_strings(
    client: Client, store: Store, prefix: str
) -> None:
    response = await client.get(f"{prefix}/application-properties")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "application-properties.json")
    version = store.config.version
    assert body == {
        "version": str(version),
        "buildNumber": str(version.build_number),
        "buildDate": build_date(version),
        "displayName": "Bitbucket",
    }


@prefixes
async def test_response_carries_bitbucket_caching_headers(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/application-properties")
    assert response.headers["Cache-Control"] == "no-cache, no-transform"
    assert response.headers["Vary"] == "X-AUSERNAME,Accept-Encoding"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-AREQUESTID"]


@prefixes
async def test_anonymous_response_has_no_user_headers(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/application-properties")
    assert "X-AUSERNAME" not in response.headers
    assert "X-AUSERID" not in response.headers


@prefixes
async def test_basic_auth_adds_user_headers(client: Client, store: Store, prefix: str) -> None:
    response = await client.get(f"{prefix}/application-properties", headers=basic("alice"))
    assert response.status == 200
    validate(await response.json(), "application-properties.json")
    alice = store.catalog.users_by_name["alice"]
    assert response.headers["X-AUSERNAME"] == "alice"
    assert response.headers["X-AUSERID"] == str(alice.id)
    assert response.headers["X-AREQUESTID"]


@prefixes
async def test_user_header_carries_the_name_not_the_slug(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/application-properties", headers=basic("jane@example.com")
    )
    assert response.status == 200
    validate(await response.json(), "application-properties.json")
    assert response.headers["X-AUSERNAME"] == "jane@example.com"


@prefixes
async def test_unknown_bearer_token_is_answered_anonymously(client: Client, prefix: str) -> None:
    response = await client.get(
        f"{prefix}/application-properties", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status == 200
    validate(await response.json(), "application-properties.json")
    assert "X-AUSERNAME" not in response.headers
    assert "X-AUSERID" not in response.headers


@prefixes
async def test_wrong_basic_password_is_401_even_here(client: Client, prefix: str) -> None:
    response = await client.get(f"{prefix}/application-properties", headers=basic("alice", "wrong"))
    assert response.status == 401
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["exceptionName"] == (
        "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
    )


@prefixes
async def test_version_follows_the_runtime_config(
    client: Client, store: Store, prefix: str
) -> None:
    store.config.patch({"version": "7.21.0"})
    response = await client.get(f"{prefix}/application-properties")
    body = validate(await response.json(), "application-properties.json")
    assert body["version"] == "7.21.0"
    assert body["buildNumber"] == "7021000"
    assert body["buildDate"] == build_date(BitbucketVersion(7, 21, 0))


@prefixes
async def test_build_date_is_stable_between_calls(client: Client, prefix: str) -> None:
    first = await (await client.get(f"{prefix}/application-properties")).json()
    second = await (await client.get(f"{prefix}/application-properties")).json()
    assert first["buildDate"] == second["buildDate"]


@prefixes
async def test_post_is_405_in_the_envelope(client: Client, prefix: str) -> None:
    response = await client.post(f"{prefix}/application-properties")
    assert response.status == 405
    validate(await response.json(), "error.json")


def test_build_number_matches_bitbucket_examples() -> None:
    assert BitbucketVersion.parse("4.8.5").build_number == 4008005
    assert BitbucketVersion.parse("9.4.22").build_number == 9004022


def test_build_date_is_epoch_milliseconds_growing_with_the_version() -> None:
    older = int(build_date(BitbucketVersion(7, 21, 0)))
    newer = int(build_date(BitbucketVersion(9, 4, 16)))
    assert older < newer
    assert older % 1000 == 0
    assert 1_500_000_000_000 < older < 2_000_000_000_000


@pytest.mark.parametrize("version", ["1.0", "latest"])
async def test_login_options_offer_the_login_form_anonymously(client: Client, version: str) -> None:
    # Git Credential Manager offers its username/token mode only when LOGIN_FORM is listed.
    response = await client.get(f"/rest/authconfig/{version}/login-options")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = validate(await response.json(), "login-options.json")
    assert {"type": "LOGIN_FORM"} in body["results"]


async def test_capabilities_name_stash_and_only_what_is_served(client: Client) -> None:
    # As Atlassian's Jenkins integration reads it (its capabilities-response.json fixture).
    response = await client.get("/rest/capabilities")
    assert response.status == 200
    body = validate(await response.json(), "capabilities.json")
    assert body["application"] == "stash"
    assert body["links"]["self"].endswith("/rest/capabilities")
    assert body["capabilities"] == {
        name: body["links"]["self"].removesuffix("/rest/capabilities") + path
        for name, (path, _) in SERVED.items()
    }
    assert body["capabilities"]["webhooks"].endswith("/rest/webhooks/latest/capabilities")


async def test_the_webhooks_capability_lists_the_events_and_needs_5_4(client: Client) -> None:
    # Atlassian's Jenkins integration fixture webhook-capabilities-response.json.
    capabilities = await (await client.get("/rest/capabilities")).json()
    path = capabilities["capabilities"]["webhooks"].split("127.0.0.1", 1)[1].split("/", 1)[1]
    answer = await client.get("/" + path)
    assert answer.status == 200
    events = validate(await answer.json(), "webhook-capabilities.json")["application-webhooks"]
    assert "repo:refs_changed" in events
    assert (await client.get("/rest/webhooks/1.0/capabilities")).status == 200
    await client.patch("/_sim/config", json={"version": "5.3.0"})
    assert "webhooks" not in (await (await client.get("/rest/capabilities")).json())["capabilities"]
    gone = await client.get("/rest/webhooks/latest/capabilities")
    assert gone.status == 404


async def test_capabilities_build_date_is_application_properties_date(
    client: Client, store: Store
) -> None:
    body = await (await client.get("/rest/capabilities")).json()
    millis = int(build_date(store.config.version))
    assert body["buildDate"] == datetime.fromtimestamp(millis / 1000, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


@pytest.mark.parametrize("settings", [Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")])
async def test_capabilities_links_carry_the_context_path(client: Client) -> None:
    body = await (await client.get("/bitbucket/rest/capabilities")).json()
    assert body["links"]["self"] == "http://127.0.0.1:7990/bitbucket/rest/capabilities"
