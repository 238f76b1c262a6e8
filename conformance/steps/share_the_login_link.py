"""Guide section "Share the login link": the integrations list shows an organization-specific
login link; a user opens it, logs in to Bitbucket, allows access and is logged in.

The user's browser goes through the login link, Bitbucket's login page and its consent page
as a person's would; what the system under test sent to Bitbucket (scope, state, PKCE,
redirect_uri, client authentication) is read from the simulator's journal; who is logged in
is asked through :meth:`~conformance.sut.Integrator.session` with the browser's cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from conformance.context import FeatureFileError, LoginAttempt, ScenarioContext, password_of
from conformance.steps import ExpectationError, expect, given, then, when
from conformance.steps.common import (
    bitbucket_get,
    bitbucket_pages,
    is_consent_page,
    open_login_link,
    page_excerpt,
    pass_login_pages,
)
from conformance.steps.configure_application_link import create_application_link
from conformance.steps.finish_the_setup import finish_setup
from conformance.steps.open_the_add_integration_form import open_form
from conformance.sut import SessionState
from conformance.useragent import entering_origin, leaving_origin, redact_url
from simulator.oauth2.scopes import Scope

CallbackChange = Callable[[str], str]


# -- helpers ---------------------------------------------------------------------------------------


def set_up_integration(ctx: ScenarioContext, oauth_version: int) -> None:
    """The guide from the form to the login link: open the form, create the application link
    in Bitbucket's pages, submit the credentials, read the login link from the list."""
    ctx.form_open = True
    open_form(ctx, "bitbucket-server", oauth_version)
    create_application_link(ctx)
    finish_setup(ctx)


def with_query(url: str, change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> str:
    """The URL with its query parameters changed."""
    parts = urlsplit(url)
    pairs = change(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode(pairs)))


#: Why a scenario about a tampered ``state`` is skipped for an integration that sends none.
NO_STATE_TO_TAMPER = (
    "the integration sends no state (it relies on PKCE against CSRF, which RFC 9700 4.7.1 "
    "allows): there is no state to tamper with"
)


def _state_sent(url: str) -> None:
    """Skip the scenario when the callback carries no ``state`` to tamper with."""
    if not any(k == "state" for k, _ in parse_qsl(urlsplit(url).query)):
        pytest.skip(NO_STATE_TO_TAMPER)


def replace_state(url: str) -> str:
    """The callback with a ``state`` that is not the one the integration issued."""
    _state_sent(url)
    return with_query(
        url, lambda pairs: [(k, "forged-state-0000" if k == "state" else v) for k, v in pairs]
    )


def remove_state(url: str) -> str:
    """The callback without its ``state``."""
    _state_sent(url)
    return with_query(url, lambda pairs: [(k, v) for k, v in pairs if k != "state"])


