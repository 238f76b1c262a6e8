"""The OAuth 1.0a servlets: ``/plugins/servlet/oauth/{request-token,authorize,access-token}``.

They follow the decompiled servlets of Atlassian's OAuth plugin and net.oauth underneath:

``POST request-token``
    Needs ``oauth_consumer_key`` (``parameter_absent``) of a link (``consumer_key_unknown``)
    and ``oauth_callback``: ``oob`` or an absolute http(s) URI (``parameter_rejected`` with
    ``oauth_parameters_rejected=oauth_callback`` and the plugin's advice). Then net.oauth's
    message checks (:func:`~simulator.oauth1.message.check_message`), the timestamp, the nonce
    and the RSA signature (oauthlib). Answer: 200 ``text/plain`` (the servlet's content type)
    ``oauth_token=..&oauth_token_secret=..&oauth_callback_confirmed=true``.
    The real servlet also takes OAuth 1.0 requests without ``oauth_callback``; oauthlib's
    endpoint requires 1.0a, so the simulator answers ``parameter_absent`` for them.

``GET|POST authorize``
    ``TokenLoaderImpl`` first: ``oauth_token`` absent (400 ``parameter_absent``), unknown
    (``token_rejected``), already allowed or denied (``token_used``) or expired
    (``token_expired``) gets an HTML error page with the problem's status and
    ``WWW-Authenticate`` header. POST checks the XSRF token (``atl_token``) before anything
    else (403 page "Xsrf token validation failed"). A caller without a browser session is sent
    (302) to ``/login?next=<this page>``. GET shows the Allow/Deny page; POST with ``approve``
    authorizes (verifier: six letters and digits), with ``deny`` denies, with neither shows the
    page again. Then (``PostAuthorization``): 302 to the token's ``oauth_callback``, or, when
    that was ``oob``, the link's Consumer Callback URL, with ``oauth_token`` and
    ``oauth_verifier`` (``denied`` on Deny) appended; with no callback at all, a page that
    shows the verifier (or says access was denied).

``POST access-token``
    ``oauth_token`` absent: ``parameter_absent``; unknown: ``token_rejected``. A request token
    (``checkRequestToken``): expired ``token_expired``, undecided ``permission_unknown``,
    denied ``permission_denied``, another consumer's ``token_rejected``, ``oauth_verifier``
    absent ``parameter_absent``, wrong ``token_rejected``; then the message and signature.
    An access token (``checkAccessToken``) renews the session: ``oauth_session_handle``
    absent ``parameter_absent``, wrong ``token_rejected``, session over
    ``permission_denied``. Answer: 200 ``text/plain`` ``oauth_token``, ``oauth_token_secret``,
    ``oauth_expires_in``, ``oauth_session_handle``, ``oauth_authorization_expires_in``.

``GET request-token`` and ``GET access-token`` answer 200 with an empty body: the servlets
implement only POST and their base class answers GET with nothing.

Problems are answered by :meth:`~simulator.oauth1.problems.OAuth1ProblemError.to_response`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from simulator.auth import principal_of
from simulator.journal import app_path, note
from simulator.keys import store_key
from simulator.model import User
from simulator.oauth1 import validator
from simulator.oauth1.message import SignedRequest, signed_request
from simulator.oauth1.models import Authorization, OAuth1Link, RequestToken
from simulator.oauth1.paths import (
    AUTHORIZE_PATH,
)
from simulator.oauth1.problems import (
    PERMISSION_DENIED,
    TOKEN_EXPIRED,
    TOKEN_REJECTED,
    TOKEN_USED,
    OAuth1ProblemError,
    form_encode,
)
from simulator.oauth2.authorize import read_form, safe_location
from simulator.store import Store
from simulator.tfa import policy as tfa_policy
from simulator.web.login import login_url
from simulator.web.pages import escape, html_response, redirect, render, xsrf_ok, xsrf_token

PRODUCT = "Bitbucket"
TEXT_PLAIN = "text/plain"
#: ``ResponseHeaderUtil.preventCrossFrameClickJacking``, and never cached.
PAGE_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "no-store"}
XSRF_FAILED = "Xsrf token validation failed"
#: The authorize servlet's error messages (its i18n texts are not public; wording ours).
ERROR_MESSAGES = {
    TOKEN_REJECTED: "The request token is not valid. Go back to the application and start again.",
    TOKEN_USED: "The request token has already been used. Go back to the application and "
    "start again.",
    TOKEN_EXPIRED: "The request token has expired. Go back to the application and start again.",
}
GENERIC_ERROR = "The authorization request is not valid."


def store_of(request: web.Request) -> Store:
    """The simulator's store."""
    return request.app[store_key]


