"""Guide section "Share the login link", as an attacker uses it: login CSRF, code injection
and open redirects (RFC 6749 §10.12, RFC 9700 §4.7, §4.5, §4.11), for OAuth 2 and OAuth 1
integrations alike.

An attacker ("mallory") logs in to Bitbucket through the integration's login link, allows
access, and keeps the callback address instead of following it; then another person's
browser is sent there (a link in a mail, an image on a page). A correct integration only
completes a login in the browser that started it: it binds ``state`` (or the PKCE verifier,
or the OAuth 1 request token) to that browser's session. What the integration must not do
is log the other browser in, least of all as the attacker.

Each step works on the integration set up last, whichever OAuth version it uses.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from conformance.context import LoginAttempt, ScenarioContext, password_of
from conformance.steps import ExpectationError, expect, given_or_when, then, when
from conformance.steps.common import decision_form, open_login_link, pass_login_pages
from conformance.steps.oauth1_log_in import log_in_through_oauth1_link
from conformance.steps.share_the_login_link import (
    attempt_of,
    describe_session,
    log_in_through_link,
    session_of,
    start_login,
    with_query,
)
from conformance.useragent import Page, leaving_origin, origin_of, redact_url

#: The site an open redirect would send the browser to (never contacted: the browser stops
#: before it).
OTHER_SITE = "https://attacker.example"
#: Query parameters integrations commonly read as "where to go after the login".
RETURN_PARAMETERS = (
    "next",
    "redirect",
    "redirect_to",
    "redirect_url",
    "return",
    "return_to",
    "returnTo",
    "returnUrl",
    "continue",
    "target",
    "destination",
    "url",
)
#: Query parameters that must not stay in the address the login ends on.
SECRET_PARAMETERS = frozenset(
    {"code", "state", "access_token", "refresh_token", "id_token", "oauth_token", "oauth_verifier"}
)
#: Referrer policies that keep an address's query from other sites.
PRIVATE_REFERRER_POLICIES = frozenset(
    {"no-referrer", "same-origin", "origin", "strict-origin", "strict-origin-when-cross-origin"}
)


def oauth_version_of(ctx: ScenarioContext) -> int:
    """The OAuth version of the integration set up last."""
    summary = ctx.integration.summary
    return summary.oauth_version if summary is not None else 2


def keep_callback(ctx: ScenarioContext, username: str) -> LoginAttempt:
    """The user logs in through the login link and allows access, but the browser stops
    before Bitbucket's redirect back to the integration; the attempt keeps its address."""
    if oauth_version_of(ctx) == 1:
        attempt = log_in_through_oauth1_link(ctx, username, keep_callback=True)
    else:
        attempt = log_in_through_link(ctx, username, keep_callback=True)
    return attempt


def kept_callback_of(ctx: ScenarioContext, username: str) -> str:
    """The callback address a user's browser kept."""
    for attempt in reversed(ctx.logins):
        if attempt.username == username and attempt.kept_callback:
            return attempt.kept_callback
    raise ExpectationError(
        f"a callback address kept by {username!r} earlier in this scenario",
        f'{username!r} kept none (a step such as \'the user "{username}" allows access on '
        "Bitbucket but keeps the callback' must come first)",
    )


def browser_of(ctx: ScenarioContext, username: str) -> LoginAttempt:
    """The user's browser from their latest login attempt, or a new one."""
    for attempt in reversed(ctx.logins):
        if attempt.username == username:
            return attempt
    attempt = LoginAttempt(
        username, ctx.browser(f"user {username}"), ctx.integration, ctx.journal_mark()
    )
    ctx.logins.append(attempt)
    return attempt


def sent_to(ctx: ScenarioContext, victim: str, url: str) -> LoginAttempt:
    """The victim's browser is sent to ``url`` from another site (a link, a redirect)."""
    attempt = browser_of(ctx, victim)
    attempt.callback_url = redact_url(url)
    attempt.page = attempt.browser.get(url)
    ctx.logins.remove(attempt)
    ctx.logins.append(attempt)
    return attempt


def query_of(url: str | None) -> dict[str, str]:
    """The query parameters of an address."""
    return dict(parse_qsl(urlsplit(url or "").query, keep_blank_values=True))


