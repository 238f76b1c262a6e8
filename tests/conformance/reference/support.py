"""Test helpers: a tiny synchronous browser (requests + the stdlib HTML parser), the simulator's
control API, and an integration set up end to end through the driver protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import requests

from simulator.testing import SimulatorServer

TIMEOUT = 10
#: What browsers send (Firefox's default), so the reference answers pages.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Form:
    """One HTML form: where it posts and its fields (hidden and visible inputs)."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag == "input" and self.forms and values.get("name"):
            if values.get("type") in ("submit", "checkbox", "radio"):
                return
            self.forms[-1].fields[values["name"]] = values.get("value", "")
        elif tag == "select" and self.forms:
            self._select = values.get("name")
        elif tag == "option" and self.forms and self._select and "selected" in values:
            self.forms[-1].fields[self._select] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(page: str) -> list[Form]:
    """Every form on a page (values unescaped)."""
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


class Browser:
    """A user's browser: one cookie jar for every server, redirects followed unless asked."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.headers["Accept"] = BROWSER_ACCEPT

    def close(self) -> None:
        """Drop the connections."""
        self.http.close()

    def get(self, url: str, follow: bool = True) -> requests.Response:
        """Open a URL."""
        return self.http.get(url, allow_redirects=follow, timeout=TIMEOUT)

    def submit(
        self, page: requests.Response, values: dict[str, str], follow: bool = True
    ) -> requests.Response:
        """Fill the page's (first) form with ``values`` and submit it."""
        form = forms_of(page.text)[0]
        assert form.method == "post", form
        return self.http.post(
            urljoin(page.url, form.action),
            data={**form.fields, **values},
            allow_redirects=follow,
            timeout=TIMEOUT,
        )

    def log_in_to_bitbucket(self, page: requests.Response, username: str) -> requests.Response:
        """On Bitbucket's login page, enter the username and its password (the same)."""
        assert "j_atl_security_check" in page.text, page.url
        return self.submit(page, {"j_username": username, "j_password": username})

    def consent_page(self, login_link: str, username: str) -> requests.Response:
        """Open the login link and log in to Bitbucket: the consent page."""
        page = self.get(login_link)
        if "/login" in page.url:
            page = self.log_in_to_bitbucket(page, username)
        assert "/plugins/servlet/oauth2/consent" in page.url, (page.url, page.text[:500])
        return page

    def decide(self, consent: requests.Response, decision: str) -> str:
        """Press Allow or Deny; the callback URL Bitbucket sends the browser to."""
        answer = self.submit(consent, {"decision": decision}, follow=False)
        assert answer.status_code == 303, answer.text[:500]
        return answer.headers["Location"]

    def log_in(self, login_link: str, username: str, decision: str = "allow") -> requests.Response:
        """The whole login through the integration's login link; the page it ends on."""
        callback = self.decide(self.consent_page(login_link, username), decision)
        return self.get(callback)

    def authorize_page(self, login_link: str, username: str) -> requests.Response:
        """Open an OAuth 1 login link and log in to Bitbucket: the Allow/Deny page."""
        page = self.get(login_link)
        if "/login" in page.url:
            page = self.log_in_to_bitbucket(page, username)
        assert "/plugins/servlet/oauth/authorize" in page.url, (page.url, page.text[:500])
        return page

    def decide_oauth1(self, authorize: requests.Response, decision: str) -> str:
        """Press Allow or Deny on the OAuth 1 page; the callback URL Bitbucket sends the
        browser to."""
        button = {"allow": {"approve": "Allow"}, "deny": {"deny": "Deny"}}[decision]
        answer = self.submit(authorize, button, follow=False)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]

    def log_in_oauth1(
        self, login_link: str, username: str, decision: str = "allow"
    ) -> requests.Response:
        """The whole OAuth 1 login through the integration's login link; the page it ends on."""
        callback = self.decide_oauth1(self.authorize_page(login_link, username), decision)
        return self.get(callback)

    def cookies(self) -> dict[str, str]:
        """The cookie jar as name -> value."""
        return {cookie.name: cookie.value or "" for cookie in self.http.cookies}


