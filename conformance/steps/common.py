"""Steps and helpers every section uses: the Bitbucket server, its clock, and logging in to
Bitbucket through its real pages (with the two-factor plugin's TOTP enrolment when it is
installed)."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pyotp

from conformance.context import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    Browser,
    FeatureFileError,
    LoginAttempt,
    ScenarioContext,
    password_of,
)
from conformance.steps import ExpectationError, expect, given, when
from conformance.sut import Clocked, DriverError
from conformance.useragent import Form, Link, Page, StopAt, origin_of
from conformance.wire import CHECK_USER_AGENT

#: Seconds in "an hour" on the simulated clock (the default access-token lifetime).
HOUR_SECONDS = 3600
#: How many pages a login may pass through on Bitbucket (login, 2FA, consent) before giving up.
MAX_LOGIN_PAGES = 6
#: The ids of the Allow / Deny forms of Bitbucket's OAuth 2 consent page and OAuth 1
#: authorization page.
CONSENT_FORM_ID = "oauth2-consent-form"
OAUTH1_AUTHORIZE_FORM_ID = "oauth1-authorize-form"
#: How many pages of the integration a login link may show before Bitbucket's.
MAX_INTEGRATION_PAGES = 2
_NAMES_BITBUCKET = re.compile(r"bitbucket", re.IGNORECASE)
_LOGS_OUT = re.compile(r"log\s*out|sign\s*out", re.IGNORECASE)
_CONTEXT_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


# -- steps -----------------------------------------------------------------------------------------


@given('a Bitbucket Data Center server at version "{version}"')
def server_at_version(ctx: ScenarioContext, version: str) -> None:
    """Uses the simulated Bitbucket at the root path, reporting and behaving as ``version``."""
    ctx.use_bitbucket("")
    ctx.sim.set_version(version)


@given('a Bitbucket Data Center server at version "{version}" under the context path "{path}"')
def server_at_version_under_context_path(ctx: ScenarioContext, version: str, path: str) -> None:
    """Uses a simulated Bitbucket served under a context path (e.g. ``/bitbucket``)."""
    if not _CONTEXT_PATH.match(path):
        raise FeatureFileError(
            f"the context path {path!r} is not like /bitbucket (a slash, then letters, digits, "
            "'.', '_', '~', '-')"
        )
    ctx.use_bitbucket(path)
    ctx.sim.set_version(version)


@given("Bitbucket serves at most {limit:d} items per page")
def server_caps_pages(ctx: ScenarioContext, limit: int) -> None:
    """Lowers the server's maximum page size (an admin setting of Bitbucket, 1000 by default)
    for this scenario: a request for a longer page gets this many items and a
    ``nextPageStart``, so a client that adds ``start + limit`` skips items. The simulator's
    reset before the next scenario puts it back."""
    if limit < 1:
        raise FeatureFileError(f"a page holds at least 1 item, not {limit}")
    ctx.sim.patch_config({"max_page_limit": limit})


@when("an hour passes on the Bitbucket server")
def an_hour_passes(ctx: ScenarioContext) -> None:
    """Moves the simulated Bitbucket's clock one hour on (access tokens expire), and the
    integration's too when it declares ``clock`` (so that it may refresh ahead of
    ``expires_in`` by its own clock)."""
    ctx.clock_mark = ctx.journal_mark()
    ctx.sim.advance_clock(HOUR_SECONDS)
    if ctx.capabilities.clock:
        sut = ctx.sut
        if not isinstance(sut, Clocked):
            raise DriverError("advance_clock()", "the driver of this integration has no clock")
        sut.advance_clock(HOUR_SECONDS)


# -- helpers: Bitbucket's pages --------------------------------------------------------------------


def is_login_page(page: Page) -> bool:
    """Whether the page is Bitbucket's login form."""
    return any(form.has_field("j_username") for form in page.forms)


