"""The OAuth 1 application link pages (simulator/applinks/oauth1_pages.py), driven like a browser:
Create link -> Atlassian product -> Application URL (the "no response" warning) -> Link
applications -> the list -> the link's Incoming Authentication -> a signed request-token call.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simulator.applinks.oauth1_pages import NO_RESPONSE, ONLY_GENERIC
from simulator.applinks.pages import oauth1_state
from simulator.oauth1.models import OAuth1Link
from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client, basic
from tests.schemas import validate
from tests.simulator.applinks import Element, login, open_page, parse, path_of, submit
from tests.simulator.oauth1.signing import (
    CALLBACK,
    CONSUMER_KEY,
    REQUEST_TOKEN,
    KeyPair,
    make_key_pair,
    problem_of,
    request_token,
    self_signed_certificate,
    signed_headers,
    url_of,
)

LIST = "/plugins/servlet/applinks/listApplicationLinks"
CREATE = "/plugins/servlet/applinks/createLink"
NEW = "/plugins/servlet/applinks/oauth1/new"
LINK = "/plugins/servlet/applinks/oauth1/new/link"
APP_URL = "https://packagist.example/"
OAUTH2_NEW = "/plugins/servlet/applinks/oauth2/incoming/new"
OAUTH2_REDIRECT = "https://packagist.example/oauth/register/service/bitbucketserver"
MARKUP = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NO_CHECK = {**basic("admin"), "X-Atlassian-Token": "no-check"}


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    """The consumer's key pair: its public key goes into the link."""
    return make_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    """A key pair no link knows."""
    return make_key_pair()


@pytest.fixture(scope="module")
def certificate(keys: KeyPair) -> str:
    """A self-signed X.509 certificate of the consumer's key, as Packagist supplies."""
    return self_signed_certificate(keys)


def link_page(link_id: str, action: str) -> str:
    return f"/plugins/servlet/applinks/oauth1/{link_id}/{action}"


def link_url(url: str = APP_URL) -> str:
    return f"{LINK}?{urlencode({'url': url})}"


def rows(page: Element) -> list[Element]:
    return page.all("tr", "application-link")


def cell(row: Element, name: str) -> str:
    (found,) = row.all("td", name)
    return found.text


def field_group_of(page: Element, field_id: str) -> Element:
    """The ``field-group`` div holding the field with this id."""
    for group in page.all("div", "field-group"):
        if group.find_id(field_id) is not None:
            return group
    raise AssertionError(f"no field group holds {field_id!r}")


async def warned_about(client: Client, store: Store, url: str) -> Element:
    """Enter ``url`` on the Application URL page; the warning page that comes back."""
    form = (await open_page(client, NEW)).by_id("application-url-form")
    response = await submit(client, store.base_url, form, {"application-url": url})
    body = await response.text()
    assert response.status == 200, body
    return parse(body)


async def create_through_pages(
    client: Client, store: Store, name: str = "Packagist", url: str = APP_URL
) -> str:
    """Create link -> Atlassian product -> URL -> continue anyway -> Link applications;
    the new link's id (as the list shows it). The client must be logged in as admin."""
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    response = await submit(client, store.base_url, form, {"application-type": "atlassian"})
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + NEW
    warning = await warned_about(client, store, url)
    response = await submit(client, store.base_url, warning.by_id("application-url-form"))
    assert response.status == 303, await response.text()
    details = await open_page(client, path_of(response.headers["Location"], store.base_url))
    response = await submit(
        client, store.base_url, details.by_id("link-applications-form"), {"name": name}
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == store.base_url + LIST
    listing = await open_page(client, LIST)
    (row,) = [r for r in rows(listing) if r.all("span", "application-name")[0].text == name]
    return row.attrs["data-id"]


async def save_incoming(
    client: Client, store: Store, link_id: str, **changes: str | list[str]
) -> Any:
    """Open a link's edit page and Save it with ``changes``; the (unfollowed) answer."""
    form = (await open_page(client, link_page(link_id, "edit"))).by_id(
        "incoming-authentication-form"
    )
    return await submit(client, store.base_url, form, changes)


async def configured_link(client: Client, store: Store, public_key: str) -> OAuth1Link:
    """A link made through the pages and given Incoming Authentication there."""
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=public_key
    )
    assert response.status == 303, await response.text()
    (link,) = store.oauth1.links.values()
    return link


