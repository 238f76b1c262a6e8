"""Every page as a person sees it in Chromium, photographed (issue 10, item 4).

Each test opens one of the simulator's pages in a fresh browser context, saves a full-page
screenshot to ``build/screenshots/<page>.png`` (``BBDC_SIM_SCREENSHOTS`` names another folder;
the run's summary prints where they went) and checks that the Bitbucket look is really there:

- the dark-blue Atlassian header bar with the Bitbucket logo is visible;
- the one stylesheet was loaded from the simulator (200, ``text/css``) and applied;
- the page's primary button is an AUI button (class ``aui-button aui-button-primary``) that
  looks like one: blue, white text, rounded, of a button's height;
- the page's own landmark (a message box, a dialog, a table, the admin sidebar) is shown;
- no request left the loopback host (no fonts, images or scripts from elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
import requests
from playwright.sync_api import BrowserContext, Page, Response, expect

from simulator.model import User
from simulator.store import SESSION_COOKIE
from simulator.testing import SimulatorServer
from simulator.web.stylesheet import STYLESHEET_PATH
from tests.browser.conftest import SCREENSHOTS, TAKEN, NewContext
from tests.simulator.oauth1.signing import make_key_pair

pytestmark = pytest.mark.browser

APPLINKS = "/plugins/servlet/applinks"
LIST_PATH = APPLINKS + "/listApplicationLinks"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Computed colours of the look (the stylesheet's palette).
HEADER_BLUE = "rgb(7, 71, 166)"
PRIMARY_BLUE = "rgb(0, 82, 204)"
DEFAULT_GREY = "rgb(244, 245, 247)"
WHITE = "rgb(255, 255, 255)"
ERROR_PINK = "rgb(255, 235, 230)"
REDIRECTS = "https://packagist.example/oauth/register/service/bitbucketserver"


@dataclass  # no slots: Playwright keeps an attribute on the objects of its handlers
class Browsing:
    """A browser context on the simulator that remembers every request and stylesheet answer."""

    context: BrowserContext
    requests: list[str] = field(default_factory=list)
    stylesheets: list[Response] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if STYLESHEET_PATH in response.url:
            self.stylesheets.append(response)


@dataclass(slots=True)
class Scene:
    """What a test needs to reach a page: the simulator, and browsers logged in as anyone."""

    server: SimulatorServer
    new_context: NewContext
    browsings: list[Browsing] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.base_url

    def browser(self, username: str | None = None) -> Browsing:
        """A fresh context, logged in as ``username`` (a session made in the store) or not."""
        browsing = Browsing(self.new_context())
        browsing.context.on("request", lambda r: browsing.requests.append(r.url))
        browsing.context.on("response", browsing.on_response)
        if username is not None:
            session = self.server.store.create_session(self.user(username))
            browsing.context.add_cookies(
                [{"name": SESSION_COOKIE, "value": session.id, "url": self.base + "/"}]
            )
        self.browsings.append(browsing)
        return browsing

    def user(self, username: str) -> User:
        user = self.server.store.authenticate_password(username, username)
        assert user is not None, username
        return user

    def open(self, url: str, username: str | None = None, status: int = 200) -> Page:
        """A new page of a new context on ``url`` (relative to the base URL)."""
        page = self.browser(username).context.new_page()
        response = page.goto(self.base + url)
        assert response is not None
        assert response.status == status, (url, response.status)
        return page

    def control(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call the control API."""
        session = requests.Session()
        session.trust_env = False
        response = session.request(method, self.base + "/_sim" + path, json=body, timeout=10)
        assert response.status_code < 300, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def oauth2_link(self) -> dict[str, Any]:
        return self.control(
            "POST",
            "/applinks",
            {
                "type": "oauth2",
                "name": "Private Packagist",
                "redirect_urls": [REDIRECTS],
                "scope": "REPO_READ",
            },
        )

    def oauth1_link(self) -> dict[str, Any]:
        return self.control(
            "POST",
            "/applinks",
            {
                "type": "oauth1",
                "name": "Packagist (OAuth 1)",
                "consumer_key": "packagist-acme",
                "public_key": make_key_pair().public_pem,
                "description": "Private Packagist for Acme",
            },
        )

    def install_tfa(self) -> None:
        self.control("PATCH", "/config", {"tfa": {"installed": True, "enforce": "all"}})


