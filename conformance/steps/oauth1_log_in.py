"""OAuth 1 guide, "Log in": a user opens the integration's login link; the integration gets
a request token from Bitbucket (signed with RSA-SHA1 as its consumer, with its
``oauth_callback``) and sends the browser to Bitbucket's authorization page; the user logs in
to Bitbucket and presses Allow (or Deny); Bitbucket sends the browser back to the callback
with ``oauth_token`` and ``oauth_verifier``; the integration exchanges them for an access
token (signed again) and the user is logged in.

The user's browser goes through the login link, Bitbucket's login page and its Allow/Deny
page as a person's would; what the integration sent to Bitbucket is read from the
simulator's journal (the OAuth 1 servlets note ``oauth_consumer_key`` and
``oauth_signature_method`` of every signed request); who is logged in is asked through
:meth:`~conformance.sut.Integrator.session` with the browser's cookies. The common login
steps ("the user is logged in to the integration as ...", "the user is not logged in to the
integration", "the integration shows the user an error", the repository listing, "the
admin deletes the application link in Bitbucket") work on these logins too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.context import LoginAttempt, ScenarioContext, password_of
from conformance.steps import ExpectationError, expect, given, then, when
from conformance.steps.common import (
    OAUTH1_AUTHORIZE_FORM_ID,
    open_login_link,
    page_excerpt,
    pass_login_pages,
)
from conformance.steps.oauth1_create_the_application_link import create_oauth1_link
from conformance.steps.oauth1_finish_the_setup import finish_oauth1_setup
from conformance.steps.open_the_add_integration_form import open_form
from conformance.steps.share_the_login_link import (
    CallbackChange,
    expect_logged_in,
    with_query,
)
from conformance.useragent import Page, leaving_origin, origin_of, redact_url

#: Bitbucket's OAuth 1 servlets, relative to the base URL.
SERVLET = "/plugins/servlet/oauth/"
REQUEST_TOKEN = "request-token"  # noqa: S105 - a servlet's name, not a secret
ACCESS_TOKEN = "access-token"  # noqa: S105 - a servlet's name, not a secret
AUTHORIZE_FORM_ID = OAUTH1_AUTHORIZE_FORM_ID
#: The only signature method Bitbucket's OAuth 1 links take.
SIGNATURE_METHOD = "RSA-SHA1"
#: The buttons of Bitbucket's authorization page, by the decision.
BUTTONS = {"allow": "Allow", "deny": "Deny"}


# -- helpers ---------------------------------------------------------------------------------------


def set_up_oauth1_integration(ctx: ScenarioContext) -> None:
    """The OAuth 1 guide from the form to the login link: open the form with OAuth 1, create
    the link in Bitbucket's pages, "Create Integration", read the login link from the list."""
    ctx.form_open = True
    open_form(ctx, "bitbucket-server", 1)
    create_oauth1_link(ctx)
    finish_oauth1_setup(ctx)


def is_authorize_page(page: Page) -> bool:
    """Whether the page is Bitbucket's OAuth 1 "Request for access" page (Allow / Deny)."""
    return any(form.id == AUTHORIZE_FORM_ID for form in page.forms)


def replace_oauth_token(url: str) -> str:
    """The callback with an ``oauth_token`` that is not the one Bitbucket authorized."""
    return with_query(
        url,
        lambda pairs: [
            (k, "forged-oauth-token-0000" if k == "oauth_token" else v) for k, v in pairs
        ],
    )