# -- who may use the pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [NEW, link_url(), link_page("some-id", "edit"), link_page("some-id", "delete")]
)
async def test_anonymous_user_is_sent_to_log_in_and_back(
    client: Client, store: Store, path: str
) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert response.headers["Location"].startswith(store.base_url + "/login?")
    (back,) = parse_qs(location.query)["next"]
    assert urlsplit(back).path == urlsplit(path).path
    assert parse_qs(urlsplit(back).query) == parse_qs(urlsplit(path).query)


@pytest.mark.parametrize("path", [NEW, link_url()])
async def test_logged_in_non_admin_gets_a_401_page(client: Client, path: str) -> None:
    await login(client, "alice")
    page = await open_page(client, path, status=401)
    assert "You do not have permission" in page.by_id("page-message").text


async def test_non_admin_cannot_create_a_link(client: Client, store: Store) -> None:
    response = await client.post(
        LINK,
        data={"application-url": APP_URL, "name": "x", "application-type": "generic"},
        headers={**basic("alice"), "X-Atlassian-Token": "no-check"},
        allow_redirects=False,
    )
    assert response.status == 401
    assert oauth1_state(store).pending == {}


async def test_non_admin_cannot_edit_a_link(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    link = store.oauth1.create_link(
        name="Packagist", consumer_key=CONSUMER_KEY, public_key=keys.public_pem
    )
    response = await client.post(
        link_page(link.id, "edit"),
        data={"consumer_key": "x", "consumer_name": "x", "public_key": other_keys.public_pem},
        headers={**basic("alice"), "X-Atlassian-Token": "no-check"},
        allow_redirects=False,
    )
    assert response.status == 401
    assert link.consumer_key == CONSUMER_KEY


async def test_sysadmin_with_basic_auth_and_no_check_header_creates_a_link(
    client: Client, store: Store
) -> None:
    response = await client.post(
        LINK,
        data={"application-url": APP_URL, "name": "CI", "application-type": "generic"},
        headers=NO_CHECK,
        allow_redirects=False,
    )
    assert response.status == 303
    (pending,) = oauth1_state(store).pending.values()
    assert (pending.name, pending.application_url) == ("CI", APP_URL)


# -- the Application URL and the "no response" warning -----------------------------------------


async def test_application_url_page_asks_for_the_url(client: Client, store: Store) -> None:
    await login(client)
    page = await open_page(client, NEW)
    form = page.by_id("application-url-form")
    assert form.by_id("application-url").attrs["value"] == ""
    assert [label.text for label in form.all("label")] == ["Application URL *"]
    assert form.by_id("continue").attrs["value"] == "Continue"
    assert form.by_id("cancel").attrs["href"] == store.base_url + LIST
    assert page.find_id("form-message") is None


async def test_continue_always_warns_that_no_response_was_received(
    client: Client, store: Store
) -> None:
    await login(client)
    page = await warned_about(client, store, APP_URL)
    message = page.by_id("form-message")
    assert message.text == NO_RESPONSE
    assert "aui-message-warning" in message.attrs["class"]
    assert page.by_id("entered-url").text == APP_URL
    assert page.by_id("application-url").attrs["value"] == APP_URL
    assert [label.text for label in page.all("label")] == ["New URL *"]


async def test_the_warning_makes_no_network_request(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[object] = []
    loop = asyncio.get_running_loop()
    real_loop_lookup, real_lookup = loop.getaddrinfo, socket.getaddrinfo

    async def loop_lookup(host: object, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return await real_loop_lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    def lookup(host: object, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return real_lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "getaddrinfo", loop_lookup)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    await login(client)
    page = await warned_about(client, store, "https://unreachable.packagist.example:8443/")
    assert page.by_id("form-message").text == NO_RESPONSE
    assert not any("packagist" in str(host) for host in looked_up)


async def test_continue_anyway_with_the_same_url_goes_to_link_applications(
    client: Client, store: Store
) -> None:
    await login(client)
    page = await warned_about(client, store, APP_URL)
    response = await submit(client, store.base_url, page.by_id("application-url-form"))
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + link_url()


async def test_a_changed_url_is_warned_about_again(client: Client, store: Store) -> None:
    await login(client)
    page = await warned_about(client, store, APP_URL)
    other = "https://repo.packagist.example/"
    response = await submit(
        client, store.base_url, page.by_id("application-url-form"), {"application-url": other}
    )
    assert response.status == 200
    again = parse(await response.text())
    assert again.by_id("form-message").text == NO_RESPONSE
    assert again.by_id("entered-url").text == other


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Enter the URL of the application"),
        ("   ", "Enter the URL of the application"),
        ("packagist.example", "starting with http:// or https://"),
        ("ftp://packagist.example/", "starting with http:// or https://"),
        ("javascript:alert(1)", "starting with http:// or https://"),
        ("https://packagist example/", "starting with http:// or https://"),
        ("https://packagist.example:99999/", "starting with http:// or https://"),
        ("https://" + "a" * 250 + ".example/", "at most 255 characters"),
    ],
)
async def test_a_bad_application_url_is_a_form_error(
    client: Client, store: Store, url: str, message: str
) -> None:
    await login(client)
    form = (await open_page(client, NEW)).by_id("application-url-form")
    response = await submit(client, store.base_url, form, {"application-url": url})
    assert response.status == 400
    page = parse(await response.text())
    assert message in field_group_of(page, "application-url").by_id("application-url-error").text
    assert page.find_id("entered-url") is None


async def test_application_url_without_xsrf_token_is_refused(client: Client, store: Store) -> None:
    await login(client)
    form = (await open_page(client, NEW)).by_id("application-url-form")
    response = await submit(
        client, store.base_url, form, {"application-url": APP_URL, "atl_token": ""}
    )
    assert response.status == 403
    assert "XSRF" in parse(await response.text()).by_id("page-heading").text


# -- Link applications ---------------------------------------------------------------------------


async def test_link_applications_asks_name_and_type_with_generic_preselected(
    client: Client,
) -> None:
    await login(client)
    page = await open_page(client, link_url())
    form = page.by_id("link-applications-form")
    assert form.by_id("application-url-value").text == APP_URL
    assert form.by_id("name").attrs["value"] == ""
    options = form.by_id("application-type").all("option")
    assert [o.text for o in options] == [
        "Bamboo",
        "Bitbucket",
        "Confluence",
        "Crowd",
        "FishEye / Crucible",
        "Generic Application",
        "Jira",
    ]
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["generic"]
    labels = [label.text for label in form.all("label")]
    assert labels == ["Application Name *", "Application Type *"]


@pytest.mark.parametrize("url", ["", "not a url", "javascript:alert(1)"])
async def test_link_applications_without_a_good_url_is_a_400_page(client: Client, url: str) -> None:
    await login(client)
    path = LINK if not url else link_url(url)
    page = await open_page(client, path, status=400)
    assert "Start again" in page.by_id("page-link").text


async def test_continue_creates_the_link_without_incoming_authentication(
    client: Client, store: Store
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    assert store.oauth1.links == {}
    (pending,) = oauth1_state(store).pending.values()
    assert (pending.id, pending.name, pending.application_url) == (link_id, "Packagist", APP_URL)
    (row,) = rows(await open_page(client, LIST))
    assert row.attrs["data-link-type"] == "oauth1"
    assert "data-consumer-key" not in row.attrs
    assert cell(row, "application") == f"Packagist Generic Application {APP_URL}"
    assert cell(row, "direction") == "Not configured"
    assert cell(row, "status") == "Non-Atlassian"
    actions = {a.text: a.attrs["href"] for a in row.all("a")}
    assert actions == {
        "Edit": store.base_url + link_page(link_id, "edit"),
        "Delete": store.base_url + link_page(link_id, "delete"),
    }


@pytest.mark.parametrize("app_type", ["jira", "confluence", "stash"])
async def test_another_application_type_is_not_offered_and_creates_nothing(
    client: Client, store: Store, app_type: str
) -> None:
    await login(client)
    form = (await open_page(client, link_url())).by_id("link-applications-form")
    response = await submit(
        client, store.base_url, form, {"name": "Jira", "application-type": app_type}
    )
    assert response.status == 501
    page = parse(await response.text())
    assert page.by_id("form-message").text == ONLY_GENERIC
    selected = [o.attrs["value"] for o in page.all("option") if "selected" in o.attrs]
    assert selected == [app_type]
    assert page.by_id("name").attrs["value"] == "Jira"
    assert oauth1_state(store).pending == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Application Name is required."),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
        ({"application-type": "wiki"}, "application-type", "Choose an application type."),
    ],
)
async def test_bad_link_applications_input_is_a_form_error(
    client: Client, store: Store, changes: dict[str, str], field: str, message: str
) -> None:
    await login(client)
    form = (await open_page(client, link_url())).by_id("link-applications-form")
    response = await submit(client, store.base_url, form, {"name": "Packagist", **changes})
    assert response.status == 400
    page = parse(await response.text())
    assert message in page.by_id(f"{field}-error").text
    assert page.by_id("form-message").text.startswith("The link was not saved")
    assert oauth1_state(store).pending == {}