@pytest.fixture
def scene(simulator: SimulatorServer, new_context: NewContext) -> Scene:
    """A scene on the freshly reset simulator."""
    return Scene(simulator, new_context)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder of the screenshots (created; old shots of these pages are overwritten)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# -- the checks ---------------------------------------------------------------------------------


def css(page: Page, selector: str, prop: str) -> str:
    """A computed style of the first element matching ``selector``."""
    value: str = page.locator(selector).first.evaluate(
        "(e, p) => getComputedStyle(e).getPropertyValue(p)", prop
    )
    return value


def check_frame(scene: Scene, page: Page) -> None:
    """The header bar, the stylesheet and loopback only."""
    header = page.locator("#header .aui-header")
    expect(header).to_be_visible()
    assert css(page, "#header .aui-header", "background-color") == HEADER_BLUE
    expect(page.locator("#logo")).to_contain_text("Bitbucket")
    expect(page.locator("#logo svg")).to_be_visible()
    expect(page.locator("#footer")).to_be_visible()

    browsing = next(b for b in scene.browsings if page in b.context.pages)
    assert browsing.stylesheets, "the stylesheet was never requested"
    for response in browsing.stylesheets:
        assert response.status == 200, response.url
        assert (response.header_value("content-type") or "").startswith("text/css")
    sheets = page.evaluate(
        "() => [...document.styleSheets].map(s => [s.href || '', s.cssRules.length])"
    )
    assert [href for href, _ in sheets] == [scene.base + STYLESHEET_PATH]
    assert sheets[0][1] > 50

    for url in browsing.requests:
        parts = urlsplit(url)
        assert parts.scheme == "data" or parts.hostname in LOOPBACK, f"left loopback: {url}"


def check_primary(page: Page, selector: str) -> None:
    """The element is a visible AUI primary button that looks like one."""
    button = page.locator(selector)
    expect(button).to_be_visible()
    classes = (button.get_attribute("class") or "").split()
    assert {"aui-button", "aui-button-primary"} <= set(classes), classes
    assert css(page, selector, "background-color") == PRIMARY_BLUE
    assert css(page, selector, "color") == WHITE
    assert css(page, selector, "border-top-left-radius") == "3px"
    box = button.bounding_box()
    assert box is not None
    assert 28 <= box["height"] <= 36, box
    assert box["width"] >= 40, box


def check_default(page: Page, selector: str) -> None:
    """The element is a visible grey AUI (default) button."""
    expect(page.locator(selector)).to_be_visible()
    assert "aui-button" in (page.locator(selector).get_attribute("class") or "").split()
    assert css(page, selector, "background-color") == DEFAULT_GREY


def check_error_message(page: Page, selector: str) -> None:
    """An AUI error message box is shown."""
    expect(page.locator(selector)).to_be_visible()
    assert "aui-message-error" in (page.locator(selector).get_attribute("class") or "")
    assert css(page, selector, "background-color") == ERROR_PINK


def check_admin_sidebar(page: Page, selected: str) -> None:
    """The Administration sidebar, with ``selected`` marked."""
    sidebar = page.locator("#admin-sidebar")
    expect(sidebar).to_be_visible()
    expect(sidebar.locator(".aui-nav-selected")).to_have_text(selected)


def shoot(page: Page, screenshots: Path, name: str) -> Path:
    """Save a full-page screenshot."""
    path = screenshots / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0
    TAKEN.append(path)
    return path


# -- the pages ----------------------------------------------------------------------------------


def login_page(scene: Scene) -> Page:
    page = scene.open("/")  # the root of an anonymous browser is the login page
    expect(page).to_have_url(scene.base + "/login?next=%2Fdashboard")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    check_primary(page, "#submit")
    return page


def dashboard(scene: Scene) -> Page:
    page = scene.open("/", username="admin")  # a logged-in browser's root is the dashboard
    expect(page).to_have_url(scene.base + "/dashboard")
    expect(page.get_by_role("heading", name="Your work")).to_be_visible()
    expect(page.locator("#admin-link")).to_be_visible()
    return page