def log_in_through_oauth1_link(
    ctx: ScenarioContext,
    username: str,
    decision: str = "allow",
    change: CallbackChange | None = None,
    *,
    keep_callback: bool = False,
) -> LoginAttempt:
    """A user opens the login link in a new browser, logs in to Bitbucket (with TOTP when the
    two-factor plugin asks), presses Allow or Deny on the authorization page and follows
    Bitbucket's redirect back to the integration (changed by ``change`` when given; with
    ``keep_callback`` the browser stops before it and the attempt keeps the address)."""
    integration = ctx.integration
    link = integration.login_link
    browser = ctx.browser(f"user {username}")
    attempt = LoginAttempt(username, browser, integration, ctx.journal_mark())
    ctx.logins.append(attempt)
    page = open_login_link(ctx, browser, link)
    attempt.page = page
    page = pass_login_pages(ctx, browser, page, username, password_of(username))
    attempt.page = page
    if not is_authorize_page(page):
        raise ExpectationError(
            f"the login link {link} to lead, after logging in to Bitbucket, to Bitbucket's "
            "OAuth 1 authorization page (Allow / Deny)",
            f"the browser is on {ctx.describe_page(page)}: {page_excerpt(page)}",
        )
    form = page.find_form(id=AUTHORIZE_FORM_ID)
    button = BUTTONS[decision]
    stopped = browser.submit(form, button=button, stop_at=leaving_origin(ctx.base_url))
    pending = stopped.pending
    if pending is None:
        attempt.page = stopped
        raise ExpectationError(
            f"Bitbucket to send the browser back to the integration after {button}",
            f"the browser is on {ctx.describe_page(stopped)}: {page_excerpt(stopped)}",
        )
    attempt.callback_url = redact_url(pending.url)
    attempt.kept_callback = pending.url
    if keep_callback:
        attempt.page = stopped
        return attempt
    target = change(pending.url) if change is not None else None
    attempt.page = browser.follow(stopped, url=target)
    return attempt


def oauth1_journal(ctx: ScenarioContext, servlet: str, mark: int) -> list[dict[str, Any]]:
    """POSTs to an OAuth 1 token servlet after ``mark``, oldest first."""
    path = ctx.context_path + SERVLET + servlet
    return [
        entry
        for entry in ctx.sim.journal(path_prefix=path, method="POST")
        if int(entry["id"]) > mark and entry["path"] == path
    ]


def describe_signed(entries: list[dict[str, Any]]) -> str:
    """The signed requests of the journal, for messages."""
    if not entries:
        return "none"
    return "; ".join(
        f"HTTP {entry['status']}, oauth_signature_method="
        f"{entry['extra'].get('oauth_signature_method')!r}, oauth_consumer_key="
        f"{entry['extra'].get('oauth_consumer_key')!r}"
        + (
            f", oauth_problem={entry['extra']['oauth_problem']!r}"
            if entry["extra"].get("oauth_problem")
            else ""
        )
        for entry in entries
    )


