"""No request makes the simulator answer 500: a broad sample of malformed requests on every
route the app serves (derived from the router, so new routes are covered automatically)."""

from __future__ import annotations

import itertools
import re

from aiohttp import web

from simulator.keys import store_key
from simulator.seed import MAIN_PROJECT_KEY
from tests.conftest import Client, basic

WEIRD_SEGMENTS = ["..", "%2e%2e", "..%2f..%2fetc", "%00", "a" * 600, "%ff%fe", "~ALICE", "x y"]
BAD_QUERIES = [
    "limit=-1",
    "start=abc",
    "limit=99999999999999999999",
    "permission=FOO",
    "visibility=x",
    "orderBy=X",
    "at=zzz",
    "at=..%2f..",
    "avatarSize=-5",
    "format=rar",
    "archived=MAYBE",
    "state=GONE",
    "filterText=%ff",
    "prefix=../../x",
    "path=..",
    "client_id=&redirect_uri=javascript:alert(1)&response_type=token&scope=",
    "errorName=%3Cscript%3E&errorDescription=http://evil.example",
    "next=//evil.example",
]
HEADERS = [
    {},
    basic("admin"),
    basic("admin", "wrong"),
    {"Authorization": "Basic ###"},
    {"Authorization": "Bearer a.b.c"},
    {"Authorization": "Bearer"},
    {"Authorization": 'OAuth oauth_consumer_key="x"'},
    {"Cookie": "BITBUCKETSESSIONID=nonsense"},
]
BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2]"),
    ("application/json", b"[" * 5000),
    ("application/json", b'{"name": null, "redirects": "x", "permissions": 7}'),
    ("application/x-www-form-urlencoded", b"a=%zz&b"),
    ("application/x-www-form-urlencoded; charset=bogus", b"grant_type=x"),
    ("text/plain", b"\xff\xfe"),
    ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
]
PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def concrete_paths(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) for every route, with path parameters filled in several ways."""
    store = app[store_key]
    repo = store.catalog.project_repositories(store.catalog.projects_by_key[MAIN_PROJECT_KEY])[0]
    good = {
        "projectKey": MAIN_PROJECT_KEY,
        "repositorySlug": repo.slug,
        "userSlug": "alice",
        "path": "composer.json",
        "commitId": "refs/heads/main",
        "name": "v1.0.0",
    }
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path")
        if not template or route.method == "HEAD":
            continue
        names = PARAM.findall(template)
        for weird in [None, *WEIRD_SEGMENTS]:
            values = {n: (good.get(n, "x") if weird is None else weird) for n in names}
            path = PARAM.sub(lambda m, v=values: v[m.group(1)], template)  # type: ignore[misc]
            out.add((route.method, path))
            if not names:
                break
    return sorted(out)


async def test_malformed_requests_never_answer_500(client: Client) -> None:
    app = client.app
    assert app is not None
    paths = concrete_paths(app)
    assert len(paths) > 50
    failures: list[str] = []
    sent = 0
    cycle = itertools.cycle(range(97))
    for method, path in paths:
        for extra_method in {method, "PUT", "DELETE"} - {"*"}:
            pick = next(cycle)
            query = BAD_QUERIES[pick % len(BAD_QUERIES)]
            headers = dict(HEADERS[pick % len(HEADERS)])
            content_type, body = BODIES[pick % len(BODIES)]
            headers["Content-Type"] = content_type
            response = await client.request(
                extra_method,
                f"{path}?{query}",
                headers=headers,
                data=body,
                allow_redirects=False,
            )
            sent += 1
            if response.status >= 500:
                failures.append(f"{extra_method} {path}?{query} -> {response.status}")
            response.release()
    assert sent > 150
    assert failures == []


async def test_no_500_on_every_route_with_plain_anonymous_gets(client: Client) -> None:
    app = client.app
    assert app is not None
    failures = []
    for method, path in concrete_paths(app):
        response = await client.request(
            "GET" if method == "*" else method, path, allow_redirects=False
        )
        if response.status >= 500:
            failures.append(f"{method} {path} -> {response.status}")
        response.release()
    assert failures == []