def applinks_list(scene: Scene) -> Page:
    scene.oauth2_link()
    scene.oauth1_link()
    page = scene.open(LIST_PATH, username="admin")
    check_admin_sidebar(page, "Application Links")
    create = page.get_by_role("link", name="Create link")
    expect(create).to_have_attribute("id", "create-link")
    check_primary(page, "#create-link")
    header_box = page.locator(".aui-page-header").bounding_box()
    button_box = create.bounding_box()
    assert header_box is not None
    assert button_box is not None
    assert button_box["x"] > header_box["x"] + header_box["width"] / 2  # on the right
    expect(page.locator("tr.application-link")).to_have_count(2)
    expect(page.locator("table.aui .aui-lozenge").first).to_have_text("Non-Atlassian")
    return page


def applinks_create(scene: Scene) -> Page:
    page = scene.open(LIST_PATH, username="admin")
    page.get_by_role("link", name="Create link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Create link")).to_be_visible()
    expect(page.locator(".aui-blanket")).to_be_visible()
    expect(page.get_by_label("External application", exact=True)).to_be_checked()
    expect(page.get_by_label("Incoming", exact=True)).to_be_checked()
    check_primary(page, "#continue")
    return page


def applinks_incoming(scene: Scene) -> Page:
    page = scene.open(APPLINKS + "/createLink", username="admin")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Configure an incoming link")).to_be_visible()
    page.get_by_label("Name").fill("Private Packagist")
    page.get_by_label("Redirect URL").fill(REDIRECTS)
    page.get_by_label("Repositories: Read", exact=True).check()
    expect(page.locator("#permission-summary")).to_contain_text("Pull and clone repositories")
    check_admin_sidebar(page, "Application Links")
    check_primary(page, "#save")
    return page


def applinks_credentials(scene: Scene) -> Page:
    link = scene.oauth2_link()
    page = scene.open(f"{APPLINKS}/oauth2/{link['id']}/credentials", username="admin")
    expect(page.locator("#client-id")).to_have_text(link["client_id"])
    expect(page.locator("#client-secret")).to_have_text(link["client_secret"])
    check_default(page, "#regenerate-secret")
    check_admin_sidebar(page, "Application Links")
    return page


def applinks_edit(scene: Scene) -> Page:
    link = scene.oauth2_link()
    page = scene.open(f"{APPLINKS}/oauth2/{link['id']}/edit", username="admin")
    expect(page.get_by_label("Repositories: Read", exact=True)).to_be_checked()
    check_primary(page, "#save")
    return page


def applinks_delete(scene: Scene) -> Page:
    link = scene.oauth2_link()
    page = scene.open(f"{APPLINKS}/oauth2/{link['id']}/delete", username="admin")
    expect(page.get_by_role("dialog")).to_contain_text("Private Packagist")
    check_primary(page, "#confirm-delete")
    return page


def applinks_not_admin(scene: Scene) -> Page:
    page = scene.open(LIST_PATH, username="alice", status=401)
    check_error_message(page, "#page-message")
    return page


def oauth1_url(scene: Scene) -> Page:
    page = scene.open(APPLINKS + "/createLink", username="admin")
    page.get_by_label("Atlassian product", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Application URL").fill("https://packagist.example/")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#form-message")).to_be_visible()  # "No response was received ..."
    expect(page.get_by_role("dialog")).to_be_visible()
    check_primary(page, "#continue")
    return page


def oauth1_link_applications(scene: Scene) -> Page:
    query = urlencode({"url": "https://packagist.example/"})
    page = scene.open(f"{APPLINKS}/oauth1/new/link?{query}", username="admin")
    expect(page.get_by_role("dialog").get_by_role("heading")).to_have_text("Link applications")
    check_primary(page, "#continue")
    return page


def oauth1_edit(scene: Scene) -> Page:
    link = scene.oauth1_link()
    page = scene.open(f"{APPLINKS}/oauth1/{link['id']}/edit", username="admin")
    expect(page.get_by_label("Consumer Key")).to_have_value("packagist-acme")
    check_admin_sidebar(page, "Application Links")
    check_primary(page, "#save")
    return page


def oauth2_consent(scene: Scene) -> Page:
    link = scene.oauth2_link()
    query = urlencode(
        {
            "client_id": link["client_id"],
            "redirect_uri": REDIRECTS,
            "response_type": "code",
            "scope": "REPO_READ",
            "state": "xyz",
        }
    )
    page = scene.open(f"/plugins/servlet/oauth2/consent?{query}", username="alice")
    expect(page.locator("#consent-title")).to_contain_text("Private Packagist")
    check_primary(page, "#approve")
    check_default(page, "#deny")
    return page


def oauth2_error(scene: Scene) -> Page:
    query = urlencode({"errorName": "invalid_request", "errorDescription": "Unknown client"})
    page = scene.open(f"/plugins/servlet/oauth2/error?{query}")
    check_error_message(page, "#oauth2-error")
    return page


def _oauth1_token(scene: Scene) -> str:
    scene.oauth1_link()
    backend = scene.server.store.oauth1
    link = backend.link_by_consumer_key("packagist-acme")
    assert link is not None
    return backend.issue_request_token(link, None).token


def oauth1_authorize(scene: Scene) -> Page:
    token = _oauth1_token(scene)
    page = scene.open(f"/plugins/servlet/oauth/authorize?oauth_token={token}", username="alice")
    expect(page.locator("#consumer-name")).to_have_text("Packagist (OAuth 1)")
    check_primary(page, "#approve")
    check_default(page, "#deny")
    return page


def oauth1_result(scene: Scene) -> Page:
    page = oauth1_authorize(scene)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("#oauth-verifier")).to_be_visible()  # no callback: shown to the user
    return page


