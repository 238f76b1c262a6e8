"""Reset: ``POST /_sim/reset`` on the default dataset, and ``Store.reset()`` in process.

The HTTP figure is measured client-side on loopback over a keep-alive connection, with one
ordinary request and a login-like session before each reset so there is state to clear. The
in-process figure (``Store.reset()`` timed with ``time.perf_counter`` in this process, after
adding sessions) is the one compared with the goal: it excludes HTTP and the client.
"""

from __future__ import annotations

import time

from bench.common import (
    Http,
    Result,
    basic_auth,
    fmt_seconds,
    median,
    serving,
    sim_command,
)

NAME = "reset"
PATH = "/_sim/reset"
CALLS = 50
GOAL_SECONDS = 0.050
TIME_BUDGET = 30.0


def http_resets(calls: int) -> tuple[list[float], int]:
    """Time ``POST /_sim/reset`` ``calls`` times; (seconds per call, status of the last call)."""
    times: list[float] = []
    status = 0
    deadline = time.perf_counter() + TIME_BUDGET
    with serving(sim_command()) as server, Http(server) as client:
        for _ in range(calls):
            if time.perf_counter() > deadline:
                break
            client.request("GET", "/rest/api/1.0/users/alice", basic_auth("alice", "alice"))
            reply = client.request("POST", PATH, {"Content-Type": "application/json"}, b"{}")
            status = reply.status
            if not 200 <= status < 300:
                return [], status
            times.append(reply.seconds)
    return times, status


def store_resets(calls: int) -> list[float]:
    """Time ``Store.reset()`` on a default-dataset store in this process."""
    from simulator.settings import Settings
    from simulator.store import Store

    store = Store(Settings(port=0))
    users = store.catalog.users[:5]
    times: list[float] = []
    for _ in range(calls):
        for user in users:
            store.create_session(user)
        started = time.perf_counter()
        store.reset()
        times.append(time.perf_counter() - started)
    return times


def run(calls: int = CALLS) -> Result:
    """Measure both figures; check the in-process median against the goal."""
    result = Result(NAME, f"POST {PATH} on the default dataset")
    in_process = store_resets(calls)
    over_http, status = http_resets(calls)
    if over_http:
        result.add(
            f"POST {PATH} (client-side, loopback)",
            f"{fmt_seconds(median(over_http))} median, max {fmt_seconds(max(over_http))}, "
            f"{len(over_http)} calls",
        )
    else:
        result.add(f"POST {PATH} (client-side, loopback)", f"not available (answered {status})")
    result.add(
        "Store.reset() in process",
        f"{fmt_seconds(median(in_process))} median, max {fmt_seconds(max(in_process))}, "
        f"{len(in_process)} calls",
    )
    result.check("Store.reset() median ms", median(in_process) * 1000, GOAL_SECONDS * 1000, True)
    return result
