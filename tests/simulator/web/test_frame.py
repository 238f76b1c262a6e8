"""``/`` and the context root, the pages' stylesheet, and the frame every template places.

The frame (head, Atlassian header bar, admin sidebar, footer) is :mod:`simulator.web.layout`;
the stylesheet :mod:`simulator.web.stylesheet`; ``/`` :func:`simulator.web.login.get_root`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import web

from simulator.app import create_app
from simulator.keys import store_key
from simulator.model import GlobalLevel, User
from simulator.settings import Settings
from simulator.store import SESSION_COOKIE, Store
from simulator.web.layout import Layout, chrome, using
from simulator.web.pages import TEMPLATE_DIR, render
from simulator.web.stylesheet import (
    CSS_CONTENT_TYPE,
    STYLESHEET,
    STYLESHEET_BYTES,
    STYLESHEET_PATH,
    stylesheet_url,
)
from tests.conftest import Client, ClientFactory, basic

CONTEXT = "/bitbucket"
CONTEXT_BASE = "http://127.0.0.1:7990" + CONTEXT
LIST_PATH = "/plugins/servlet/applinks/listApplicationLinks"
TEMPLATES = sorted(TEMPLATE_DIR.glob("*.html"))
ADMIN = User(
    id=1,
    name="admin",
    slug="admin",
    display_name="Admin <b>",
    email="admin@example.com",
    password="admin",
    global_level=GlobalLevel.SYS_ADMIN,
)


class Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.tags if "id" in attrs]

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(attrs for _, attrs in self.tags if attrs.get("id") == element_id)

    def stylesheets(self) -> list[str]:
        return [
            attrs.get("href", "")
            for tag, attrs in self.tags
            if tag == "link" and attrs.get("rel") == "stylesheet"
        ]


def elements(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def cookie(session_id: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


def session_of(store: Store, username: str) -> dict[str, str]:
    return cookie(store.create_session(store.catalog.users_by_slug[username]).id)


@pytest.fixture
async def context_client(aiohttp_client: ClientFactory) -> Client:
    """A simulator whose base URL carries the context path ``/bitbucket``."""
    return await aiohttp_client(create_app(Settings(port=0, base_url=CONTEXT_BASE)))


def store_of(client: Client) -> Store:
    assert client.app is not None
    return client.app[store_key]


# -- / ------------------------------------------------------------------------------------------


async def test_root_sends_an_anonymous_browser_to_log_in_and_on_to_the_dashboard(
    client: Client, store: Store
) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login?next=%2Fdashboard"
    login = await client.get(response.headers["Location"].removeprefix(store.base_url))
    assert login.status == 200
    assert 'name="next" value="/dashboard"' in await login.text()


async def test_root_sends_a_logged_in_browser_to_the_dashboard(
    client: Client, store: Store
) -> None:
    response = await client.get("/", headers=session_of(store, "alice"), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/dashboard"


async def test_root_counts_http_basic_as_logged_in_like_the_dashboard(
    client: Client, store: Store
) -> None:
    response = await client.get("/", headers=basic("admin"), allow_redirects=False)
    assert response.headers["Location"] == store.base_url + "/dashboard"


@pytest.mark.parametrize("accept", ["application/json", "*/*", ""])
async def test_root_redirects_non_browser_clients_too(
    client: Client, store: Store, accept: str
) -> None:
    # A servlet path answers every client the same; only /rest/ answers JSON errors.
    response = await client.get("/", headers={"Accept": accept}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login?next=%2Fdashboard"


async def test_root_answers_head_and_refuses_post(client: Client) -> None:
    assert (await client.head("/", allow_redirects=False)).status == 302
    assert (await client.post("/", allow_redirects=False)).status == 405


async def test_context_root_redirects_under_the_context(context_client: Client) -> None:
    response = await context_client.get(CONTEXT + "/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == CONTEXT_BASE + "/login?next=%2Fdashboard"
    store = store_of(context_client)
    logged_in = await context_client.get(
        CONTEXT + "/", headers=session_of(store, "bob"), allow_redirects=False
    )
    assert logged_in.headers["Location"] == CONTEXT_BASE + "/dashboard"


@pytest.mark.parametrize(("query", "suffix"), [("", ""), ("?a=1&b=x%20y", "?a=1&b=x%20y")])
async def test_context_without_its_slash_redirects_to_the_context_root(
    context_client: Client, query: str, suffix: str
) -> None:
    response = await context_client.get(CONTEXT + query, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == CONTEXT_BASE + "/" + suffix


async def test_root_outside_the_context_path_is_still_a_404(context_client: Client) -> None:
    response = await context_client.get("/", allow_redirects=False)
    assert response.status == 404


# -- the stylesheet -----------------------------------------------------------------------------


async def test_stylesheet_is_css_cached_for_a_year(client: Client) -> None:
    response = await client.get(STYLESHEET_PATH)
    assert response.status == 200
    assert response.headers["Content-Type"] == CSS_CONTENT_TYPE
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert await response.read() == STYLESHEET_BYTES
    etag = response.headers["ETag"]
    again = await client.get(STYLESHEET_PATH, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""


@pytest.mark.parametrize("match", ["*", "W/{etag}", '"other", {etag}'])
async def test_stylesheet_if_none_match_uses_the_weak_comparison(
    client: Client, match: str
) -> None:
    etag = (await client.get(STYLESHEET_PATH)).headers["ETag"]
    again = await client.get(STYLESHEET_PATH, headers={"If-None-Match": match.format(etag=etag)})
    assert again.status == 304
    assert (await client.get(STYLESHEET_PATH, headers={"If-None-Match": '"other"'})).status == 200


async def test_stylesheet_needs_no_login_and_is_served_under_the_context(
    context_client: Client,
) -> None:
    response = await context_client.get(CONTEXT + STYLESHEET_PATH)
    assert response.status == 200
    assert response.headers["Content-Type"] == CSS_CONTENT_TYPE
    assert (await context_client.get(STYLESHEET_PATH)).status == 404


async def test_stylesheet_of_another_content_is_a_404(client: Client) -> None:
    stale = re.sub(r"/s/[0-9a-f]+/", "/s/0123456789abcdef/", STYLESHEET_PATH)
    assert stale != STYLESHEET_PATH
    assert (await client.get(stale)).status == 404


def test_stylesheet_references_nothing_outside_itself() -> None:
    assert not re.search(r"https?://", STYLESHEET, re.IGNORECASE)
    assert "@import" not in STYLESHEET
    assert "@font-face" not in STYLESHEET
    for match in re.finditer(r"url\(\s*['\"]?([^)'\"]*)", STYLESHEET, re.IGNORECASE):
        assert match.group(1).startswith("data:"), match.group(0)
    assert "url(//" not in STYLESHEET.replace(" ", "")


def test_stylesheet_styles_the_aui_classes_the_templates_use() -> None:
    for selector in (
        ".aui-header",
        ".aui-button",
        ".aui-button-primary",
        ".aui-button-link",
        "form.aui .field-group",
        "form.aui.top-label",
        ".aui-message-error",
        ".aui-message-warning",
        ".aui-message-success",
        "table.aui",
        ".aui-navgroup-vertical",
        ".aui-page-panel",
        ".aui-page-focused",
        ".aui-dialog2",
        ".aui-blanket",
    ):
        assert selector in STYLESHEET, selector
    assert STYLESHEET.count("{") == STYLESHEET.count("}")


def test_stylesheet_path_cannot_collide_with_another_route() -> None:
    app = create_app(Settings(port=0))
    paths = [r.canonical for r in app.router.resources() if isinstance(r, web.AbstractResource)]
    assert [p for p in paths if p.startswith("/s/")] == [STYLESHEET_PATH]
    assert stylesheet_url("") == STYLESHEET_PATH
    assert stylesheet_url(CONTEXT) == CONTEXT + STYLESHEET_PATH


# -- every template places the frame ------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_every_template_links_the_stylesheet_and_places_the_frame(template: Path) -> None:
    path = template
    source = path.read_text(encoding="utf-8")
    head = source[source.index("<head>") : source.index("</head>")]
    assert "$_head" in head
    body = source[source.index("<body") :]
    # A dialog's backdrop (the admin page behind it) opens <main> itself.
    main = '<main id="content"' if '<main id="content"' in body else "$_dialog_backdrop"
    assert body.index("$_header") < body.index(main) < body.index("$_footer")
    identifiers = string.Template(source).get_identifiers()
    values = {name: "x" for name in identifiers if not name.startswith("_")}
    with using(Layout(CONTEXT_BASE, ADMIN, "9.4.16")):
        page = render(path.name, None, **values)
    parsed = elements(page)
    assert parsed.stylesheets() == [CONTEXT + STYLESHEET_PATH]
    assert "header" in parsed.ids()
    assert "footer" in parsed.ids()
    duplicated = [name for name, count in Counter(parsed.ids()).items() if count > 1]
    assert duplicated == []
    assert "<script src" not in page
    assert "<img" not in page


def test_admin_templates_show_the_sidebar_with_their_entry_selected() -> None:
    admin = ADMIN
    layout = Layout("http://bb", admin, "9.4.16", tfa_installed=True)
    applinks = chrome("applinks-list.html", layout)["_admin_nav"]
    tfa = chrome("tfa-admin.html", layout)["_admin_nav"]
    selected = re.compile(r'<li class="aui-nav-selected"><a href="([^"]+)">([^<]+)</a>')
    assert selected.findall(applinks) == [("http://bb" + LIST_PATH, "Application Links")]
    assert selected.findall(tfa) == [("http://bb/plugins/servlet/tfa/admin", "U2F &amp; TOTP")]
    without_app = chrome("applinks-list.html", Layout("http://bb", admin))["_admin_nav"]
    assert "U2F" not in without_app
    for name in TEMPLATES:
        source = name.read_text(encoding="utf-8")
        is_admin = name.name.startswith(("applinks-", "tfa-admin")) and "message" not in name.name
        has_nav = "$_admin_nav" in source or "$_dialog_backdrop" in source
        assert has_nav == is_admin, name.name


# -- the header bar -----------------------------------------------------------------------------


async def test_anonymous_header_offers_log_in_and_names_nobody(
    client: Client, store: Store
) -> None:
    page = elements(await (await client.get("/login")).text())
    assert page.by_id("login-link")["href"] == store.base_url + "/login"
    assert "current-user" not in page.ids()
    assert "admin-link" not in page.ids()
    assert page.stylesheets() == [STYLESHEET_PATH]


async def test_admin_header_names_the_user_and_links_administration(
    client: Client, store: Store
) -> None:
    response = await client.get(LIST_PATH, headers=session_of(store, "admin"))
    assert response.status == 200
    page = elements(await response.text())
    assert page.by_id("current-user")["data-username"] == "admin"
    assert page.by_id("logout-link")["href"] == store.base_url + "/j_atl_security_logout"
    assert page.by_id("admin-link")["href"] == store.base_url + LIST_PATH
    assert "admin-sidebar" in page.ids()
    assert page.by_id("create-link")["class"] == "aui-button aui-button-primary"


async def test_a_user_who_is_no_admin_has_no_administration_link(
    client: Client, store: Store
) -> None:
    response = await client.get("/dashboard", headers=session_of(store, "alice"))
    page = elements(await response.text())
    assert page.by_id("current-user")["data-username"] == "alice"
    assert "admin-link" not in page.ids()
    assert store.catalog.users_by_slug["alice"].global_level < GlobalLevel.SYS_ADMIN


async def test_footer_names_the_configured_version(client: Client) -> None:
    await client.patch("/_sim/config", json={"version": "8.19.1"})
    text = await (await client.get("/login")).text()
    assert '<span id="product-version">v8.19.1</span>' in text


async def test_pages_under_a_context_path_link_the_stylesheet_under_it(
    context_client: Client,
) -> None:
    store = store_of(context_client)
    response = await context_client.get(CONTEXT + LIST_PATH, headers=session_of(store, "admin"))
    page = elements(await response.text())
    assert page.stylesheets() == [CONTEXT + STYLESHEET_PATH]
    assert page.by_id("admin-link")["href"] == CONTEXT_BASE + LIST_PATH
    stylesheet = await context_client.get(page.stylesheets()[0])
    assert stylesheet.status == 200
