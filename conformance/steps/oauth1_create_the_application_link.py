"""OAuth 1 guide, "Create the application link": the admin follows the setup link to
Bitbucket's Application links, clicks "Create link" and creates an "Atlassian product" link
to the integration's Application URL (on 7.21 and later "Atlassian product", not "External
application"), continues past the "No response was received" warning, picks Generic
Application and enters the Application Name, then edits the new link's Incoming
Authentication: pastes the Consumer Key and the Public Key from the form, leaves the
Consumer Callback URL empty, and saves.

Everything on Bitbucket is done in the admin's browser through the simulator's real pages;
the simulator's control API only reads the result.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.context import FeatureFileError, Integration, LinkCredentials, ScenarioContext
from conformance.steps import ExpectationError, expect, given, then, when
from conformance.steps.common import page_excerpt
from conformance.steps.configure_application_link import (
    admin_page,
    follow_setup_link,
    link_name,
)
from conformance.steps.oauth1_open_the_add_integration_form import (
    describe_oauth1_form,
    same_public_key,
)
from conformance.useragent import Element, Page

#: The "Create link" choice for OAuth 1 links, and the Application Type Packagist uses.
ATLASSIAN_PRODUCT = "Atlassian product"
GENERIC_APPLICATION = "Generic Application"
#: The list's rows of application links.
ROW_CLASS = "application-link"


# -- helpers: Bitbucket's pages --------------------------------------------------------------------


def link_rows(page: Page) -> list[Element]:
    """The rows of the Application links list."""
    return page.elements(tag="tr", class_name=ROW_CLASS)


def row_named(page: Page, name: str) -> Element | None:
    """The list's row of the Generic Application link called ``name``."""
    for row in link_rows(page):
        if row.text.startswith(f"{name} {GENERIC_APPLICATION}"):
            return row
    return None


def row_of_consumer(page: Page, consumer_key: str) -> Element | None:
    """The list's row of the OAuth 1 link with this Consumer Key (after its first Save)."""
    for row in link_rows(page):
        if row.attrs.get("data-consumer-key") == consumer_key:
            return row
    return None


def page_errors(page: Page) -> str:
    """The errors a Bitbucket form shows (its banner and the fields' errors)."""
    texts = [page.element_text("form-message")] if page.has_element("form-message") else []
    texts += [element.text for element in page.elements(class_name="error")]
    return "; ".join(text for text in texts if text) or page_excerpt(page)


def oauth1_integration(ctx: ScenarioContext) -> Integration:
    """The integration of the form opened last; its form must show the OAuth 1 values."""
    integration = ctx.integration_of(ctx.form)
    form = integration.form
    expect(
        form.consumer_key and form.public_key and form.application_url,
        "the OAuth 1 form to display the Consumer Key, the Public Key and the Application URL "
        "(the admin copies them into Bitbucket)",
        f"the form shows {describe_oauth1_form(form)}",
        "was the form opened with OAuth 1?" if form.consumer_key is None else None,
    )
    return integration


def create_atlassian_product_link(ctx: ScenarioContext) -> Page:
    """Click "Create link", choose "Atlassian product", Continue; type the integration's
    Application URL and Continue. The page Bitbucket answers (its warning, or the next step)."""
    integration = oauth1_integration(ctx)
    browser = ctx.admin_browser
    page = admin_page(ctx, 'clicking "Create link"')
    page = browser.open(page.find_link(text="Create link"))
    form = page.find_form(has_field="application-type")
    form.tick(ATLASSIAN_PRODUCT)
    page = browser.submit(form, button="Continue")
    ctx.admin_page = page
    expect(
        any(f.has_field("application-url") for f in page.forms),
        f'Bitbucket\'s Application URL form for an "{ATLASSIAN_PRODUCT}" link',
        f"{ctx.describe_page(page)}: {page_excerpt(page)}",
    )
    url_form = page.find_form(has_field="application-url")
    page = browser.submit(
        url_form, {"application-url": integration.form.application_url}, button="Continue"
    )
    ctx.admin_page = page
    expect(
        is_no_response_warning(page) or is_link_applications(page),
        f"Bitbucket to take the Application URL {integration.form.application_url!r} the form "
        "displayed",
        f"{ctx.describe_page(page)}: {page_errors(page)}",
    )
    return page


