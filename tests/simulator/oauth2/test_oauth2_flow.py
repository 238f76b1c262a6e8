"""The whole OAuth 2 login over real HTTP: authorize -> consent -> allow -> code -> token ->
Bearer call. The helpers here drive the flow for the other OAuth 2 endpoint tests too."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import ClientResponse

from simulator.app import create_app
from simulator.keys import store_key
from simulator.oauth2 import pkce
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope
from simulator.settings import Settings
from simulator.store import SESSION_COOKIE, Store
from tests.conftest import Client, ClientFactory, basic
from tests.schemas import validate

REDIRECT = "https://packagist.example/oauth/login/check-custom/acme"
#: RFC 7636's example verifier (43 characters) and its S256 challenge.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = pkce.s256(VERIFIER)
AUTHORIZE = "/rest/oauth2/latest/authorize"
TOKEN = "/rest/oauth2/latest/token"
CONSENT = "/plugins/servlet/oauth2/consent"
ERROR_PAGE = "/plugins/servlet/oauth2/error"
PROPERTIES = "/rest/api/1.0/application-properties"

# -- helpers shared by the OAuth 2 tests ---------------------------------------------------------


def make_link(
    store: Store,
    scopes: tuple[Scope, ...] = (Scope.REPO_READ,),
    redirects: tuple[str, ...] = (REDIRECT,),
    name: str = "Packagist",
) -> OAuth2Client:
    """An "External application / Incoming" link owned by admin."""
    return store.oauth2.create_client(name, list(redirects), scopes, user_key="1")


def cookie(session_id: str) -> dict[str, str]:
    """A Cookie header carrying a browser session."""
    return {"Cookie": f"{SESSION_COOKIE}={session_id}"}


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for a Bearer token."""
    return {"Authorization": f"Bearer {token}"}


async def log_in(client: Client, store: Store, username: str) -> str:
    """A session id for ``username``: through the login form, else made directly."""
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": username, "j_password": username},
        allow_redirects=False,
    )
    morsel = response.cookies.get(SESSION_COOKIE)
    client.session.cookie_jar.clear()  # every request names its session explicitly
    if morsel is not None and morsel.value in store.sessions:
        return morsel.value
    user = store.catalog.users_by_name[username.lower()]
    return store.create_session(user).id


def location(response: ClientResponse) -> str:
    """The Location header of a redirect."""
    assert response.status in (302, 303), response.status
    return response.headers["Location"]


def path_of(store: Store, url: str) -> str:
    """A URL on the simulator, relative to its base URL."""
    assert url.startswith(store.base_url + "/"), url
    return url[len(store.base_url) :]


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a URL (first of repeats)."""
    fields: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def authorize_params(link: OAuth2Client, **overrides: str | None) -> dict[str, str]:
    """A good authorization request (S256 PKCE, state); ``None`` drops a parameter."""
    params: dict[str, str | None] = {
        "client_id": link.client_id,
        "redirect_uri": link.redirects[0],
        "response_type": "code",
        "scope": "REPO_READ",
        "state": "st4te",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


async def authorize(client: Client, params: dict[str, str], path: str = AUTHORIZE) -> str:
    """``GET authorize``: assert Bitbucket's 303 and return where it goes."""
    response = await client.get(path, params=params, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    return response.headers["Location"]


class FormParser(HTMLParser):
    """The forms of a page: action, method, input values and submit buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []
        self.buttons: list[dict[str, str]] = []
        self.links: list[str] = []
        self.metas: list[dict[str, str]] = []
        self.text = ""
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(values)
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "button":
            self._button = {**values, "label": ""}
            self.buttons.append(self._button)
        elif tag == "a":
            self.links.append(values.get("href", ""))
        elif tag == "meta":
            self.metas.append(values)
        for name in ("src", "action", "formaction"):
            if name in values:
                self.links.append(values[name])

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._button is not None:
            self._button["label"] += data.strip()

    def hidden(self) -> dict[str, str]:
        """The hidden fields of the page."""
        return {i["name"]: i.get("value", "") for i in self.inputs if i.get("type") == "hidden"}


def parse_page(html: str) -> FormParser:
    """Parse an HTML page."""
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser


async def consent_fields(client: Client, store: Store, url: str, session_id: str) -> FormParser:
    """Open the consent page a redirect pointed at, as the logged-in user."""
    response = await client.get(path_of(store, url), headers=cookie(session_id))
    assert response.status == 200, await response.text()
    return parse_page(await response.text())


async def decide(
    client: Client,
    session_id: str,
    fields: dict[str, str],
    decision: str | None = "allow",
    path: str = AUTHORIZE,
) -> str:
    """Post the consent form's decision; return where the 303 goes."""
    form = dict(fields)
    if decision is not None:
        form["decision"] = decision
    response = await client.post(path, data=form, headers=cookie(session_id), allow_redirects=False)
    assert response.status == 303
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    return response.headers["Location"]


async def obtain_code(
    client: Client,
    store: Store,
    link: OAuth2Client,
    username: str = "alice",
    **overrides: str | None,
) -> str:
    """Authorize, consent and allow as ``username``; return the code sent to the client."""
    session_id = await log_in(client, store, username)
    consent_url = await authorize(client, authorize_params(link, **overrides))
    assert path_of(store, consent_url).startswith(CONSENT + "?")
    page = await consent_fields(client, store, consent_url, session_id)
    back = await decide(client, session_id, page.hidden())
    redirect_uri = overrides.get("redirect_uri") or link.redirects[0]
    assert back.startswith(redirect_uri + ("&" if "?" in redirect_uri else "?")), back
    return query_of(back)["code"]


async def exchange(
    client: Client, link: OAuth2Client, code: str, /, **overrides: str | None
) -> ClientResponse:
    """``POST token`` with the authorization_code grant (S256 verifier by default)."""
    fields: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": link.redirects[0],
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": VERIFIER,
        **overrides,
    }
    data = {name: value for name, value in fields.items() if value is not None}
    return await client.post(TOKEN, data=data)