async def test_link_applications_with_a_tampered_url_creates_nothing(
    client: Client, store: Store
) -> None:
    await login(client)
    form = (await open_page(client, link_url())).by_id("link-applications-form")
    response = await submit(client, store.base_url, form, {"application-url": "file:///etc"})
    assert response.status == 400
    assert oauth1_state(store).pending == {}


@pytest.mark.parametrize("existing", ["oauth2", "oauth1", "waiting"])
async def test_a_name_any_link_has_is_refused_case_insensitively(
    client: Client, store: Store, keys: KeyPair, existing: str
) -> None:
    if existing == "oauth2":
        store.oauth2.create_client("Packagist", [OAUTH2_REDIRECT], (Scope.REPO_READ,), "1")
    elif existing == "oauth1":
        store.oauth1.create_link(name="Packagist", consumer_key="k", public_key=keys.public_pem)
    await login(client)
    if existing == "waiting":
        await create_through_pages(client, store)
    form = (await open_page(client, link_url())).by_id("link-applications-form")
    response = await submit(client, store.base_url, form, {"name": "PACKAGIST"})
    assert response.status == 400
    page = parse(await response.text())
    assert page.by_id("name-error").text == "An application named PACKAGIST already exists."


async def test_the_oauth2_form_refuses_the_name_of_an_oauth1_link(
    client: Client, store: Store
) -> None:
    await login(client)
    await create_through_pages(client, store)
    form = (await open_page(client, OAUTH2_NEW)).by_id("incoming-link-form")
    response = await submit(
        client, store.base_url, form, {"name": "packagist", "redirects": OAUTH2_REDIRECT}
    )
    assert response.status == 400
    assert "already exists" in parse(await response.text()).by_id("name-error").text
    assert store.oauth2.clients == {}


