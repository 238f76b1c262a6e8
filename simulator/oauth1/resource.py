"""REST calls signed with OAuth 1 (``AuthenticatorImpl``): who is calling.

A request with ``Authorization: OAuth ...`` and an ``oauth_token`` is three-legged: the
access token must exist, belong to the signing consumer (``token_rejected``) and be unexpired
(``token_expired``); then net.oauth's message checks, the timestamp, the nonce and the
signature; the call runs as the token's user, with the user's full permissions (OAuth 1
tokens have no scopes). An inactive user gets ``permission_denied``.

Without ``oauth_token`` it is two-legged: the consumer must be known
(``consumer_key_unknown``) and the request well signed. With ``xoauth_requestor_id`` (or the
older ``user_id``) it impersonates that user, when the link allows impersonation
(``permission_denied`` otherwise); a name no user has leaves the call anonymous, as
``UserManager.resolve`` returning null does in the plugin. Without it, the link must allow
2-legged OAuth (``permission_denied`` otherwise) and the call runs as the link's "Execute as"
user, or anonymously when none is set.

Problems are raised as :class:`~simulator.oauth1.problems.OAuth1ProblemError`; render them with
``problem.to_response(store.base_url)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from simulator.journal import app_path
from simulator.model import User
from simulator.oauth1.paths import is_oauth_header
from simulator.oauth1.problems import PERMISSION_DENIED, OAuth1ProblemError

if TYPE_CHECKING:
    from simulator.auth import Principal
    from simulator.oauth1.message import SignedRequest
    from simulator.store import Store

#: The OAuth servlets (request-token, authorize, access-token); not REST authentication.
SERVLET_PREFIX = "/plugins/servlet/oauth/"
#: The parameters naming the user a two-legged call impersonates, in the order read.
REQUESTOR_PARAMETERS = ("xoauth_requestor_id", "user_id")


async def resolve_oauth1(request: web.Request, store: Store) -> Principal | None:
    """The principal of an OAuth-signed request; raise :class:`OAuth1ProblemError` for one
    that fails (see the module docstring).

    None without an ``Authorization: OAuth`` header, and on the token servlets
    (``/plugins/servlet/oauth/...``), which check their own signatures: resolving them here
    would spend their nonce. A form body is read (aiohttp keeps it for the handler) because
    it is part of the signature.
    """
    if not is_oauth_header(request.headers.get("Authorization")):
        return None
    if app_path(request, store.settings.context_path).startswith(SERVLET_PREFIX):
        return None
    from simulator.oauth1.message import signed_request  # oauthlib: on the first OAuth 1 call

    return resolve_signed(store, await signed_request(request))


def resolve_signed(store: Store, signed: SignedRequest) -> Principal:
    """The principal of a parsed signed request (the synchronous core of resolve_oauth1)."""
    from simulator.auth import Principal  # simulator.auth will import this module
    from simulator.oauth1.validator import verify_access, verify_signature_only

    backend = store.oauth1
    if signed.present("oauth_token"):
        token = verify_access(backend, signed)
        user = store.user_by_id(token.user_id)
        return Principal(user=_may_log_in(user), method="oauth1")
    link = verify_signature_only(backend, signed, [])
    requestor = next(
        (value for name in REQUESTOR_PARAMETERS if (value := signed.get(name)) is not None),
        None,
    )
    if requestor is not None:
        if not link.impersonation:
            raise OAuth1ProblemError(PERMISSION_DENIED)
        user = store.catalog.users_by_name.get(requestor.lower())
    else:
        if not link.two_legged:
            raise OAuth1ProblemError(PERMISSION_DENIED)
        user = store.catalog.users_by_name.get(link.execute_as.lower()) if link.execute_as else None
    return Principal(user=_may_log_in(user) if user is not None else None, method="oauth1")


def _may_log_in(user: User | None) -> User:
    """``AuthenticationController.canLogin``: an existing, active user."""
    if user is None or not user.active:
        raise OAuth1ProblemError(PERMISSION_DENIED)
    return user
