"""OAuth 1 guide, "Finish the setup": with OAuth 1 there is nothing to copy back (the
integration generated the Consumer Key and the key pair), so the admin submits the form with
"Create Integration"; the integration checks the link with Bitbucket and reports a missing
link, or one with another Public Key, to the admin instead of creating a broken integration.

"Create Integration" is :meth:`~conformance.sut.Integrator.submit` with empty Client ID and
secret (the driver protocol's rule for OAuth 1). The success checks are the common ones
("the admin is redirected back to the list of integrations", "the integration is listed
with a login link").
"""

from __future__ import annotations

import re

from conformance.context import ScenarioContext
from conformance.steps import expect, then, when
from conformance.steps.common import try_login
from conformance.steps.finish_the_setup import FIRST_USER, listed, submit, submitted
from conformance.sut import IntegrationSummary, SubmitResult

_CONSUMER_KEY = re.compile(
    r"consumer[\s_-]*key|client[\s_-]*id|application[\s_-]*link", re.IGNORECASE
)
_PUBLIC_KEY = re.compile(r"public[\s_-]*key|signature|certificate", re.IGNORECASE)


def submit_oauth1(ctx: ScenarioContext) -> SubmitResult:
    """Press "Create Integration" on the OAuth 1 form (nothing to paste: empty fields)."""
    return submit(ctx, "", "")


def finish_oauth1_setup(ctx: ScenarioContext) -> IntegrationSummary:
    """Submit the OAuth 1 form; the integration's row in the list (with its login link)."""
    result = submit_oauth1(ctx)
    integration = ctx.integration_of(ctx.form)
    expect(
        result.ok,
        'the OAuth 1 integration to be created ("Create Integration") once the link exists',
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


def refused_submit(ctx: ScenarioContext, what: str) -> str:
    """Asserts "Create Integration" failed (``what`` says why it should) and created
    nothing; the error the form showed."""
    result = submitted(ctx)
    integration = ctx.integration_of(ctx.form)
    expect(
        not result.ok,
        f"the form to report that {what}",
        f"the integration was created (redirect_to {result.redirect_to!r}) without checking "
        "the link with Bitbucket",
    )
    expect(
        listed(ctx, integration) is None,
        "no integration created with a link Bitbucket refuses",
        f"the integration {integration.form.id!r} is listed",
    )
    return result.error or ""


# -- steps -----------------------------------------------------------------------------------------


@when('the admin submits the OAuth 1 form with "Create Integration"')
def submits_oauth1_form(ctx: ScenarioContext) -> None:
    """Presses "Create Integration" on the OAuth 1 form (no Client ID or secret to enter)."""
    submit_oauth1(ctx)


Verdict = tuple[bool, str, str]


def reported_at_submit_or_first_login(
    ctx: ScenarioContext, problem: str, names: re.Pattern[str], named: str
) -> Verdict:
    """Whether a link problem was reported, as ``(condition, expected, actual)`` for
    :func:`expect`: either "Create Integration" refused with an error naming ``named`` (and
    created nothing), or the integration was created and its first login fails with such an
    error (Bitbucket refuses the integration's request token there: ``consumer_key_unknown``,
    ``signature_invalid``)."""
    result = submitted(ctx)
    integration = ctx.integration_of(ctx.form)
    if not result.ok:
        if listed(ctx, integration) is not None:
            return (
                False,
                "no integration created with a link Bitbucket refuses",
                f"the integration {integration.form.id!r} is listed",
            )
        return (
            bool(names.search(result.error or "")),
            f"an error that names {named}",
            f"the form answered the error {result.error!r}",
        )
    if listed(ctx, integration) is None:
        return (
            False,
            "the integration, created without checking the link, in the list with its login link",
            f"the list holds {[r.id for r in ctx.sut.integrations()]}",
        )
    attempt = try_login(ctx, FIRST_USER)
    state = ctx.sut.session(attempt.cookies())
    return (
        not state.authenticated and bool(names.search(state.error or "")),
        f"the integration was created although {problem}: its first login must fail with an "
        f"error that names {named}",
        f"after {FIRST_USER!r}'s login it answers authenticated={state.authenticated}, "
        f"error={state.error!r}; the browser ended on {ctx.describe_page(attempt.page)}",
    )


@then('the missing application link is reported at "Create Integration" or at the first login')
def missing_link_reported(ctx: ScenarioContext) -> None:
    """Asserts a missing link (Bitbucket does not know the Consumer Key) is reported by
    "Create Integration" or by the first login, naming the Consumer Key or the link."""
    expect(
        *reported_at_submit_or_first_login(
            ctx,
            "Bitbucket has no link with its Consumer Key",
            _CONSUMER_KEY,
            "the Consumer Key (or the application link)",
        )
    )


@then('the refused Public Key is reported at "Create Integration" or at the first login')
def refused_public_key_reported(ctx: ScenarioContext) -> None:
    """Asserts a link holding another Public Key (Bitbucket cannot verify the integration's
    signature) is reported by "Create Integration" or by the first login."""
    expect(
        *reported_at_submit_or_first_login(
            ctx,
            "the link holds another Public Key",
            _PUBLIC_KEY,
            "the Public Key (or the signature)",
        )
    )


@then("the admin is told that Bitbucket does not know the Consumer Key")
def told_consumer_key_unknown(ctx: ScenarioContext) -> None:
    """Asserts the form reports the missing link, naming the Consumer Key (or the
    application link), and creates nothing."""
    error = refused_submit(ctx, "Bitbucket has no application link with the Consumer Key")
    key = ctx.form.consumer_key or ""
    expect(
        _CONSUMER_KEY.search(error) or (key and key in error),
        "an error that names the Consumer Key (or the application link)",
        f"the error {error!r}",
    )


@then("the admin is told that Bitbucket does not accept the integration's Public Key")
def told_public_key_rejected(ctx: ScenarioContext) -> None:
    """Asserts the form reports that Bitbucket could not verify the integration's signature
    with the link's Public Key, and creates nothing."""
    error = refused_submit(
        ctx, "Bitbucket could not verify the integration's signature with the link's Public Key"
    )
    expect(
        _PUBLIC_KEY.search(error),
        "an error that names the Public Key (or the signature)",
        f"the error {error!r}",
    )