async def test_link_applications_without_xsrf_token_creates_nothing(
    client: Client, store: Store
) -> None:
    await login(client)
    form = (await open_page(client, link_url())).by_id("link-applications-form")
    response = await submit(client, store.base_url, form, {"name": "x", "atl_token": ""})
    assert response.status == 403
    assert oauth1_state(store).pending == {}


# -- Incoming Authentication ---------------------------------------------------------------------


async def test_edit_page_of_a_new_link_offers_incoming_authentication(
    client: Client, store: Store
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    page = await open_page(client, link_page(link_id, "edit"))
    assert page.by_id("application-name").text == "Packagist"
    assert page.by_id("application-type").text == "Generic Application"
    assert page.by_id("application-url").text == APP_URL
    assert page.by_id("incoming-status").text == "Not configured"
    section = page.by_id("incoming-authentication")
    assert section.all("legend")[0].text == "Incoming Authentication"
    assert [label.text for label in section.all("label")] == [
        "Consumer Key *",
        "Consumer Name *",
        "Description",
        "Public Key *",
        "Consumer Callback URL",
        "Allow 2-Legged OAuth",
        "Execute as",
        "Allow user impersonation through 2-Legged OAuth",
    ]
    assert page.by_id("consumer_key").attrs["value"] == ""
    assert page.by_id("consumer_name").attrs["value"] == "Packagist"
    assert page.by_id("public_key").tag == "textarea"
    assert page.by_id("public_key").raw_text == ""
    assert page.by_id("save").attrs["value"] == "Save"


async def test_save_with_a_pem_public_key_configures_the_link(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client,
        store,
        link_id,
        consumer_key=CONSUMER_KEY,
        consumer_name="Private Packagist",
        description="Acme's packages",
        public_key=keys.public_pem,
    )
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + LIST
    (link,) = store.oauth1.links.values()
    assert (link.name, link.consumer_key, link.consumer_name, link.description) == (
        "Packagist",
        CONSUMER_KEY,
        "Private Packagist",
        "Acme's packages",
    )
    assert link.callback_url is None
    assert link.rsa_key.public_numbers() == keys.key.public_key().public_numbers()
    assert oauth1_state(store).pending == {}
    (row,) = rows(await open_page(client, LIST))
    assert row.attrs["data-id"] == link.id
    assert row.attrs["data-consumer-key"] == CONSUMER_KEY
    assert cell(row, "direction") == "Incoming"
    assert cell(row, "application") == f"Packagist Generic Application {APP_URL}"


async def test_save_with_a_self_signed_certificate_configures_the_link(
    client: Client, store: Store, keys: KeyPair, certificate: str
) -> None:
    link = await configured_link(client, store, certificate)
    assert link.public_key == certificate.strip()
    assert link.rsa_key.public_numbers() == keys.key.public_key().public_numbers()


async def test_save_keeps_the_consumer_callback_url_and_2_legged_options(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client,
        store,
        link_id,
        consumer_key=CONSUMER_KEY,
        public_key=keys.public_pem,
        callback_url=CALLBACK,
        two_legged="true",
        execute_as="bob",
        impersonation="true",
    )
    assert response.status == 303
    (link,) = store.oauth1.links.values()
    assert (link.callback_url, link.two_legged, link.execute_as, link.impersonation) == (
        CALLBACK,
        True,
        "bob",
        True,
    )
    page = await open_page(client, link_page(link.id, "edit"))
    assert page.by_id("callback_url").attrs["value"] == CALLBACK
    assert "checked" in page.by_id("two_legged").attrs
    assert "checked" in page.by_id("impersonation").attrs
    assert page.by_id("execute_as").attrs["value"] == "bob"


def _public_pem(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


EC_PUBLIC_PEM = _public_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
#: A 512-bit RSA public key (cryptography no longer generates such keys; any odd modulus does).
SHORT_RSA_PEM = _public_pem(rsa.RSAPublicNumbers(65537, (1 << 511) | 12345).public_key())


@pytest.mark.parametrize(
    ("public_key", "message"),
    [
        ("", "A public key is required."),
        ("not a key at all", "not a valid PEM public key or X.509 certificate"),
        (
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "not a valid PEM public key or X.509 certificate",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "not a valid PEM public key or X.509 certificate",
        ),
        (EC_PUBLIC_PEM, "must be an RSA key"),
        (SHORT_RSA_PEM, "at least 1024 bits"),
    ],
)
async def test_a_bad_key_or_certificate_is_an_error_next_to_public_key_and_saves_nothing(
    client: Client, store: Store, public_key: str, message: str
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=public_key
    )
    assert response.status == 400
    page = parse(await response.text())
    error = field_group_of(page, "public_key").by_id("public_key-error")
    assert message in error.text
    assert page.by_id("form-message").text.startswith("The link was not saved")
    assert page.by_id("consumer_key").attrs["value"] == CONSUMER_KEY
    assert page.by_id("public_key").raw_text == public_key
    assert store.oauth1.links == {}
    assert link_id in oauth1_state(store).pending


async def test_a_private_key_pasted_by_mistake_is_refused_and_not_echoed_as_accepted(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=keys.private_pem
    )
    assert response.status == 400
    page = parse(await response.text())
    assert "This is a private key" in page.by_id("public_key-error").text
    assert store.oauth1.links == {}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consumer_key": " "}, "Consumer Key is required."),
        ({"consumer_key": "k" * 256}, "at most 255 characters"),
        ({"consumer_name": ""}, "Consumer Name is required."),
        ({"callback_url": "packagist.example/cb"}, "absolute http(s) URL"),
        ({"callback_url": "javascript:alert(1)"}, "absolute http(s) URL"),
        ({"execute_as": "nobody.here"}, "No user is named nobody.here."),
    ],
)
async def test_other_bad_incoming_fields_are_errors_next_to_them(
    client: Client, store: Store, keys: KeyPair, changes: dict[str, str], message: str
) -> None:
    (field,) = changes
    await login(client)
    link_id = await create_through_pages(client, store)
    entered = {"consumer_key": CONSUMER_KEY, "public_key": keys.public_pem, **changes}
    response = await save_incoming(client, store, link_id, **entered)
    assert response.status == 400
    page = parse(await response.text())
    assert message in field_group_of(page, field).by_id(f"{field}-error").text
    assert store.oauth1.links == {}