def with_query(url: str, **changes: str | None) -> str:
    """The URL with some query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- the simulator's control API -----------------------------------------------------------


def create_link(
    bitbucket: SimulatorServer, callback_urls: list[str], scope: str = "REPO_READ"
) -> dict[str, Any]:
    """An OAuth 2 incoming link for the integration's callback URLs (as the admin would)."""
    answer = requests.post(
        bitbucket.base_url + "/_sim/applinks",
        json={
            "type": "oauth2",
            "name": f"Packagist {callback_urls[0].rsplit('/', 1)[-1]}",
            "redirect_urls": callback_urls,
            "scope": scope,
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def create_oauth1_link(bitbucket: SimulatorServer, created: dict[str, Any]) -> dict[str, Any]:
    """An OAuth 1 link with the integration's consumer key and public key, the Consumer
    Callback URL left empty (as the admin would)."""
    answer = requests.post(
        bitbucket.base_url + "/_sim/applinks",
        json={
            "type": "oauth1",
            "name": f"Packagist OAuth 1 {created['consumer_key']}",
            "consumer_key": created["consumer_key"],
            "public_key": created["public_key"],
            "callback_url": "",
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def delete_oauth1_link(bitbucket: SimulatorServer, link: dict[str, Any]) -> None:
    """Delete an OAuth 1 link on the admin pages, as the admin would (its tokens die too)."""
    admin = Browser()
    try:
        page = admin.get(
            f"{bitbucket.base_url}/plugins/servlet/applinks/oauth1/{link['id']}/delete"
        )
        page = admin.log_in_to_bitbucket(page, "admin")
        listing = admin.submit(page, {}, follow=False)
        assert listing.status_code == 303, listing.text[:500]
    finally:
        admin.close()


def delete_link(bitbucket: SimulatorServer, link: dict[str, Any]) -> None:
    """Delete the link as the admin would (its tokens die with it)."""
    answer = requests.delete(
        f"{bitbucket.base_url}/rest/oauth2/latest/client/{link['id']}",
        auth=("admin", "admin"),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 204, answer.text


def patch_config(bitbucket: SimulatorServer, changes: dict[str, Any]) -> None:
    """``PATCH /_sim/config``."""
    answer = requests.patch(bitbucket.base_url + "/_sim/config", json=changes, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text


def advance_clock(bitbucket: SimulatorServer, seconds: float) -> None:
    """``POST /_sim/clock``."""
    answer = requests.post(
        bitbucket.base_url + "/_sim/clock", json={"advance_seconds": seconds}, timeout=TIMEOUT
    )
    assert answer.status_code == 200, answer.text


def journal(bitbucket: SimulatorServer, path_prefix: str) -> list[dict[str, Any]]:
    """The simulator's journal entries under a path prefix."""
    answer = requests.get(
        bitbucket.base_url + "/_sim/journal", params={"path_prefix": path_prefix}, timeout=TIMEOUT
    )
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def clear_journal(bitbucket: SimulatorServer) -> None:
    """``DELETE /_sim/journal``."""
    answer = requests.delete(bitbucket.base_url + "/_sim/journal", timeout=TIMEOUT)
    assert answer.status_code == 204, answer.text


# -- the reference through the driver protocol ------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """An integration created on the reference and linked on Bitbucket."""

    created: dict[str, Any]
    link: dict[str, Any]
    login_link: str


def set_up_integration(reference_url: str, bitbucket: SimulatorServer) -> Setup:
    """The guide end to end: open the form, create the link, finish the setup."""
    created = requests.post(
        reference_url + "/integrations",
        json={"platform": "bitbucket-server", "base_url": bitbucket.base_url, "oauth_version": 2},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    link = create_link(bitbucket, body["callback_urls"])
    submitted = requests.post(
        f"{reference_url}/integrations/{body['id']}/submit",
        json={"client_id": link["client_id"], "client_secret": link["client_secret"]},
        timeout=TIMEOUT,
    )
    assert submitted.status_code == 200, submitted.text
    listed = requests.get(reference_url + "/integrations", timeout=TIMEOUT).json()
    (login_link,) = [row["login_link"] for row in listed if row["id"] == body["id"]]
    return Setup(created=body, link=link, login_link=login_link)


def create_integration(
    reference_url: str, bitbucket: SimulatorServer, oauth_version: int
) -> dict[str, Any]:
    """``POST /integrations`` (201 expected): what the form shows."""
    created = requests.post(
        reference_url + "/integrations",
        json={
            "platform": "bitbucket-server",
            "base_url": bitbucket.base_url,
            "oauth_version": oauth_version,
        },
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def set_up_oauth1_integration(reference_url: str, bitbucket: SimulatorServer) -> Setup:
    """Private Packagist's OAuth 1 guide end to end: open the form, create the link with the
    generated key, finish the setup."""
    body = create_integration(reference_url, bitbucket, 1)
    link = create_oauth1_link(bitbucket, body)
    submitted = requests.post(
        f"{reference_url}/integrations/{body['id']}/submit",
        json={"client_id": "", "client_secret": ""},
        timeout=TIMEOUT,
    )
    assert submitted.status_code == 200, submitted.text
    listed = requests.get(reference_url + "/integrations", timeout=TIMEOUT).json()
    (login_link,) = [row["login_link"] for row in listed if row["id"] == body["id"]]
    return Setup(created=body, link=link, login_link=login_link)


def session_of(reference_url: str, browser: Browser) -> dict[str, Any]:
    """``GET /session`` with the browser's cookies."""
    answer = requests.get(reference_url + "/session", cookies=browser.cookies(), timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
