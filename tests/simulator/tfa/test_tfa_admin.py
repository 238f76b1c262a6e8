"""The plugin's admin settings page: who may see it, what it shows, and that a save (all or
nothing) edits the same settings as ``PATCH /_sim/config``."""

from __future__ import annotations

from typing import Any

from simulator.store import SESSION_COOKIE, Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.oauth2.test_oauth2_flow import (
    FormParser,
    make_link,
    obtain_tokens,
    parse_page,
)
from tests.simulator.tfa.support import ADMIN, configure, cookie_header, html_page, install

GOOD = {
    "enforce": "groups",
    "groups": "developers, release-managers",
    "ip_whitelist": "10.0.0.0/8\n192.0.2.7",
    "oauth_whitelist": "on",
    "blocked_response": "403",
}


def admin_cookie(store: Store) -> dict[str, str]:
    """A browser session of the system admin."""
    session = store.create_session(store.catalog.users_by_name["admin"])
    return cookie_header(**{SESSION_COOKIE: session.id})


async def settings_page(client: Client, headers: dict[str, str]) -> FormParser:
    """The admin page, parsed."""
    response = await client.get(ADMIN, headers=headers, allow_redirects=False)
    return parse_page(await html_page(response))


async def current(client: Client) -> dict[str, Any]:
    """The plugin's section of ``GET /_sim/config``."""
    body = validate(await (await client.get("/_sim/config")).json(), "tfa/config.json")
    section: dict[str, Any] = body["tfa"]
    return section


async def save(
    client: Client, headers: dict[str, str], fields: dict[str, str], with_token: bool = True
) -> Any:
    """POST the settings form (with the page's XSRF token unless told otherwise)."""
    data = dict(fields)
    if with_token:
        data["atl_token"] = (await settings_page(client, headers)).hidden()["atl_token"]
    return await client.post(ADMIN, data=data, headers=headers, allow_redirects=False)


def checked(page: FormParser, element_id: str) -> bool:
    """Whether the input with this id is checked."""
    found = next(i for i in page.inputs if i.get("id") == element_id)
    return "checked" in found


async def test_admin_page_is_404_when_not_installed(client: Client) -> None:
    response = await client.get(ADMIN, headers=basic("admin"))
    assert response.status == 404


