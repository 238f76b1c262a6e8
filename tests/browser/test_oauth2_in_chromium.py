"""The OAuth 2 pages in a real browser (issue 3, item 9).

An admin creates an "External application / Incoming" link through the Application Links pages;
a user, logged out in a fresh browser context, goes through authorize -> login -> consent and
lands on the client's callback, which then exchanges the code from code (not the browser).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from simulator.testing import SimulatorServer
from tests.browser.callback import CallbackReceiver, Hit
from tests.browser.conftest import NewContext
from tests.schemas import validate

pytestmark = pytest.mark.browser

LIST_PATH = "/plugins/servlet/applinks/listApplicationLinks"
CONSENT_PATH = "/plugins/servlet/oauth2/consent"
AUTHORIZE_PATH = "/rest/oauth2/latest/authorize"
TOKEN_PATH = "/rest/oauth2/latest/token"
CLIENT_PATH = "/rest/oauth2/latest/client"
PROPERTIES_PATH = "/rest/api/1.0/application-properties"
#: Private Packagist pastes two redirect URLs, comma-separated, into the link's form.
CALLBACK_PATHS = (
    "/oauth/register/service/bitbucketserver",
    "/oauth/login/check-custom/bitbucketserver",
)
#: Markup in the name must come out as text on every page.
LINK_NAME = "Private Packagist <b>&</b> Co"
REPO_READ_DESCRIPTION = "Pull and clone repositories"


@dataclass(frozen=True, slots=True)
class Link:
    """What the admin copies from the credentials page."""

    name: str
    client_id: str
    client_secret: str
    redirects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636), computed here, not by the simulator."""

    verifier: str
    challenge: str

    @classmethod
    def fresh(cls) -> Pkce:
        """A random 64-character verifier."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


def starts_with(url: str) -> re.Pattern[str]:
    """A URL pattern: exactly ``url``, then a query."""
    return re.compile("^" + re.escape(url) + r"\?")


def http() -> requests.Session:
    """A requests session that ignores proxy settings (everything is on loopback)."""
    session = requests.Session()
    session.trust_env = False
    return session


def log_in(page: Page, username: str) -> None:
    """Fill and submit Bitbucket's login form (password = username)."""
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Log in").click()


def create_link_as_admin(context: BrowserContext, base: str, redirects: tuple[str, ...]) -> Page:
    """Admin: list -> login -> Create link -> External application + Incoming -> form -> Save.

    Returns the page, on the credentials page.
    """
    page = context.new_page()
    page.goto(base + LIST_PATH)
    expect(page).to_have_url(starts_with(base + "/login"))
    log_in(page, "admin")
    expect(page).to_have_url(base + LIST_PATH)
    expect(page.get_by_role("heading", name="Application links")).to_be_visible()

    page.get_by_role("link", name="Create link").click()
    page.get_by_label("External application", exact=True).check()
    page.get_by_label("Incoming", exact=True).check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Configure an incoming link")).to_be_visible()
    page.get_by_label("Name").fill(LINK_NAME)
    page.get_by_label("Redirect URL").fill(",".join(redirects))
    page.get_by_label("Repositories: Read", exact=True).check()
    # The summary is updated by the page's script as boxes are ticked.
    expect(page.locator("#permission-summary")).to_contain_text(REPO_READ_DESCRIPTION)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Credentials")).to_be_visible()
    return page


def read_link(page: Page, redirects: tuple[str, ...]) -> Link:
    """The Client ID and Client secret shown on the credentials page."""
    return Link(
        name=page.locator("#link-name").inner_text(),
        client_id=page.locator("#client-id").inner_text().strip(),
        client_secret=page.locator("#client-secret").inner_text().strip(),
        redirects=redirects,
    )


