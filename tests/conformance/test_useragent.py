"""The user's browser (conformance.useragent): redirects, cookies, forms, the trace.

Most tests drive a small aiohttp app served from a thread on two ports (two origins); the
last ones go through the simulator's real pages as an admin and as a user.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp import web

from conformance.simulator_control import SimulatorControl
from conformance.useragent import (
    MAX_REDIRECTS,
    REDACTED,
    ElementNotFoundError,
    Page,
    TooManyRedirectsError,
    UserAgent,
    UserAgentError,
    entering_origin,
    leaving_origin,
    origin_of,
    redact_header,
    redact_url,
)
from simulator.settings import Settings
from simulator.testing import SimulatorServer

# -- a small app on two origins --------------------------------------------------------------

FORM_PAGE = """<!DOCTYPE html>
<html><head><title>Form page</title><script>var hidden = "script text";</script>
<style>.x { color: red }</style></head>
<body>
<h1>All the controls</h1>
<p>Visible <b>text</b> here.</p>
<div hidden>Hidden text</div>
<a id="rel" href="echo?x=1">Relative link</a>
<a href="http://example.invalid/abs">Absolute link</a>
<form id="main" method="post" action="/echo">
  <label for="user">User name</label>
  <input type="text" id="user" name="user" value="preset">
  <input type="password" name="password">
  <input type="hidden" name="state" value="s-1">
  <input type="checkbox" name="scope" id="scope-read" value="REPO_READ">
  <label for="scope-read">Repositories: Read</label>
  <input type="checkbox" name="scope" value="REPO_WRITE" checked>
  <label><input type="checkbox" name="remember"> Remember me</label>
  <input type="checkbox" name="off" value="x" checked disabled>
  <input type="radio" name="kind" id="kind-a" value="a" checked><label for="kind-a">Kind A</label>
  <input type="radio" name="kind" id="kind-b" value="b"><label for="kind-b">Kind B</label>
  <select name="colour"><option value="red">Red<option value="green" selected>Green</select>
  <select name="first"><option>One</option><option>Two</option></select>
  <select name="many" multiple><option value="1" selected>1</option><option value="2">2</option>
  <option value="3" selected>3</option></select>
  <textarea name="notes">
line one
line two</textarea>
  <input type="text" value="no name">
  <input type="reset" name="reset" value="Reset">
  <button type="button" name="js" value="js">Script button</button>
  <input type="submit" name="action" value="Save" id="save">
  <button type="submit" name="action" value="delete">Delete it</button>