def oauth1_error(scene: Scene) -> Page:
    page = scene.open(
        "/plugins/servlet/oauth/authorize?oauth_token=nope", username="alice", status=401
    )
    check_error_message(page, "#oauth-error")
    return page


def _log_in(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Log in").click()


def tfa_enrol(scene: Scene) -> Page:
    scene.install_tfa()
    page = scene.open("/login")
    _log_in(page, "alice")
    expect(page.locator("#tfa-qr svg")).to_be_visible()
    check_primary(page, "#tfa-submit")
    return page


def tfa_verify(scene: Scene) -> Page:
    page = tfa_enrol(scene)
    secret = page.locator("#tfa-secret").inner_text().replace(" ", "")
    now = int(scene.server.store.clock.now())
    page.get_by_label("Verification code").fill(pyotp.TOTP(secret).at(now))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(scene.base + "/dashboard")
    page = scene.open("/login")
    _log_in(page, "alice")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    check_primary(page, "#tfa-submit")
    return page


def tfa_blocked(scene: Scene) -> Page:
    scene.install_tfa()
    page = scene.open("/plugins/servlet/tfa/blocked")
    check_error_message(page, "#tfa-blocked-message")
    return page


def tfa_admin(scene: Scene) -> Page:
    scene.install_tfa()
    page = scene.open("/plugins/servlet/tfa/admin", username="admin")
    expect(page.get_by_label("Enable OAuth whitelist")).to_be_visible()
    check_admin_sidebar(page, "U2F & TOTP")
    check_primary(page, "#tfa-save")
    return page


def tfa_not_admin(scene: Scene) -> Page:
    scene.install_tfa()
    page = scene.open("/plugins/servlet/tfa/admin", username="alice", status=401)
    check_error_message(page, "#page-message")
    return page


PAGES: dict[str, Callable[[Scene], Page]] = {
    "login": login_page,
    "dashboard": dashboard,
    "applinks-list": applinks_list,
    "applinks-create": applinks_create,
    "applinks-incoming": applinks_incoming,
    "applinks-credentials": applinks_credentials,
    "applinks-edit": applinks_edit,
    "applinks-delete": applinks_delete,
    "applinks-not-admin": applinks_not_admin,
    "applinks-oauth1-url": oauth1_url,
    "applinks-oauth1-link": oauth1_link_applications,
    "applinks-oauth1-edit": oauth1_edit,
    "oauth2-consent": oauth2_consent,
    "oauth2-error": oauth2_error,
    "oauth1-authorize": oauth1_authorize,
    "oauth1-result": oauth1_result,
    "oauth1-error": oauth1_error,
    "tfa-enrol": tfa_enrol,
    "tfa-verify": tfa_verify,
    "tfa-blocked": tfa_blocked,
    "tfa-admin": tfa_admin,
    "tfa-not-admin": tfa_not_admin,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_looks_like_bitbucket(scene: Scene, screenshots: Path, name: str) -> None:
    page = PAGES[name](scene)
    check_frame(scene, page)
    shoot(page, screenshots, name)