async def refresh(
    client: Client, link: OAuth2Client, refresh_token: str, /, **overrides: str | None
) -> ClientResponse:
    """``POST token`` with the refresh_token grant."""
    fields: dict[str, str | None] = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        **overrides,
    }
    data = {name: value for name, value in fields.items() if value is not None}
    return await client.post(TOKEN, data=data)


async def token_body(response: ClientResponse) -> dict[str, Any]:
    """A successful token answer, validated."""
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = await response.json()
    validate(body, "oauth2/token-response.json")
    return body


async def oauth_error(response: ClientResponse, status: int, error: str) -> str:
    """Assert an OAuth 2 error answer; return its description."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = validate(await response.json(), "oauth2/token-error.json")
    assert body["error"] == error, body
    return str(body["error_description"])


async def obtain_tokens(
    client: Client,
    store: Store,
    link: OAuth2Client,
    username: str = "alice",
    **overrides: str | None,
) -> dict[str, Any]:
    """A fresh access/refresh pair for ``username`` through the whole flow."""
    code = await obtain_code(client, store, link, username, **overrides)
    return await token_body(await exchange(client, link, code))


async def whoami(client: Client, token: str) -> str | None:
    """The X-AUSERNAME a Bearer call to application-properties answers with (None: anonymous)."""
    response = await client.get(PROPERTIES, headers=bearer(token))
    assert response.status == 200
    validate(await response.json(), "application-properties.json")
    return response.headers.get("X-AUSERNAME")


# -- the flow -------------------------------------------------------------------------------------


async def test_full_flow_logs_the_user_in_through_a_bearer_token(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "alice")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "REPO_READ"
    response = await client.get(PROPERTIES, headers=bearer(tokens["access_token"]))
    assert response.status == 200
    assert response.headers["X-AUSERNAME"] == "alice"
    assert response.headers["X-AUSERID"] == str(store.catalog.users_by_name["alice"].id)


async def test_full_flow_through_the_login_page_returns_to_consent(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    consent_url = await authorize(client, authorize_params(link))
    anonymous = await client.get(path_of(store, consent_url), allow_redirects=False)
    login_url = location(anonymous)
    next_path = query_of(login_url)["next"]
    assert next_path == path_of(store, consent_url)
    logged_in = await client.post(
        "/j_atl_security_check",
        data={"j_username": "bob", "j_password": "bob", "next": next_path},
        allow_redirects=False,
    )
    assert location(logged_in) == consent_url
    session_id = logged_in.cookies[SESSION_COOKIE].value
    client.session.cookie_jar.clear()
    page = await consent_fields(client, store, consent_url, session_id)
    back = await decide(client, session_id, page.hidden())
    tokens = await token_body(await exchange(client, link, query_of(back)["code"]))
    assert await whoami(client, tokens["access_token"]) == "bob"


async def test_bearer_lists_only_repositories_the_user_may_read(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    tokens = await obtain_tokens(client, store, link, "bob")
    query = {"permission": "REPO_READ", "limit": "1000"}
    with_token = await client.get(
        "/rest/api/1.0/repos", params=query, headers=bearer(tokens["access_token"])
    )
    assert with_token.status == 200
    page = validate(await with_token.json(), "repositories-page.json")
    as_bob = await client.get("/rest/api/1.0/repos", params=query, headers=basic("bob"))
    expected = validate(await as_bob.json(), "repositories-page.json")
    assert [r["id"] for r in page["values"]] == [r["id"] for r in expected["values"]]
    assert 0 < page["size"] < store.catalog.projects_by_key["PKG"].repo_count


@pytest.mark.parametrize(
    ("method", "challenge"),
    [("S256", CHALLENGE), ("s256", CHALLENGE), ("plain", VERIFIER), ("PLAIN", VERIFIER)],
)
async def test_pkce_methods_complete_the_flow(
    client: Client, store: Store, method: str, challenge: str
) -> None:
    link = make_link(store)
    code = await obtain_code(
        client, store, link, code_challenge=challenge, code_challenge_method=method
    )
    tokens = await token_body(await exchange(client, link, code, code_verifier=VERIFIER))
    assert await whoami(client, tokens["access_token"]) == "alice"


async def test_challenge_without_method_defaults_to_plain(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(
        client, store, link, code_challenge=VERIFIER, code_challenge_method=None
    )
    await token_body(await exchange(client, link, code, code_verifier=VERIFIER))


async def test_flow_without_pkce_needs_no_verifier(client: Client, store: Store) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, code_challenge=None, code_challenge_method=None)
    await token_body(await exchange(client, link, code, code_verifier=None))


async def test_refresh_rotates_the_pair_and_the_new_access_token_works(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    first = await obtain_tokens(client, store, link)
    second = await token_body(await refresh(client, link, first["refresh_token"]))
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"]
    assert await whoami(client, second["access_token"]) == "alice"
    assert await whoami(client, first["access_token"]) is None
    reused = await refresh(client, link, first["refresh_token"])
    await oauth_error(reused, 400, "invalid_grant")
    third = await token_body(await refresh(client, link, second["refresh_token"]))
    assert await whoami(client, third["access_token"]) == "alice"


async def test_flow_works_at_the_1_0_paths(client: Client, store: Store) -> None:
    link = make_link(store)
    session_id = await log_in(client, store, "alice")
    consent_url = await authorize(client, authorize_params(link), "/rest/oauth2/1.0/authorize")
    page = await consent_fields(client, store, consent_url, session_id)
    back = await decide(client, session_id, page.hidden(), path="/rest/oauth2/1.0/authorize")
    data = {
        "grant_type": "authorization_code",
        "code": query_of(back)["code"],
        "redirect_uri": REDIRECT,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": VERIFIER,
    }
    tokens = await token_body(await client.post("/rest/oauth2/1.0/token", data=data))
    assert await whoami(client, tokens["access_token"]) == "alice"


async def test_flow_works_under_a_context_path(aiohttp_client: ClientFactory) -> None:
    settings = Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")
    client = await aiohttp_client(create_app(settings))
    assert client.app is not None
    store = client.app[store_key]
    link = make_link(store)
    user = store.catalog.users_by_name["alice"]
    session_id = store.create_session(user).id
    consent_url = await authorize(client, authorize_params(link), "/bitbucket" + AUTHORIZE)
    assert consent_url.startswith("http://127.0.0.1:7990/bitbucket" + CONSENT + "?")
    response = await client.get(
        "/bitbucket" + CONSENT, params=query_of(consent_url), headers=cookie(session_id)
    )
    assert response.status == 200
    page = parse_page(await response.text())
    assert page.forms[0]["action"] == "http://127.0.0.1:7990/bitbucket" + AUTHORIZE
    back = await decide(client, session_id, page.hidden(), path="/bitbucket" + AUTHORIZE)
    data = {
        "grant_type": "authorization_code",
        "code": query_of(back)["code"],
        "redirect_uri": REDIRECT,
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "code_verifier": VERIFIER,
    }
    answer = await client.post("/bitbucket" + TOKEN, data=data)
    tokens = await token_body(answer)
    me = await client.get("/bitbucket" + PROPERTIES, headers=bearer(tokens["access_token"]))
    assert me.headers["X-AUSERNAME"] == "alice"


async def test_flow_is_journaled_without_secrets(client: Client, store: Store) -> None:
    link = make_link(store)
    await obtain_tokens(client, store, link)
    entries = store.journal.entries()
    first_hop = next(e for e in entries if e.method == "GET" and e.path == AUTHORIZE)
    assert first_hop.extra == {
        "has_state": True,
        "pkce_method": "S256",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "REPO_READ",
    }
    token = next(e for e in entries if e.path == TOKEN)
    assert token.extra == {
        "grant_type": "authorization_code",
        "client_auth": "body",
        "has_code_verifier": True,
        "redirect_uri": REDIRECT,
    }
    assert token.form["client_secret"] == "<redacted>"
    assert token.form["code"] == "<redacted>"
    assert token.form["code_verifier"] == "<redacted>"
    text = repr([e.to_json() for e in entries])
    assert link.client_secret not in text
    assert VERIFIER not in text
