"""The OAuth 2 servlets: the consent page and Bitbucket's own error page.

``GET /plugins/servlet/oauth2/consent`` (checks in this order):

1. HTTPS. The real servlet answers 400 unless the base URL is ``https``
   (``skip.base.url.https.requirement`` is false by default). The simulator usually runs on
   loopback over plain http, so it also accepts an ``http`` base URL whose host is
   ``localhost``/``*.localhost``/a loopback address; any other ``http`` base URL gets the 400.
2. A browser session. Anyone else is sent (302) to ``/login?next=<this consent URL, relative
   to the base URL>`` and comes back after logging in. Basic or Bearer credentials do not
   count: a scope-limited token must not be able to approve another application.
3. The "U2F & TOTP" plugin (:mod:`simulator.tfa`): when 2FA applies to the user and the
   plugin's OAuth whitelist is off, the consent is blocked (by default a 302 to the plugin's
   page; ``tfa.blocked_response`` "401"/"403" answer that page with that status).
4. The client must exist (400 otherwise).

The page names the application, the user (name and display name), each requested scope with
its description and the product "Bitbucket", and posts the decision back to
``/rest/oauth2/latest/authorize`` with every parameter in hidden fields plus ``atl_token``.
Consent is asked every time; nothing is remembered. Every value is HTML-escaped.

``GET /plugins/servlet/oauth2/error?errorName=&errorDescription=`` shows both values, escaped,
with status 200 (the real status is UNCONFIRMED; the page renders normally in captures). It
never redirects, refreshes or links to anything taken from its query: its only link is
Bitbucket's own base URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from simulator.auth import principal_of
from simulator.model import User
from simulator.oauth2.authorize import (
    UNKNOWN_CLIENT,
    AuthorizeParams,
    find_client,
    login_url,
    store_of,
)
from simulator.oauth2.backend import is_loopback_host
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.paths import AUTHORIZE_PATH, CONSENT_PATH
from simulator.oauth2.scopes import SCOPE_INFO, Scope
from simulator.tfa import policy as tfa_policy
from simulator.web.pages import escape, html_response, redirect, render, xsrf_token

PRODUCT = "Bitbucket"
#: Pages that must not be cached or framed by another site (clickjacking the Allow button).
PAGE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "X-Frame-Options": "SAMEORIGIN"}


def base_url_secure_enough(base_url: str) -> bool:
    """Whether the consent page may be served: an https base URL, or http on loopback."""
    parts = urlsplit(base_url)
    return parts.scheme.lower() == "https" or is_loopback_host(parts.hostname)


def scope_items(scope: str) -> str:
    """The ``<li>`` of each requested scope: its label and description (escaped markup)."""
    items = []
    for name in dict.fromkeys(scope.split()):
        info = SCOPE_INFO.get(Scope[name]) if name in Scope.__members__ else None
        label = info.label if info else name
        description = info.description if info else ""
        items.append(
            f'<li class="consent-scope" data-scope="{escape(name)}">'
            f'<span class="scope-label">{escape(label)}</span>: '
            f'<span class="scope-description">{escape(description)}</span></li>\n'
        )
    return "".join(items)


def consent_page(
    base_url: str, client: OAuth2Client, params: AuthorizeParams, user: User, token: str
) -> str:
    """The consent form for one authorization request."""
    return render(
        "oauth2-consent.html",
        markup={"scopes": scope_items(params.scope)},
        product=PRODUCT,
        client_name=client.name,
        username=user.name,
        display_name=user.display_name,
        action=base_url + AUTHORIZE_PATH,
        client_id=params.client_id,
        redirect_uri=params.redirect_uri,
        response_type=params.response_type,
        scope=params.scope,
        state=params.state,
        code_challenge=params.code_challenge,
        code_challenge_method=params.code_challenge_method,
        atl_token=token,
    )


def error_page(base_url: str, name: str, description: str) -> str:
    """Bitbucket's OAuth 2 error page; its only link is the base URL."""
    return render(
        "oauth2-error.html",
        product=PRODUCT,
        error_name=name,
        error_description=description,
        home=base_url + "/",
    )


def page(body: str, status: int = 200) -> web.Response:
    """An HTML answer that is neither cached nor framed."""
    response = html_response(body, status=status)
    response.headers.update(PAGE_HEADERS)
    return response


async def get_consent(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/oauth2/consent``: ask the user to allow or deny."""
    store = store_of(request)
    params = AuthorizeParams.from_mapping(request.query)
    if not base_url_secure_enough(store.base_url):
        return page(
            error_page(store.base_url, "invalid_request", "The OAuth 2 provider requires HTTPS"),
            status=400,
        )
    principal = principal_of(request)
    if principal.user is None or principal.method != "session":
        return redirect(login_url(store.base_url, f"{CONSENT_PATH}?{params.to_query()}"))
    if tfa_policy.oauth_blocked(store, principal.user, request):
        return tfa_policy.blocked_answer(store, request)
    client = find_client(store.oauth2, params.client_id)
    if client is None:
        return page(error_page(store.base_url, "invalid_client", UNKNOWN_CLIENT), status=400)
    token = xsrf_token(store, request)
    return page(consent_page(store.base_url, client, params, principal.user, token))


async def get_error(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/oauth2/error``: show the error; never go anywhere."""
    store = store_of(request)
    name = request.query.get("errorName", "")
    description = request.query.get("errorDescription", "")
    return page(error_page(store.base_url, name, description))