def two_factor_form(page: Page) -> Form | None:
    """The two-factor plugin's enrolment or verification form on the page, if any."""
    for form in page.forms:
        if form.id in ("tfa-enrol-form", "tfa-verify-form"):
            return form
    return None


def is_consent_page(page: Page) -> bool:
    """Whether the page is Bitbucket's OAuth 2 consent page (Allow / Deny)."""
    return any(form.id == CONSENT_FORM_ID for form in page.forms)


def decision_form(page: Page) -> Form | None:
    """The Allow / Deny form of Bitbucket's OAuth 2 consent page or OAuth 1 authorization
    page, if the page is one."""
    for form in page.forms:
        if form.id in (CONSENT_FORM_ID, OAUTH1_AUTHORIZE_FORM_ID):
            return form
    return None


def try_login(ctx: ScenarioContext, username: str) -> LoginAttempt:
    """A user opens the login link in a new browser and goes as far as it leads: logs in
    to Bitbucket when asked, presses Allow on the consent or authorization page when one
    comes, and follows every redirect (back to the integration). Wherever it ends is
    recorded, not judged: the caller asks the integration what it made of it."""
    integration = ctx.integration
    browser = ctx.browser(f"user {username}")
    attempt = LoginAttempt(username, browser, integration, ctx.journal_mark())
    ctx.logins.append(attempt)
    page = open_login_link(ctx, browser, integration.login_link)
    if origin_of(page.url) == origin_of(ctx.base_url):
        page = pass_login_pages(ctx, browser, page, username, password_of(username))
        form = decision_form(page)
        if form is not None:
            page = browser.submit(form, button="Allow")
    attempt.page = page
    return attempt