def csrf_value(attempt: LoginAttempt) -> tuple[str, str]:
    """What binds an authorization request to its browser: ``("state", value)``, else the
    PKCE challenge, else the OAuth 1 request token; ``("", "")`` when there is none."""
    query = query_of(attempt.authorize_url)
    for name in ("state", "code_challenge", "oauth_token"):
        if query.get(name):
            return name, query[name]
    return "", ""


def went_elsewhere(page: Page | None, attempt: LoginAttempt) -> str | None:
    """The first address on :data:`OTHER_SITE` the browser was sent to, if any."""
    for hop in attempt.browser.trace:
        for address in (hop.url, hop.location or ""):
            if origin_of(address) == OTHER_SITE:
                return address
    if (
        page is not None
        and page.pending is not None
        and origin_of(page.pending.url) == (OTHER_SITE)
    ):
        return page.pending.url
    return None


# -- steps: the attacker's part -------------------------------------------------------------------


@given_or_when('the user "{username}" allows access on Bitbucket but keeps the callback')
def allows_but_keeps_callback(ctx: ScenarioContext, username: str) -> None:
    """Logs in through the login link in a new browser and allows access, but stops before
    Bitbucket's redirect back to the integration, keeping its address (with the code and
    state, or the OAuth 1 token and verifier): what an attacker plants in a victim's
    browser."""
    keep_callback(ctx, username)


