"""The control API under /_sim/: health, reset, config, clock, journal, faults, control token."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import ClientResponse

from simulator.keys import store_key
from simulator.model import AccessToken
from simulator.settings import Settings
from simulator.store import Store
from simulator.version import BitbucketVersion
from tests.conftest import Client
from tests.schemas import validate

JSON = "application/json;charset=UTF-8"
CONTEXT = Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")
TOKEN = Settings(port=0, control_token="t")

#: The control API reads JSON only.
JSON_TYPE = {"Content-Type": "application/json"}


async def error_of(response: ClientResponse, status: int, context: str | None = None) -> str:
    """Assert an error in the envelope with this status and context; return its message."""
    assert response.status == status
    assert response.headers["Content-Type"] == JSON
    body = validate(await response.json(), "error.json")
    assert body["errors"][0]["context"] == context
    message: str = body["errors"][0]["message"]
    return message


async def ok_json(response: ClientResponse, schema: str, status: int = 200) -> Any:
    """Assert a JSON answer with this status and return it validated."""
    assert response.status == status
    assert response.headers["Content-Type"] == JSON
    return validate(await response.json(), schema)


# -- health -----------------------------------------------------------------------------------


async def test_health_answers_ok_and_the_configured_version(client: Client) -> None:
    body = await ok_json(await client.get("/_sim/health"), "control/health.json")
    assert body == {"status": "ok", "version": "9.4.16"}


async def test_health_reports_the_version_set_through_config(client: Client) -> None:
    await client.patch("/_sim/config", json={"version": "8.19.1"})
    body = await ok_json(await client.get("/_sim/health"), "control/health.json")
    assert body["version"] == "8.19.1"


async def test_health_with_a_wrong_method_is_405_in_the_envelope(client: Client) -> None:
    await error_of(await client.post("/_sim/health"), 405)


async def test_unknown_control_path_is_404_in_the_envelope(client: Client) -> None:
    await error_of(await client.get("/_sim/nothing"), 404)


# -- reset ------------------------------------------------------------------------------------


async def test_reset_answers_200_with_reset_true(client: Client) -> None:
    body = await ok_json(await client.post("/_sim/reset"), "control/reset.json")
    assert body == {"reset": True}


async def test_reset_restores_config_clock_journal_faults_and_sessions(
    client: Client, store: Store
) -> None:
    await client.patch("/_sim/config", json={"version": "7.21.0"})
    await client.post("/_sim/clock", json={"advance_seconds": 86400})
    await client.get("/rest/api/1.0/probe")
    await client.post("/_sim/faults", json={"path_prefix": "/x", "status": 503, "times": None})
    admin = store.catalog.users_by_name["admin"]
    store.create_session(admin)
    store.access_tokens["t1"] = AccessToken(
        id="t1", secret="s", user_id=admin.id, name="ci", permissions=(), created_ms=0
    )

    await ok_json(await client.post("/_sim/reset"), "control/reset.json")

    assert client.app is not None
    assert client.app[store_key] is store
    assert str(store.config.version) == "9.4.16"
    assert store.clock.offset == 0
    assert len(store.journal) == 0
    assert store.faults.faults == []
    assert store.sessions == {}
    assert store.access_tokens == {}


async def test_reset_with_get_is_405(client: Client) -> None:
    await error_of(await client.get("/_sim/reset"), 405)


# -- config -----------------------------------------------------------------------------------


async def test_get_config_answers_the_runtime_config(client: Client) -> None:
    body = await ok_json(await client.get("/_sim/config"), "control/config.json")
    assert body["version"] == "9.4.16"


async def test_patch_config_changes_the_version_and_answers_the_new_config(
    client: Client, store: Store
) -> None:
    response = await client.patch("/_sim/config", json={"version": "8.19"})
    body = await ok_json(response, "control/config.json")
    assert body["version"] == "8.19.0"
    assert store.config.version == BitbucketVersion(8, 19, 0)


async def test_patch_config_with_an_empty_object_changes_nothing(client: Client) -> None:
    body = await ok_json(await client.patch("/_sim/config", json={}), "control/config.json")
    assert body["version"] == "9.4.16"


async def test_patch_config_with_an_unknown_key_is_400_naming_it(
    client: Client, store: Store
) -> None:
    response = await client.patch("/_sim/config", json={"version": "8.0.0", "colour": "red"})
    await error_of(response, 400, "colour")
    assert str(store.config.version) == "9.4.16"


@pytest.mark.parametrize("version", ["eight", 8, None, "1.2.3.4"])
async def test_patch_config_with_a_bad_version_is_400_and_changes_nothing(
    client: Client, store: Store, version: object
) -> None:
    await error_of(await client.patch("/_sim/config", json={"version": version}), 400, "version")
    assert str(store.config.version) == "9.4.16"


@pytest.mark.parametrize("zone", ["UTC", "+1000", "+14:01", "-15:00", "+10:60", 10, None])
async def test_patch_config_with_a_bad_time_zone_is_400_and_changes_nothing(
    client: Client, store: Store, zone: object
) -> None:
    await error_of(await client.patch("/_sim/config", json={"time_zone": zone}), 400, "time_zone")
    assert store.config.time_zone == "+00:00"


async def test_patch_config_sets_the_time_zone_and_reset_forgets_it(
    client: Client, store: Store
) -> None:
    answer = await client.patch("/_sim/config", json={"time_zone": "+05:30"})
    assert (await answer.json())["time_zone"] == "+05:30"
    await client.post("/_sim/reset")
    assert store.config.time_zone == "+00:00"


@pytest.mark.parametrize("body", [b"", b"{", b"NaN", b"\xff\xfe", b"[" * 100_000])
async def test_patch_config_with_malformed_json_is_400(client: Client, body: bytes) -> None:
    message = await error_of(await client.patch("/_sim/config", data=body, headers=JSON_TYPE), 400)
    assert "JSON" in message


@pytest.mark.parametrize("body", [b"[]", b'"8.19.1"', b"3", b"null"])
async def test_patch_config_with_a_non_object_is_400(client: Client, body: bytes) -> None:
    message = await error_of(await client.patch("/_sim/config", data=body, headers=JSON_TYPE), 400)
    assert "JSON object" in message


async def test_put_config_is_405(client: Client) -> None:
    await error_of(await client.put("/_sim/config", json={}), 405)


# -- clock ------------------------------------------------------------------------------------


async def test_get_clock_answers_the_simulated_now_without_advancing(
    client: Client, store: Store
) -> None:
    before = time.time()
    body = await ok_json(await client.get("/_sim/clock"), "control/clock.json")
    assert body["offset_seconds"] == 0
    assert before <= body["now"] <= time.time()
    assert body["now_ms"] == int(body["now"] * 1000)
    assert store.clock.offset == 0


async def test_post_clock_advances_store_clock_now(client: Client, store: Store) -> None:
    before = store.clock.now()
    response = await client.post("/_sim/clock", json={"advance_seconds": 3600})
    body = await ok_json(response, "control/clock.json")
    assert body["offset_seconds"] == 3600
    assert body["now"] >= before + 3600
    assert body["now_ms"] == int(body["now"] * 1000)
    assert store.clock.now() >= before + 3600
    assert store.clock.offset == 3600


async def test_post_clock_advances_accumulate_and_take_fractions(
    client: Client, store: Store
) -> None:
    await client.post("/_sim/clock", json={"advance_seconds": 1.5})
    response = await client.post("/_sim/clock", json={"advance_seconds": 0})
    body = await ok_json(response, "control/clock.json")
    assert body["offset_seconds"] == 1.5
    assert store.clock.offset == 1.5


@pytest.mark.parametrize(
    "body",
    [
        {"advance_seconds": -1},
        {"advance_seconds": "60"},
        {"advance_seconds": True},
        {"advance_seconds": None},
        {"advance_seconds": 10**400},
        {"advance_seconds": 1e12},
        {},
        {"advance_seconds": 1, "rewind": True},
    ],
)
async def test_post_clock_with_a_bad_body_is_400_and_does_not_move_time(
    client: Client, store: Store, body: dict[str, Any]
) -> None:
    message = await error_of(await client.post("/_sim/clock", json=body), 400, *_context(body))
    assert message
    assert store.clock.offset == 0


def _context(body: dict[str, Any]) -> list[str]:
    return ["rewind"] if "rewind" in body else ["advance_seconds"]


async def test_post_clock_with_a_non_object_is_400(client: Client) -> None:
    await error_of(await client.post("/_sim/clock", json=[60]), 400)


# -- journal ----------------------------------------------------------------------------------


async def test_journal_records_non_control_exchanges_only(client: Client) -> None:
    await client.get("/rest/api/1.0/probe", params={"limit": "5"})
    await client.get("/_sim/health")
    body = await ok_json(await client.get("/_sim/journal"), "control/journal.json")
    assert body["size"] == 1
    (entry,) = body["entries"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/rest/api/1.0/probe"
    assert entry["query"] == {"limit": "5"}
    assert entry["status"] == 404


async def test_journal_filters_by_path_prefix_and_method(client: Client) -> None:
    await client.get("/rest/api/1.0/one")
    await client.post("/rest/api/1.0/two")
    await client.get("/plugins/servlet/three")
    by_prefix = await ok_json(
        await client.get("/_sim/journal", params={"path_prefix": "/rest/"}), "control/journal.json"
    )
    assert [e["path"] for e in by_prefix["entries"]] == ["/rest/api/1.0/one", "/rest/api/1.0/two"]
    both = await ok_json(
        await client.get("/_sim/journal", params={"path_prefix": "/rest/", "method": "post"}),
        "control/journal.json",
    )
    assert [e["path"] for e in both["entries"]] == ["/rest/api/1.0/two"]
    assert both["size"] == 1


async def test_journal_since_answers_only_later_entries(client: Client) -> None:
    await client.get("/rest/api/1.0/one")
    first = await ok_json(await client.get("/_sim/journal"), "control/journal.json")
    mark = first["entries"][-1]["id"]
    await client.get("/rest/api/1.0/two")
    later = await ok_json(
        await client.get("/_sim/journal", params={"since": str(mark)}), "control/journal.json"
    )
    assert [e["path"] for e in later["entries"]] == ["/rest/api/1.0/two"]


@pytest.mark.parametrize(
    ("query", "context"),
    [
        ("since=-1", "since"),
        ("since=abc", "since"),
        ("path_prefix=rest", "path_prefix"),
        ("method=G%20T", "method"),
        ("method=GET&method=POST", "method"),
        ("colour=red", "colour"),
    ],
)
async def test_journal_with_a_bad_filter_is_400_naming_it(
    client: Client, query: str, context: str
) -> None:
    await error_of(await client.get("/_sim/journal?" + query), 400, context)


async def test_delete_journal_is_204_and_empties_it(client: Client, store: Store) -> None:
    await client.get("/rest/api/1.0/probe")
    response = await client.delete("/_sim/journal")
    assert response.status == 204
    assert await response.read() == b""
    body = await ok_json(await client.get("/_sim/journal"), "control/journal.json")
    assert body == {"entries": [], "size": 0}
    assert len(store.journal) == 0


@pytest.mark.parametrize("settings", [Settings(port=0, journal_size=3)])
async def test_journal_keeps_only_the_last_journal_size_exchanges(client: Client) -> None:
    for n in range(5):
        await client.get(f"/probe/{n}")
    body = await ok_json(await client.get("/_sim/journal"), "control/journal.json")
    assert body["size"] == 3
    assert [e["path"] for e in body["entries"]] == ["/probe/2", "/probe/3", "/probe/4"]
    assert [e["id"] for e in body["entries"]] == [3, 4, 5]


async def test_journal_with_post_is_405(client: Client) -> None:
    await error_of(await client.post("/_sim/journal"), 405)


# -- faults -----------------------------------------------------------------------------------


async def test_post_fault_is_201_with_the_fault(client: Client) -> None:
    request = {"path_prefix": "/rest/api/1.0/repos", "status": 503, "delay_seconds": 0, "times": 2}
    body = await ok_json(await client.post("/_sim/faults", json=request), "control/fault.json", 201)
    assert body == {**request, "delay_seconds": 0.0}


async def test_post_fault_defaults_to_once_without_delay(client: Client) -> None:
    response = await client.post("/_sim/faults", json={"path_prefix": "/x", "status": 500})
    body = await ok_json(response, "control/fault.json", 201)
    assert body == {"path_prefix": "/x", "status": 500, "delay_seconds": 0.0, "times": 1}


async def test_fault_answers_its_status_in_the_envelope_then_expires(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/rest/api/1.0/repos", "status": 503})
    message = await error_of(await client.get("/rest/api/1.0/repos?limit=1"), 503)
    assert "/rest/api/1.0/repos" in message
    assert (await client.get("/rest/api/1.0/repos?limit=1")).status != 503
    listed = await ok_json(await client.get("/_sim/faults"), "control/faults.json")
    assert listed == {"faults": [], "size": 0}


async def test_fault_does_not_apply_outside_its_prefix(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/rest/api/1.0/repos", "status": 503})
    assert (await client.get("/rest/api/1.0/projects")).status != 503
    listed = await ok_json(await client.get("/_sim/faults"), "control/faults.json")
    assert listed["faults"][0]["times"] == 1


async def test_fault_with_times_null_lasts_until_cleared(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/a", "status": 502, "times": None})
    for _ in range(3):
        await error_of(await client.get("/a/b"), 502)
    response = await client.delete("/_sim/faults")
    assert response.status == 204
    assert (await client.get("/a/b")).status == 404


async def test_get_faults_lists_them_with_their_remaining_uses(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/a", "status": 500, "times": 3})
    await client.post("/_sim/faults", json={"path_prefix": "/b", "delay_seconds": 0.01})
    await client.get("/a")
    body = await ok_json(await client.get("/_sim/faults"), "control/faults.json")
    assert body["size"] == 2
    assert [(f["path_prefix"], f["times"]) for f in body["faults"]] == [("/a", 2), ("/b", 1)]


async def test_faults_never_apply_to_the_control_api(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/", "status": 500, "times": None})
    await ok_json(await client.get("/_sim/health"), "control/health.json")
    await error_of(await client.get("/anything"), 500)


async def test_fault_with_a_small_delay_and_no_status_passes_through(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/slow", "delay_seconds": 0.01})
    started = time.monotonic()
    response = await client.get("/slow")
    assert time.monotonic() - started >= 0.01
    await error_of(response, 404)


async def test_fault_with_status_204_answers_no_body(client: Client) -> None:
    await client.post("/_sim/faults", json={"path_prefix": "/empty", "status": 204})
    response = await client.get("/empty")
    assert response.status == 204
    assert await response.read() == b""


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"status": 503}, "path_prefix"),
        ({"path_prefix": "rest", "status": 503}, "path_prefix"),
        ({"path_prefix": 7, "status": 503}, "path_prefix"),
        ({"path_prefix": "/a?b=c", "status": 503}, "path_prefix"),
        ({"path_prefix": "/_sim/health", "status": 503}, "path_prefix"),
        ({"path_prefix": "/_sim", "status": 503}, "path_prefix"),
        ({"path_prefix": "/a", "status": 99}, "status"),
        ({"path_prefix": "/a", "status": 100}, "status"),
        ({"path_prefix": "/a", "status": 600}, "status"),
        ({"path_prefix": "/a", "status": "503"}, "status"),
        ({"path_prefix": "/a", "status": True}, "status"),
        ({"path_prefix": "/a", "status": 503.0}, "status"),
        ({"path_prefix": "/a", "delay_seconds": -1}, "delay_seconds"),
        ({"path_prefix": "/a", "delay_seconds": 31}, "delay_seconds"),
        ({"path_prefix": "/a", "delay_seconds": "1"}, "delay_seconds"),
        ({"path_prefix": "/a", "status": 503, "times": 0}, "times"),
        ({"path_prefix": "/a", "status": 503, "times": 1.5}, "times"),
        ({"path_prefix": "/a", "status": 503, "times": False}, "times"),
        ({"path_prefix": "/a"}, "status"),
        ({"path_prefix": "/a", "delay_seconds": 0}, "status"),
        ({"path_prefix": "/a", "status": 503, "colour": "red"}, "colour"),
    ],
)
async def test_post_fault_with_a_bad_field_is_400_naming_it(
    client: Client, store: Store, body: dict[str, Any], context: str
) -> None:
    await error_of(await client.post("/_sim/faults", json=body), 400, context)
    assert store.faults.faults == []


async def test_post_fault_with_malformed_json_is_400(client: Client) -> None:
    await error_of(await client.post("/_sim/faults", data=b"{oops", headers=JSON_TYPE), 400)


async def test_put_faults_is_405(client: Client) -> None:
    await error_of(await client.put("/_sim/faults", json={}), 405)


# -- control token ----------------------------------------------------------------------------

CONTROL_CALLS = [
    ("POST", "/_sim/reset"),
    ("GET", "/_sim/config"),
    ("PATCH", "/_sim/config"),
    ("GET", "/_sim/clock"),
    ("POST", "/_sim/clock"),
    ("GET", "/_sim/journal"),
    ("DELETE", "/_sim/journal"),
    ("GET", "/_sim/faults"),
    ("POST", "/_sim/faults"),
    ("DELETE", "/_sim/faults"),
    ("GET", "/_sim/openapi.json"),
]


@pytest.mark.parametrize("settings", [TOKEN])
@pytest.mark.parametrize(("method", "path"), CONTROL_CALLS)
async def test_control_api_without_the_token_is_401(
    client: Client, store: Store, method: str, path: str
) -> None:
    await client.patch("/_sim/config", json={"version": "8.0.0"})
    response = await client.request(method, path, json={"advance_seconds": 1})
    message = await error_of(response, 401, "X-Sim-Control-Token")
    assert "X-Sim-Control-Token" in message
    assert str(store.config.version) == "9.4.16"


@pytest.mark.parametrize("settings", [TOKEN])
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/_sim/nothing"), ("DELETE", "/_sim/health"), ("GET", "/_sim/")]
)
async def test_unknown_control_paths_and_wrong_methods_also_need_the_token(
    client: Client, method: str, path: str
) -> None:
    await error_of(await client.request(method, path), 401, "X-Sim-Control-Token")


@pytest.mark.parametrize("settings", [TOKEN])
async def test_with_the_token_unknown_paths_are_404_and_wrong_methods_405(client: Client) -> None:
    headers = {"X-Sim-Control-Token": "t"}
    await error_of(await client.get("/_sim/nothing", headers=headers), 404)
    await error_of(await client.delete("/_sim/health", headers=headers), 405)


@pytest.mark.parametrize("settings", [TOKEN])
@pytest.mark.parametrize("token", ["wrong", "", "tt", "T"])
async def test_control_api_with_a_wrong_token_is_401(client: Client, token: str) -> None:
    response = await client.get("/_sim/config", headers={"X-Sim-Control-Token": token})
    await error_of(response, 401, "X-Sim-Control-Token")


@pytest.mark.parametrize("settings", [TOKEN])
async def test_health_needs_no_token_for_a_containers_health_check(client: Client) -> None:
    await ok_json(await client.get("/_sim/health"), "control/health.json")
    await error_of(await client.get("/_sim/config"), 401, "X-Sim-Control-Token")


@pytest.mark.parametrize("settings", [TOKEN])
async def test_control_api_with_the_token_answers(client: Client) -> None:
    headers = {"X-Sim-Control-Token": "t"}
    await ok_json(await client.get("/_sim/health", headers=headers), "control/health.json")
    response = await client.post("/_sim/clock", json={"advance_seconds": 5}, headers=headers)
    assert (await ok_json(response, "control/clock.json"))["offset_seconds"] == 5


async def test_control_api_needs_no_token_when_none_is_set(client: Client) -> None:
    response = await client.get("/_sim/health", headers={"X-Sim-Control-Token": "anything"})
    await ok_json(response, "control/health.json")


# -- under a context path ---------------------------------------------------------------------


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_control_api_lives_under_the_context_path(client: Client) -> None:
    await ok_json(await client.get("/bitbucket/_sim/health"), "control/health.json")
    await error_of(await client.get("/_sim/health"), 404)


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_reset_and_clock_work_under_the_context_path(client: Client, store: Store) -> None:
    await client.post("/bitbucket/_sim/clock", json={"advance_seconds": 10})
    assert store.clock.offset == 10
    await ok_json(await client.post("/bitbucket/_sim/reset"), "control/reset.json")
    assert store.clock.offset == 0


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_fault_prefixes_are_relative_to_the_context_path(client: Client) -> None:
    fault = {"path_prefix": "/rest/api/1.0/repos", "status": 503}
    await ok_json(
        await client.post("/bitbucket/_sim/faults", json=fault), "control/fault.json", 201
    )
    await error_of(await client.get("/bitbucket/rest/api/1.0/repos"), 503)


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_faults_never_apply_to_the_control_api_under_a_context_path(client: Client) -> None:
    await client.post("/bitbucket/_sim/faults", json={"path_prefix": "/", "status": 500})
    await ok_json(await client.get("/bitbucket/_sim/health"), "control/health.json")


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_journal_under_a_context_path_records_full_paths_but_no_control_calls(
    client: Client,
) -> None:
    await client.get("/bitbucket/rest/api/1.0/probe")
    await client.get("/bitbucket/_sim/clock")
    response = await client.get("/bitbucket/_sim/journal", params={"path_prefix": "/bitbucket/"})
    body = await ok_json(response, "control/journal.json")
    assert [e["path"] for e in body["entries"]] == ["/bitbucket/rest/api/1.0/probe"]


@pytest.mark.parametrize("settings", [CONTEXT])
async def test_wrong_method_under_a_context_path_is_405(client: Client) -> None:
    await error_of(await client.delete("/bitbucket/_sim/health"), 405)
