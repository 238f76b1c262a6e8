"""Guide section "Finish the Setup": the admin copies the Client ID and Client Secret into the
integration form, presses "Create Integration" and is sent back to the list of integrations.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.context import Integration, LinkCredentials, ScenarioContext
from conformance.steps import ExpectationError, expect, then, when
from conformance.sut import IntegrationSummary, SubmitResult


def credentials_of(ctx: ScenarioContext) -> LinkCredentials:
    """The credentials Bitbucket showed for the current form's link."""
    credentials = ctx.integration_of(ctx.form).credentials
    if credentials is None:
        raise ExpectationError(
            "the Client ID and Client Secret from an application link created in this scenario",
            "no link was created (a step such as 'the admin has created the application link "
            "in Bitbucket as the guide describes' must come first)",
        )
    return credentials


def wrong(secret: str) -> str:
    """The secret with its last character mistyped."""
    last = "0" if secret[-1:] != "0" else "1"
    return secret[:-1] + last


def submit(ctx: ScenarioContext, client_id: str, client_secret: str) -> SubmitResult:
    """Press "Create Integration" with these values in the fields."""
    integration = ctx.integration_of(ctx.form)
    integration.submitted = ctx.sut.submit(integration.form.id, client_id, client_secret)
    return integration.submitted


def listed(ctx: ScenarioContext, integration: Integration) -> IntegrationSummary | None:
    """The integration's row in the integrations list, if it is listed."""
    for row in ctx.sut.integrations():
        if row.id == integration.form.id:
            integration.summary = row
            return row
    return None


def finish_setup(ctx: ScenarioContext) -> IntegrationSummary:
    """Submit the link's credentials; the integration's row in the list (with its login link)."""
    credentials = credentials_of(ctx)
    result = submit(ctx, credentials.client_id, credentials.client_secret)
    integration = ctx.integration_of(ctx.form)
    expect(
        result.ok,
        "the integration to be created with the link's Client ID and secret "
        '("Create Integration")',
        f"the form answered the error {result.error!r}",
    )
    row = listed(ctx, integration)
    expect(
        row is not None,
        f"the integration {integration.form.id!r} in the list of integrations",
        f"the list holds {[r.id for r in ctx.sut.integrations()]}",
    )
    assert row is not None
    return row


def submitted(ctx: ScenarioContext) -> SubmitResult:
    """What the last "Create Integration" answered."""
    result = ctx.integration_of(ctx.form).submitted
    if result is None:
        raise ExpectationError(
            '"Create Integration" to have been pressed in this scenario', "it was not"
        )
    return result


# -- steps -----------------------------------------------------------------------------------------


@when(
    "the admin enters the Client ID and Client Secret and submits the form with "
    '"Create Integration"'
)
def enters_credentials_and_submits(ctx: ScenarioContext) -> None:
    """Copies the Client ID and secret Bitbucket showed into the form and submits it."""
    credentials = credentials_of(ctx)
    submit(ctx, credentials.client_id, credentials.client_secret)


@when(
    "the admin enters the Client ID and a wrong Client Secret and submits the form with "
    '"Create Integration"'
)
def enters_wrong_secret_and_submits(ctx: ScenarioContext) -> None:
    """Submits the right Client ID with a mistyped Client Secret (last character changed)."""
    credentials = credentials_of(ctx)
    submit(ctx, credentials.client_id, wrong(credentials.client_secret))


@then("the admin is redirected back to the list of integrations")
def redirected_to_integrations(ctx: ScenarioContext) -> None:
    """Asserts "Create Integration" succeeded and sends the admin to an http(s) page."""
    result = submitted(ctx)
    expect(
        result.ok,
        "the integration to be created and the admin sent to the list of integrations",
        f"the form answered the error {result.error!r}",
    )
    target = urlsplit(result.redirect_to or "")
    expect(
        target.scheme in ("http", "https") and target.netloc,
        "an absolute http(s) address of the list of integrations",
        f"redirect_to {result.redirect_to!r}",
    )


@then("the integration is listed with a login link")
def integration_is_listed(ctx: ScenarioContext) -> None:
    """Asserts the integrations list holds the integration with an http(s) login link."""
    integration = ctx.integration_of(ctx.form)
    row = listed(ctx, integration)
    expect(
        row is not None,
        f"the integration {integration.form.id!r} in the list of integrations",
        f"the list holds {[r.id for r in ctx.sut.integrations()]}",
    )
    assert row is not None
    link = urlsplit(row.login_link)
    expect(
        link.scheme in ("http", "https") and link.netloc,
        "a login link that is an absolute http(s) URL",
        f"login_link {row.login_link!r}",
    )


@then("the admin is told that Bitbucket rejected the client credentials")
def told_credentials_rejected(ctx: ScenarioContext) -> None:
    """Asserts the form shows an error about the client credentials and creates nothing."""
    result = submitted(ctx)
    integration = ctx.integration_of(ctx.form)
    expect(
        not result.ok,
        "the form to report that Bitbucket rejected the Client ID / Client Secret",
        f"the integration was created (redirect_to {result.redirect_to!r}): the wrong secret "
        "was accepted without checking it with Bitbucket",
    )
    error = (result.error or "").lower()
    expect(
        any(word in error for word in ("secret", "client", "credential")),
        "an error that names the client credentials (Client ID / Client Secret)",
        f"the error {result.error!r}",
    )
    expect(
        listed(ctx, integration) is None,
        "no integration created with the rejected credentials",
        f"the integration {integration.form.id!r} is listed",
    )