def token_answer(body: str) -> web.Response:
    """A token servlet's success: form-encoded pairs, written as ``text/plain``."""
    return web.Response(body=body.encode("ascii"), headers={"Content-Type": TEXT_PLAIN})


def problem_answer(request: web.Request, store: Store, problem: OAuth1ProblemError) -> web.Response:
    """A token servlet's failure (and note the problem in the journal)."""
    note(request, oauth_problem=problem.problem)
    return problem.to_response(store.base_url)


def note_signed(request: web.Request, signed: SignedRequest) -> None:
    """Journal what identifies the request (no secrets)."""
    note(
        request,
        oauth_consumer_key=signed.get("oauth_consumer_key"),
        oauth_signature_method=signed.get("oauth_signature_method"),
    )


# -- token servlets ---------------------------------------------------------------------------


async def post_request_token(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/oauth/request-token``: a new request token for a consumer."""
    store = store_of(request)
    signed = await signed_request(request)
    note_signed(request, signed)
    try:
        body = validator.request_token(store.oauth1, signed)
    except OAuth1ProblemError as problem:
        return problem_answer(request, store, problem)
    return token_answer(body)


async def post_access_token(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/oauth/access-token``: exchange or renew a token."""
    store = store_of(request)
    signed = await signed_request(request)
    note_signed(request, signed)
    blocked = two_factor_block(request, store, signed.get("oauth_token") or "")
    if blocked is not None:
        return blocked
    try:
        body = validator.access_token(store.oauth1, signed)
    except OAuth1ProblemError as problem:
        return problem_answer(request, store, problem)
    return token_answer(body)


def two_factor_block(request: web.Request, store: Store, key: str) -> web.Response | None:
    """The two-factor plugin's answer when it blocks the user behind a token, else None.

    OAuth 1 token servlets answer problems, so a blocked user gets ``permission_denied``
    with the plugin's message as advice (403 when ``tfa.blocked_response`` is "403").
    """
    pending = store.oauth1.request_tokens.get(key)
    granted = store.oauth1.access_tokens.get(key)
    user_id = pending.user_id if pending is not None else granted.user_id if granted else None
    user = store.user_by_id(user_id) if user_id is not None else None
    if user is None or not tfa_policy.oauth_blocked(store, user, request):
        return None
    problem = OAuth1ProblemError(PERMISSION_DENIED, oauth_problem_advice=tfa_policy.BLOCKED_MESSAGE)
    note(request, oauth_problem=problem.problem, two_factor="blocked")
    response = problem.to_response(store.base_url)
    if store.config.tfa.blocked_response == "403":
        response.set_status(403)
    return response


async def get_token_servlet(request: web.Request) -> web.Response:
    """``GET`` on a token servlet: 200 with an empty body (only POST is implemented)."""
    return web.Response(status=200)


# -- authorize: pages -----------------------------------------------------------------------


def page(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """An HTML page that is neither cached nor framed."""
    response = html_response(body, status=status)
    response.headers.update({**PAGE_HEADERS, **(headers or {})})
    return response


def error_page(store: Store, problem: OAuth1ProblemError) -> web.Response:
    """``AuthorizeServlet.renderError`` after ``handleException`` without a body."""
    message = ERROR_MESSAGES.get(problem.problem, GENERIC_ERROR)
    body = render(
        "oauth1-error.html",
        product=PRODUCT,
        problem=problem.problem,
        message=message,
        home=store.base_url + "/",
    )
    return page(body, status=problem.status, headers=problem.headers(store.base_url))


def authorize_page(
    store: Store,
    link: OAuth1Link,
    token: RequestToken,
    user: User,
    *,
    atl_token: str,
    callback: str,
) -> web.Response:
    """The Allow/Deny page for one request token."""
    callback_field = (
        f'<input type="hidden" name="oauth_callback" value="{escape(callback)}">\n'
        if callback
        else ""
    )
    body = render(
        "oauth1-authorize.html",
        markup={"callback_field": callback_field},
        product=PRODUCT,
        consumer_name=link.consumer_name,
        description=link.description,
        username=user.name,
        display_name=user.display_name,
        action=store.base_url + AUTHORIZE_PATH,
        oauth_token=token.token,
        atl_token=atl_token,
    )
    return page(body)


def result_page(store: Store, link: OAuth1Link | None, token: RequestToken) -> web.Response:
    """No callback anywhere: show the verifier, or that access was denied."""
    consumer = link.consumer_name if link is not None else token.consumer_key
    if token.authorization is Authorization.AUTHORIZED and token.verifier is not None:
        title = "Access approved"
        message = (
            f"You have allowed {consumer} to access your {PRODUCT} account. Enter this "
            "verification code in the application when it asks for it."
        )
        code = escape(token.verifier)
        verifier = f'<p>Verification code: <code id="oauth-verifier">{code}</code></p>\n'
    else:
        title = "Access denied"
        message = f"You have denied {consumer} access to your {PRODUCT} account."
        verifier = ""
    body = render(
        "oauth1-result.html",
        markup={"verifier": verifier},
        product=PRODUCT,
        title=title,
        message=message,
        home=store.base_url + "/",
    )
    return page(body)


# -- authorize: handlers ----------------------------------------------------------------------


def back_to_consumer(store: Store, token: RequestToken) -> web.Response:
    """``redirectBackToConsumerVersion1a``: the callback with token and verifier, or a page."""
    callback = store.oauth1.callback_of(token)
    link = store.oauth1.link_by_consumer_key(token.consumer_key)
    if callback is None:
        return result_page(store, link, token)
    verifier = token.verifier if token.authorization is Authorization.AUTHORIZED else "denied"
    added = form_encode([("oauth_token", token.token), ("oauth_verifier", verifier or "denied")])
    separator = "&" if "?" in callback else "?"
    return redirect(safe_location(f"{callback}{separator}{added}"))


def login_redirect(store: Store, token: RequestToken, callback: str) -> web.Response:
    """To the login page, coming back to this token's Allow/Deny page."""
    params = {"oauth_token": token.token, **({"oauth_callback": callback} if callback else {})}
    return redirect(login_url(store.base_url, f"{AUTHORIZE_PATH}?{urlencode(params)}"))


def session_user(request: web.Request) -> User | None:
    """The user of a browser session (tokens and Basic credentials do not count)."""
    principal = principal_of(request)
    return principal.user if principal.method == "session" else None


async def get_authorize(request: web.Request) -> web.Response:
    """``GET /plugins/servlet/oauth/authorize``: ask the logged-in user to allow or deny."""
    store = store_of(request)
    try:
        token = store.oauth1.token_for_authorization(request.query.get("oauth_token"))
    except OAuth1ProblemError as problem:
        note(request, oauth_problem=problem.problem)
        return error_page(store, problem)
    user = session_user(request)
    if user is None:
        next_path = app_path(request, store.settings.context_path)
        if request.rel_url.raw_query_string:
            next_path += "?" + request.rel_url.raw_query_string
        return redirect(login_url(store.base_url, next_path))
    if tfa_policy.oauth_blocked(store, user, request):
        return tfa_policy.blocked_answer(store, request)
    link = store.oauth1.link_by_consumer_key(token.consumer_key)
    if link is None:  # the link went away with its tokens; kept for safety
        return error_page(store, OAuth1ProblemError(TOKEN_REJECTED))
    callback = request.query.get("oauth_callback", "")
    return authorize_page(
        store, link, token, user, atl_token=xsrf_token(store, request), callback=callback
    )


async def post_authorize(request: web.Request) -> web.Response:
    """``POST /plugins/servlet/oauth/authorize``: the user's decision."""
    store = store_of(request)
    fields = {**request.query, **(await read_form(request) or {})}
    if not xsrf_ok(store, request, fields):
        note(request, oauth_problem="xsrf")
        body = render(
            "oauth1-error.html",
            product=PRODUCT,
            problem="xsrf",
            message=XSRF_FAILED,
            home=store.base_url + "/",
        )
        return page(body, status=403)
    try:
        token = store.oauth1.token_for_authorization(fields.get("oauth_token"))
    except OAuth1ProblemError as problem:
        note(request, oauth_problem=problem.problem)
        return error_page(store, problem)
    callback = fields.get("oauth_callback", "")
    user = session_user(request)
    if user is None:
        return login_redirect(store, token, callback)
    if tfa_policy.oauth_blocked(store, user, request):
        return tfa_policy.blocked_answer(store, request)
    link = store.oauth1.link_by_consumer_key(token.consumer_key)
    if link is None:
        return error_page(store, OAuth1ProblemError(TOKEN_REJECTED))
    if "approve" in fields:
        store.oauth1.authorize(token, user.id)
        note(request, decision="approve")
    elif "deny" in fields:
        store.oauth1.deny(token, user.id)
        note(request, decision="deny")
    else:
        return authorize_page(
            store, link, token, user, atl_token=xsrf_token(store, request), callback=callback
        )
    return back_to_consumer(store, token)
