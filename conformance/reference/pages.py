"""The pages people use: the logged-in home page, the integrations list, the Add Integration
form, the login link and the OAuth callbacks.

Templates live in ``templates/`` (``string.Template``, ``$name``); every value is
HTML-escaped unless it is markup built here from escaped parts. The handlers call the same
:class:`~conformance.reference.service.Reference` operations as the JSON endpoints.
"""

from __future__ import annotations

import html
import string
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from pathlib import Path

from aiohttp import web

from conformance.reference import rules
from conformance.reference.keys import reference_key
from conformance.reference.models import BrowserSession
from conformance.reference.rules import RefusalError
from conformance.reference.service import Reference
from conformance.sut import CreatedIntegration

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@lru_cache(maxsize=16)
def _template(name: str) -> string.Template:
    return string.Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def escape(text: str) -> str:
    """HTML-escape text for an element body or a quoted attribute."""
    return html.escape(text, quote=True)


def fill(name: str, markup: Mapping[str, str] | None = None, **text: str) -> str:
    """Fill a template: ``text`` values are escaped, ``markup`` values are trusted markup."""
    values = {key: escape(value) for key, value in text.items()}
    values.update(markup or {})
    return _template(name).substitute(values)


def page(title: str, content: str, status: int = 200) -> web.Response:
    """A whole HTML page around ``content`` (markup)."""
    body = fill("layout.html", {"content": content}, title=title, product=rules.NAME)
    return web.Response(
        body=body.encode("utf-8"), status=status, headers={"Content-Type": HTML_CONTENT_TYPE}
    )


def message_page(title: str, message: str, status: int) -> web.Response:
    """A page that only says something (e.g. an unknown login link)."""
    return page(title, fill("message.html", message=message), status)


def error_markup(error: str | None) -> str:
    """An error paragraph, or nothing."""
    return f'<p class="error" id="error">{escape(error)}</p>' if error else ""


def see_other(location: str) -> web.Response:
    """A 303 to another page."""
    return web.Response(status=303, headers={"Location": location})


def _reference(request: web.Request) -> Reference:
    return request.app[reference_key]


def set_session_cookie(response: web.StreamResponse, session: BrowserSession) -> None:
    """Give the browser its session id (HttpOnly, SameSite=Lax so the OAuth callback, a
    top-level navigation from Bitbucket, carries it)."""
    response.set_cookie(rules.SESSION_COOKIE, session.id, httponly=True, samesite="Lax", path="/")


def browser_session(reference: Reference, request: web.Request) -> BrowserSession:
    """The browser's session, or a new one (the caller sets the cookie)."""
    return reference.session_for(request.cookies) or reference.state.new_session()


# -- home -----------------------------------------------------------------------------------


async def home(request: web.Request) -> web.Response:
    """``/``: the logged-in user, their repositories and Composer token, or a login prompt
    with the error."""
    reference = _reference(request)
    return await home_of(reference, reference.session_for(request.cookies))


async def home_of(reference: Reference, session: BrowserSession | None) -> web.Response:
    """The home page as the browser of ``session`` sees it."""
    state = await reference.session_state(session)
    if not state.authenticated or session is None or session.account is None:
        links = "".join(
            f'<li><a class="login-link" href="{escape(i.login_link)}">Log in with '
            f"{escape(rules.PLATFORM_LABEL)} at {escape(i.base_url)}</a></li>\n"
            for i in reference.integrations()
        )
        content = fill("login-prompt.html", {"error": error_markup(state.error), "links": links})
        return page("Log in", content)
    error = None
    try:
        repositories = await reference.repositories(session)
    except RefusalError as refusal:
        repositories, error = [], refusal.message
    rows = "".join(
        f'<tr class="repository"><td>{escape(r.project)}/{escape(r.slug)}</td>'
        f'<td class="package">{escape(r.package_name or "")}</td></tr>\n'
        for r in repositories
    )
    user = reference.composer.user(session)
    content = fill(
        "home.html",
        {"error": error_markup(error), "rows": rows},
        username=session.account.username,
        display_name=session.account.display_name,
        composer_url=reference.public_url + "/composer",
        composer_token=user.token,
    )
    return page("Your packages", content)


