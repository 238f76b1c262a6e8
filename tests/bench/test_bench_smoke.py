"""Smoke tests of the benchmark code: it imports, and its pure helpers compute and format.

No timing assertions and no subprocesses: the benchmarks themselves run with ``make bench``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bench import (
    baseline_app,
    common,
    git_clone,
    large,
    loadgen,
    oauth2_login,
    oauth2_token,
    plugin_cost,
    reset,
    soak,
    startup,
    throughput,
    webhook_receiver,
    webhooks,
)
from bench.__main__ import BENCHMARKS, machine_line, main, summary
from bench.common import Result

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]

STATUS_TEXT = """Name:\tbbdc-sim
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t  123456 kB
VmSize:\t  120000 kB
VmRSS:\t   47828 kB
RssAnon:\t   30000 kB
Threads:\t1
"""
STAT_TEXT = "4242 (odd (name) x) S 1 4242 4242 0 -1 4194560 1 0 0 0 150 25 0 0 20 0 1 0 99"


def test_every_benchmark_is_registered_by_name() -> None:
    assert list(BENCHMARKS) == [
        startup.NAME,
        throughput.NAME,
        large.NAME,
        reset.NAME,
        oauth2_token.NAME,
        oauth2_login.NAME,
        plugin_cost.NAME,
        soak.NAME,
        git_clone.NAME,
        webhooks.NAME,
    ]


def test_median_of_odd_and_even_counts() -> None:
    assert common.median([3.0, 1.0, 2.0]) == 2.0
    assert common.median([4.0, 1.0, 2.0, 3.0]) == 2.5


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        common.median([])


def test_ratio_divides_and_handles_a_zero_denominator() -> None:
    assert common.ratio(3.0, 2.0) == 1.5
    assert common.ratio(1.0, 0.0) == float("inf")
    assert common.ratio(0.0, 0.0) == 1.0


def test_verdict_at_most_passes_on_the_goal_and_misses_above() -> None:
    assert common.verdict(1.5, 1.5, at_most=True) == "PASS"
    assert common.verdict(1.51, 1.5, at_most=True) == "MISS"


def test_verdict_at_least_passes_on_the_goal_and_misses_below() -> None:
    assert common.verdict(0.8, 0.8, at_most=False) == "PASS"
    assert common.verdict(0.79, 0.8, at_most=False) == "MISS"


def test_format_check_states_value_goal_and_verdict() -> None:
    assert common.format_check("ratio", 1.234, 1.5, True) == "ratio: 1.23 (goal <= 1.5) PASS"
    assert common.format_check("ratio", 0.5, 0.8, False) == "ratio: 0.50 (goal >= 0.8) MISS"
    assert common.format_check("ms", 0.0018, 50, True) == "ms: 0.0018 (goal <= 50) PASS"


def test_result_passes_when_every_check_passes() -> None:
    result = Result("demo", "a demo")
    result.check("a", 1.0, 2.0, True)
    result.check("b", 3.0, 2.0, False)
    assert result.status == "PASS"


def test_result_misses_when_one_check_misses() -> None:
    result = Result("demo", "a demo")
    result.check("a", 1.0, 2.0, True)
    result.check("b", 1.0, 2.0, False)
    assert result.status == "MISS"


def test_result_is_not_applicable_when_unavailable_or_unchecked() -> None:
    assert Result("demo", "a demo").status == "N/A"
    result = Result("demo", "a demo")
    result.check("a", 1.0, 2.0, True)
    result.unavailable = "endpoint answered 404"
    assert result.status == "N/A"


def test_format_result_prints_figures_checks_notes_and_verdict() -> None:
    result = Result("demo", "a demo")
    result.add("simulator", "1 ms")
    result.add("baseline median", "2 ms")
    result.check("ratio", 0.5, 1.5, True)
    result.notes.append("a note")
    assert common.format_result(result).splitlines() == [
        "== demo: a demo",
        "  simulator        1 ms",
        "  baseline median  2 ms",
        "  ratio: 0.50 (goal <= 1.5) PASS",
        "  note: a note",
        "  verdict: PASS",
    ]


def test_format_result_says_what_was_not_available() -> None:
    result = Result("demo", "a demo")
    result.unavailable = "GET /x answered 404"
    assert "  not available: GET /x answered 404" in common.format_result(result)
    assert common.format_result(result).endswith("verdict: N/A")


def test_summary_lists_each_verdict_and_the_total_time() -> None:
    passed = Result("one", "t")
    passed.check("x", 1.0, 1.0, True)
    lines = summary([passed, Result("two", "t")], 12.34).splitlines()
    assert lines[:4] == [
        "== summary",
        "  one         PASS",
        "  two         N/A",
        "  total time  12.3 s",
    ]
    assert lines[4] == "  " + machine_line()


def test_machine_line_names_cpus_and_load() -> None:
    line = machine_line()
    assert line.startswith("bench: ")
    assert "CPUs, load average" in line


def test_vmrss_is_parsed_from_proc_status_text() -> None:
    assert common.parse_vmrss_kib(STATUS_TEXT) == 47828


def test_vmrss_is_none_when_absent() -> None:
    assert common.parse_vmrss_kib("Name:\tkthreadd\nState:\tS\n") is None


def test_cpu_ticks_are_user_plus_system_despite_parentheses_in_the_name() -> None:
    assert common.parse_cpu_ticks(STAT_TEXT) == 175


def test_memory_is_shown_in_decimal_megabytes_and_mebibytes() -> None:
    assert common.kib_to_mb(390625) == 400.0
    assert common.fmt_memory(47828) == "49.0 MB (46.7 MiB)"


def test_seconds_are_formatted_with_a_fitting_unit() -> None:
    assert common.fmt_seconds(1.5) == "1.500 s"
    assert common.fmt_seconds(0.2768) == "276.80 ms"
    assert common.fmt_seconds(0.0000018) == "1.8 us"


def test_ready_lines_of_the_simulator_and_the_baseline_give_their_urls() -> None:
    sim = "bbdc-sim 9.4.16 ready at http://127.0.0.1:40123\n"
    base = "baseline aiohttp-3.14.5 ready at http://127.0.0.1:40124"
    assert common.parse_ready_line(sim) == "http://127.0.0.1:40123"
    assert common.parse_ready_line(base) == "http://127.0.0.1:40124"
    assert common.parse_ready_line("starting...") is None


def test_commands_bind_port_zero() -> None:
    assert common.sim_command("--dataset", "large")[1:] == [
        "serve",
        "--port",
        "0",
        "--dataset",
        "large",
    ]
    assert common.baseline_command()[-2:] == ["--port", "0"]


def test_basic_auth_header_encodes_user_and_password() -> None:
    assert common.basic_auth("alice", "alice") == {"Authorization": "Basic YWxpY2U6YWxpY2U="}


def test_last_page_start_is_the_last_multiple_of_the_limit_below_the_total() -> None:
    assert large.last_page_start(290, 25) == 275
    assert large.last_page_start(300, 25) == 275
    assert large.last_page_start(1, 25) == 0
    assert large.last_page_start(0, 25) == 0


def test_load_counts_start_at_zero() -> None:
    assert loadgen.Counts() == loadgen.Counts(ok=0, other=0, errors=0, seconds=0.0, rps=0.0)


def test_unknown_benchmark_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["nosuch"])
    assert exit_info.value.code == 2
    assert "unknown benchmark nosuch" in capsys.readouterr().err


async def test_baseline_app_serves_the_properties_body_as_json(
    aiohttp_client: ClientFactory,
) -> None:
    body = baseline_app.DEFAULT_BODY.encode()
    client = await aiohttp_client(baseline_app.create_app(body))
    response = await client.get("/rest/api/1.0/application-properties")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    payload: Any = json.loads(await response.read())
    assert payload["displayName"] == "Bitbucket"


async def test_baseline_app_health_answers_200(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(baseline_app.create_app(b"{}"))
    response = await client.get("/_sim/health")
    assert response.status == 200


def test_the_plugin_cost_benchmark_is_registered_with_its_goal() -> None:
    assert BENCHMARKS[plugin_cost.NAME] is plugin_cost.run
    assert plugin_cost.GOAL_SECONDS == 0.050


async def test_the_webhook_receiver_answers_204_and_counts(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(webhook_receiver.create_app())
    for name in ("0", "1"):
        response = await client.post(f"/hook/{name}", data=b'{"eventKey":"repo:refs_changed"}')
        assert response.status == 204
    assert await (await client.get("/count")).json() == {"received": 2}
    assert (await client.get("/hook/0")).status == 405


def test_the_webhook_benchmark_measures_deliveries_against_the_baseline() -> None:
    result = webhooks.run(rounds=1)
    lines = common.format_result(result).splitlines()
    assert result.status in ("PASS", "MISS"), lines
    assert any(line.startswith("  ratio simulator/baseline:") for line in lines), lines