async def test_a_consumer_key_another_link_uses_is_refused(
    client: Client, store: Store, keys: KeyPair
) -> None:
    store.oauth1.create_link(name="Other", consumer_key=CONSUMER_KEY, public_key=keys.public_pem)
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=keys.public_pem
    )
    assert response.status == 400
    assert "already exists" in parse(await response.text()).by_id("consumer_key-error").text
    assert len(store.oauth1.links) == 1


async def test_a_name_taken_meanwhile_is_reported_at_the_top(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    store.oauth1.create_link(name="packagist", consumer_key="other", public_key=keys.public_pem)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=keys.public_pem
    )
    assert response.status == 400
    message = parse(await response.text()).by_id("form-message").text
    assert "An application named Packagist already exists." in message


async def test_edit_of_a_configured_link_is_prefilled_and_saves_changes(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    link = await configured_link(client, store, keys.public_pem)
    page = await open_page(client, link_page(link.id, "edit"))
    assert page.by_id("incoming-status").text == "Configured"
    assert page.by_id("consumer_key").attrs["value"] == CONSUMER_KEY
    assert page.by_id("public_key").raw_text == keys.public_pem.strip()
    response = await save_incoming(
        client, store, link.id, consumer_key="packagist-new", public_key=other_keys.public_pem
    )
    assert response.status == 303
    assert (link.consumer_key, link.public_key) == ("packagist-new", other_keys.public_pem.strip())
    assert list(store.oauth1.links) == [link.id]


async def test_a_bad_key_on_a_configured_link_changes_nothing(
    client: Client, store: Store, keys: KeyPair
) -> None:
    link = await configured_link(client, store, keys.public_pem)
    response = await save_incoming(
        client, store, link.id, consumer_key="changed", public_key="garbage"
    )
    assert response.status == 400
    assert "not a valid PEM" in parse(await response.text()).by_id("public_key-error").text
    assert (link.consumer_key, link.public_key) == (CONSUMER_KEY, keys.public_pem.strip())


async def test_save_without_xsrf_token_saves_nothing(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client,
        store,
        link_id,
        consumer_key=CONSUMER_KEY,
        public_key=keys.public_pem,
        atl_token="stale",
    )
    assert response.status == 403
    assert store.oauth1.links == {}


@pytest.mark.parametrize("action", ["edit", "delete"])
async def test_unknown_link_answers_a_404_page(client: Client, action: str) -> None:
    await login(client)
    page = await open_page(client, link_page("no-such-id", action), status=404)
    assert "does not exist" in page.by_id("page-message").text


async def test_unknown_link_post_answers_404(client: Client) -> None:
    response = await client.post(
        link_page("no-such-id", "edit"), headers=NO_CHECK, allow_redirects=False
    )
    assert response.status == 404


async def test_a_link_made_by_the_control_api_is_listed_and_editable(
    client: Client, store: Store, keys: KeyPair
) -> None:
    response = await client.post(
        "/_sim/applinks",
        json={
            "type": "oauth1",
            "name": "Scripted",
            "consumer_key": CONSUMER_KEY,
            "public_key": keys.public_pem,
        },
    )
    created = validate(await response.json(), "control/applink.json")
    await login(client)
    (row,) = rows(await open_page(client, LIST))
    assert row.attrs["data-id"] == created["id"]
    assert cell(row, "application") == "Scripted Generic Application"
    page = await open_page(client, link_page(created["id"], "edit"))
    assert page.by_id("application-url").text == "-"
    assert page.by_id("consumer_key").attrs["value"] == CONSUMER_KEY


# -- delete --------------------------------------------------------------------------------------


async def test_delete_of_a_link_without_incoming_authentication(
    client: Client, store: Store
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store)
    page = await open_page(client, link_page(link_id, "delete"))
    assert page.by_id("link-name").text == "Packagist"
    response = await submit(client, store.base_url, page.by_id("delete-link-form"))
    assert response.status == 303
    assert response.headers["Location"] == store.base_url + LIST
    assert oauth1_state(store).pending == {}
    assert rows(await open_page(client, LIST)) == []


async def test_delete_of_a_configured_link_drops_its_tokens(
    client: Client, store: Store, keys: KeyPair
) -> None:
    link = await configured_link(client, store, keys.public_pem)
    token = store.oauth1.issue_request_token(link, CALLBACK)
    page = await open_page(client, link_page(link.id, "delete"))
    response = await submit(client, store.base_url, page.by_id("delete-link-form"))
    assert response.status == 303
    assert store.oauth1.links == {}
    assert token.token not in store.oauth1.request_tokens
    assert link.id not in oauth1_state(store).application_urls


async def test_delete_without_xsrf_token_keeps_the_link(
    client: Client, store: Store, keys: KeyPair
) -> None:
    link = await configured_link(client, store, keys.public_pem)
    page = await open_page(client, link_page(link.id, "delete"))
    response = await submit(
        client, store.base_url, page.by_id("delete-link-form"), {"atl_token": ""}
    )
    assert response.status == 403
    assert link.id in store.oauth1.links


async def test_reset_forgets_links_waiting_for_incoming_authentication(
    client: Client, store: Store
) -> None:
    await login(client)
    await create_through_pages(client, store)
    response = await client.post("/_sim/reset")
    validate(await response.json(), "control/reset.json")
    await login(client)
    assert rows(await open_page(client, LIST)) == []


# -- versions ------------------------------------------------------------------------------------


async def test_on_7_20_only_atlassian_product_is_offered_and_the_whole_path_works(
    client: Client, store: Store, keys: KeyPair
) -> None:
    store.config.patch({"version": "7.20.0"})
    store.oauth2.create_client("Hidden", [OAUTH2_REDIRECT], (Scope.REPO_READ,), "1")
    await login(client)
    form = (await open_page(client, CREATE)).by_id("create-link-form")
    radios = [r.attrs["value"] for r in form.inputs() if r.attrs.get("type") == "radio"]
    assert radios == ["atlassian"]
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=keys.public_pem
    )
    assert response.status == 303
    (row,) = rows(await open_page(client, LIST))
    assert row.attrs["data-link-type"] == "oauth1"
    assert row.attrs["data-consumer-key"] == CONSUMER_KEY


