"""The login page, the session cookie, the dashboard and logout (simulator/web/login.py)."""

from __future__ import annotations

from html.parser import HTMLParser
from http.cookies import SimpleCookie

import pytest
from aiohttp import ClientResponse

from simulator.app import create_app
from simulator.keys import store_key
from simulator.model import User
from simulator.settings import Settings
from simulator.store import SESSION_COOKIE, Store
from tests.conftest import Client, ClientFactory

HTML = "text/html;charset=UTF-8"
CONTEXT_BASE = "http://127.0.0.1:7990/bitbucket"


class PageParser(HTMLParser):
    """Collects the forms (action, method, fields) and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str]] = []
        self.fields: list[dict[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self.attrs_by_id: dict[str, dict[str, str]] = {}
        self._open_ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(values)
            self.fields.append({})
        elif tag == "input" and self.fields:
            self.fields[-1][values.get("name", "")] = values
        if "id" in values:
            self.attrs_by_id[values["id"]] = values
            if tag != "input":
                self._open_ids.append(values["id"])
                self.text_by_id.setdefault(values["id"], "")

    def handle_endtag(self, tag: str) -> None:
        if tag != "input" and self._open_ids:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open_ids:
            self.text_by_id[element_id] += data


def parse(page: str) -> PageParser:
    """Parse an HTML page."""
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def set_cookies(response: ClientResponse) -> SimpleCookie:
    """The cookies a response sets, with their attributes."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        jar.load(header)
    return jar


async def login(client: Client, username: str, password: str | None = None, **extra: str) -> str:
    """Log in through the form and return the session id (the client's jar is emptied)."""
    form = {"j_username": username, "j_password": username if password is None else password}
    response = await client.post(
        "/j_atl_security_check", data={**form, **extra}, allow_redirects=False
    )
    assert response.status == 302
    client.session.cookie_jar.clear()
    return set_cookies(response)[SESSION_COOKIE].value


def cookie(session_id: str) -> dict[str, str]:
    """A Cookie header carrying a session."""
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


@pytest.fixture
async def context_client(aiohttp_client: ClientFactory) -> Client:
    """A simulator whose base URL carries the context path ``/bitbucket``."""
    return await aiohttp_client(create_app(Settings(port=0, base_url=CONTEXT_BASE)))


def context_store(client: Client) -> Store:
    """The store behind a client."""
    assert client.app is not None
    return client.app[store_key]


# -- the form -------------------------------------------------------------------------------


async def test_login_page_renders_bitbucket_form(client: Client, store: Store) -> None:
    response = await client.get("/login")
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    page = parse(await response.text())
    assert len(page.forms) == 1
    assert page.forms[0]["method"] == "post"
    assert page.forms[0]["action"] == store.base_url + "/j_atl_security_check"
    fields = page.fields[0]
    assert fields["j_username"]["type"] == "text"
    assert fields["j_password"]["type"] == "password"
    assert fields["next"] == {"type": "hidden", "name": "next", "value": ""}
    assert fields["submit"]["type"] == "submit"
    assert fields["submit"]["value"] == "Log in"
    assert fields["_atl_remember_me"]["type"] == "checkbox"
    assert "login-error" not in page.text_by_id


@pytest.mark.parametrize(
    "target",
    ["/dashboard", "/plugins/servlet/oauth/authorize?oauth_token=abc", "/projects/PKG?x=1&y=2"],
)
async def test_login_page_keeps_next_relative_to_the_base_url(client: Client, target: str) -> None:
    response = await client.get("/login", params={"next": target})
    assert parse(await response.text()).fields[0]["next"]["value"] == target


async def test_login_page_keeps_next_as_absolute_url_on_the_base_url(
    client: Client, store: Store
) -> None:
    target = store.base_url + "/rest/oauth2/latest/authorize?client_id=x"
    response = await client.get("/login", params={"next": target})
    assert parse(await response.text()).fields[0]["next"]["value"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "http://evil.example/",
        "https://127.0.0.1:0/dashboard",
        "http://127.0.0.1:0@evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "/../etc",
        "/%2e%2e/etc",
        "dashboard",
        "/dash\nboard",
    ],
)
async def test_login_page_drops_next_leaving_the_site(client: Client, target: str) -> None:
    response = await client.get("/login", params={"next": target})
    assert parse(await response.text()).fields[0]["next"]["value"] == ""


async def test_login_page_escapes_next(client: Client) -> None:
    target = '/x?a="><script>alert(1)</script>'
    response = await client.get("/login", params={"next": target})
    text = await response.text()
    assert "<script>" not in text
    assert parse(text).fields[0]["next"]["value"] == target