def log_in_through_link(
    ctx: ScenarioContext,
    username: str,
    decision: str = "allow",
    change: CallbackChange | None = None,
    *,
    keep_callback: bool = False,
) -> LoginAttempt:
    """A user opens the login link in a new browser, logs in to Bitbucket (with TOTP when
    the two-factor plugin asks), presses Allow or Deny on the consent page and follows
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
    if not is_consent_page(page):
        raise ExpectationError(
            f"the login link {link} to lead, after logging in to Bitbucket, to Bitbucket's "
            "consent page for the integration",
            f"the browser is on {ctx.describe_page(page)}: {page_excerpt(page)}",
        )
    form = page.find_form(id="oauth2-consent-form")
    button = "Allow" if decision == "allow" else "Deny"
    stopped = browser.submit(form, button=button, stop_at=leaving_origin(ctx.base_url))
    pending = stopped.pending
    if pending is None:
        attempt.page = stopped
        raise ExpectationError(
            f"Bitbucket to send the browser back to the integration after {button}",
            f"the browser is on {ctx.describe_page(stopped)}: {page_excerpt(stopped)}",
        )
    attempt.callback_url = redact_url(pending.url)
    if keep_callback:
        attempt.kept_callback = pending.url
        attempt.page = stopped
        return attempt
    target = change(pending.url) if change is not None else None
    attempt.page = browser.follow(stopped, url=target)
    return attempt


def start_login(ctx: ScenarioContext, username: str) -> LoginAttempt:
    """A user opens the login link in a new browser and stops where it sends the browser
    on Bitbucket (the authorization request, kept in the attempt)."""
    integration = ctx.integration
    browser = ctx.browser(f"user {username}")
    attempt = LoginAttempt(username, browser, integration, ctx.journal_mark())
    ctx.logins.append(attempt)
    page = open_login_link(
        ctx, browser, integration.login_link, stop_at=entering_origin(ctx.base_url)
    )
    attempt.page = page
    expect(
        page.pending is not None,
        f"the login link {integration.login_link} to send the browser to Bitbucket",
        f"it ended on {ctx.describe_page(page)}: {page_excerpt(page)}",
    )
    assert page.pending is not None
    attempt.authorize_url = page.pending.url
    return attempt


def attempt_of(ctx: ScenarioContext, username: str | None = None) -> LoginAttempt:
    """The latest login attempt (of ``username`` when given)."""
    if username is not None:
        for attempt in reversed(ctx.logins):
            if attempt.username == username:
                return attempt
    return ctx.login


def session_of(ctx: ScenarioContext, attempt: LoginAttempt) -> SessionState:
    """Who the SUT says is logged in, for the attempt's browser."""
    return ctx.sut.session(attempt.cookies())


def describe_session(state: SessionState) -> str:
    """A session answer, for messages."""
    return (
        f"authenticated={state.authenticated}, username={state.username!r}, error={state.error!r}"
    )


def authorize_request(ctx: ScenarioContext) -> dict[str, Any]:
    """The browser's first authorization request of the latest login attempt (journal)."""
    attempt = ctx.login
    entries = ctx.journal_since(attempt.journal_mark, "authorize", method="GET")
    expect(
        entries,
        "the login link to send the browser to Bitbucket's authorization endpoint "
        f"({ctx.base_url}/rest/oauth2/latest/authorize)",
        "Bitbucket received no authorization request during the login",
    )
    return entries[0]


def code_exchange(ctx: ScenarioContext) -> dict[str, Any]:
    """The integration's token request for the authorization code of the latest login."""
    attempt = ctx.login
    entries = [
        entry
        for entry in ctx.journal_since(attempt.journal_mark, "token", method="POST")
        if entry["form"].get("grant_type") == "authorization_code"
    ]
    expect(
        entries,
        "the integration to exchange the authorization code at Bitbucket's token endpoint "
        f"({ctx.base_url}/rest/oauth2/latest/token, grant_type=authorization_code)",
        "Bitbucket received no such token request during the login",
    )
    return entries[0]


def implied_by(scope: Scope) -> set[str]:
    """The scope and every scope it implies."""
    names = {scope.value}
    for weaker in scope.implies:
        names |= implied_by(weaker)
    return names


# -- steps: setting up -----------------------------------------------------------------------------


@given("an integration set up with OAuth {oauth_version:d} as the guide describes")
def integration_set_up(ctx: ScenarioContext, oauth_version: int) -> None:
    """Does every section of the guide up to the login link (the admin's part, on the
    integration's form and on Bitbucket's pages)."""
    set_up_integration(ctx, oauth_version)


@given("a second integration set up with OAuth {oauth_version:d} as the guide describes")
def second_integration_set_up(ctx: ScenarioContext, oauth_version: int) -> None:
    """Sets up one more integration on the same server (its own form, link and login link)."""
    set_up_integration(ctx, oauth_version)