async def test_on_9_x_the_list_shows_oauth2_and_oauth1_links_by_name(
    client: Client, store: Store, keys: KeyPair
) -> None:
    store.config.patch({"version": "9.4.16"})
    store.oauth2.create_client("Beta", [OAUTH2_REDIRECT], (Scope.REPO_READ,), "1")
    await login(client)
    link_id = await create_through_pages(client, store, name="Alpha")
    await create_through_pages(client, store, name="Gamma")
    response = await save_incoming(
        client, store, link_id, consumer_key=CONSUMER_KEY, public_key=keys.public_pem
    )
    assert response.status == 303
    listed = [
        (r.all("span", "application-name")[0].text, r.attrs["data-link-type"])
        for r in rows(await open_page(client, LIST))
    ]
    assert listed == [("Alpha", "oauth1"), ("Beta", "oauth2"), ("Gamma", "oauth1")]


# -- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [None, "edit", "delete"])
async def test_markup_in_a_link_name_is_escaped(
    client: Client, store: Store, action: str | None
) -> None:
    await login(client)
    link_id = await create_through_pages(client, store, name=MARKUP)
    response = await client.get(LIST if action is None else link_page(link_id, action))
    body = await response.text()
    assert response.status == 200
    assert MARKUP not in body
    assert ESCAPED in body