</form>
<form id="search" action="echo?old=1#frag"><input name="q" value="a b"></form>
<form id="bare"><input name="z" value="1"></form>
</body></html>
"""


async def echo(request: web.Request) -> web.Response:
    """Everything the request carried, as JSON."""
    form = await request.post() if request.method == "POST" else {}
    body = {
        "method": request.method,
        "path": request.path,
        "query": [[k, v] for k, v in request.query.items()],
        "form": [[k, str(v)] for k, v in form.items()],
        "cookies": dict(request.cookies),
        "headers": dict(request.headers.items()),
    }
    return web.json_response(body)


async def redirect_chain(request: web.Request) -> web.Response:
    """``/chain/{n}``: a relative redirect to ``n - 1``; ``/chain/0`` redirects to /echo."""
    n = int(request.match_info["n"])
    target = "/echo" if n == 0 else str(n - 1)
    return web.Response(status=302, headers={"Location": target})


async def loop(request: web.Request) -> web.Response:
    """A redirect to itself, forever."""
    return web.Response(status=302, headers={"Location": "/loop"})


async def redirect_to(request: web.Request) -> web.Response:
    """``/to?status=&location=[&cookie=name=value]``: a redirect, optionally setting a cookie."""
    response = web.Response(
        status=int(request.query.get("status", "302")),
        headers={"Location": request.query["location"]},
    )
    if "cookie" in request.query:
        name, _, value = request.query["cookie"].partition("=")
        response.set_cookie(name, value, httponly=True, samesite="Lax")
    return response


async def set_cookie(request: web.Request) -> web.Response:
    """Set ``sid=origin-<port>`` and answer a page."""
    response = web.Response(text="<p>cookie set</p>", content_type="text/html")
    response.set_cookie("sid", f"origin-{request.url.port}", path="/")
    return response


async def form_page(request: web.Request) -> web.Response:
    """The page with every kind of control."""
    return web.Response(text=FORM_PAGE, content_type="text/html")


async def secrets_page(request: web.Request) -> web.Response:
    """A redirect carrying a code and state, setting a session cookie."""
    response = web.Response(
        status=303, headers={"Location": "/echo?code=the-code&state=the-state&keep=visible"}
    )
    response.set_cookie("session", "s3cret-session")
    return response


def make_app() -> web.Application:
    """The test app."""
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/chain/{n}", redirect_chain)
    app.router.add_get("/loop", loop)
    app.router.add_route("*", "/to", redirect_to)
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_get("/form", form_page)
    app.router.add_post("/secrets", secrets_page)
    return app


class AppServer:
    """An aiohttp app served on 127.0.0.1, port 0, from a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.requests = 0

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        app = make_app()

        @web.middleware
        async def count(request: web.Request, handler: Any) -> web.StreamResponse:
            self.requests += 1
            response: web.StreamResponse = await handler(request)
            return response

        app.middlewares.append(count)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = getattr(server, "sockets", [])[0].getsockname()[1]

    def __enter__(self) -> AppServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[AppServer, AppServer]]:
    """Two origins serving the same app."""
    with AppServer() as first, AppServer() as second:
        yield first, second


@pytest.fixture
def app_a(servers: tuple[AppServer, AppServer]) -> AppServer:
    """The first origin."""
    return servers[0]


@pytest.fixture
def app_b(servers: tuple[AppServer, AppServer]) -> AppServer:
    """The second origin."""
    return servers[1]


@pytest.fixture
def browser() -> UserAgent:
    """A fresh browser."""
    return UserAgent(timeout=10)


def echoed(page: Page) -> dict[str, Any]:
    """The echo endpoint's answer."""
    assert page.status == 200, page.source
    body: dict[str, Any] = page.json()
    return body


# -- redirects ---------------------------------------------------------------------------------


