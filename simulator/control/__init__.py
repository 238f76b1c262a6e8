"""The control API under ``/_sim/``: tests drive and inspect the simulator through it.

``GET health``, ``POST reset``, ``GET|PATCH config``, ``GET|POST clock``,
``GET|DELETE journal``, ``GET|POST|DELETE faults``, ``GET|POST applinks``,
``GET openapi.json``, and a repository's ``POST commits``, ``POST tags``,
``DELETE tags/{name}`` and ``DELETE branches/{name}`` under ``repos/{projectKey}/{slug}/``,
and the webhooks' ``GET deliveries``, ``POST settle`` and ``GET|POST|DELETE faults`` under
``webhooks/`` (:mod:`simulator.webhooks.control`).
Under a context path it lives at ``<context>/_sim/``. With ``Settings.control_token`` set,
every operation needs the header ``X-Sim-Control-Token`` (401 otherwise), even on unknown
control paths and wrong methods (which answer 404 and 405 in Bitbucket's envelope once the
token is right).
"""

from __future__ import annotations

from aiohttp import web

from simulator.control import handlers as h
from simulator.control import repos
from simulator.webhooks import control as webhooks

PREFIX = "/_sim"
_REPO = "/repos/{projectKey}/{repositorySlug}"


def routes() -> list[web.RouteDef]:
    """This area's routes."""
    table: list[tuple[str, str, h.Handler]] = [
        ("GET", "/health", h.get_health),
        ("POST", "/reset", h.reset),
        ("GET", "/config", h.get_config),
        ("PATCH", "/config", h.update_config),
        ("GET", "/clock", h.get_clock),
        ("POST", "/clock", h.advance_clock),
        ("GET", "/journal", h.get_journal),
        ("DELETE", "/journal", h.clear_journal),
        ("GET", "/faults", h.get_faults),
        ("POST", "/faults", h.add_fault),
        ("DELETE", "/faults", h.clear_faults),
        ("GET", "/applinks", h.get_applinks),
        ("POST", "/applinks", h.create_applink),
        ("GET", "/openapi.json", h.get_openapi),
        ("POST", _REPO + "/commits", repos.add_commit),
        ("POST", _REPO + "/tags", repos.add_tag),
        ("DELETE", _REPO + "/tags/{name:.+}", repos.delete_tag),
        ("DELETE", _REPO + "/branches/{name:.+}", repos.delete_branch),
        *webhooks.ROUTES,
    ]
    known: dict[str, set[str]] = {}
    for method, path, _ in table:
        known.setdefault(PREFIX + path, {"HEAD"} if method == "GET" else set()).add(method)
    return [
        *(web.route(method, PREFIX + path, h.guarded(handler)) for method, path, handler in table),
        # Registered after the operations, so it only sees what none of them matched; aiohttp
        # would otherwise answer those 404/405 before the token is checked.
        web.route("*", PREFIX + "/{tail:.*}", h.guarded(h.make_fallback(known))),
    ]