async def test_markup_in_an_application_url_is_escaped_on_every_page(
    client: Client, store: Store
) -> None:
    url = 'https://packagist.example/"><script>alert(1)</script>'
    await login(client)
    form = (await open_page(client, NEW)).by_id("application-url-form")
    warning = await submit(client, store.base_url, form, {"application-url": url})
    assert warning.status == 200
    assert "<script>alert(1)" not in await warning.text()
    link_id = await create_through_pages(client, store, url=url)
    for path in (link_url(url), LIST, link_page(link_id, "edit")):
        body = await (await client.get(path)).text()
        assert "<script>alert(1)" not in body, path
    page = await open_page(client, link_url(url))
    assert page.by_id("application-url-value").text == url
    assert page.by_id("link-applications-form").inputs()[0].attrs["value"] == url


async def test_markup_in_entered_incoming_values_is_escaped_on_rerender(
    client: Client, store: Store
) -> None:
    attack = '"></textarea><script>alert(1)</script>'
    await login(client)
    link_id = await create_through_pages(client, store)
    response = await save_incoming(
        client,
        store,
        link_id,
        consumer_key=attack,
        consumer_name=attack,
        description=attack,
        public_key=attack,
        callback_url=attack,
        execute_as=attack,
    )
    assert response.status == 400
    body = await response.text()
    assert "<script>alert(1)" not in body
    page = parse(body)
    assert page.by_id("consumer_key").attrs["value"] == attack
    assert page.by_id("public_key").raw_text == attack
    assert page.by_id("description").raw_text == attack


