"""Guide section "Configure Application link": the admin follows the setup link to Bitbucket,
clicks "Create link", chooses "External application" and "Incoming", enters a name and the
"Callback URL / Redirect URL" from the form, ticks Repositories "Read" and saves; Bitbucket
shows the Client ID and secret.

Everything on Bitbucket is done in the admin's browser through the simulator's real pages
(:mod:`conformance.useragent`); the simulator's control API only reads the result.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from conformance.context import FeatureFileError, Integration, LinkCredentials, ScenarioContext
from conformance.steps import ExpectationError, expect, given, then, when
from conformance.steps.common import open_as_admin, page_excerpt
from conformance.steps.open_the_add_integration_form import (
    APPLICATION_LINKS_PATH,
    describe_form,
    on_server,
)
from conformance.useragent import Page

#: The Application links list, relative to the base URL.
LIST_PATH = APPLICATION_LINKS_PATH
_CREDENTIALS_PATH = re.compile(r"/plugins/servlet/applinks/oauth2/([^/]+)/credentials$")


def link_name(ctx: ScenarioContext, integration: Integration) -> str:
    """The name the admin gives the link (unique per integration of the scenario)."""
    number = ctx.integrations.index(integration) + 1
    return "Private Packagist" if number == 1 else f"Private Packagist {number}"


def admin_page(ctx: ScenarioContext, what: str) -> Page:
    """The page the admin's browser shows on Bitbucket; an error when it shows none."""
    if ctx.admin_page is None:
        raise FeatureFileError(
            f"{what} needs the admin on Bitbucket: a step such as 'the admin follows the setup "
            "link and logs in to Bitbucket as an administrator' must come first"
        )
    return ctx.admin_page


def follow_setup_link(ctx: ScenarioContext) -> Page:
    """The admin follows the form's setup link and logs in; the Application links page."""
    form = ctx.form
    expect(form.setup_link, "a setup link to follow", f"the form shows {describe_form(form)}")
    assert form.setup_link is not None
    page = open_as_admin(ctx, form.setup_link)
    expect(
        page.status == 200 and on_server(ctx, page.url) and page.has_element("create-link"),
        f"the setup link to lead to Bitbucket's Application links page ({ctx.base_url}{LIST_PATH}, "
        'with the "Create link" button)',
        f"following {form.setup_link} ended on {ctx.describe_page(page)}",
    )
    return page


def create_link_of_type(ctx: ScenarioContext, application_type: str, direction: str) -> Page:
    """Click "Create link", choose the application type and direction, press Continue."""
    browser = ctx.admin_browser
    page = admin_page(ctx, 'clicking "Create link"')
    page = browser.open(page.find_link(text="Create link"))
    form = page.find_form(has_field="application-type")
    form.tick(application_type).tick(direction)
    page = browser.submit(form, button="Continue")
    ctx.admin_page = page
    expect(
        any(f.has_field("redirects") for f in page.forms),
        f'Bitbucket\'s form for an "{application_type}" link, "{direction}"',
        f"{ctx.describe_page(page)}: {page_excerpt(page)}",
    )
    ctx.admin_form = page.find_form(has_field="redirects")
    return page


def enter_name_and_callback(ctx: ScenarioContext) -> None:
    """Type a name and the form's callback URLs (comma-separated) into the link form."""
    if ctx.admin_form is None:
        raise FeatureFileError(
            "Bitbucket's incoming-link form is not open: a step such as 'creates a link of "
            'type "External application" and direction "Incoming"\' must come first'
        )
    integration = ctx.integration_of(ctx.form)
    ctx.admin_form.fill(
        name=link_name(ctx, integration), redirects=",".join(integration.form.callback_urls)
    )


def select_permission_and_save(ctx: ScenarioContext, permission: str) -> Page:
    """Tick "Repositories: <permission>" only, press Save; keep the credentials shown."""
    form = ctx.admin_form
    if form is None:
        raise FeatureFileError(
            "Bitbucket's incoming-link form is not open: a step such as 'creates a link of "
            'type "External application" and direction "Incoming"\' must come first'
        )
    form.fill(scope=False)
    form.tick(f"Repositories: {permission}")
    page = ctx.admin_browser.submit(form, button="Save")
    ctx.admin_page = page
    ctx.admin_form = None
    match = _CREDENTIALS_PATH.search(urlsplit(page.url).path)
    if page.status == 200 and match and page.has_element("client-id"):
        integration = ctx.integration_of(ctx.form)
        integration.credentials = LinkCredentials(
            client_id=page.element_text("client-id"),
            client_secret=page.element_text("client-secret"),
            link_id=match.group(1),
            name=page.element_text("link-name"),
        )
    return page


