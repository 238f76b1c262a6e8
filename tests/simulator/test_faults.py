"""The fault plan and its middleware (the control API's side is in test_control.py)."""

from __future__ import annotations

import pytest
from aiohttp import web

from simulator.faults import Fault, FaultPlan, fault_response, make_fault_middleware
from tests.conftest import Client, ClientFactory
from tests.schemas import validate


def test_take_counts_down_and_removes_a_spent_fault() -> None:
    plan = FaultPlan()
    plan.add(Fault("/a", status=503, remaining=2))
    assert plan.take("/a/b") is not None
    assert plan.faults[0].remaining == 1
    assert plan.take("/a") is not None
    assert plan.faults == []
    assert plan.take("/a") is None


def test_take_matches_the_first_added_fault_first() -> None:
    plan = FaultPlan()
    plan.add(Fault("/a", status=500))
    plan.add(Fault("/a/b", status=502))
    taken = plan.take("/a/b/c")
    assert taken is not None
    assert taken.status == 500
    taken = plan.take("/a/b/c")
    assert taken is not None
    assert taken.status == 502


def test_take_ignores_paths_outside_every_prefix() -> None:
    plan = FaultPlan()
    plan.add(Fault("/rest/api/1.0/repos", status=503))
    assert plan.take("/rest/api/1.0/projects") is None
    assert len(plan.faults) == 1


def test_a_fault_without_a_count_lasts_until_cleared() -> None:
    plan = FaultPlan()
    plan.add(Fault("/", status=500, remaining=None))
    for _ in range(5):
        assert plan.take("/x") is not None
    plan.clear()
    assert plan.take("/x") is None


def test_to_json_reports_the_remaining_uses_as_times() -> None:
    fault = Fault("/a", status=None, delay_seconds=0.5, remaining=None)
    assert validate(fault.to_json(), "control/fault.json") == {
        "path_prefix": "/a",
        "status": None,
        "delay_seconds": 0.5,
        "times": None,
    }


async def test_fault_response_is_the_bitbucket_envelope() -> None:
    response = fault_response(Fault("/a", status=503), 503)
    assert response.status == 503
    assert response.content_type == "application/json"
    assert response.body is not None


@pytest.mark.parametrize("status", [204, 205, 304])
def test_fault_response_has_no_body_where_http_forbids_one(status: int) -> None:
    assert fault_response(Fault("/a", status=status), status).body is None


async def ok(request: web.Request) -> web.Response:
    """A handler that always answers 200."""
    return web.Response(text="ok")


@pytest.fixture
async def plan_and_client(aiohttp_client: ClientFactory) -> tuple[FaultPlan, Client]:
    """A minimal app under the context path /ctx with only the fault middleware."""
    plan = FaultPlan()
    app = web.Application(middlewares=[make_fault_middleware(plan, "/ctx")])
    app.router.add_get("/ctx/rest/thing", ok)
    app.router.add_get("/ctx/_sim/health", ok)
    return plan, await aiohttp_client(app)


async def test_an_explicit_context_path_is_stripped_before_matching(
    plan_and_client: tuple[FaultPlan, Client],
) -> None:
    plan, client = plan_and_client
    plan.add(Fault("/rest/", status=503))
    response = await client.get("/ctx/rest/thing")
    assert response.status == 503
    validate(await response.json(), "error.json")
    assert (await client.get("/ctx/rest/thing")).status == 200


async def test_the_middleware_never_faults_the_control_api(
    plan_and_client: tuple[FaultPlan, Client],
) -> None:
    plan, client = plan_and_client
    plan.add(Fault("/", status=500, remaining=None))
    assert (await client.get("/ctx/_sim/health")).status == 200
    assert (await client.get("/ctx/rest/thing")).status == 500


async def test_a_fault_without_a_status_reaches_the_handler(
    plan_and_client: tuple[FaultPlan, Client],
) -> None:
    plan, client = plan_and_client
    plan.add(Fault("/rest/", status=None, delay_seconds=0))
    assert (await client.get("/ctx/rest/thing")).status == 200
    assert plan.faults == []


def test_at_most_max_faults_are_in_force() -> None:
    from simulator.faults import MAX_FAULTS, TooManyFaultsError

    plan = FaultPlan()
    for i in range(MAX_FAULTS):
        plan.add(Fault(path_prefix=f"/p{i}", status=503))
    with pytest.raises(TooManyFaultsError, match="At most"):
        plan.add(Fault(path_prefix="/one-more", status=503))


async def test_one_fault_too_many_is_a_400_naming_faults(client: Client) -> None:
    from simulator.faults import MAX_FAULTS

    for i in range(MAX_FAULTS):
        added = await client.post("/_sim/faults", json={"path_prefix": f"/p{i}", "status": 503})
        assert added.status == 201
    refused = await client.post("/_sim/faults", json={"path_prefix": "/x", "status": 503})
    assert refused.status == 400
    assert validate(await refused.json(), "error.json")["errors"][0]["context"] == "faults"