# -- end to end: a link configured on the pages accepts signed calls ----------------------------


async def test_link_configured_with_a_certificate_accepts_a_request_token_call(
    client: Client, store: Store, keys: KeyPair, certificate: str
) -> None:
    await configured_link(client, store, certificate)
    answer = await request_token(client, keys)
    assert answer["oauth_callback_confirmed"] == "true"
    assert answer["oauth_token"] in store.oauth1.request_tokens


async def test_link_configured_with_a_public_key_refuses_another_keys_signature(
    client: Client, store: Store, keys: KeyPair, other_keys: KeyPair
) -> None:
    await configured_link(client, store, keys.public_pem)
    url = url_of(client, REQUEST_TOKEN)
    response = await client.post(
        REQUEST_TOKEN, headers=signed_headers(url, other_keys, callback=CALLBACK)
    )
    await problem_of(response, 401, "signature_invalid")


async def test_a_link_without_incoming_authentication_knows_no_consumer(
    client: Client, store: Store, keys: KeyPair
) -> None:
    await login(client)
    await create_through_pages(client, store)
    url = url_of(client, REQUEST_TOKEN)
    response = await client.post(
        REQUEST_TOKEN, headers=signed_headers(url, keys, callback=CALLBACK)
    )
    await problem_of(response, 401, "consumer_key_unknown")
