"""The pages people use: the Add Integration form, the list, the home page."""

from __future__ import annotations

import html

import requests

from conformance.reference import rules
from simulator.testing import SimulatorServer
from tests.conformance.reference.support import (
    TIMEOUT,
    Browser,
    Setup,
    create_link,
    forms_of,
)

HTML = {"Accept": "text/html,application/xhtml+xml"}


def choose(browser: Browser, ref: str, base_url: str) -> requests.Response:
    """Open the form and choose the platform, the base URL and OAuth 2."""
    form = browser.get(ref + "/integrations/new")
    return browser.submit(form, {"base_url": base_url, "oauth_version": "2"})


def test_form_offers_the_platform_a_base_url_and_oauth2(ref: str, browser: Browser) -> None:
    page = browser.get(ref + "/integrations/new")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<option value="bitbucket-server" selected>Bitbucket Data Center / Server</option>' in (
        page.text
    )
    assert 'name="base_url"' in page.text
    assert '<input type="radio" name="oauth_version" value="2" checked>' in page.text


def test_choosing_shows_setup_link_callback_urls_read_only_and_empty_credentials(
    ref: str, browser: Browser, bitbucket: SimulatorServer
) -> None:
    page = choose(browser, ref, bitbucket.base_url)
    assert page.status_code == 200
    assert page.url.startswith(ref + "/integrations/new/")
    setup_link = bitbucket.base_url + "/plugins/servlet/applinks/listApplicationLinks"
    assert f'id="setup-link" href="{setup_link}"' in page.text
    (form,) = forms_of(page.text)
    integration_id = page.url.rsplit("/", 1)[1]
    slug = f"bitbucketserver-{integration_id}"
    assert form.fields["callback_url"] == (
        f"{ref}/oauth/register/service/{slug},{ref}/oauth/login/check-custom/{slug}"
    )
    assert 'name="callback_url" value="' in page.text
    assert "readonly" in page.text.split('id="callback_url"')[1].split(">")[0]
    assert form.fields["client_id"] == ""
    assert form.fields["client_secret"] == ""
    assert "Create Integration" in page.text


def test_create_integration_button_sends_the_admin_to_the_list_with_the_login_link(
    ref: str, browser: Browser, bitbucket: SimulatorServer
) -> None:
    page = choose(browser, ref, bitbucket.base_url)
    callback_urls = forms_of(page.text)[0].fields["callback_url"].split(",")
    link = create_link(bitbucket, callback_urls)
    listing = browser.submit(
        page, {"client_id": link["client_id"], "client_secret": link["client_secret"]}
    )
    assert listing.url == ref + "/integrations"
    assert listing.history[0].status_code == 303
    (row,) = requests.get(ref + "/integrations", timeout=TIMEOUT).json()
    assert f'href="{row["login_link"]}">Login link</a>' in listing.text


def test_wrong_secret_re_renders_the_form_with_the_error(
    ref: str, browser: Browser, bitbucket: SimulatorServer
) -> None:
    page = choose(browser, ref, bitbucket.base_url)
    link = create_link(bitbucket, forms_of(page.text)[0].fields["callback_url"].split(","))
    again = browser.submit(page, {"client_id": link["client_id"], "client_secret": "wrong"})
    assert again.status_code == 422
    assert html.escape(rules.WRONG_CLIENT_CREDENTIALS) in again.text
    fields = forms_of(again.text)[0].fields
    assert fields["client_id"] == link["client_id"]
    assert fields["client_secret"] == ""


def test_old_version_shows_the_message_and_no_setup_link(
    ref: str, browser: Browser, bitbucket: SimulatorServer
) -> None:
    requests.patch(
        bitbucket.base_url + "/_sim/config", json={"version": "7.17.0"}, timeout=TIMEOUT
    ).raise_for_status()
    page = choose(browser, ref, bitbucket.base_url)
    assert 'id="setup-link"' not in page.text
    assert html.escape(rules.oauth2_unavailable("7.17.0")) in page.text


def test_bad_base_url_re_renders_the_form_with_an_escaped_error(ref: str, browser: Browser) -> None:
    page = choose(browser, ref, "http://127.0.0.1:9/<script>")
    assert page.status_code == 422
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert forms_of(page.text)[0].fields["base_url"] == "http://127.0.0.1:9/<script>"


def test_unknown_integration_page_is_404(ref: str, browser: Browser) -> None:
    assert browser.get(ref + "/integrations/new/nope").status_code == 404


def test_integrations_page_is_html_for_browsers_and_json_otherwise(ref: str, setup: Setup) -> None:
    page = requests.get(ref + "/integrations", headers=HTML, timeout=TIMEOUT)
    assert page.headers["Content-Type"].startswith("text/html")
    assert setup.login_link in page.text
    data = requests.get(ref + "/integrations", timeout=TIMEOUT)
    assert data.headers["Content-Type"].startswith("application/json")


def test_home_page_prompts_for_login_with_the_login_links(
    ref: str, setup: Setup, browser: Browser
) -> None:
    page = browser.get(ref + "/")
    assert "You are not logged in." in page.text
    assert f'href="{setup.login_link}"' in page.text


def test_home_page_lists_repositories_with_their_composer_package_names(
    ref: str, setup: Setup, browser: Browser, bitbucket: SimulatorServer
) -> None:
    home = browser.log_in(setup.login_link, "alice")
    rows = requests.get(ref + "/repositories", cookies=browser.cookies(), timeout=TIMEOUT).json()
    with_composer = next(r for r in rows if r["has_composer_json"])
    composer = requests.get(
        f"{bitbucket.base_url}/rest/api/1.0/projects/{with_composer['project']}/repos/"
        f"{with_composer['slug']}/raw/composer.json",
        auth=("alice", "alice"),
        timeout=TIMEOUT,
    ).json()
    assert (
        f"<td>{with_composer['project']}/{with_composer['slug']}</td>"
        f'<td class="package">{html.escape(composer["name"])}</td>'
    ) in home.text
    assert home.text.count('class="repository"') == len(rows)


def test_home_page_shows_why_the_login_failed(ref: str, setup: Setup, browser: Browser) -> None:
    page = browser.log_in(setup.login_link, "alice", decision="deny")
    assert "You are not logged in." in page.text
    assert html.escape(rules.ACCESS_DENIED) in page.text