async def test_anonymous_caller_is_sent_to_log_in(client: Client, store: Store) -> None:
    await install(client)
    response = await client.get(ADMIN, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == (
        store.base_url + "/login?next=%2Fplugins%2Fservlet%2Ftfa%2Fadmin"
    )


async def test_non_admin_gets_a_401_page(client: Client, store: Store) -> None:
    await install(client)
    session = store.create_session(store.catalog.users_by_name["alice"])
    response = await client.get(ADMIN, headers=cookie_header(**{SESSION_COOKIE: session.id}))
    assert "Only system administrators" in await html_page(response, status=401)


async def test_page_shows_the_settings_patched_through_the_control_api(
    client: Client, store: Store
) -> None:
    await install(
        client,
        oauth_whitelist=True,
        enforce="all-except-groups",
        groups=["bots"],
        ip_whitelist=["10.0.0.0/8"],
        trust_x_forwarded_for=True,
    )
    page = await settings_page(client, admin_cookie(store))
    assert "Plugin settings" in page.text
    assert "Enable OAuth whitelist" in page.text
    assert checked(page, "tfa-oauth-whitelist")
    assert checked(page, "enforce-all-except-groups")
    assert not checked(page, "enforce-all")
    assert checked(page, "tfa-trust-x-forwarded-for")
    assert next(i for i in page.inputs if i.get("id") == "tfa-groups")["value"] == "bots"
    assert "10.0.0.0/8" in page.text


async def test_save_changes_the_config_and_redirects_with_a_message(
    client: Client, store: Store
) -> None:
    await install(client)
    headers = admin_cookie(store)
    response = await save(client, headers, GOOD)
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + ADMIN + "?saved=true"
    assert await current(client) == {
        "installed": True,
        "oauth_whitelist": True,
        "enforce": "groups",
        "groups": ["developers", "release-managers"],
        "ip_whitelist": ["10.0.0.0/8", "192.0.2.7"],
        "blocked_response": "403",
        "trust_x_forwarded_for": False,
    }
    saved = await client.get(ADMIN + "?saved=true", headers=headers)
    assert "The settings were saved." in await html_page(saved)


async def test_unticked_checkbox_turns_the_oauth_whitelist_off(
    client: Client, store: Store
) -> None:
    await install(client, oauth_whitelist=True)
    fields = {key: value for key, value in GOOD.items() if key != "oauth_whitelist"}
    assert (await save(client, admin_cookie(store), fields)).status == 303
    assert (await current(client))["oauth_whitelist"] is False


async def test_save_with_basic_auth_needs_the_no_check_header(client: Client) -> None:
    await install(client)
    refused = await client.post(ADMIN, data=GOOD, headers=basic("admin"))
    assert "XSRF" in await html_page(refused, status=403)
    headers = {**basic("admin"), "X-Atlassian-Token": "no-check"}
    response = await client.post(ADMIN, data=GOOD, headers=headers, allow_redirects=False)
    assert response.status == 303


async def test_save_without_the_xsrf_token_changes_nothing(client: Client, store: Store) -> None:
    await install(client)
    before = await current(client)
    response = await save(client, admin_cookie(store), GOOD, with_token=False)
    assert "XSRF" in await html_page(response, status=403)
    assert await current(client) == before


async def test_bad_ip_whitelist_entry_is_a_form_error(client: Client, store: Store) -> None:
    await install(client)
    before = await current(client)
    fields = {**GOOD, "ip_whitelist": "10.0.0.0/8\n300.1.1.1/8"}
    response = await save(client, admin_cookie(store), fields)
    page = parse_page(await html_page(response, status=400))
    assert "not an address or range: 300.1.1.1/8" in page.text
    assert "300.1.1.1/8" in page.text  # the entered value is kept
    assert await current(client) == before


async def test_groups_enforcement_without_a_group_is_a_form_error(
    client: Client, store: Store
) -> None:
    await install(client)
    response = await save(client, admin_cookie(store), {**GOOD, "groups": " , "})
    assert "Name at least one group" in await html_page(response, status=400)
    assert (await current(client))["enforce"] == "all"


async def test_unknown_enforcement_is_a_form_error(client: Client, store: Store) -> None:
    await install(client)
    for value in ("", "everyone"):
        response = await save(client, admin_cookie(store), {**GOOD, "enforce": value})
        await html_page(response, status=400)
    assert (await current(client))["enforce"] == "all"


async def test_unknown_blocked_response_is_a_form_error(client: Client, store: Store) -> None:
    await install(client)
    response = await save(client, admin_cookie(store), {**GOOD, "blocked_response": "500"})
    assert "blocked_response-error" in await html_page(response, status=400)


async def test_entered_values_are_escaped(client: Client, store: Store) -> None:
    await install(client)
    fields = {**GOOD, "groups": '<script>alert(1)</script>"', "ip_whitelist": "<b>x</b>"}
    response = await save(client, admin_cookie(store), fields)
    text = await html_page(response, status=400)
    assert "<script>" not in text
    assert "<b>" not in text
    assert "&lt;script&gt;" in text


async def test_whitelist_saved_on_the_page_lets_oauth_through(client: Client, store: Store) -> None:
    tokens = await obtain_tokens(client, store, make_link(store), "alice")
    await configure(client, installed=True, oauth_whitelist=False)
    call = {"Authorization": f"Bearer {tokens['access_token']}"}
    blocked = await client.get("/rest/api/1.0/application-properties", headers=call)
    assert blocked.status == 401
    fields = {**GOOD, "enforce": "all", "blocked_response": "redirect"}
    assert (await save(client, admin_cookie(store), fields)).status == 303
    allowed = await client.get("/rest/api/1.0/application-properties", headers=call)
    assert allowed.status == 200
    assert allowed.headers["X-AUSERNAME"] == "alice"