def is_no_response_warning(page: Page) -> bool:
    """Whether Bitbucket shows its "No response was received" warning with the entered URL."""
    return any(form.has_field("entered-url") for form in page.forms)


def is_link_applications(page: Page) -> bool:
    """Whether the page is "Link applications" (Application Name and Type)."""
    return any(form.has_field("name") and form.has_field("application-type") for form in page.forms)


def continue_past_warning(ctx: ScenarioContext) -> Page:
    """Press Continue on the "No response was received" warning (the URL unchanged); nothing
    when Bitbucket went straight on to "Link applications"."""
    page = admin_page(ctx, "continuing past the warning")
    if is_no_response_warning(page):
        form = page.find_form(has_field="entered-url")
        page = ctx.admin_browser.submit(form, button="Continue")
        ctx.admin_page = page
    if not is_link_applications(page):
        raise ExpectationError(
            'Bitbucket\'s "Link applications" page (Application Name, Application Type) after '
            "the Application URL",
            f"{ctx.describe_page(page)}: {page_errors(page)}",
        )
    return page


def link_applications(ctx: ScenarioContext) -> Page:
    """On "Link applications": enter the name, pick Generic Application, Continue."""
    page = admin_page(ctx, "entering the Application Name")
    if not is_link_applications(page):
        raise FeatureFileError(
            "Bitbucket's \"Link applications\" page is not open: the steps 'creates an "
            "\"Atlassian product\" link to the integration's Application URL' and 'continues "
            'past the "No response was received" warning\' must come first'
        )
    integration = oauth1_integration(ctx)
    name = link_name(ctx, integration)
    form = page.find_form(has_field="name")
    form.fill(name=name).select("application-type", GENERIC_APPLICATION)
    page = ctx.admin_browser.submit(form, button="Continue")
    ctx.admin_page = page
    expect(
        page.status == 200 and row_named(page, name) is not None,
        f'Bitbucket to create the {GENERIC_APPLICATION} link "{name}" and list it',
        f"{ctx.describe_page(page)}: {page_errors(page)}",
    )
    return page


def edit_incoming_authentication(ctx: ScenarioContext, public_key: str | None = None) -> Page:
    """Open the link's edit page (the pen icon), paste the Consumer Key and the Public Key
    (``public_key`` instead of the form's, for a wrong key), leave the Consumer Callback URL
    empty, Save; keep the link's id and Consumer Key."""
    integration = oauth1_integration(ctx)
    form_values = integration.form
    name = link_name(ctx, integration)
    browser = ctx.admin_browser
    page = admin_page(ctx, "editing the link's Incoming Authentication")
    row = row_named(page, name)
    if row is None:
        raise FeatureFileError(
            f'the Application links list shows no link "{name}": the step \'picks Generic '
            "Application as the Application Type, enters the Application Name and continues' "
            "must come first"
        )
    link_id = row.attrs.get("data-id", "")
    page = browser.open(page.find_link(text="Edit", href_contains=f"/oauth1/{link_id}/edit"))
    form = page.find_form(has_field="consumer_key")
    consumer_key = form_values.consumer_key or ""
    form.fill(
        consumer_key=consumer_key,
        consumer_name=name,
        public_key=public_key if public_key is not None else form_values.public_key or "",
        callback_url="",
    )
    page = browser.submit(form, button="Save")
    ctx.admin_page = page
    saved = row_of_consumer(page, consumer_key) if page.status == 200 else None
    if saved is None:
        raise ExpectationError(
            "Bitbucket to save the Incoming Authentication with the Consumer Key and the Public "
            "Key the form displayed",
            f"{ctx.describe_page(page)}: {page_errors(page)}",
        )
    integration.credentials = LinkCredentials(
        client_id=consumer_key,
        client_secret="",
        link_id=saved.attrs.get("data-id", ""),
        name=name,
    )
    return page