def authorize_url(base: str, link: Link, state: str, pkce: Pkce) -> str:
    """The URL a client sends its user to."""
    query = urlencode(
        {
            "client_id": link.client_id,
            "redirect_uri": link.redirects[0],
            "response_type": "code",
            "scope": "REPO_READ",
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}{AUTHORIZE_PATH}?{query}"


def consent_as_alice(context: BrowserContext, base: str, link: Link, url: str) -> Page:
    """User: authorize -> login page -> alice/alice -> the consent page, checked."""
    page = context.new_page()
    page.goto(url)
    expect(page).to_have_url(starts_with(base + "/login"))
    log_in(page, "alice")
    expect(page).to_have_url(starts_with(base + CONSENT_PATH))
    expect(page.locator("#client-name")).to_have_text(link.name)
    expect(page.locator("#consent-username")).to_have_text("alice")
    expect(page.locator("#consent-scopes")).to_contain_text(REPO_READ_DESCRIPTION)
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    return page


def only_hit(callback: CallbackReceiver) -> Hit:
    """The one request the callback received."""
    hits = callback.hits
    assert len(hits) == 1, hits
    return hits[0]


@pytest.fixture
def redirects(callback: CallbackReceiver) -> tuple[str, ...]:
    """The two redirect URLs of the link, both on the callback receiver."""
    return tuple(callback.url(path) for path in CALLBACK_PATHS)


@pytest.fixture
def link(
    simulator: SimulatorServer,
    new_context: NewContext,
    redirects: tuple[str, ...],
) -> Link:
    """A link created by the admin through the pages, as read from its credentials page."""
    page = create_link_as_admin(new_context(), simulator.base_url, redirects)
    return read_link(page, redirects)


def test_admin_creates_an_incoming_link_and_reads_its_credentials(
    simulator: SimulatorServer, new_context: NewContext, redirects: tuple[str, ...], tmp_path: Path
) -> None:
    page = create_link_as_admin(new_context(), simulator.base_url, redirects)
    page.screenshot(path=tmp_path / "credentials.png", full_page=True)
    link = read_link(page, redirects)

    assert link.name == LINK_NAME
    assert re.fullmatch("[0-9a-f]{32}", link.client_id)
    page.get_by_role("link", name="Back to application links").click()
    row = page.locator("tr.application-link")
    expect(row).to_have_count(1)
    expect(row.locator(".application-name")).to_have_text(LINK_NAME)
    expect(row.locator(".direction")).to_have_text("Incoming")
    response = http().get(
        f"{simulator.base_url}{CLIENT_PATH}/{link.client_id}", auth=("admin", "admin"), timeout=10
    )
    assert response.status_code == 200, response.text
    body = validate(response.json(), "oauth2/client.json")
    assert body["clientSecret"] == link.client_secret
    assert body["name"] == LINK_NAME
    assert body["redirects"] == list(redirects)
    assert body["scope"] == "REPO_READ"


def test_user_who_allows_lands_on_the_callback_with_a_code_that_yields_a_token_for_alice(
    simulator: SimulatorServer,
    new_context: NewContext,
    callback: CallbackReceiver,
    link: Link,
) -> None:
    base = simulator.base_url
    state, pkce = secrets.token_urlsafe(16), Pkce.fresh()
    page = consent_as_alice(new_context(), base, link, authorize_url(base, link, state, pkce))

    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(starts_with(link.redirects[0]))
    expect(page.get_by_role("heading", name="Callback received")).to_be_visible()
    hit = only_hit(callback)
    assert hit.path == CALLBACK_PATHS[0]
    assert sorted(hit.query) == ["code", "state"]
    assert hit.query["state"] == [state]
    session = http()
    token = session.post(
        base + TOKEN_PATH,
        data={
            "grant_type": "authorization_code",
            "code": hit.query["code"][0],
            "redirect_uri": link.redirects[0],
            "client_id": link.client_id,
            "client_secret": link.client_secret,
            "code_verifier": pkce.verifier,
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    tokens = validate(token.json(), "oauth2/token-response.json")
    assert tokens["scope"] == "REPO_READ"
    properties = session.get(
        base + PROPERTIES_PATH,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert properties.status_code == 200
    validate(properties.json(), "application-properties.json")
    assert properties.headers["X-AUSERNAME"] == "alice"


def test_user_who_denies_lands_on_the_callback_with_access_denied_and_the_state(
    simulator: SimulatorServer,
    new_context: NewContext,
    callback: CallbackReceiver,
    link: Link,
) -> None:
    base = simulator.base_url
    state, pkce = secrets.token_urlsafe(16), Pkce.fresh()
    page = consent_as_alice(new_context(), base, link, authorize_url(base, link, state, pkce))

    page.get_by_role("button", name="Deny").click()

    expect(page).to_have_url(starts_with(link.redirects[0]))
    expect(page.get_by_role("heading", name="Callback received")).to_be_visible()
    hit = only_hit(callback)
    assert hit.path == CALLBACK_PATHS[0]
    assert hit.query["error"] == ["access_denied"]
    assert hit.query["state"] == [state]
    assert "code" not in hit.query