def test_redirects_are_followed_hop_by_hop_with_each_hop_traced(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/chain/3")

    assert page.url == app_a.url + "/echo"
    assert [hop.status for hop in page.hops] == [302, 302, 302, 302, 200]
    assert [hop.url for hop in page.hops] == [
        app_a.url + "/chain/3",
        app_a.url + "/chain/2",
        app_a.url + "/chain/1",
        app_a.url + "/chain/0",
        app_a.url + "/echo",
    ]
    assert page.hops[0].location == "2"  # as sent; the next hop shows it resolved
    assert browser.trace == page.hops


def test_relative_location_is_resolved_against_the_answering_url(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/to?location=../echo%3Fa%3D1")

    assert echoed(page)["query"] == [["a", "1"]]


def test_twenty_redirects_are_followed(browser: UserAgent, app_a: AppServer) -> None:
    page = browser.get(app_a.url + f"/chain/{MAX_REDIRECTS - 1}")

    assert page.status == 200
    assert len(page.hops) == MAX_REDIRECTS + 1


def test_a_redirect_loop_stops_after_twenty_redirects_with_an_error(
    browser: UserAgent, app_a: AppServer
) -> None:
    with pytest.raises(TooManyRedirectsError, match="More than 20 redirects"):
        browser.get(app_a.url + "/loop")

    assert len(browser.trace) == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    ("status", "method", "has_body"),
    [
        (301, "GET", False),
        (302, "GET", False),
        (303, "GET", False),
        (307, "POST", True),
        (308, "POST", True),
    ],
)
def test_a_redirected_post_keeps_its_method_only_on_307_and_308(
    browser: UserAgent, app_a: AppServer, status: int, method: str, has_body: bool
) -> None:
    page = browser.post(
        app_a.url + f"/to?status={status}&location=/echo",
        {"field": "value"},
        referrer=app_a.url + "/form",
    )

    body = echoed(page)
    assert body["method"] == method
    assert (body["form"] == [["field", "value"]]) is has_body
    assert page.hops[1].method == method


def test_spaces_and_non_ascii_in_a_url_are_percent_encoded(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/echo?q=caf\u00e9 au lait")

    assert echoed(page)["query"] == [["q", "caf\u00e9 au lait"]]


def test_a_location_fragment_is_not_sent(browser: UserAgent, app_a: AppServer) -> None:
    page = browser.get(app_a.url + "/to?location=/echo%23part")

    assert page.url == app_a.url + "/echo"


def test_a_redirect_to_a_non_http_scheme_ends_the_navigation(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/to?location=com.example.app://callback%3Fcode%3Dx")

    assert page.status == 302
    assert page.location == "com.example.app://callback?code=x"
    assert len(page.hops) == 1


def test_follow_false_stops_at_the_first_redirect_and_follow_goes_on(
    browser: UserAgent, app_a: AppServer
) -> None:
    stopped = browser.get(app_a.url + "/chain/1", follow=False)

    assert stopped.status == 302
    assert stopped.is_redirect
    assert stopped.location == app_a.url + "/chain/0"
    final = browser.follow(stopped)
    assert final.url == app_a.url + "/echo"
    assert len(browser.trace) == 3


def test_stop_at_stops_before_leaving_the_origin_and_the_other_origin_is_not_contacted(
    browser: UserAgent, app_a: AppServer, app_b: AppServer
) -> None:
    before = app_b.requests
    callback = app_b.url + "/echo?code=c&state=good"
    start = app_a.url + "/to?" + f"location={callback.replace('?', '%3F').replace('&', '%26')}"

    stopped = browser.get(start, stop_at=leaving_origin(app_a.url))

    assert stopped.location == callback
    assert app_b.requests == before
    tampered = browser.follow(stopped, app_b.url + "/echo?code=c&state=forged")
    assert echoed(tampered)["query"] == [["code", "c"], ["state", "forged"]]


def test_entering_origin_stops_before_reaching_that_origin(
    browser: UserAgent, app_a: AppServer, app_b: AppServer
) -> None:
    page = browser.get(
        app_a.url + f"/to?location={app_b.url}/echo", stop_at=entering_origin(app_b.url)
    )

    assert page.location == app_b.url + "/echo"
    assert browser.follow(page).url == app_b.url + "/echo"


def test_follow_on_a_page_that_is_not_a_redirect_is_an_error(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/echo")

    with pytest.raises(UserAgentError, match="is not a redirect"):
        browser.follow(page)


def test_an_unreachable_server_raises_and_the_attempt_is_traced(browser: UserAgent) -> None:
    with AppServer() as gone:
        url = gone.url + "/echo"
    with pytest.raises(UserAgentError, match="failed"):
        browser.get(url)

    assert browser.trace[-1].status == 0
    assert browser.trace[-1].error


def test_origins_make_default_ports_explicit() -> None:
    assert origin_of("HTTP://Example.org/x") == "http://example.org:80"
    assert origin_of("https://example.org:443/") == "https://example.org:443"
    assert origin_of("http://127.0.0.1:8080/a") != origin_of("http://127.0.0.1:8081/a")


# -- cookies -----------------------------------------------------------------------------------


def test_cookies_are_kept_per_origin(
    browser: UserAgent, app_a: AppServer, app_b: AppServer
) -> None:
    browser.get(app_a.url + "/set-cookie")

    assert browser.cookies_for(app_a.url + "/") == {"sid": f"origin-{app_a.port}"}
    assert browser.cookies_for(app_b.url + "/") == {}
    assert echoed(browser.get(app_a.url + "/echo"))["cookies"] == {"sid": f"origin-{app_a.port}"}
    assert echoed(browser.get(app_b.url + "/echo"))["cookies"] == {}


def test_a_cookie_set_by_a_redirect_is_sent_on_the_next_hop(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/to?location=/echo&cookie=hop=1")

    assert echoed(page)["cookies"] == {"hop": "1"}


def test_set_and_clear_cookies(browser: UserAgent, app_a: AppServer, app_b: AppServer) -> None:
    browser.set_cookie(app_a.url, "forged", "yes")
    browser.set_cookie(app_b.url, "other", "1")

    assert echoed(browser.get(app_a.url + "/echo"))["cookies"] == {"forged": "yes"}
    browser.clear_cookies(app_a.url)
    assert browser.cookies_for(app_a.url) == {}
    assert browser.cookies_for(app_b.url) == {"other": "1"}
    browser.clear_cookies()
    assert browser.cookies_for(app_b.url) == {}


# -- headers -----------------------------------------------------------------------------------


def test_a_form_post_sends_origin_and_the_full_referer_within_an_origin(
    browser: UserAgent, app_a: AppServer
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    headers = echoed(browser.submit(form))["headers"]

    assert headers["Origin"] == app_a.url
    assert headers["Referer"] == app_a.url + "/form"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_referer_is_only_the_origin_across_origins(
    browser: UserAgent, app_a: AppServer, app_b: AppServer
) -> None:
    page = browser.get(app_b.url + "/echo?x=1", referrer=app_a.url + "/form?secret=1")

    assert echoed(page)["headers"]["Referer"] == app_a.url + "/"


def test_a_typed_url_sends_no_referer(browser: UserAgent, app_a: AppServer) -> None:
    assert "Referer" not in echoed(browser.get(app_a.url + "/echo"))["headers"]


# -- pages and forms ---------------------------------------------------------------------------


def test_page_text_is_the_visible_text_only(browser: UserAgent, app_a: AppServer) -> None:
    page = browser.get(app_a.url + "/form")

    assert "All the controls" in page.text
    assert "Visible text here." in page.text.splitlines()
    assert "script text" not in page.text
    assert "color" not in page.text
    assert "Hidden text" not in page.text
    assert page.title == "Form page"


def test_links_are_resolved_against_the_page(browser: UserAgent, app_a: AppServer) -> None:
    page = browser.get(app_a.url + "/form")

    assert [link.href for link in page.links] == [
        app_a.url + "/echo?x=1",
        "http://example.invalid/abs",
    ]
    link = page.find_link(text="Relative link")
    assert link.id == "rel"
    assert echoed(browser.open(link))["headers"]["Referer"] == app_a.url + "/form"


def test_forms_are_parsed_with_action_method_and_controls(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/form")
    main, search, bare = page.forms

    assert (main.method, main.action, main.id) == ("POST", app_a.url + "/echo", "main")
    assert (search.method, search.action) == ("GET", app_a.url + "/echo?old=1#frag")
    assert bare.action == app_a.url + "/form"  # no action: the page itself
    kinds = {(f.name, f.kind) for f in main.fields}
    assert {("user", "text"), ("password", "password"), ("state", "hidden")} <= kinds
    assert {("colour", "select"), ("notes", "textarea"), ("action", "submit")} <= kinds
    boxes = {f.value: f.checked for f in main.named("scope")}
    assert boxes == {"REPO_READ": False, "REPO_WRITE": True}
    assert main.named("user")[0].label == "User name"
    assert main.named("remember")[0].label == "Remember me"
    assert [b.label for b in main.buttons] == ["Save", "Delete it"]


def test_the_data_set_is_built_like_a_browser_builds_it(
    browser: UserAgent, app_a: AppServer
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    assert form.data_set(form.button("delete")) == [
        ("user", "preset"),
        ("password", ""),
        ("state", "s-1"),
        ("scope", "REPO_WRITE"),
        ("kind", "a"),
        ("colour", "green"),
        ("first", "One"),
        ("many", "1"),
        ("many", "3"),
        ("notes", "line one\r\nline two"),
        ("action", "delete"),
    ]


def test_submit_fills_a_copy_and_sends_the_chosen_button(
    browser: UserAgent, app_a: AppServer
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")
    form.check("scope", "REPO_READ").uncheck("scope", "REPO_WRITE").choose("kind", "b")
    form.check("remember").select("colour", "Red")

    page = browser.submit(form, {"user": "alice", "password": "pw"}, button="Delete it")

    sent = echoed(page)["form"]
    assert ["user", "alice"] in sent
    assert ["scope", "REPO_READ"] in sent
    assert ["scope", "REPO_WRITE"] not in sent
    assert ["remember", "on"] in sent
    assert ["kind", "b"] in sent
    assert ["colour", "red"] in sent
    assert ["action", "delete"] in sent
    assert ["action", "Save"] not in sent
    assert form.value("user") == "preset"  # the page's form is untouched


def test_implicit_submission_uses_the_first_submit_button(
    browser: UserAgent, app_a: AppServer
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    sent = echoed(browser.submit(form))["form"]

    assert ["action", "Save"] in sent
    assert ["action", "delete"] not in sent


def test_buttons_are_found_by_id_value_label_or_name(browser: UserAgent, app_a: AppServer) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    assert form.button("save") is form.buttons[0]
    assert form.button("delete") is form.buttons[1]
    assert form.button("Delete it") is form.buttons[1]
    assert form.button("action") is form.buttons[0]
    with pytest.raises(ElementNotFoundError, match="no button 'Publish'"):
        form.button("Publish")


def test_fill_sets_checkbox_groups_radios_selects_and_hidden_fields(
    browser: UserAgent, app_a: AppServer
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    form.fill({"scope": ["REPO_READ"], "kind": "b", "many": ["2"], "state": "tampered"})
    form.fill(remember=True)

    data = form.data_set()
    assert ("scope", "REPO_READ") in data
    assert ("scope", "REPO_WRITE") not in data
    assert ("kind", "b") in data
    assert [v for n, v in data if n == "many"] == ["2"]
    assert ("state", "tampered") in data
    assert ("remember", "on") in data


def test_tick_finds_checkboxes_and_radios_by_label(browser: UserAgent, app_a: AppServer) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    form.tick("Repositories: Read").tick("Kind B").untick("Remember me")

    assert ("scope", "REPO_READ") in form.data_set()
    assert ("kind", "b") in form.data_set()
    with pytest.raises(ElementNotFoundError, match="labelled 'Nope'"):
        form.tick("Nope")


def test_add_and_remove_change_the_field_set(browser: UserAgent, app_a: AppServer) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    form.remove("state").add("extra", "1")

    names = [n for n, _ in form.data_set()]
    assert "state" not in names
    assert names[-1] == "extra"


def test_a_get_form_replaces_the_action_query(browser: UserAgent, app_a: AppServer) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="search")

    page = browser.submit(form)

    assert echoed(page)["query"] == [["q", "a b"]]
    assert page.hops[0].method == "GET"


@pytest.mark.parametrize(
    ("action", "pattern"),
    [
        (lambda form: form.fill(nope="x"), "has no field 'nope'"),
        (lambda form: form.choose("kind", "z"), "No radio 'kind' has value 'z'"),
        (lambda form: form.check("scope"), "Several checkboxes are named 'scope'"),
        (lambda form: form.select("colour", "blue"), "No option 'blue'"),
        (lambda form: form.fill(scope=["ADMIN"]), "no value 'ADMIN'"),
    ],
)
def test_filling_what_the_form_does_not_have_is_an_error(
    browser: UserAgent, app_a: AppServer, action: Any, pattern: str
) -> None:
    form = browser.get(app_a.url + "/form").find_form(id="main")

    with pytest.raises(UserAgentError, match=pattern):
        action(form)


def test_find_form_without_a_match_lists_the_page_forms(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/form")

    assert page.find_form(action_contains="/echo", has_field="q").id == "search"
    with pytest.raises(ElementNotFoundError, match=r"has_field='j_username'.*#main"):
        page.find_form(has_field="j_username")


def test_element_text_and_missing_elements(browser: UserAgent, app_a: AppServer) -> None:
    page = browser.get(app_a.url + "/form")

    assert page.element_text("rel") == "Relative link"
    assert page.elements(tag="h1")[0].text == "All the controls"
    with pytest.raises(ElementNotFoundError, match="No element #missing"):
        page.element("missing")


def test_json_of_a_page_that_is_not_json_names_the_url(
    browser: UserAgent, app_a: AppServer
) -> None:
    page = browser.get(app_a.url + "/form")

    with pytest.raises(UserAgentError, match="not JSON"):
        page.json()


# -- the trace and redaction -------------------------------------------------------------------


def test_the_trace_redacts_secrets_but_keeps_their_presence(
    browser: UserAgent, app_a: AppServer
) -> None:
    browser.set_cookie(app_a.url, "session", "cookie-secret")
    mark = browser.mark()

    page = browser.post(
        app_a.url + "/secrets?client_secret=qs-secret&page=2",
        [("j_password", "pw"), ("code_verifier", "v"), ("state", ""), ("name", "Acme")],
        referrer=app_a.url + "/form",
    )

    post, get = browser.trace_since(mark)
    dumped = json.dumps([post.to_json(), get.to_json()])
    for secret in ("qs-secret", "pw", "cookie-secret", "s3cret-session", "the-code", "the-state"):
        assert secret not in dumped
    assert post.url == app_a.url + f"/secrets?client_secret={REDACTED}&page=2"
    assert post.form == (
        ("j_password", REDACTED),
        ("code_verifier", REDACTED),
        ("state", ""),
        ("name", "Acme"),
    )
    assert ("Cookie", f"session={REDACTED}") in post.request_headers
    assert dict(post.response_headers)["Set-Cookie"].startswith(f"session={REDACTED}")
    assert post.location == f"/echo?code={REDACTED}&state={REDACTED}&keep=visible"
    assert get.url == app_a.url + f"/echo?code={REDACTED}&state={REDACTED}&keep=visible"
    # the page itself keeps the real values
    assert parse_qs(urlsplit(page.url).query)["code"] == ["the-code"]


def test_trace_entries_serialise_to_json(browser: UserAgent, app_a: AppServer) -> None:
    browser.get(app_a.url + "/chain/0")

    first = browser.trace[0].to_json()

    assert set(first) == {
        "index",
        "method",
        "url",
        "status",
        "reason",
        "location",
        "request_headers",
        "response_headers",
        "form",
        "error",
    }
    assert first["status"] == 302
    assert ["Host", f"127.0.0.1:{app_a.port}"] in first["request_headers"]
    assert json.loads(json.dumps(first)) == first
    assert browser.trace_since(1)[0].index == 1


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Bearer abc.def", f"Bearer {REDACTED}"),
        ("authorization", "abc", REDACTED),
        ("Cookie", "a=1; b=2", f"a={REDACTED}; b={REDACTED}"),
        ("Set-Cookie", "s=1; Path=/; HttpOnly", f"s={REDACTED}; Path=/; HttpOnly"),
        ("Location", "http://h/cb?code=1&x=2", f"http://h/cb?code={REDACTED}&x=2"),
        ("X-Sim-Control-Token", "t", REDACTED),
        ("Content-Type", "text/html", "text/html"),
    ],
)
def test_redact_header(name: str, value: str, shown: str) -> None:
    assert redact_header(name, value) == shown


def test_redact_url_covers_userinfo_and_token_names() -> None:
    url = "https://u:pw@h/p?access_token=a&refresh_token=b&oauth_verifier=c&token_type_hint=d&q=e"

    assert redact_url(url) == (
        f"https://u:{REDACTED}@h/p?access_token={REDACTED}&refresh_token={REDACTED}"
        f"&oauth_verifier={REDACTED}&token_type_hint={REDACTED}&q=e"
    )


# -- against the simulator's real pages --------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    """One simulator for this module."""
    with SimulatorServer(Settings(port=0)) as server:
        yield server


@pytest.fixture
def sim(simulator: SimulatorServer) -> SimulatorControl:
    """The control API, after a reset."""
    control = SimulatorControl(simulator.base_url)
    control.reset()
    return control


def test_the_admin_creates_an_incoming_link_through_the_application_links_pages(
    browser: UserAgent, simulator: SimulatorServer, sim: SimulatorControl
) -> None:
    base = simulator.base_url
    browser.log_in_to_bitbucket(base, "admin", "admin")
    assert set(browser.cookies_for(base + "/")) == {"BITBUCKETSESSIONID"}

    page = browser.get(base + "/plugins/servlet/applinks/createLink")
    form = page.find_form(has_field="application-type")
    form.choose("application-type", "external").choose("direction", "incoming")
    page = browser.submit(form, button="Continue")
    form = page.find_form(has_field="redirects")
    form.fill(name="Packagist", redirects="http://127.0.0.1:9/oauth/callback")
    form.tick("Repositories: Read")
    page = browser.submit(form, button="Save")

    assert page.title.startswith("Credentials")
    client_id = page.element_text("client-id")
    client_secret = page.element_text("client-secret")
    (link,) = sim.applinks()
    assert (link["client_id"], link["client_secret"]) == (client_id, client_secret)
    assert link["scope"] == "REPO_READ"
    assert link["redirect_urls"] == ["http://127.0.0.1:9/oauth/callback"]
    assert client_secret not in json.dumps([hop.to_json() for hop in browser.trace])


def test_a_wrong_password_fails_the_login_with_the_form_message(
    browser: UserAgent, simulator: SimulatorServer, sim: SimulatorControl
) -> None:
    with pytest.raises(UserAgentError, match="Invalid username or password"):
        browser.log_in_to_bitbucket(simulator.base_url, "admin", "wrong")


def test_a_user_consents_and_the_browser_stops_before_the_callback(
    browser: UserAgent, simulator: SimulatorServer, sim: SimulatorControl
) -> None:
    base = simulator.base_url
    callback = "http://127.0.0.1:9/oauth/callback"
    link = sim.create_oauth2_link("Packagist", [callback])
    authorize = (
        f"{base}/rest/oauth2/latest/authorize?client_id={link['client_id']}"
        f"&redirect_uri={callback}&response_type=code&scope=REPO_READ&state=st-1"
    )

    login = browser.get(authorize)
    assert login.find_form(has_field="j_username")
    form = login.find_form(has_field="j_username")
    consent = browser.submit(form, {"j_username": "alice", "j_password": "alice"})
    assert "Packagist" in consent.element_text("client-name")
    stopped = browser.submit(
        consent.find_form(id="oauth2-consent-form"),
        button="Allow",
        stop_at=entering_origin(callback),
    )

    assert stopped.status == 303
    assert stopped.location is not None
    query = parse_qs(urlsplit(stopped.location).query)
    assert query["state"] == ["st-1"]
    assert query["code"]
    assert stopped.hops[-1].location == f"{callback}?code={REDACTED}&state={REDACTED}"


def test_secrets_inside_url_valued_parameters_are_redacted() -> None:
    from conformance.useragent import redact_pairs, redact_url

    consent = "/plugins/servlet/oauth2/consent?client_id=abc&state=s3cret&scope=REPO_READ"
    url = redact_url("http://127.0.0.1:1/login?next=" + quote(consent, safe=""))
    assert "s3cret" not in url
    assert "REPO_READ" in url
    fields = dict(redact_pairs([("next", consent), ("j_username", "alice")]))
    assert "s3cret" not in fields["next"]
    assert "client_id=abc" in fields["next"]
    assert fields["j_username"] == "alice"