@given('the user "{username}" has logged in through the login link')
def user_has_logged_in(ctx: ScenarioContext, username: str) -> None:
    """Logs the user in through the login link (allowing access) and checks it worked."""
    expect_logged_in(ctx, log_in_through_link(ctx, username), username, "the login")


def expect_logged_in(ctx: ScenarioContext, attempt: LoginAttempt, username: str, how: str) -> None:
    """Asserts the integration reports ``username`` logged in after a login ``attempt``."""
    state = session_of(ctx, attempt)
    expect(
        state.authenticated and state.username == username,
        f"{username!r} to be logged in to the integration after {how}",
        f"the integration answers {describe_session(state)}; the browser ended on "
        f"{ctx.describe_page(attempt.page)}",
    )


# -- steps: the login -----------------------------------------------------------------------------


@when('the user "{username}" opens the login link, logs in to Bitbucket and allows access')
def user_logs_in_and_allows(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link in a new browser, logs in to Bitbucket, presses Allow."""
    log_in_through_link(ctx, username, "allow")


@when('the user "{username}" opens the login link, logs in to Bitbucket and denies access')
def user_logs_in_and_denies(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link in a new browser, logs in to Bitbucket, presses Deny."""
    log_in_through_link(ctx, username, "deny")


@when(
    'the user "{username}" opens the login link and allows access, '
    "but the callback's state is replaced"
)
def user_allows_with_forged_state(ctx: ScenarioContext, username: str) -> None:
    """Logs in and allows, then arrives at the callback with another ``state`` value."""
    log_in_through_link(ctx, username, "allow", change=replace_state)


@when(
    'the user "{username}" opens the login link and allows access, '
    "but the callback's state is removed"
)
def user_allows_without_state(ctx: ScenarioContext, username: str) -> None:
    """Logs in and allows, then arrives at the callback without its ``state``."""
    log_in_through_link(ctx, username, "allow", change=remove_state)


@then('the user is logged in to the integration as "{username}"')
def user_is_logged_in_as(ctx: ScenarioContext, username: str) -> None:
    """Asserts the integration, asked with the user's cookies, reports this user logged in."""
    attempt = attempt_of(ctx, username)
    state = session_of(ctx, attempt)
    expect(
        state.authenticated and state.username == username,
        f"the integration to report {username!r} logged in",
        f"it answers {describe_session(state)}; the browser ended on "
        f"{ctx.describe_page(attempt.page)}",
    )


@then("the user is not logged in to the integration")
def user_is_not_logged_in(ctx: ScenarioContext) -> None:
    """Asserts the integration, asked with the user's cookies, reports nobody logged in."""
    attempt = attempt_of(ctx)
    state = session_of(ctx, attempt)
    expect(
        not state.authenticated,
        f"the integration to report {attempt.username!r} not logged in",
        f"it answers {describe_session(state)} (callback {attempt.callback_url})",
    )


@then("the integration shows the user an error")
def integration_shows_an_error(ctx: ScenarioContext) -> None:
    """Asserts the integration has an error message for the user's browser."""
    attempt = attempt_of(ctx)
    state = session_of(ctx, attempt)
    expect(
        bool(state.error and state.error.strip()),
        "the integration to show the user an error",
        f"it answers {describe_session(state)}; the browser ended on "
        f"{ctx.describe_page(attempt.page)}",
    )


# -- steps: what the integration sent to Bitbucket -------------------------------------------------


@then('the authorization request asked for no scope beyond "{scope}"')
def authorization_scope_at_most(ctx: ScenarioContext, scope: str) -> None:
    """Asserts the authorization request's ``scope`` asks for nothing stronger than ``scope``."""
    try:
        allowed = implied_by(Scope(scope))
    except ValueError:
        known = ", ".join(s.value for s in Scope)
        raise FeatureFileError(f"unknown Bitbucket scope {scope!r}; scopes: {known}") from None
    entry = authorize_request(ctx)
    requested = entry["query"].get("scope", "")
    beyond = sorted(set(requested.replace(",", " ").split()) - allowed)
    expect(
        requested.strip() and not beyond,
        f"a scope within {scope} ({', '.join(sorted(allowed))})",
        f"scope={requested!r}" + (f", beyond it: {', '.join(beyond)}" if beyond else ""),
    )


@then("the authorization request carried a state")
def authorization_carried_state(ctx: ScenarioContext) -> None:
    """Asserts the authorization request carried a non-empty ``state``."""
    entry = authorize_request(ctx)
    expect(
        entry["query"].get("state", "").strip(),
        "a non-empty state parameter in the authorization request",
        f"query parameters {sorted(entry['query'])}",
    )


@then("the authorization request carried a state or a PKCE code challenge")
def authorization_protected_against_csrf(ctx: ScenarioContext) -> None:
    """Asserts the authorization request carried something that binds the login to the
    browser: a ``state``, or a PKCE ``code_challenge`` (RFC 9700 §4.7.1 lets a client that
    uses PKCE rely on it against CSRF; without either, any browser can be logged in with
    an attacker's code)."""
    query = authorize_request(ctx)["query"]
    expect(
        query.get("state", "").strip() or query.get("code_challenge", "").strip(),
        "a state or a PKCE code_challenge in the authorization request (CSRF protection, "
        "RFC 6749 §10.12, RFC 9700 §4.7)",
        f"query parameters {sorted(query)}",
    )


@then('the authorization request used PKCE with the method "{method}"')
def authorization_used_pkce(ctx: ScenarioContext, method: str) -> None:
    """Asserts the authorization request carried a code challenge with this method."""
    query = authorize_request(ctx)["query"]
    expect(
        query.get("code_challenge") and query.get("code_challenge_method") == method,
        f"code_challenge with code_challenge_method={method}",
        f"code_challenge {'present' if query.get('code_challenge') else 'absent'}, "
        f"code_challenge_method={query.get('code_challenge_method')!r}",
    )


@then("the token request carried a code verifier")
def token_request_had_verifier(ctx: ScenarioContext) -> None:
    """Asserts the code exchange sent a ``code_verifier``."""
    entry = code_exchange(ctx)
    expect(
        entry["extra"].get("has_code_verifier") or entry["form"].get("code_verifier"),
        "a code_verifier in the token request",
        f"form fields {sorted(entry['form'])}",
    )


@then("the token request's redirect_uri is one of the callback URLs the form displayed")
def token_redirect_uri_was_displayed(ctx: ScenarioContext) -> None:
    """Asserts the code exchange's ``redirect_uri`` is a callback URL of the form."""
    entry = code_exchange(ctx)
    redirect_uri = entry["form"].get("redirect_uri")
    displayed = list(ctx.login.integration.form.callback_urls)
    expect(
        redirect_uri in displayed,
        f"redirect_uri to be one of the displayed callback URLs {displayed}",
        f"redirect_uri={redirect_uri!r}",
    )


@then("the client credentials were sent in the request body")
def client_credentials_in_body(ctx: ScenarioContext) -> None:
    """Asserts the code exchange sent client_id and client_secret as form fields (Bitbucket
    reads them from the body only, not from HTTP Basic)."""
    entry = code_exchange(ctx)
    expect(
        entry["extra"].get("client_auth") == "body",
        "client_id and client_secret in the form body of the token request",
        f"client authentication {entry['extra'].get('client_auth')!r}, "
        f"form fields {sorted(entry['form'])}",
    )


@then("the integration refreshed its access token")
def integration_refreshed(ctx: ScenarioContext) -> None:
    """Asserts a successful refresh-token grant reached Bitbucket after the clock moved."""
    mark = ctx.clock_mark if ctx.clock_mark is not None else ctx.login.journal_mark
    grants = [
        entry
        for entry in ctx.journal_since(mark, "token", method="POST")
        if entry["form"].get("grant_type") == "refresh_token"
    ]
    expect(
        any(entry["status"] == 200 for entry in grants),
        "a successful token request with grant_type=refresh_token",
        f"refresh requests answered {[entry['status'] for entry in grants] or 'none'}",
    )


# -- steps: login links ----------------------------------------------------------------------------


@then("the two integrations have different login links")
def login_links_differ(ctx: ScenarioContext) -> None:
    """Asserts the last two integrations' login links differ."""
    expect(
        len(ctx.integrations) >= 2,
        "two integrations set up in this scenario",
        f"{len(ctx.integrations)}",
    )
    first, second = ctx.integrations[-2], ctx.integrations[-1]
    expect(
        first.login_link != second.login_link,
        "each integration to have its own login link",
        f"both have {first.login_link}",
    )


@then("each login link asks Bitbucket for its own Client ID")
def login_links_use_their_client_ids(ctx: ScenarioContext) -> None:
    """Asserts each login link sends a fresh browser to Bitbucket with its link's client_id."""
    for integration in ctx.integrations:
        credentials = integration.credentials
        assert credentials is not None
        browser = ctx.browser("user (checking the login link)")
        page = open_login_link(
            ctx, browser, integration.login_link, stop_at=entering_origin(ctx.base_url)
        )
        pending = page.pending
        expect(
            pending is not None,
            f"the login link {integration.login_link} to redirect to Bitbucket",
            f"it ended on {ctx.describe_page(page)}",
        )
        assert pending is not None
        client_id = dict(parse_qsl(urlsplit(pending.url).query)).get("client_id")
        expect(
            client_id == credentials.client_id,
            f"client_id={credentials.client_id} (the Client ID of this integration's link)",
            f"client_id={client_id!r} in {redact_url(pending.url)}",
        )


# -- steps: repositories ---------------------------------------------------------------------------


@then(
    'the integration lists the repositories "{username}" can read, '
    "each with whether it has a composer.json"
)
def integration_lists_repositories(ctx: ScenarioContext, username: str) -> None:
    """Asserts the listing has every repository the user has REPO_READ on, only repositories
    the user can read, and for each whether Bitbucket has a composer.json at its default
    branch. Archived repositories (Bitbucket 8.0 and later) may be listed or left out: the
    guide does not say, and ``/rest/api/1.0/repos`` leaves them out unless asked while
    ``projects/{key}/repos`` lists them."""
    if not ctx.capabilities.repositories:
        pytest.skip("the SUT does not list repositories (capabilities: repositories false)")
    attempt = attempt_of(ctx, username)
    rows = ctx.sut.repositories(attempt.cookies())
    granted = {
        (r["project"]["key"], r["slug"])
        for r in bitbucket_pages(
            ctx, username, "/rest/api/1.0/repos", {"permission": "REPO_READ", "limit": "1000"}
        )
    }
    readable = {
        (r["project"]["key"], r["slug"])
        for r in bitbucket_pages(
            ctx, username, "/rest/api/1.0/repos", {"limit": "1000", "archived": "ALL"}
        )
    }
    listed = [(row.project, row.slug) for row in rows]
    missing = sorted(granted - set(listed))
    foreign = sorted(set(listed) - readable)
    expect(
        not missing and not foreign,
        f"the {len(granted)} repositories {username!r} can read",
        f"{len(listed)} listed; missing {missing[:10]}; not readable by {username}: {foreign[:10]}",
    )
    wrong = []
    for row in rows:
        status, _ = bitbucket_get(
            ctx,
            username,
            f"/rest/api/1.0/projects/{row.project}/repos/{row.slug}/raw/composer.json",
        )
        if row.has_composer_json != (status == 200):
            wrong.append(f"{row.project}/{row.slug}: listed {row.has_composer_json}")
    expect(
        not wrong,
        "has_composer_json to say whether the repository has a composer.json on Bitbucket",
        "; ".join(wrong[:10]),
    )