# -- integrations ---------------------------------------------------------------------------


async def integrations_page(request: web.Request) -> web.Response:
    """``/integrations`` (HTML): every integration with its login link."""
    rows = "".join(
        f'<tr class="integration" data-id="{escape(i.id)}">'
        f"<td>{escape(rules.PLATFORM_LABEL)}</td><td>{escape(i.base_url)}</td>"
        f"<td>{i.oauth_version}</td>"
        f'<td><a class="login-link" href="{escape(i.login_link)}">Login link</a> '
        f'<input type="text" readonly value="{escape(i.login_link)}" size="80"></td></tr>\n'
        for i in _reference(request).integrations()
    )
    return page("Integrations", fill("integrations.html", {"rows": rows}))


def new_form(
    base_url: str = "", oauth_version: str = "", error: str | None = None, status: int = 200
) -> web.Response:
    """The Add Integration form: platform, base URL, OAuth version."""
    chosen = oauth_version or str(rules.OAUTH_VERSIONS[-1])
    versions = "".join(
        f'<label><input type="radio" name="oauth_version" value="{v}"'
        f"{' checked' if str(v) == chosen else ''}> OAuth {v}</label>\n"
        for v in rules.OAUTH_VERSIONS
    )
    content = fill(
        "integration-new.html",
        {"error": error_markup(error), "versions": versions},
        platform=rules.PLATFORM,
        platform_label=rules.PLATFORM_LABEL,
        base_url=base_url,
    )
    return page("Add Integration", content, status)


async def get_new_integration(request: web.Request) -> web.Response:
    """``GET /integrations/new``: the empty form."""
    return new_form()


def form_number(text: str) -> int | str:
    """A form field meant as a number (left as text when it is not one)."""
    return int(text) if text.strip().isdigit() else text


async def post_new_integration(request: web.Request) -> web.Response:
    """``POST /integrations/new``: choose platform, base URL and OAuth version."""
    form = await request.post()
    platform, base_url, version = (
        str(form.get("platform", "")),
        str(form.get("base_url", "")),
        str(form.get("oauth_version", "")),
    )
    try:
        created = await _reference(request).create_integration(
            platform, base_url, form_number(version)
        )
    except RefusalError as refusal:
        return new_form(base_url, version, refusal.message, refusal.status)
    return see_other(f"/integrations/new/{created.id}")