def create_oauth1_link(ctx: ScenarioContext, public_key: str | None = None) -> LinkCredentials:
    """The whole section, as the guide describes it (``public_key`` pasted instead of the
    form's when given); what the link was saved with."""
    follow_setup_link(ctx)
    create_atlassian_product_link(ctx)
    continue_past_warning(ctx)
    link_applications(ctx)
    edit_incoming_authentication(ctx, public_key)
    credentials = ctx.integration_of(ctx.form).credentials
    assert credentials is not None
    return credentials


def another_public_key() -> str:
    """A PEM public key of a fresh RSA key pair (not the integration's)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def registered_oauth1_link(ctx: ScenarioContext) -> dict[str, Any]:
    """The OAuth 1 application link of the scenario's integration, as Bitbucket has it."""
    credentials = ctx.integration_of(ctx.form).credentials
    if credentials is None:
        raise ExpectationError(
            "an OAuth 1 application link saved in this scenario",
            "Bitbucket saved no Incoming Authentication (see the previous steps)",
        )
    for link in ctx.sim.applinks():
        if link.get("type") == "oauth1" and link.get("consumer_key") == credentials.client_id:
            return link
    raise ExpectationError(
        f"Bitbucket to hold an OAuth 1 link with the Consumer Key {credentials.client_id}",
        "no such link",
    )


# -- steps -----------------------------------------------------------------------------------------


@when('creates an "Atlassian product" link to the integration\'s Application URL')
def creates_atlassian_product_link(ctx: ScenarioContext) -> None:
    """Clicks "Create link", chooses "Atlassian product", Continue; types the Application URL
    the form displayed and presses Continue."""
    create_atlassian_product_link(ctx)


@when('continues past the "No response was received" warning')
def continues_past_warning(ctx: ScenarioContext) -> None:
    """Presses Continue again on Bitbucket's warning that the URL did not answer."""
    continue_past_warning(ctx)


@when(
    "picks Generic Application as the Application Type, enters the Application Name and continues"
)
def picks_generic_application(ctx: ScenarioContext) -> None:
    """On "Link applications", types the link's name, selects Generic Application, Continue."""
    link_applications(ctx)


@when(
    "edits the link's Incoming Authentication with the Consumer Key and the Public Key from "
    "the form and saves it"
)
def edits_incoming_authentication(ctx: ScenarioContext) -> None:
    """Opens the new link's edit page, pastes the Consumer Key and the Public Key, leaves the
    Consumer Callback URL empty, and presses Save."""
    edit_incoming_authentication(ctx)


@given("the admin has created the OAuth 1 application link in Bitbucket as the guide describes")
def admin_has_created_the_oauth1_link(ctx: ScenarioContext) -> None:
    """Does the whole section in the admin's browser (Atlassian product, Generic Application,
    Incoming Authentication with the form's Consumer Key and Public Key)."""
    create_oauth1_link(ctx)


@given("the admin has created the OAuth 1 application link in Bitbucket with another Public Key")
def admin_has_created_the_link_with_another_key(ctx: ScenarioContext) -> None:
    """Does the whole section, but pastes the public key of another RSA key pair (a wrong
    copy) next to the right Consumer Key."""
    create_oauth1_link(ctx, public_key=another_public_key())


@then("the application link has the Consumer Key and the Public Key the form displayed")
def link_has_the_forms_keys(ctx: ScenarioContext) -> None:
    """Asserts Bitbucket's OAuth 1 link holds the form's Consumer Key and the same RSA public
    key as the form's Public Key."""
    link = registered_oauth1_link(ctx)
    form = ctx.form
    expect(
        link.get("consumer_key") == form.consumer_key,
        f"the link's Consumer Key to be {form.consumer_key!r}",
        f"it is {link.get('consumer_key')!r}",
    )
    expect(
        same_public_key(link.get("public_key"), form.public_key),
        "the link's Public Key to be the form's (the same RSA public key)",
        "Bitbucket holds another key",
    )