async def test_login_page_with_a_session_goes_on_to_next(client: Client, store: Store) -> None:
    session_id = await login(client, "alice")
    response = await client.get(
        "/login", params={"next": "/projects"}, headers=cookie(session_id), allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/projects"


async def test_a_non_ascii_next_is_percent_encoded_in_the_location(
    client: Client, store: Store
) -> None:
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice", "next": "/projects/é?q=漢"},
        allow_redirects=False,
    )
    assert response.status == 302
    location = response.headers["Location"]
    assert location == store.base_url + "/projects/%C3%A9?q=%E6%BC%A2"


async def test_get_on_security_check_is_405(client: Client) -> None:
    response = await client.get("/j_atl_security_check")
    assert response.status == 405


# -- logging in -----------------------------------------------------------------------------


async def test_good_credentials_set_session_cookie_and_redirect_to_dashboard(
    client: Client, store: Store
) -> None:
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice", "next": "", "submit": "Log in"},
        allow_redirects=False,
    )
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/dashboard"
    morsel = set_cookies(response)[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["path"] == "/"
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"]
    session = store.sessions[morsel.value]
    assert store.user_by_id(session.user_id) is not None
    assert store.catalog.users_by_slug["alice"].id == session.user_id


async def test_username_is_case_insensitive(client: Client, store: Store) -> None:
    session_id = await login(client, "ALICE", "alice")
    assert store.sessions[session_id].user_id == store.catalog.users_by_slug["alice"].id


async def test_login_redirects_to_relative_next(client: Client, store: Store) -> None:
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob", "next": "/plugins/servlet/x?y=1"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == store.base_url + "/plugins/servlet/x?y=1"


async def test_login_redirects_to_absolute_next_on_the_base_url(
    client: Client, store: Store
) -> None:
    target = store.base_url + "/rest/oauth2/latest/authorize?state=1"
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob", "next": target},
        allow_redirects=False,
    )
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
async def test_login_ignores_next_leaving_the_site(
    client: Client, store: Store, target: str
) -> None:
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob", "next": target},
        allow_redirects=False,
    )
    assert response.headers["Location"] == store.base_url + "/dashboard"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", "nobody"), ("inactive.ian", "inactive.ian"), ("alice", "")],
)
async def test_bad_credentials_rerender_the_form_with_an_error_and_no_cookie(
    client: Client, store: Store, username: str, password: str
) -> None:
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": username, "j_password": password, "next": "/projects"},
        allow_redirects=False,
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    assert "Set-Cookie" not in response.headers
    page = parse(await response.text())
    assert page.text_by_id["login-error"] == "Invalid username or password."
    assert page.fields[0]["j_username"]["value"] == username
    assert page.fields[0]["j_password"]["value"] == ""
    assert page.fields[0]["next"]["value"] == "/projects"
    assert store.sessions == {}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"j_username=alice", "application/x-www-form-urlencoded"),
        (b"j_password=alice", "application/x-www-form-urlencoded"),
        (b"j_username=%FF%FE&j_password=\xff", "application/x-www-form-urlencoded"),
        (b'{"j_username":"alice","j_password":"alice"}', "application/json"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"--x\r\nbroken", "multipart/form-data"),
    ],
)
async def test_missing_or_unreadable_fields_get_the_error_not_a_500(
    client: Client, body: bytes, content_type: str
) -> None:
    response = await client.post(
        "/j_atl_security_check", data=body, headers={"Content-Type": content_type}
    )
    assert response.status == 200
    assert "Set-Cookie" not in response.headers
    assert parse(await response.text()).text_by_id["login-error"] == "Invalid username or password."


async def test_error_page_escapes_the_username(client: Client) -> None:
    response = await client.post(
        "/j_atl_security_check", data={"j_username": "<img src=x>", "j_password": "x"}
    )
    text = await response.text()
    assert "<img" not in text
    assert parse(text).fields[0]["j_username"]["value"] == "<img src=x>"


async def test_a_new_login_replaces_the_old_session(client: Client, store: Store) -> None:
    first = await login(client, "alice")
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob"},
        headers=cookie(first),
        allow_redirects=False,
    )
    second = set_cookies(response)[SESSION_COOKIE].value
    assert second != first
    assert first not in store.sessions
    assert second in store.sessions