@given_or_when('the user "{username}" opens the login link')
def opens_the_login_link(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link in a new browser, which the integration sends to Bitbucket; the
    user goes no further (a login started and left pending)."""
    start_login(ctx, username)


@when('the browser of "{victim}" is sent to the callback kept by "{attacker}"')
def victim_sent_to_callback(ctx: ScenarioContext, victim: str, attacker: str) -> None:
    """The victim's browser (the one of their latest step, else a new one) opens the
    callback address the attacker kept, as a link on another site would make it."""
    sent_to(ctx, victim, kept_callback_of(ctx, attacker))


@when('the browser of "{victim}" is sent to the callback kept by "{attacker}", with its own state')
def victim_sent_with_own_state(ctx: ScenarioContext, victim: str, attacker: str) -> None:
    """Code injection (RFC 9700 §4.5): the attacker's browser (here "victim", who started a
    login of their own) opens the callback another user kept, the stolen code with the
    ``state`` of its own pending login, so that a state check alone cannot tell."""
    own = browser_of(ctx, victim)
    state = query_of(own.authorize_url).get("state")
    url = kept_callback_of(ctx, attacker)
    if state:
        url = with_query(url, lambda pairs: [(k, state if k == "state" else v) for k, v in pairs])
    sent_to(ctx, victim, url)


@when(
    'the user "{username}" opens the login link with an address on another site to return '
    "to, logs in to Bitbucket and allows access"
)
def logs_in_with_return_address(ctx: ScenarioContext, username: str) -> None:
    """Opens the login link with ``next``, ``return_to``, ``redirect`` and the like set to
    an address on another site (and adds them to the callback too), logs in, allows access;
    the browser stops before any address on that site."""
    integration = ctx.integration
    foreign = OTHER_SITE + "/phish"
    params = [(name, foreign) for name in RETURN_PARAMETERS]
    link = with_query(integration.login_link, lambda pairs: [*pairs, *params])
    browser = ctx.browser(f"user {username}")
    attempt = LoginAttempt(username, browser, integration, ctx.journal_mark())
    ctx.logins.append(attempt)

    def stop(url: str) -> bool:
        return origin_of(url) == OTHER_SITE

    page = open_login_link(ctx, browser, link, stop_at=stop)
    attempt.page = page
    if page.pending is not None or origin_of(page.url) != origin_of(ctx.base_url):
        return
    page = pass_login_pages(ctx, browser, page, username, password_of(username))
    form = decision_form(page)
    if form is None:
        attempt.page = page
        return
    leaving = leaving_origin(ctx.base_url)
    stopped = browser.submit(form, button="Allow", stop_at=lambda url: leaving(url) or stop(url))
    attempt.page = stopped
    if stopped.pending is None or stop(stopped.pending.url):
        return
    attempt.callback_url = redact_url(stopped.pending.url)
    target = with_query(stopped.pending.url, lambda pairs: [*pairs, *params])
    attempt.page = browser.follow(stopped, url=target, stop_at=stop)


# -- steps: what must not happen ------------------------------------------------------------------


@then('the user "{username}" is not logged in to the integration')
def named_user_not_logged_in(ctx: ScenarioContext, username: str) -> None:
    """Asserts the integration, asked with that user's browser's cookies, reports nobody
    logged in (and certainly not the attacker)."""
    attempt = attempt_of(ctx, username)
    state = session_of(ctx, attempt)
    expect(
        not state.authenticated,
        f"the integration to report nobody logged in in the browser of {username!r}",
        f"it answers {describe_session(state)} after the browser opened "
        f"{attempt.callback_url or 'nothing'}",
        hint=(
            "a login must complete only in the browser that started it: bind state (or the "
            "PKCE verifier, or the OAuth 1 request token) to that browser's session"
        )
        if state.authenticated
        else None,
    )


@then("the two authorization requests carry different state values")
@then("the two authorization requests carry different request tokens")
def two_states_differ(ctx: ScenarioContext) -> None:
    """Asserts the last two browsers that opened the login link were sent to Bitbucket
    with different ``state`` values (or, without state, different PKCE challenges; OAuth 1:
    different request tokens): one value for every browser protects none of them."""
    started = [attempt for attempt in ctx.logins if attempt.authorize_url]
    expect(
        len(started) >= 2,
        "two browsers that opened the login link in this scenario",
        f"{len(started)}",
    )
    first, second = started[-2], started[-1]
    (name_a, value_a), (_, value_b) = csrf_value(first), csrf_value(second)
    expect(
        value_a and value_b,
        "each authorization request to carry a state (or a PKCE code_challenge) bound to "
        "its browser",
        f"{redact_url(first.authorize_url or '')} and {redact_url(second.authorize_url or '')}",
    )
    expect(
        value_a != value_b,
        f"the browsers of {first.username!r} and {second.username!r} to get different "
        f"{name_a} values",
        f"both were sent to Bitbucket with the same {name_a}",
    )


@then("the browser was never sent to the other site")
def never_sent_elsewhere(ctx: ScenarioContext) -> None:
    """Asserts no redirect of the login (login link, Bitbucket, callback) pointed the
    browser at the other site it was given as a return address."""
    attempt = ctx.login
    address = went_elsewhere(attempt.page, attempt)
    expect(
        address is None,
        f"the login to keep the browser off {OTHER_SITE} (a return address must be a path "
        "on the integration, or ignored)",
        f"the browser was sent to {redact_url(address or '')}",
    )


#: ``<meta name="referrer" content="...">``, either attribute first.
_META_REFERRER = re.compile(
    r"<meta\s[^>]*?(?:name=[\"']?referrer[\"']?[^>]*?content=[\"']?([\w-]+)"
    r"|content=[\"']?([\w-]+)[\"']?[^>]*?name=[\"']?referrer\b)",
    re.IGNORECASE,
)


def referrer_policy(page: Page) -> str:
    """The page's referrer policy: its ``<meta name="referrer">``, else the last value of
    its ``Referrer-Policy`` header (as browsers apply them), lower-cased; '' without one."""
    if "html" in page.content_type:
        found = _META_REFERRER.search(page.source)
        if found:
            return (found.group(1) or found.group(2) or "").lower()
    return (page.header("Referrer-Policy") or "").lower().split(",")[-1].strip()


@then("the address the login ends on carries no code, state or token")
def ends_on_clean_address(ctx: ScenarioContext) -> None:
    """Asserts the page the browser ends on after the callback has no ``code``, ``state``
    or token in its address (a redirect to a clean page), or that the page keeps its
    address from other sites with its ``Referrer-Policy`` (RFC 9700 §4.2.4)."""
    attempt = ctx.login
    page = attempt.page
    expect(page is not None, "a page the login ended on", "none")
    assert page is not None
    kept = sorted(SECRET_PARAMETERS & set(query_of(page.url)))
    policy = referrer_policy(page)
    expect(
        not kept or policy in PRIVATE_REFERRER_POLICIES,
        "the login to end on an address without code, state or tokens (or on a page whose "
        "Referrer-Policy keeps its address from other sites)",
        f"it ends on {redact_url(page.url)} with {', '.join(kept)} and "
        f"Referrer-Policy {policy or 'absent'}",
    )
