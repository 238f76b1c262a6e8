"""Guide section "Open the Add Integration form": the admin selects the platform, enters the
Bitbucket base URL and picks OAuth 2; the form shows the setup link, the callback URL, and
empty Client ID / Client Secret fields.

The admin works on the integration's pages through the system under test's
:class:`~conformance.sut.Integrator` (``create_integration`` is the form after these choices).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conformance.context import FeatureFileError, ScenarioContext
from conformance.steps import expect, given, then, when
from conformance.steps.common import open_as_admin
from conformance.sut import CreatedIntegration

#: The platform choices of the form, by the label the guide uses.
PLATFORMS = {"Bitbucket Data Center / Server": "bitbucket-server"}
#: Bitbucket's application links page (the page with the "Create link" button).
APPLICATION_LINKS_PATH = "/plugins/servlet/applinks/listApplicationLinks"


def platform_of(label: str) -> str:
    """The driver protocol's platform for a label of the form."""
    if label not in PLATFORMS:
        known = ", ".join(f'"{name}"' for name in PLATFORMS)
        raise FeatureFileError(f'unknown platform "{label}"; the form offers {known}')
    return PLATFORMS[label]


def open_form(ctx: ScenarioContext, platform: str, oauth_version: int) -> CreatedIntegration:
    """Choose platform, the scenario's Bitbucket base URL and the OAuth version. A scenario
    that needs an OAuth version the SUT does not declare is skipped here, whatever its tags
    say (nothing undeclared is ever asked of an integration)."""
    if oauth_version not in ctx.capabilities.oauth_versions:
        pytest.skip(
            f"the SUT does not offer OAuth {oauth_version} (capabilities: oauth_versions "
            f"{list(ctx.capabilities.oauth_versions)})"
        )
    form = ctx.sut.create_integration(platform, ctx.base_url, oauth_version)
    ctx.forms.append(form)
    ctx.integration_of(form)
    return form


def on_server(ctx: ScenarioContext, url: str) -> bool:
    """Whether ``url`` lies on the scenario's Bitbucket (same origin, under its context path)."""
    base = urlsplit(ctx.base_url)
    parts = urlsplit(url)
    same_origin = (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())
    return same_origin and (parts.path + "/").startswith(base.path.rstrip("/") + "/")


def describe_form(form: CreatedIntegration) -> str:
    """What a form shows, for messages."""
    messages = "; ".join(form.messages) or "none"
    return (
        f"setup link {form.setup_link!r}, callback URLs {list(form.callback_urls)}, "
        f"messages: {messages}"
    )


# -- steps -----------------------------------------------------------------------------------------


@when("the admin opens the Add Integration form")
def admin_opens_the_form(ctx: ScenarioContext) -> None:
    """The admin goes to the organization's Integrations tab and hits "Add Integration"."""
    ctx.form_open = True


@when('selects "{platform}" with the server\'s base URL and OAuth {oauth_version:d}')
def selects_platform_base_url_and_oauth(
    ctx: ScenarioContext, platform: str, oauth_version: int
) -> None:
    """Chooses the platform, enters the server's base URL and picks the OAuth version."""
    if not ctx.form_open:
        raise FeatureFileError(
            "no Add Integration form is open: 'the admin opens the Add Integration form' "
            "must come first"
        )
    open_form(ctx, platform_of(platform), oauth_version)


@given("the admin has opened the Add Integration form for that server with OAuth {oauth_version:d}")
def admin_has_opened_the_form(ctx: ScenarioContext, oauth_version: int) -> None:
    """Opens the form and chooses "Bitbucket Data Center / Server", the base URL and OAuth."""
    ctx.form_open = True
    form = open_form(ctx, "bitbucket-server", oauth_version)
    expect(
        form.setup_link,
        "the form to display a setup link (the next sections follow it)",
        f"the form shows {describe_form(form)}",
    )


@when("the admin opens the Add Integration form twice for that server with OAuth {oauth_version:d}")
def admin_opens_the_form_twice(ctx: ScenarioContext, oauth_version: int) -> None:
    """Opens the Add Integration form twice with the same choices (two integrations)."""
    ctx.form_open = True
    for _ in range(2):
        open_form(ctx, "bitbucket-server", oauth_version)


@then("a link to create an OAuth application on that server is displayed")
def setup_link_is_displayed(ctx: ScenarioContext) -> None:
    """Asserts the form shows a setup link on the chosen server (its base URL kept whole)."""
    form = ctx.form
    expect(
        form.setup_link,
        f"a link to create an OAuth application on {ctx.base_url}",
        f"no setup link; the form shows {describe_form(form)}",
    )
    assert form.setup_link is not None
    expect(
        on_server(ctx, form.setup_link),
        f"the setup link to start with the server's base URL {ctx.base_url}/ "
        "(its scheme, host, port and context path)",
        f"the setup link is {form.setup_link}",
    )


@then("the link opens the server's application links page")
def link_opens_application_links(ctx: ScenarioContext) -> None:
    """Asserts the admin, following the setup link (and logging in), lands on Bitbucket's
    Application links page with its "Create link" button."""
    form = ctx.form
    expect(form.setup_link, "a setup link to follow", f"the form shows {describe_form(form)}")
    assert form.setup_link is not None
    page = open_as_admin(ctx, form.setup_link)
    expected_url = ctx.base_url + APPLICATION_LINKS_PATH
    expect(
        page.status == 200
        and on_server(ctx, page.url)
        and urlsplit(page.url).path == urlsplit(expected_url).path
        and page.has_element("create-link"),
        f'the Application links page {expected_url} with its "Create link" button',
        f"following {form.setup_link} ended on {ctx.describe_page(page)}",
    )


@then('a "Callback URL / Redirect URL" is displayed')
def callback_url_is_displayed(ctx: ScenarioContext) -> None:
    """Asserts the form shows at least one absolute http(s) callback URL without fragment."""
    form = ctx.form
    expect(
        form.callback_urls,
        'the form to display a "Callback URL / Redirect URL"',
        f"no callback URL; the form shows {describe_form(form)}",
    )
    for url in form.callback_urls:
        parts = urlsplit(url)
        expect(
            parts.scheme in ("http", "https") and parts.netloc and not parts.fragment,
            "each callback URL to be an absolute http(s) URL without a fragment "
            "(Bitbucket refuses anything else)",
            f"the form displays {url!r}",
        )


@then("the Client ID and Client Secret fields are empty")
def client_fields_are_empty(ctx: ScenarioContext) -> None:
    """Asserts the Client ID and Client Secret fields are still empty."""
    form = ctx.form
    expect(
        form.client_id == "" and form.client_secret == "",
        "empty Client ID and Client Secret fields (they are filled from Bitbucket later)",
        f"Client ID {form.client_id!r}, Client Secret "
        f"{'<empty>' if not form.client_secret else '<filled in>'}",
    )


@then("the two forms display different callback URLs")
def two_forms_have_different_callbacks(ctx: ScenarioContext) -> None:
    """Asserts the last two forms share no callback URL (each integration has its own)."""
    expect(len(ctx.forms) >= 2, "two forms opened in this scenario", f"{len(ctx.forms)} form(s)")
    first, second = ctx.forms[-2], ctx.forms[-1]
    shared = sorted(set(first.callback_urls) & set(second.callback_urls))
    expect(
        not shared,
        "each form to display its own callback URLs",
        f"both display {shared}",
    )