def signed_calls(
    ctx: ScenarioContext, servlet: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """The POSTs to the servlet during the latest login, and those of them that Bitbucket
    answered 200 and that were signed with RSA-SHA1 as the integration's consumer, the
    parameters in the ``Authorization: OAuth`` header; and the consumer key."""
    attempt = ctx.login
    key = attempt.integration.form.consumer_key
    entries = oauth1_journal(ctx, servlet, attempt.journal_mark)
    good = [
        entry
        for entry in entries
        if entry["status"] == 200
        and entry["extra"].get("oauth_signature_method") == SIGNATURE_METHOD
        and entry["extra"].get("oauth_consumer_key") == key
        and str(entry["headers"].get("Authorization", "")).startswith("OAuth ")
    ]
    return entries, good, key


def signed_call_expected(ctx: ScenarioContext, servlet: str, what: str, key: str | None) -> str:
    """What a signed call's step expects, for messages."""
    return (
        f"{what}: a POST to {ctx.base_url}{SERVLET}{servlet} during the login, signed with "
        f"{SIGNATURE_METHOD} as the consumer {key!r} (Authorization: OAuth ...), answered 200"
    )


# -- steps: setting up -----------------------------------------------------------------------------


@given("an OAuth 1 integration set up as the guide describes")
def oauth1_integration_set_up(ctx: ScenarioContext) -> None:
    """Does every section of the OAuth 1 guide up to the login link (the form with OAuth 1,
    the "Atlassian product" link and its Incoming Authentication, "Create Integration")."""
    set_up_oauth1_integration(ctx)


@given('the user "{username}" has logged in through the OAuth 1 login link')
def user_has_logged_in_with_oauth1(ctx: ScenarioContext, username: str) -> None:
    """Logs the user in through the OAuth 1 login link (allowing access) and checks it
    worked."""
    attempt = log_in_through_oauth1_link(ctx, username)
    expect_logged_in(ctx, attempt, username, "the OAuth 1 login")


# -- steps: the login ------------------------------------------------------------------------------


@when('the user "{username}" opens the OAuth 1 login link, logs in to Bitbucket and allows access')
def user_allows_with_oauth1(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link in a new browser, logs in to Bitbucket, presses Allow on the
    authorization page."""
    log_in_through_oauth1_link(ctx, username, "allow")


@when('the user "{username}" opens the OAuth 1 login link, logs in to Bitbucket and denies access')
def user_denies_with_oauth1(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link in a new browser, logs in to Bitbucket, presses Deny on the
    authorization page."""
    log_in_through_oauth1_link(ctx, username, "deny")


@when(
    'the user "{username}" opens the OAuth 1 login link and allows access, '
    "but the callback's oauth_token is replaced"
)
def user_allows_with_forged_token(ctx: ScenarioContext, username: str) -> None:
    """Logs in and allows, then arrives at the callback with another ``oauth_token`` than
    the request token Bitbucket authorized."""
    log_in_through_oauth1_link(ctx, username, "allow", change=replace_oauth_token)


# -- steps: what the integration sent to Bitbucket -------------------------------------------------


@then("the integration got a request token signed with RSA-SHA1 as its consumer")
def request_token_signed(ctx: ScenarioContext) -> None:
    """Asserts the login started with a request-token call signed with RSA-SHA1 under the
    form's Consumer Key, which Bitbucket answered with a token."""
    entries, good, key = signed_calls(ctx, REQUEST_TOKEN)
    expect(
        good,
        signed_call_expected(ctx, REQUEST_TOKEN, "a request token", key),
        f"Bitbucket received: {describe_signed(entries)}",
    )


@then("Bitbucket sent the user back to the integration with the verifier")
def sent_back_with_verifier(ctx: ScenarioContext) -> None:
    """Asserts Bitbucket's redirect after Allow went to the integration (the login link's
    origin: the ``oauth_callback`` the integration sent) with ``oauth_token`` and a
    non-denied ``oauth_verifier``."""
    attempt = ctx.login
    url = attempt.kept_callback
    expect(
        url is not None,
        "Bitbucket to send the browser back to the integration after Allow",
        f"the browser ended on {ctx.describe_page(attempt.page)}",
    )
    assert url is not None
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    form = attempt.integration.form
    origins = sorted(
        {
            origin_of(known)
            for known in (attempt.integration.login_link, form.application_url, *form.callback_urls)
            if known
        }
    )
    expect(
        origin_of(url) in origins
        and query.get("oauth_token")
        and query.get("oauth_verifier") not in (None, "", "denied"),
        f"a callback on the integration ({' or '.join(origins)}) with oauth_token and "
        "oauth_verifier",
        f"Bitbucket sent the browser to {redact_url(url)}",
    )


@then("the integration exchanged the verifier for an access token signed with RSA-SHA1")
def access_token_signed(ctx: ScenarioContext) -> None:
    """Asserts an access-token call signed with RSA-SHA1 under the form's Consumer Key
    reached Bitbucket during the login and got a token."""
    entries, good, key = signed_calls(ctx, ACCESS_TOKEN)
    expect(
        good,
        signed_call_expected(ctx, ACCESS_TOKEN, "an access token for the verifier", key),
        f"Bitbucket received: {describe_signed(entries)}",
    )