def create_application_link(ctx: ScenarioContext) -> LinkCredentials:
    """The whole section, as the guide describes it; the credentials Bitbucket shows."""
    follow_setup_link(ctx)
    create_link_of_type(ctx, "External application", "Incoming")
    enter_name_and_callback(ctx)
    page = select_permission_and_save(ctx, "Read")
    credentials = ctx.integration_of(ctx.form).credentials
    if credentials is None:
        raise ExpectationError(
            "Bitbucket to save the link and show the Client ID and secret",
            f"{ctx.describe_page(page)}: {page_excerpt(page)}",
        )
    return credentials


def registered_link(ctx: ScenarioContext) -> dict[str, Any]:
    """The application link of the scenario's integration, as Bitbucket has it."""
    credentials = ctx.integration_of(ctx.form).credentials
    if credentials is None:
        raise ExpectationError(
            "an application link saved in this scenario",
            "Bitbucket showed no credentials (see the previous steps)",
        )
    for link in ctx.sim.applinks():
        if link.get("client_id") == credentials.client_id:
            return link
    raise ExpectationError(
        f"Bitbucket to hold a link with Client ID {credentials.client_id}",
        "no such link",
    )


# -- steps -----------------------------------------------------------------------------------------


@when("the admin follows the setup link and logs in to Bitbucket as an administrator")
def admin_follows_setup_link(ctx: ScenarioContext) -> None:
    """Opens the form's setup link in the admin's browser and logs in as ``admin``."""
    follow_setup_link(ctx)


@when('creates a link of type "{application_type}" and direction "{direction}"')
def creates_link_of_type(ctx: ScenarioContext, application_type: str, direction: str) -> None:
    """Clicks "Create link", chooses the type and direction by their labels, presses Continue."""
    create_link_of_type(ctx, application_type, direction)


@when('enters a name and the "Callback URL / Redirect URL" from the form')
def enters_name_and_callback(ctx: ScenarioContext) -> None:
    """Types a link name and every callback URL the Add Integration form displayed."""
    enter_name_and_callback(ctx)


@when('selects Repositories "{permission}" as application permission and saves the form')
def selects_permission_and_saves(ctx: ScenarioContext, permission: str) -> None:
    """Ticks only "Repositories: <permission>" and presses Save."""
    select_permission_and_save(ctx, permission)


@given("the admin has created the application link in Bitbucket as the guide describes")
def admin_has_created_the_link(ctx: ScenarioContext) -> None:
    """Does the whole section in the admin's browser (incoming link, Repositories Read)."""
    create_application_link(ctx)


@when("the admin deletes the application link in Bitbucket")
def admin_deletes_the_link(ctx: ScenarioContext) -> None:
    """Opens Application links, clicks the link's Delete and confirms (its tokens die)."""
    credentials = ctx.integration.credentials
    if credentials is None:
        raise ExpectationError("an application link created in this scenario", "none was created")
    browser = ctx.admin_browser
    page = open_as_admin(ctx, ctx.base_url + LIST_PATH)
    page = browser.open(page.find_link(text="Delete", href_contains=credentials.link_id))
    page = browser.submit(page.find_form(id="delete-link-form"))
    ctx.admin_page = page
    expect(
        page.status < 400,
        "Bitbucket to delete the application link",
        f"{ctx.describe_page(page)}: {page_excerpt(page)}",
    )


@then("Bitbucket shows the Client ID and secret")
def bitbucket_shows_credentials(ctx: ScenarioContext) -> None:
    """Asserts the page after saving shows a Client ID and a Client secret."""
    page = admin_page(ctx, "reading the credentials")
    credentials = ctx.integration_of(ctx.form).credentials
    expect(
        credentials is not None and credentials.client_id and credentials.client_secret,
        "Bitbucket's credentials page with the Client ID and secret",
        f"{ctx.describe_page(page)}: {page_excerpt(page)}",
    )


@then("the application link is registered with every callback URL the form displayed")
def link_has_every_callback(ctx: ScenarioContext) -> None:
    """Asserts Bitbucket's link lists every callback URL of the Add Integration form."""
    link = registered_link(ctx)
    missing = [url for url in ctx.form.callback_urls if url not in link.get("redirect_urls", [])]
    expect(
        not missing,
        f"the link's redirect URLs to include every callback URL {list(ctx.form.callback_urls)}",
        f"the link has {link.get('redirect_urls')}; missing {missing}",
    )


@then("the application link's permission is Repositories Read only")
def link_is_repositories_read(ctx: ScenarioContext) -> None:
    """Asserts Bitbucket stored the link with the scope REPO_READ and nothing stronger."""
    link = registered_link(ctx)
    expect(
        link.get("scope") == "REPO_READ",
        "the link's permission to be Repositories Read (scope REPO_READ)",
        f"scope {link.get('scope')!r}",
    )
