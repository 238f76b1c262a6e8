"""The plugin's rules: does 2FA apply to this user from this client address, is an OAuth
request blocked, and what a blocked request gets.

Call :func:`oauth_blocked` wherever an OAuth login, token or OAuth-authenticated request is
about to succeed (OAuth 1 included: ``oauth_blocked(store, user, request)``), and answer
with :func:`blocked_answer` (or, for the OAuth 2 token endpoint, :func:`token_blocked_answer`).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from aiohttp import web

from simulator.config import TfaConfig
from simulator.errors import AuthenticationRequiredError, BitbucketError
from simulator.git import SCM_PREFIX
from simulator.journal import app_path, note
from simulator.model import User
from simulator.oauth2.errors import OAuth2Error
from simulator.tfa.pages import blocked_page
from simulator.tfa.paths import BLOCKED_PATH
from simulator.web.pages import html_response, redirect

if TYPE_CHECKING:
    from simulator.store import Store

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What an API client is told when the plugin blocks its OAuth request.
BLOCKED_MESSAGE = (
    "Two-factor authentication is required for this user. Requests authenticated with OAuth "
    "are blocked unless an administrator enables the OAuth whitelist of the two-factor "
    "authentication plugin."
)
#: Principal methods whose requests the OAuth whitelist governs.
OAUTH_METHODS = ("oauth2", "oauth1")
#: Paths answered as an API (JSON) rather than as a browser page.
API_PREFIX = "/rest/"


class TwoFactorRequiredError(BitbucketError):
    """401 in Bitbucket's envelope: the OAuth request of a 2FA user was blocked."""

    status = 401
    exception_name = AuthenticationRequiredError.exception_name

    def __init__(self, message: str = BLOCKED_MESSAGE) -> None:
        super().__init__(message)


class TwoFactorForbiddenError(BitbucketError):
    """403 in Bitbucket's envelope (``blocked_response`` "403")."""

    status = 403
    exception_name = "com.atlassian.bitbucket.AuthorisationException"

    def __init__(self, message: str = BLOCKED_MESSAGE) -> None:
        super().__init__(message)


# -- rules (no I/O) ---------------------------------------------------------------------------


def parse_address(raw: str) -> Address | None:
    """An address from a peer or an X-Forwarded-For entry (ports and brackets dropped)."""
    text = raw.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        text = inside
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(
    peer: str | None, forwarded_for: str | None, config: TfaConfig
) -> Address | None:
    """Who the client is: the peer, or X-Forwarded-For's first entry when it is trusted.

    With ``trust_x_forwarded_for`` and the header present, its first (left-most) entry is
    the client as the proxies report it; an entry that is not an address gives None (no IP
    whitelist applies). Without the setting the header is ignored entirely.
    """
    if config.trust_x_forwarded_for and forwarded_for is not None:
        return parse_address(forwarded_for.split(",")[0])
    return parse_address(peer or "")


def ip_whitelisted(address: Address | None, entries: tuple[str, ...]) -> bool:
    """Whether the address lies in one of the whitelist's addresses or CIDR ranges."""
    if address is None:
        return False
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            continue
        if address in network:
            return True
    return False


def forced(config: TfaConfig, user: User) -> bool:
    """Whether the enforcement setting makes this user use 2FA (groups match case-blind)."""
    if config.enforce == "all":
        return True
    if config.enforce not in ("groups", "all-except-groups"):
        return False  # "none": 2FA is optional, and voluntary enrolment is not emulated
    wanted = {group.casefold() for group in config.groups}
    member = any(group.casefold() in wanted for group in user.groups)
    return member if config.enforce == "groups" else not member


def applies_at(config: TfaConfig, user: User, address: Address | None) -> bool:
    """Whether 2FA applies to ``user`` calling from ``address`` under ``config``."""
    return (
        config.installed
        and forced(config, user)
        and not ip_whitelisted(address, config.ip_whitelist)
    )


# -- the request-level questions ----------------------------------------------------------------


def request_address(request: web.Request, config: TfaConfig) -> Address | None:
    """The client address of a request under ``config`` (see :func:`client_address`)."""
    forwarded = request.headers.getall("X-Forwarded-For", None)
    joined = ",".join(forwarded) if forwarded is not None else None
    return client_address(request.remote, joined, config)


def applies(store: Store, user: User, request: web.Request) -> bool:
    """Does 2FA apply to ``user`` on this request (plugin installed, user forced, IP not
    whitelisted)?"""
    config = store.config.tfa
    return config.installed and applies_at(config, user, request_address(request, config))


def oauth_blocked(store: Store, user: User, request: web.Request) -> bool:
    """Is an OAuth login, token issue or OAuth-authenticated request of ``user`` blocked?

    True when the plugin is installed, 2FA applies to the user from this request's client
    address, and "Enable OAuth whitelist" is off. Meant for OAuth 1 and OAuth 2 alike.
    """
    return not store.config.tfa.oauth_whitelist and applies(store, user, request)


# -- answers --------------------------------------------------------------------------------------


def is_api_path(path: str) -> bool:
    """Whether a context-relative path is answered as an API (JSON), not as a page."""
    return path.startswith((API_PREFIX, SCM_PREFIX))  # git shows no pages either


def blocked_error(config: TfaConfig) -> BitbucketError:
    """The envelope error for a blocked API request: 403 when so configured, else 401."""
    return (
        TwoFactorForbiddenError() if config.blocked_response == "403" else TwoFactorRequiredError()
    )


def browser_blocked_answer(store: Store, redirect_status: int = 302) -> web.Response:
    """A blocked browser request: a redirect to the 2FA page, or that page as 401/403."""
    config = store.config.tfa
    if config.blocked_response == "redirect":
        return redirect(store.base_url + BLOCKED_PATH, status=redirect_status)
    page = blocked_page(store.base_url, BLOCKED_MESSAGE)
    return html_response(page, status=int(config.blocked_response))


def blocked_answer(
    store: Store, request: web.Request, redirect_status: int = 302, browser: bool | None = None
) -> web.Response:
    """What a blocked request gets, per ``blocked_response`` and the kind of path.

    - ``redirect`` (default): browser paths get a redirect (``redirect_status``) to the 2FA
      page; API paths (``/rest/...``) get 401 in Bitbucket's envelope.
    - ``401`` / ``403``: that status, in the envelope on API paths, as the 2FA page's HTML on
      browser paths.

    ``browser`` overrides the path's kind (the consent form posts to ``/rest/oauth2/...``).
    """
    note(request, tfa="oauth-blocked")
    if browser is None:
        browser = not is_api_path(app_path(request, store.settings.context_path))
    if not browser:
        return blocked_error(store.config.tfa).to_response()
    return browser_blocked_answer(store, redirect_status)


def token_blocked_answer(store: Store, request: web.Request) -> web.Response:
    """The OAuth 2 token endpoint's answer for a blocked user: its own JSON error format.

    ``{"error": "access_denied", "error_description": ...}`` with 401 (``redirect`` and
    ``401``: the token endpoint is an API path, there is nowhere to redirect a server) or 403.
    """
    note(request, tfa="oauth-blocked")
    status = 403 if store.config.tfa.blocked_response == "403" else 401
    return OAuth2Error("access_denied", BLOCKED_MESSAGE, status=status).to_response()