def page_excerpt(page: Page, limit: int = 300) -> str:
    """The start of a page's visible text, on one line."""
    text = " ".join(page.text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def totp_code(ctx: ScenarioContext, secret: str) -> str:
    """The code an authenticator app shows now, by the simulated Bitbucket's clock."""
    now = float(ctx.sim.clock()["now"])
    return str(pyotp.TOTP(secret).at(int(now)))


def pass_login_pages(
    ctx: ScenarioContext, browser: Browser, page: Page, username: str, password: str
) -> Page:
    """Get through Bitbucket's login form and the two-factor plugin's pages as ``username``
    would: type the password; on first use enrol the TOTP app (read the key shown, type the
    code it computes); later type the code. Returns the first page past them."""
    for _ in range(MAX_LOGIN_PAGES):
        if is_login_page(page):
            login = next(f for f in page.forms if f.has_field("j_username"))
            page = browser.submit(login, {"j_username": username, "j_password": password})
            if is_login_page(page):
                message = (
                    page.element_text("login-error") if page.has_element("login-error") else ""
                )
                raise ExpectationError(
                    f"Bitbucket to accept the login of {username!r}",
                    f"the login form came back: {message or page_excerpt(page)}",
                )
            continue
        form = two_factor_form(page)
        if form is None:
            return page
        if form.id == "tfa-enrol-form":
            ctx.totp_secrets[username] = page.element_text("tfa-secret").replace(" ", "")
        secret = ctx.totp_secrets.get(username)
        if secret is None:
            raise ExpectationError(
                f"a TOTP key for {username!r} (enrolled earlier in this scenario)",
                f"Bitbucket asks for a code on {ctx.describe_page(page)}",
            )
        page = browser.submit(form, {"code": totp_code(ctx, secret)})
        if two_factor_form(page) is not None and page.has_element("tfa-error"):
            raise ExpectationError(
                "Bitbucket to accept the TOTP code", page.element_text("tfa-error")
            )
    raise ExpectationError(
        f"the login of {username!r} to get past Bitbucket's login pages",
        f"still on {ctx.describe_page(page)} after {MAX_LOGIN_PAGES} pages",
    )


def _bitbucket_choice(page: Page, base_url: str) -> Link | Form | None:
    """On a page of the integration, the link or button that goes on to Bitbucket: a link
    to Bitbucket's origin, else a link or a form's button whose text names Bitbucket."""
    bitbucket = origin_of(base_url)
    for link in page.links:
        if origin_of(link.href) == bitbucket:
            return link
    for link in page.links:
        if _NAMES_BITBUCKET.search(link.text) and not _LOGS_OUT.search(link.text):
            return link
    for form in page.forms:
        if any(_NAMES_BITBUCKET.search(button.label or button.value) for button in form.buttons):
            return form
    return None


def open_login_link(
    ctx: ScenarioContext, browser: Browser, link: str, stop_at: StopAt | None = None
) -> Page:
    """Open a login link as a person does. The guide says the link "presents the option to
    authenticate with your Bitbucket account": it may send the browser straight to
    Bitbucket, or show a page of the integration with a link or button naming Bitbucket
    ("Log in with Bitbucket"), which is clicked (at most :data:`MAX_INTEGRATION_PAGES`)."""
    page = browser.get(link, stop_at=stop_at)
    for _ in range(MAX_INTEGRATION_PAGES):
        on_integration = origin_of(page.url) == origin_of(link)
        if page.pending is not None or not on_integration or page.status != 200:
            return page
        if "html" not in page.content_type:
            return page
        choice = _bitbucket_choice(page, ctx.base_url)
        if choice is None:
            return page
        if isinstance(choice, Form):
            button = next(b for b in choice.buttons if _NAMES_BITBUCKET.search(b.label or b.value))
            page = browser.submit(choice, button=button, stop_at=stop_at)
        else:
            page = browser.open(choice, stop_at=stop_at)
    return page


def open_as_admin(ctx: ScenarioContext, url: str) -> Page:
    """The admin's browser opens a Bitbucket page, logging in when Bitbucket asks."""
    browser = ctx.admin_browser
    page = browser.get(url)
    page = pass_login_pages(ctx, browser, page, ADMIN_USERNAME, ADMIN_PASSWORD)
    ctx.admin_page = page
    return page


# -- helpers: Bitbucket's REST API as a user (ground truth) ----------------------------------------


def bitbucket_get(
    ctx: ScenarioContext, username: str, path: str, query: dict[str, str] | None = None
) -> tuple[int, Any]:
    """GET a REST resource of the scenario's Bitbucket as ``username`` (HTTP Basic with the
    seeded password); the status and the JSON body (None when there is none)."""
    return bitbucket_request(ctx, username, "GET", path, query)


def bitbucket_request(
    ctx: ScenarioContext,
    username: str,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    *,
    body: Any = None,
) -> tuple[int, Any]:
    """Send one REST request to the scenario's Bitbucket as ``username`` (HTTP Basic with the
    seeded password, ``body`` as JSON when given); the status and the JSON answer (None when
    there is none)."""
    url = ctx.base_url + path + (f"?{urlencode(query)}" if query else "")
    token = base64.b64encode(f"{username}:{password_of(username)}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        "Accept": "application/json",
        "User-Agent": CHECK_USER_AGENT,
    }
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(  # noqa: S310 - the scenario's own simulator
        url, data=data, headers=headers, method=method
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx.ssl_context)
    )
    try:
        with opener.open(request, timeout=15) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def bitbucket_pages(
    ctx: ScenarioContext, username: str, path: str, query: dict[str, str]
) -> list[dict[str, Any]]:
    """Every value of a paged REST resource, as ``username``."""
    values: list[dict[str, Any]] = []
    start = 0
    while True:
        status, body = bitbucket_get(ctx, username, path, {**query, "start": str(start)})
        expect(
            status == 200 and isinstance(body, dict),
            f"Bitbucket to answer {path} for {username}",
            f"HTTP {status}: {body!r}",
        )
        values += body["values"]
        if body.get("isLastPage", True) or "nextPageStart" not in body:
            return values
        start = int(body["nextPageStart"])
