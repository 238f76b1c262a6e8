"""The Application Links admin pages (simulator/applinks/pages.py), driven like a browser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from simulator.app import create_app
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import FORM_SCOPES, SCOPE_INFO, Scope
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, ClientFactory, basic
from tests.simulator.applinks import (
    Element,
    issue_access_token,
    login,
    open_page,
    parse,
    path_of,
    submit,
)

LIST = "/plugins/servlet/applinks/listApplicationLinks"
CREATE = "/plugins/servlet/applinks/createLink"
NEW = "/plugins/servlet/applinks/oauth2/incoming/new"
REDIRECT = "https://packagist.example/oauth/register/service/bitbucketserver"
SECOND_REDIRECT = "https://packagist.example/oauth/login/check-custom/bitbucketserver"
MARKUP = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NO_CHECK = {**basic("admin"), "X-Atlassian-Token": "no-check"}


def make_link(
    store: Store, name: str = "Packagist", scope: Scope = Scope.REPO_READ
) -> OAuth2Client:
    """A link created straight in the backend."""
    return store.oauth2.create_client(name, [REDIRECT], (scope,), user_key="1")


def page_of(client: OAuth2Client, action: str) -> str:
    return f"/plugins/servlet/applinks/oauth2/{client.id}/{action}"


def checked_scopes(page: Element) -> list[str]:
    return [
        box.attrs["value"]
        for box in page.inputs()
        if box.attrs.get("name") == "scope" and "checked" in box.attrs
    ]


def summary_scopes(page: Element) -> list[str]:
    return [item.attrs["data-scope"] for item in page.by_id("permission-summary").all("li")]


async def new_link_form(client: Client) -> Element:
    await login(client)
    return (await open_page(client, NEW)).by_id("incoming-link-form")


# -- who may use the pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [LIST, CREATE, NEW, "/plugins/servlet/applinks/oauth2/some-id/credentials"],
)
async def test_anonymous_user_is_sent_to_log_in_and_back(
    client: Client, store: Store, path: str
) -> None:
    response = await client.get(path + "?x=1", allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query) == {"next": [path + "?x=1"]}
    assert response.headers["Location"].startswith(store.base_url + "/login?")


async def test_anonymous_post_is_sent_to_log_in_and_creates_nothing(
    client: Client, store: Store
) -> None:
    response = await client.post(NEW, data={"name": "x"}, allow_redirects=False)
    assert response.status == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"next": [NEW]}
    assert store.oauth2.clients == {}


async def test_login_redirect_is_relative_to_a_context_path(
    aiohttp_client: ClientFactory,
) -> None:
    base = "http://127.0.0.1:7990/bitbucket"
    client = await aiohttp_client(create_app(Settings(port=0, base_url=base)))
    response = await client.get("/bitbucket" + LIST, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == (
        base + "/login?next=%2Fplugins%2Fservlet%2Fapplinks%2FlistApplicationLinks"
    )


@pytest.mark.parametrize("path", [LIST, CREATE, NEW])
async def test_logged_in_non_admin_gets_a_401_page(client: Client, path: str) -> None:
    await login(client, "alice")
    page = await open_page(client, path, status=401)
    assert "You do not have permission" in page.by_id("page-message").text


async def test_non_admin_cannot_create_a_link(client: Client, store: Store) -> None:
    response = await client.post(
        NEW,
        data={"name": "x", "redirects": REDIRECT},
        headers={**basic("alice"), "X-Atlassian-Token": "no-check"},
        allow_redirects=False,
    )
    assert response.status == 401
    assert "You do not have permission" in await response.text()
    assert store.oauth2.clients == {}


async def test_sysadmin_with_basic_auth_and_no_check_header_creates_a_link(
    client: Client, store: Store
) -> None:
    response = await client.post(
        NEW,
        data=[("name", "CI"), ("redirects", REDIRECT), ("scope", "REPO_READ")],
        headers=NO_CHECK,
        allow_redirects=False,
    )
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert created.name == "CI"
    assert created.user_key == "1"


async def test_sysadmin_with_basic_auth_without_no_check_header_is_refused(
    client: Client, store: Store
) -> None:
    response = await client.post(
        NEW,
        data={"name": "CI", "redirects": REDIRECT},
        headers=basic("admin"),
        allow_redirects=False,
    )
    assert response.status == 403
    assert "XSRF" in parse(await response.text()).by_id("page-heading").text
    assert store.oauth2.clients == {}


# -- the list ---------------------------------------------------------------------------------


async def test_empty_list_says_so_and_offers_create_link(client: Client, store: Store) -> None:
    await login(client)
    page = await open_page(client, LIST)
    assert page.by_id("no-links").text == "No application links have been configured."
    assert page.by_id("create-link").attrs["href"] == store.base_url + CREATE
    assert page.by_id("create-link").text == "Create link"


async def test_list_shows_every_link_with_type_direction_status_and_actions(
    client: Client, store: Store
) -> None:
    zeta = make_link(store, "zeta")
    alpha = make_link(store, "Alpha")
    await login(client)
    page = await open_page(client, LIST)
    headers = [th.text for th in page.by_id("application-links").all("th")]
    assert headers == ["Application", "Direction", "Status", "Actions"]
    rows = page.all("tr", "application-link")
    assert [row.attrs["data-client-id"] for row in rows] == [alpha.client_id, zeta.client_id]
    (cell,) = rows[0].all("td", "application")
    assert cell.text == "Alpha External application"
    assert rows[0].all("td", "direction")[0].text == "Incoming"
    assert rows[0].all("td", "status")[0].text == "Non-Atlassian"
    actions = {a.text: a.attrs["href"] for a in rows[0].all("a")}
    assert actions == {
        action.title(): store.base_url + page_of(alpha, action)
        for action in ("credentials", "edit", "delete")
    }
    assert page.find_id("no-links") is None


async def test_list_below_7_21_shows_no_oauth2_links(client: Client, store: Store) -> None:
    make_link(store)
    store.config.patch({"version": "7.20.0"})
    await login(client)
    page = await open_page(client, LIST)
    assert page.all("tr", "application-link") == []
    assert page.find_id("no-links") is not None


# -- the Create link dialog -------------------------------------------------------------------


async def test_create_link_dialog_offers_both_types_and_directions(client: Client) -> None:
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    radios = {
        (r.attrs["name"], r.attrs["value"]): "checked" in r.attrs
        for r in form.inputs()
        if r.attrs.get("type") == "radio"
    }
    assert radios == {
        ("application-type", "atlassian"): False,
        ("application-type", "external"): True,
        ("direction", "incoming"): True,
        ("direction", "outgoing"): False,
    }
    labels = [label.text for label in form.all("label")]
    assert labels == ["Atlassian product", "External application", "Incoming", "Outgoing"]
    assert form.by_id("continue").attrs["value"] == "Continue"


async def test_continue_with_external_incoming_goes_to_the_incoming_form(
    client: Client, store: Store
) -> None:
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(client, store.base_url, form)
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + NEW


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"direction": "outgoing"}, 501, "does not offer outgoing links"),
        ({"application-type": []}, 400, "Choose an application type."),
        ({"direction": []}, 400, "Choose a direction."),
    ],
)
async def test_continue_with_a_path_not_offered_rerenders_with_a_message(
    client: Client,
    store: Store,
    changes: dict[str, str | list[str]],
    status: int,
    message: str,
) -> None:
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(client, store.base_url, form, changes)
    assert response.status == status
    page = parse(await response.text())
    assert message in page.by_id("form-message").text
    assert page.find_id("create-link-form") is not None


@pytest.mark.parametrize("direction", ["incoming", "outgoing", []])
async def test_continue_with_atlassian_product_goes_to_the_oauth1_pages(
    client: Client, store: Store, direction: str | list[str]
) -> None:
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(
        client, store.base_url, form, {"application-type": "atlassian", "direction": direction}
    )
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + "/plugins/servlet/applinks/oauth1/new"


async def test_continue_without_xsrf_token_is_refused(client: Client, store: Store) -> None:
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(client, store.base_url, form, {"atl_token": ""})
    assert response.status == 403


async def test_create_link_below_7_21_offers_only_atlassian_product(
    client: Client, store: Store
) -> None:
    store.config.patch({"version": "7.20.0"})
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    radios = [
        (r.attrs["name"], r.attrs["value"]) for r in form.inputs() if r.attrs["type"] == "radio"
    ]
    assert radios == [("application-type", "atlassian")]
    assert form.find_id("direction") is None


async def test_external_application_below_7_21_is_refused_with_a_message(
    client: Client, store: Store
) -> None:
    store.config.patch({"version": "7.20.0"})
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(
        client,
        store.base_url,
        form,
        {"application-type": []},
        extra=[("application-type", "external"), ("direction", "incoming")],
    )
    assert response.status == 400
    page = parse(await response.text())
    assert "needs Bitbucket 7.21 or later" in page.by_id("form-message").text


# -- the incoming-link form -------------------------------------------------------------------


async def test_incoming_form_has_name_redirect_url_permissions_and_save(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    assert form.by_id("name").attrs["value"] == ""
    assert form.by_id("redirects").attrs["value"] == ""
    boxes = [b for b in form.inputs() if b.attrs.get("type") == "checkbox"]
    assert [b.attrs["value"] for b in boxes] == [s.name for s in FORM_SCOPES]
    assert {b.attrs["name"] for b in boxes} == {"scope"}
    assert [label.text for label in form.by_id("application-permissions").all("label")] == [
        "System admin: Write",
        "Admin: Write",
        "Projects: Admin",
        "Repositories: Read",
        "Repositories: Write",
        "Repositories: Admin",
        "Account: Write",
    ]
    assert checked_scopes(form) == []
    assert summary_scopes(form) == ["PUBLIC_REPOS"]
    assert form.by_id("save").attrs["value"] == "Save"
    assert form.by_id("cancel").attrs["href"] == store.base_url + LIST


async def test_incoming_form_carries_the_implications_for_its_script(client: Client) -> None:
    form = await new_link_form(client)
    implies = {
        b.attrs["value"]: b.attrs["data-implies"].split()
        for b in form.inputs()
        if b.attrs.get("type") == "checkbox"
    }
    assert implies["ADMIN_WRITE"] == ["PROJECT_ADMIN", "ACCOUNT_WRITE"]
    assert implies["REPO_READ"] == ["PUBLIC_REPOS"]
    response = await client.get(NEW)
    assert "addEventListener('change', update)" in await response.text()


async def test_save_creates_the_link_and_shows_its_credentials(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "Packagist", "redirects": f"{REDIRECT},{SECOND_REDIRECT}", "scope": "REPO_READ"},
    )
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert response.headers["Location"] == store.base_url + page_of(created, "credentials")
    assert created.redirects == (REDIRECT, SECOND_REDIRECT)
    assert created.scopes == (Scope.REPO_READ,)
    page = await open_page(client, path_of(response.headers["Location"], store.base_url))
    assert page.by_id("client-id").text == created.client_id
    assert page.by_id("client-secret").text == created.client_secret
    assert page.by_id("link-scope").text == "Repositories: Read"


async def test_redirect_urls_may_have_spaces_after_the_commas(client: Client, store: Store) -> None:
    form = await new_link_form(client)
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "x", "redirects": f" {REDIRECT} , {SECOND_REDIRECT} ,", "scope": "REPO_READ"},
    )
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert created.redirects == (REDIRECT, SECOND_REDIRECT)


async def test_ticking_nothing_gives_public_repos(client: Client, store: Store) -> None:
    form = await new_link_form(client)
    response = await submit(client, store.base_url, form, {"name": "x", "redirects": REDIRECT})
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert created.scope == "PUBLIC_REPOS"


async def test_ticking_a_higher_box_stores_the_strongest_scope(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "x", "redirects": REDIRECT, "scope": ["REPO_READ", "REPO_ADMIN"]},
    )
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert created.scope == "REPO_ADMIN"


async def test_rerendered_form_ticks_implied_boxes_and_summarises_them(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    response = await submit(
        client, store.base_url, form, {"name": "", "redirects": REDIRECT, "scope": "ADMIN_WRITE"}
    )
    assert response.status == 400
    page = parse(await response.text())
    assert checked_scopes(page) == [
        "ADMIN_WRITE",
        "PROJECT_ADMIN",
        "REPO_READ",
        "REPO_WRITE",
        "REPO_ADMIN",
        "ACCOUNT_WRITE",
    ]
    assert summary_scopes(page) == [s.name for s in Scope if s is not Scope.SYSTEM_ADMIN]
    items = page.by_id("permission-summary").all("li")
    assert items[0].text == SCOPE_INFO[Scope.PUBLIC_REPOS].description
    assert items[2].text == SCOPE_INFO[Scope.REPO_READ].description


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "A name is required"),
        ({"redirects": ""}, "redirects", "At least one redirect URL is required"),
        ({"redirects": "http://packagist.example/cb"}, "redirects", "must use https"),
        ({"redirects": "https://packagist.example/cb#top"}, "redirects", "no fragment"),
        ({"redirects": "/oauth/callback"}, "redirects", "must be absolute"),
        ({"redirects": "packagist.example/cb"}, "redirects", "must be absolute"),
        ({"redirects": f"{REDIRECT},http://evil.example/cb"}, "redirects", "must use https"),
        ({"redirects": "https://" + "a" * 450 + ".example/"}, "redirects", "longer than 450"),
        ({"scope": ["REPO_READ"], "name": "x" * 256}, "name", "at most 255"),
    ],
)
async def test_invalid_input_rerenders_the_form_with_the_message_and_creates_nothing(
    client: Client, store: Store, changes: dict[str, str | list[str]], field: str, message: str
) -> None:
    form = await new_link_form(client)
    entered: dict[str, str | list[str]] = {
        "name": "Packagist",
        "redirects": REDIRECT,
        "scope": "REPO_WRITE",
        **changes,
    }
    response = await submit(client, store.base_url, form, entered)
    assert response.status == 400
    page = parse(await response.text())
    assert message in page.by_id(f"{field}-error").text
    assert page.by_id("form-message").text.startswith("The link was not saved")
    assert page.by_id("name").attrs["value"] == entered["name"]
    assert page.by_id("redirects").attrs["value"] == entered["redirects"]
    assert store.oauth2.clients == {}


@pytest.mark.parametrize(
    "redirects",
    [
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:9000/cb",
        "https://packagist.example/cb?x=1",
    ],
)
async def test_loopback_http_and_https_redirects_are_accepted(
    client: Client, store: Store, redirects: str
) -> None:
    form = await new_link_form(client)
    response = await submit(
        client, store.base_url, form, {"name": "x", "redirects": redirects, "scope": "REPO_READ"}
    )
    assert response.status == 303
    (created,) = store.oauth2.clients.values()
    assert created.redirects == (redirects,)


async def test_duplicate_name_is_refused_case_insensitively(client: Client, store: Store) -> None:
    make_link(store, "Packagist")
    form = await new_link_form(client)
    response = await submit(
        client, store.base_url, form, {"name": "PACKAGIST", "redirects": REDIRECT}
    )
    assert response.status == 400
    assert "already exists" in parse(await response.text()).by_id("name-error").text
    assert len(store.oauth2.clients) == 1


async def test_unknown_permission_value_is_refused(client: Client, store: Store) -> None:
    form = await new_link_form(client)
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "x", "redirects": REDIRECT},
        extra=[("scope", "PUBLIC_REPOS")],
    )
    assert response.status == 400
    page = parse(await response.text())
    assert page.by_id("scope-error").text == "Unknown permission: PUBLIC_REPOS"
    assert store.oauth2.clients == {}


async def test_save_without_xsrf_token_is_refused_and_creates_nothing(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    response = await submit(
        client, store.base_url, form, {"name": "x", "redirects": REDIRECT, "atl_token": ""}
    )
    assert response.status == 403
    page = parse(await response.text())
    assert page.by_id("page-heading").text == "XSRF Security Token Missing"
    assert "Nothing was changed" in page.by_id("page-message").text
    assert page.by_id("page-link").attrs["href"] == store.base_url + NEW
    assert store.oauth2.clients == {}


async def test_save_with_a_token_of_an_earlier_session_is_refused(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    await login(client)  # a new session; the form's token belongs to the old one
    response = await submit(client, store.base_url, form, {"name": "x", "redirects": REDIRECT})
    assert response.status == 403
    assert store.oauth2.clients == {}


async def test_save_with_a_forged_token_is_refused(client: Client, store: Store) -> None:
    form = await new_link_form(client)
    response = await submit(
        client, store.base_url, form, {"name": "x", "redirects": REDIRECT, "atl_token": "0" * 40}
    )
    assert response.status == 403
    assert store.oauth2.clients == {}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("action", ["credentials", "edit", "delete"])
async def test_link_pages_answer_404_below_7_21(
    client: Client, store: Store, method: str, action: str
) -> None:
    link = make_link(store)
    store.config.patch({"version": "7.20.0"})
    await login(client)
    response = await client.request(method, page_of(link, action), allow_redirects=False)
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_incoming_form_answers_404_below_7_21(
    client: Client, store: Store, method: str
) -> None:
    store.config.patch({"version": "7.20.0"})
    await login(client)
    response = await client.request(method, NEW, allow_redirects=False)
    assert response.status == 404
    assert "Page not found" in await response.text()


# -- credentials ------------------------------------------------------------------------------


async def test_credentials_page_is_not_cacheable(client: Client, store: Store) -> None:
    link = make_link(store)
    await login(client)
    response = await client.get(page_of(link, "credentials"))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"


async def test_regenerate_secret_changes_only_the_secret(client: Client, store: Store) -> None:
    link = make_link(store)
    client_id, old_secret = link.client_id, link.client_secret
    await login(client)
    page = await open_page(client, page_of(link, "credentials"))
    response = await submit(client, store.base_url, page.by_id("regenerate-secret-form"))
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + page_of(link, "credentials")
    assert link.client_id == client_id
    assert link.client_secret != old_secret
    page = await open_page(client, page_of(link, "credentials"))
    assert page.by_id("client-secret").text == link.client_secret


async def test_regenerate_secret_without_xsrf_token_changes_nothing(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    old_secret = link.client_secret
    await login(client)
    page = await open_page(client, page_of(link, "credentials"))
    response = await submit(
        client, store.base_url, page.by_id("regenerate-secret-form"), {"atl_token": ""}
    )
    assert response.status == 403
    assert link.client_secret == old_secret


@pytest.mark.parametrize("action", ["credentials", "edit", "delete"])
async def test_unknown_link_answers_a_404_page(client: Client, action: str) -> None:
    await login(client)
    page = await open_page(
        client, f"/plugins/servlet/applinks/oauth2/no-such-id/{action}", status=404
    )
    assert "does not exist" in page.by_id("page-message").text


async def test_unknown_link_post_answers_404(client: Client) -> None:
    await login(client)
    response = await client.post(
        "/plugins/servlet/applinks/oauth2/no-such-id/delete", allow_redirects=False
    )
    assert response.status == 404


# -- edit -------------------------------------------------------------------------------------


async def test_edit_form_is_prefilled(client: Client, store: Store) -> None:
    link = store.oauth2.create_client(
        "Packagist", [REDIRECT, SECOND_REDIRECT], (Scope.REPO_WRITE,), user_key="1"
    )
    await login(client)
    page = await open_page(client, page_of(link, "edit"))
    assert page.by_id("name").attrs["value"] == "Packagist"
    assert page.by_id("redirects").attrs["value"] == f"{REDIRECT},{SECOND_REDIRECT}"
    assert checked_scopes(page) == ["REPO_READ", "REPO_WRITE"]
    assert summary_scopes(page) == ["PUBLIC_REPOS", "REPO_READ", "REPO_WRITE"]


async def test_edit_saves_changes_and_keeps_the_credentials(client: Client, store: Store) -> None:
    link = make_link(store)
    credentials = (link.id, link.client_id, link.client_secret)
    await login(client)
    form = (await open_page(client, page_of(link, "edit"))).by_id("incoming-link-form")
    response = await submit(
        client,
        store.base_url,
        form,
        {"name": "Renamed", "redirects": SECOND_REDIRECT, "scope": "ACCOUNT_WRITE"},
    )
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + LIST
    assert (link.name, link.redirects, link.scope) == (
        "Renamed",
        (SECOND_REDIRECT,),
        "ACCOUNT_WRITE",
    )
    assert (link.id, link.client_id, link.client_secret) == credentials


async def test_edit_may_keep_the_links_own_name(client: Client, store: Store) -> None:
    link = make_link(store, "Packagist")
    await login(client)
    form = (await open_page(client, page_of(link, "edit"))).by_id("incoming-link-form")
    response = await submit(client, store.base_url, form, {"name": "packagist"})
    assert response.status == 303
    assert link.name == "packagist"


async def test_edit_with_invalid_input_rerenders_and_changes_nothing(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    make_link(store, "Other")
    await login(client)
    form = (await open_page(client, page_of(link, "edit"))).by_id("incoming-link-form")
    response = await submit(
        client, store.base_url, form, {"name": "Other", "redirects": "http://evil.example/"}
    )
    assert response.status == 400
    page = parse(await response.text())
    assert "already exists" in page.by_id("name-error").text
    assert page.by_id("incoming-link-form").attrs["action"] == store.base_url + page_of(
        link, "edit"
    )
    assert (link.name, link.redirects) == ("Packagist", (REDIRECT,))


async def test_edit_without_xsrf_token_changes_nothing(client: Client, store: Store) -> None:
    link = make_link(store)
    await login(client)
    form = (await open_page(client, page_of(link, "edit"))).by_id("incoming-link-form")
    response = await submit(client, store.base_url, form, {"name": "Renamed", "atl_token": ""})
    assert response.status == 403
    assert link.name == "Packagist"


# -- delete -----------------------------------------------------------------------------------


async def test_delete_asks_first_then_deletes_and_revokes_tokens(
    client: Client, store: Store
) -> None:
    link = make_link(store)
    token = issue_access_token(store, link, REDIRECT)
    assert store.oauth2.lookup_access_token(token) is not None
    await login(client)
    page = await open_page(client, page_of(link, "delete"))
    assert page.by_id("link-name").text == "Packagist"
    assert link.client_id in store.oauth2.clients
    response = await submit(client, store.base_url, page.by_id("delete-link-form"))
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + LIST
    assert store.oauth2.clients == {}
    assert store.oauth2.lookup_access_token(token) is None
    assert store.oauth2.tokens == {}


async def test_delete_without_xsrf_token_keeps_the_link(client: Client, store: Store) -> None:
    link = make_link(store)
    await login(client)
    page = await open_page(client, page_of(link, "delete"))
    response = await submit(
        client, store.base_url, page.by_id("delete-link-form"), {"atl_token": ""}
    )
    assert response.status == 403
    assert link.client_id in store.oauth2.clients


# -- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [None, "credentials", "edit", "delete"])
async def test_markup_in_a_link_name_is_escaped(
    client: Client, store: Store, action: str | None
) -> None:
    link = make_link(store, MARKUP)
    await login(client)
    response = await client.get(LIST if action is None else page_of(link, action))
    body = await response.text()
    assert response.status == 200
    assert MARKUP not in body
    assert ESCAPED in body


async def test_markup_in_entered_values_is_escaped_on_rerender(
    client: Client, store: Store
) -> None:
    form = await new_link_form(client)
    attack = '"><script>alert(1)</script>'
    response = await submit(
        client, store.base_url, form, {"name": attack, "redirects": attack, "scope": "REPO_READ"}
    )
    assert response.status == 400
    body = await response.text()
    assert "<script>alert(1)" not in body
    page = parse(body)
    assert page.by_id("name").attrs["value"] == attack
    assert page.by_id("redirects").attrs["value"] == attack