def setup_form(
    reference: Reference,
    created: CreatedIntegration,
    client_id: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    """The form once chosen: setup link, callback URLs (read-only), Client ID and Secret;
    for OAuth 1 the generated values to paste into Bitbucket instead."""
    integration = reference.integration(created.id)
    setup = (
        f'<p>Create an OAuth application on your Bitbucket: <a id="setup-link" '
        f'href="{escape(created.setup_link)}">{escape(created.setup_link)}</a></p>'
        if created.setup_link
        else ""
    )
    messages = "".join(f'<p class="message">{escape(m)}</p>\n' for m in created.messages)
    if created.consumer_key is not None:
        content = fill(
            "integration-setup-oauth1.html",
            {"setup": setup, "messages": messages, "error": error_markup(error)},
            platform_label=rules.PLATFORM_LABEL,
            base_url=integration.base_url,
            action=f"/integrations/new/{integration.id}",
            application_url=created.application_url or "",
            application_name=rules.NAME,
            consumer_key=created.consumer_key,
            callback_url=",".join(created.callback_urls),
            public_key=created.public_key or "",
        )
        return page("Add Integration", content, status)
    items = "".join(
        f'<li class="callback-url">{escape(url)}</li>\n' for url in created.callback_urls
    )
    content = fill(
        "integration-setup.html",
        {
            "setup": setup,
            "messages": messages,
            "callback_items": items,
            "error": error_markup(error),
        },
        platform_label=rules.PLATFORM_LABEL,
        base_url=integration.base_url,
        oauth_version=str(integration.oauth_version),
        action=f"/integrations/new/{integration.id}",
        callback_value=",".join(created.callback_urls),
        client_id=client_id,
    )
    return page("Add Integration", content, status)


async def get_integration_setup(request: web.Request) -> web.Response:
    """``GET /integrations/new/{id}``: the form after choosing."""
    reference = _reference(request)
    try:
        created = reference.form(reference.integration(request.match_info["id"]))
    except RefusalError as refusal:
        return message_page("Add Integration", refusal.message, refusal.status)
    return setup_form(reference, created)


async def post_integration_setup(request: web.Request) -> web.Response:
    """``POST /integrations/new/{id}``: "Create Integration"."""
    reference = _reference(request)
    form = await request.post()
    client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
    try:
        integration = reference.integration(request.match_info["id"])
        result = await reference.submit(integration.id, client_id, client_secret)
    except RefusalError as refusal:
        return message_page("Add Integration", refusal.message, refusal.status)
    if result.redirect_to is None:
        created = reference.form(integration)
        return setup_form(reference, created, client_id, result.error, 422)
    return see_other(result.redirect_to)


# -- login ----------------------------------------------------------------------------------


async def login(request: web.Request) -> web.Response:
    """``GET /login/{slug}``: the login link; off to Bitbucket's authorize endpoint."""
    reference = _reference(request)
    session = browser_session(reference, request)
    session.return_to = request.query.get(reference.rules.RETURN_PARAMETER)
    try:
        location = await reference.start_login(session, request.match_info["slug"])
    except RefusalError as refusal:
        return message_page("Log in", refusal.message, refusal.status)
    response = web.Response(status=302, headers={"Location": location})
    set_session_cookie(response, session)
    return response


Finish = Callable[[BrowserSession, str, Mapping[str, str]], Awaitable[BrowserSession]]


async def come_back(request: web.Request, finish: Finish) -> web.Response:
    """A callback: finish the login with the query Bitbucket sent, then to the page the
    login link was asked to return to (a path on the integration), else the home page
    (which shows the user, or why the login failed)."""
    reference = _reference(request)
    session = browser_session(reference, request)
    try:
        session = await finish(session, request.match_info["slug"], request.query)
    except RefusalError as refusal:
        return message_page("Log in", refusal.message, refusal.status)
    if session.logged_in:
        await reference.composer.after_login(session)
    requested, session.return_to = session.return_to, None
    if reference.rules.REDIRECT_AFTER_CALLBACK:
        location = reference.rules.after_login_page(reference.public_url, requested)
        response: web.Response = web.Response(status=302, headers={"Location": location})
    else:
        response = await home_of(reference, session)
    set_session_cookie(response, session)
    return response


async def oauth_callback(request: web.Request) -> web.Response:
    """``GET /oauth/login/check-custom/{slug}`` (and ``/oauth/register/service/{slug}``):
    Bitbucket sends the browser back with ``code``/``state`` or ``error``."""
    return await come_back(request, _reference(request).finish_login)


async def oauth1_callback(request: web.Request) -> web.Response:
    """``GET /oauth1/callback/{slug}``: Bitbucket sends the browser back with
    ``oauth_token`` and ``oauth_verifier`` (``denied`` on Deny)."""
    return await come_back(request, _reference(request).finish_oauth1_login)


def routes() -> list[web.RouteDef]:
    """The human pages (``GET /integrations`` is shared with the driver protocol)."""
    return [
        web.get("/", home),
        web.get("/integrations/new", get_new_integration),
        web.post("/integrations/new", post_new_integration),
        web.get("/integrations/new/{id}", get_integration_setup),
        web.post("/integrations/new/{id}", post_integration_setup),
        web.get("/login/{slug}", login),
        web.get("/oauth/login/check-custom/{slug}", oauth_callback),
        web.get("/oauth/register/service/{slug}", oauth_callback),
        web.get("/oauth1/callback/{slug}", oauth1_callback),
    ]