async def test_https_base_url_marks_the_cookie_secure(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(
        create_app(Settings(port=0, base_url="https://bitbucket.example.com"))
    )
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "https://bitbucket.example.com/dashboard"
    assert set_cookies(response)[SESSION_COOKIE]["secure"] is True


# -- dashboard ------------------------------------------------------------------------------


async def test_dashboard_shows_the_logged_in_user(client: Client) -> None:
    session_id = await login(client, "jane@example.com")
    response = await client.get("/dashboard", headers=cookie(session_id))
    assert response.status == 200
    assert response.headers["Content-Type"] == HTML
    page = parse(await response.text())
    assert page.text_by_id["dashboard-username"] == "jane@example.com"
    assert page.attrs_by_id["current-user"]["data-userslug"] == "jane_example.com"
    assert page.text_by_id["current-user"] == "Jane Example"


async def test_dashboard_sends_anonymous_callers_to_login(client: Client, store: Store) -> None:
    response = await client.get("/dashboard", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login?next=%2Fdashboard"


async def test_dashboard_escapes_user_values(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = await login(client, "alice")
    odd = User(
        id=2,
        name="a<b>",
        slug="a_b_",
        display_name='<script>alert("x")</script>',
        email="a@example.com",
        password="x",
    )
    monkeypatch.setattr(store, "user_by_id", lambda user_id: odd)
    text = await (await client.get("/dashboard", headers=cookie(session_id))).text()
    assert "<script>" not in text
    assert "a<b>" not in text
    assert parse(text).text_by_id["current-user"] == '<script>alert("x")</script>'


# -- logout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_logout_drops_the_session_and_expires_the_cookie(
    client: Client, store: Store, method: str
) -> None:
    session_id = await login(client, "alice")
    response = await client.request(
        method, "/j_atl_security_logout", headers=cookie(session_id), allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login"
    morsel = set_cookies(response)[SESSION_COOKIE]
    assert morsel.value == ""
    assert morsel["max-age"] == "0"
    assert morsel["path"] == "/"
    assert session_id not in store.sessions
    after = await client.get("/dashboard", headers=cookie(session_id), allow_redirects=False)
    assert after.status == 302


async def test_logout_without_a_session_still_redirects_to_login(
    client: Client, store: Store
) -> None:
    response = await client.get("/j_atl_security_logout", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login"


# -- a base URL with a context path ---------------------------------------------------------


async def test_context_path_form_posts_under_the_context(context_client: Client) -> None:
    response = await context_client.get("/bitbucket/login")
    assert response.status == 200
    page = parse(await response.text())
    assert page.forms[0]["action"] == CONTEXT_BASE + "/j_atl_security_check"


async def test_context_path_pages_are_not_served_at_the_root(context_client: Client) -> None:
    response = await context_client.get("/login")
    assert response.status == 404


async def test_context_path_login_sets_cookie_path_and_redirects_under_context(
    context_client: Client,
) -> None:
    response = await context_client.post(
        "/bitbucket/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == CONTEXT_BASE + "/dashboard"
    assert set_cookies(response)[SESSION_COOKIE]["path"] == "/bitbucket"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/projects", CONTEXT_BASE + "/projects"),
        (CONTEXT_BASE + "/plugins/servlet/x", CONTEXT_BASE + "/plugins/servlet/x"),
        ("http://127.0.0.1:7990/other", CONTEXT_BASE + "/dashboard"),
        ("http://127.0.0.1:7990/bitbucketeer/x", CONTEXT_BASE + "/dashboard"),
    ],
)
async def test_context_path_next_is_resolved_against_the_base_url(
    context_client: Client, target: str, location: str
) -> None:
    response = await context_client.post(
        "/bitbucket/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice", "next": target},
        allow_redirects=False,
    )
    assert response.headers["Location"] == location


async def test_context_path_dashboard_and_logout_link_under_context(
    context_client: Client,
) -> None:
    anonymous = await context_client.get("/bitbucket/dashboard", allow_redirects=False)
    assert anonymous.headers["Location"] == CONTEXT_BASE + "/login?next=%2Fdashboard"
    store = context_store(context_client)
    session = store.create_session(store.catalog.users_by_slug["bob"])
    response = await context_client.get("/bitbucket/dashboard", headers=cookie(session.id))
    assert response.status == 200
    page = parse(await response.text())
    assert page.attrs_by_id["logout-link"]["href"] == CONTEXT_BASE + "/j_atl_security_logout"
    logout = await context_client.get(
        "/bitbucket/j_atl_security_logout", headers=cookie(session.id), allow_redirects=False
    )
    assert logout.headers["Location"] == CONTEXT_BASE + "/login"
    assert set_cookies(logout)[SESSION_COOKIE]["path"] == "/bitbucket"
