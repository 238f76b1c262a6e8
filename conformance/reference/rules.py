"""Every rule of the reference integration, each in one small, named place.

The flow modules (:mod:`conformance.reference.service`) only sequence these rules; a mutant
of the reference changes one of them. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from conformance.reference import versions

# -- what the implementation offers ----------------------------------------------------------

PROTOCOL_VERSION = 1
NAME = "bbdc-sim reference"
PLATFORM = "bitbucket-server"
PLATFORM_LABEL = "Bitbucket Data Center / Server"
#: OAuth versions the Add Integration form offers (each has its own form in
#: :meth:`conformance.reference.service.Reference.form`).
OAUTH_VERSIONS: tuple[int, ...] = (1, 2)
OFFERS_REPOSITORIES = True
#: Whether the reference declares ``clock`` (``POST /clock`` moves its own clock). Off: it
#: refreshes when Bitbucket rejects a token, which needs no clock of its own; a variant that
#: refreshes ahead of ``expires_in`` only declares it (tests/conformance/test_clock.py).
OFFERS_CLOCK = False
#: Whether the reference serves its users' Composer packages (``GET /packages``).
OFFERS_PACKAGES = True
#: Whether it sets up webhooks with a code credential (``POST /code-credentials``).
OFFERS_WEBHOOKS = True

# -- OAuth 2 parameters ----------------------------------------------------------------------

#: Bitbucket's first version with OAuth 2 application links (the guide's note).
OAUTH2_MINIMUM_VERSION = (7, 21, 0)
#: The least the integration needs: read the user's repositories.
SCOPE = "REPO_READ"
#: The PKCE method (RFC 7636): ``S256``. The rules below also know ``plain`` (the verifier
#: is its own challenge) and None (no PKCE): Bitbucket takes all three, the reference S256.
PKCE_METHOD: str | None = "S256"
#: Refresh an access token this many seconds before its announced expiry.
EXPIRY_MARGIN_SECONDS = 30.0
#: Page size when listing repositories (the server may cap it; ``nextPageStart`` is followed).
PAGE_LIMIT = 100
#: The token sent to the revoke endpoint to check client credentials without a user.
CREDENTIALS_PROBE_TOKEN = "bbdc-sim-reference-credentials-probe"  # noqa: S105 (not a secret)

# -- OAuth 1 parameters ----------------------------------------------------------------------

#: The only signature method Bitbucket's OAuth 1 links take.
OAUTH1_SIGNATURE_METHOD = "RSA-SHA1"
#: The size of the generated RSA key.
RSA_KEY_BITS = 2048
#: The self-signed certificate's validity.
CERTIFICATE_DAYS = 3650
#: From this version on OAuth 1 links no longer serve synchronisations (Packagist's note).
OAUTH1_SYNCHRONISATION_END = (8, 0, 0)
#: Bitbucket's ``oauth_verifier`` when the user pressed Deny.
OAUTH1_DENIED_VERIFIER = "denied"

# -- the browser session ---------------------------------------------------------------------

SESSION_COOKIE = "REFSESSION"

# -- what people are told --------------------------------------------------------------------

STATE_MISMATCH = "The login could not be verified (state mismatch); please try again."
ACCESS_DENIED = "You denied access to Bitbucket; you are not logged in."
TWO_FACTOR_BLOCKED = (
    "Bitbucket's two-factor authentication plugin (U2F & TOTP) blocked the OAuth login: "
    "an administrator must enable its OAuth whitelist."
)
LOGIN_NO_LONGER_VALID = "Your Bitbucket login is no longer valid; log in again."
WRONG_CLIENT_CREDENTIALS = (
    "Bitbucket rejected the Client ID / Client Secret (invalid_client). "
    "Copy them again from the application link."
)
LOGIN_CLIENT_REJECTED = (
    "Bitbucket rejected this integration's Client ID / Client Secret (invalid_client); "
    "an administrator must copy them again from the application link. You are not logged in."
)
NOT_LOGGED_IN = "You are not logged in."
MISSING_CREDENTIALS = "Enter the Client ID and the Client Secret shown by Bitbucket."
OAUTH1_CALLBACK_MISMATCH = (
    "The login could not be verified (the request token is not the one this browser was "
    "given); please try again."
)
OAUTH1_CALLBACK_LEAVE_EMPTY = (
    "In the link's Incoming Authentication, paste the Consumer Key and the Public Key, and "
    "leave the Consumer Callback URL empty: the integration sends its callback URL with "
    "every login."
)
OAUTH1_NO_SYNCHRONISATION = (
    "From Bitbucket v8 on, OAuth1 links can no longer be used to set up synchronizations. "
    "Migrate by creating an OAuth2 link and editing the integration to use OAuth 2."
)


class RefusalError(Exception):
    """A request the integration refuses; ``status`` is what the driver protocol answers."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# -- the Add Integration form ----------------------------------------------------------------


def check_platform(platform: object) -> str:
    """The platform: only Bitbucket Data Center / Server."""
    if not isinstance(platform, str):
        raise RefusalError("platform must be a string.", 400)
    if platform != PLATFORM:
        raise RefusalError(f"Unknown platform {platform!r}; this integration offers {PLATFORM!r}.")
    return platform


def check_oauth_version(version: object) -> int:
    """The OAuth version: a number the form offers."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise RefusalError("oauth_version must be a number.", 400)
    if version not in OAUTH_VERSIONS:
        offered = ", ".join(str(v) for v in OAUTH_VERSIONS)
        raise RefusalError(f"OAuth {version} is not offered; choose one of: {offered}.")
    return version


def normalise_base_url(raw: object) -> str:
    """The Bitbucket base URL: absolute http(s), no query or fragment; a trailing slash is
    dropped, a context path (``https://host/bitbucket``) is kept."""
    if not isinstance(raw, str):
        raise RefusalError("base_url must be a string.", 400)
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise RefusalError(f"The base URL must be an absolute http(s) URL: {text!r}.")
    if parts.query or parts.fragment or "#" in text:
        raise RefusalError(f"The base URL must not carry a query or a fragment: {text!r}.")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path.rstrip("/"), "", ""))


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``9.4.16`` -> (9, 4, 16); the leading numbers of a longer version; None if none."""
    match = re.match(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def offers_oauth2(version: tuple[int, int, int]) -> bool:
    """Whether this Bitbucket version has OAuth 2 application links."""
    return version >= OAUTH2_MINIMUM_VERSION


def oauth2_unavailable(version_text: str) -> str:
    """What the form says when the server is too old for OAuth 2."""
    return (
        f"Bitbucket {version_text} does not offer OAuth 2 (it needs 7.21 or later); "
        "use OAuth 1 instead: choose OAuth 1 as the OAuth version and follow the "
        "Bitbucket Data Center / Server OAuth 1 setup guide."
    )


def unreachable(base_url: str, reason: str) -> str:
    """What the form says when Bitbucket cannot be asked."""
    return f"Bitbucket at {base_url} did not answer: {reason}"


def setup_link(base_url: str) -> str:
    """Where the admin creates the application link."""
    return base_url + "/plugins/servlet/applinks/listApplicationLinks"


def new_integration_id() -> str:
    """A short, unguessable integration id."""
    return secrets.token_hex(5)


def integration_slug(integration_id: str) -> str:
    """The integration's slug in its URLs (unique per integration, like Packagist's)."""
    return f"bitbucketserver-{integration_id}"


@dataclass(frozen=True, slots=True)
class CallbackUrls:
    """The two redirect URLs the form displays, in Packagist's order."""

    register: str
    login: str

    def as_tuple(self) -> tuple[str, ...]:
        """Both, in the order the form shows them."""
        return (self.register, self.login)


def callback_urls(public_url: str, slug: str) -> CallbackUrls:
    """``/oauth/register/service/<slug>`` and ``/oauth/login/check-custom/<slug>``."""
    return CallbackUrls(
        register=f"{public_url}/oauth/register/service/{slug}",
        login=f"{public_url}/oauth/login/check-custom/{slug}",
    )


def login_link(public_url: str, slug: str) -> str:
    """The login link shared with users, specific to the integration."""
    return f"{public_url}/login/{slug}"


def oauth1_callback_url(public_url: str, slug: str) -> str:
    """The OAuth 1 callback (``oauth_callback``), specific to the integration."""
    return f"{public_url}/oauth1/callback/{slug}"


def application_url(public_url: str) -> str:
    """The Application URL the admin links Bitbucket to: the integration's home."""
    return f"{public_url}/"


def consumer_key(integration_id: str) -> str:
    """The generated consumer key (Packagist's "Client ID / Key")."""
    return f"packagist-{integration_id}"


def warns_oauth1_synchronisation(version: tuple[int, int, int]) -> bool:
    """Whether the OAuth 1 form warns that the link cannot serve synchronisations."""
    return version >= OAUTH1_SYNCHRONISATION_END


def oauth1_messages(version: tuple[int, int, int] | None) -> tuple[str, ...]:
    """What the OAuth 1 form tells the admin on this Bitbucket version."""
    if version is not None and warns_oauth1_synchronisation(version):
        return (OAUTH1_NO_SYNCHRONISATION, OAUTH1_CALLBACK_LEAVE_EMPTY)
    return (OAUTH1_CALLBACK_LEAVE_EMPTY,)


def link_problem(problem: str, key: str) -> str:
    """What submit says when Bitbucket refuses the integration's signed request-token call."""
    if problem == "consumer_key_unknown":
        return (
            f"Bitbucket does not know the consumer key {key}: create the application link "
            "and paste it into Incoming Authentication."
        )
    if problem == "signature_invalid":
        return (
            "Bitbucket could not verify the integration's signature (signature_invalid): "
            "paste the Public Key shown here into the link's Incoming Authentication."
        )
    return (
        f"Bitbucket refused the integration's OAuth 1 request ({problem}); check the base URL "
        "and the application link."
    )


def integrations_page(public_url: str) -> str:
    """Where the form sends the admin after "Create Integration"."""
    return f"{public_url}/integrations"


def home_page(public_url: str) -> str:
    """Where a logged-in user lands."""
    return f"{public_url}/"


#: The login link's parameter naming the page to return to after the login.
RETURN_PARAMETER = "next"
#: Whether the callback answers with a redirect to a clean address (no code or state in
#: it, RFC 9700 4.2.4) rather than with the page itself.
REDIRECT_AFTER_CALLBACK = True


def after_login_page(public_url: str, requested: str | None) -> str:
    """Where the callback sends the browser: the page the login link was asked to return to
    when it is a path on the integration (never another site: RFC 9700 4.11), else home."""
    if requested and requested.startswith("/") and not requested.startswith(("//", "/\\")):
        return public_url + requested
    return home_page(public_url)


# -- the login -------------------------------------------------------------------------------


def new_state() -> str:
    """An unguessable ``state`` bound to the browser session."""
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """A PKCE verifier: 64 characters of ``[A-Za-z0-9-_]`` (RFC 7636 allows 43-128); empty
    without PKCE."""
    return secrets.token_urlsafe(48) if PKCE_METHOD else ""


def code_challenge(verifier: str) -> str:
    """The challenge of :data:`PKCE_METHOD`: for S256, BASE64URL(SHA-256(verifier)) without
    padding; for ``plain``, the verifier."""
    if PKCE_METHOD == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    base_url: str, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    """The authorize request: code flow, ``REPO_READ``, ``state`` and PKCE (S256)."""
    parameters = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": SCOPE,
        "state": state,
    }
    if PKCE_METHOD and challenge:
        parameters.update(code_challenge=challenge, code_challenge_method=PKCE_METHOD)
    return f"{base_url}/rest/oauth2/latest/authorize?{urlencode(parameters)}"


def state_matches(expected: str | None, given: str | None) -> bool:
    """Whether the callback's ``state`` is the one this browser session was given."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def callback_error(error: str, description: str) -> str:
    """What the user is told when Bitbucket sends ``?error=`` back instead of a code."""
    if error == "access_denied":
        return ACCESS_DENIED
    detail = f"{error}: {description}" if description else error
    return f"Bitbucket refused the login ({detail}); you are not logged in."


def callback_confirmed(pairs: Mapping[str, str]) -> bool:
    """Whether the request-token answer confirms our ``oauth_callback`` (OAuth 1.0a); a
    provider that ignores it would send the user wherever the link says."""
    return pairs.get("oauth_callback_confirmed") == "true"


def oauth1_authorize_url(base_url: str, request_token: str) -> str:
    """Where the browser authorizes an OAuth 1 request token (Allow / Deny)."""
    return f"{base_url}/plugins/servlet/oauth/authorize?{urlencode({'oauth_token': request_token})}"


def request_token_matches(expected: str | None, given: str | None) -> bool:
    """Whether the OAuth 1 callback's ``oauth_token`` is the request token this browser
    session was sent to authorize."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def oauth1_denied(verifier: str) -> bool:
    """Whether the OAuth 1 callback says the user pressed Deny."""
    return verifier == OAUTH1_DENIED_VERIFIER


def oauth1_login_problem(problem: str, advice: str) -> str:
    """What the user is told when Bitbucket answers an ``oauth_problem`` during the login."""
    detail = f"{problem}: {advice}" if advice else problem
    return f"Bitbucket refused the login ({detail}); you are not logged in."


def mentions_two_factor(text: str) -> bool:
    """Whether an error from Bitbucket names two-factor authentication (the 2FA plugin)."""
    lowered = text.lower()
    return "two-factor" in lowered or "two factor" in lowered or "2fa" in lowered


def two_factor_blocked(status: int, error_text: str) -> bool:
    """A 401/403 that names two-factor authentication: the plugin blocks OAuth."""
    return status in (401, 403) and mentions_two_factor(error_text)


def token_error(error: str, description: str) -> str:
    """What the user is told when the token exchange fails (other than a 2FA block)."""
    if error == "invalid_client":
        return LOGIN_CLIENT_REJECTED
    detail = f"{error}: {description}" if description else error
    return f"Bitbucket refused the token exchange ({detail}); please log in again."


def code_grant(
    code: str, redirect_uri: str, client_id: str, client_secret: str, code_verifier: str
) -> dict[str, str]:
    """The token request for an authorization code: exactly the authorization request's
    ``redirect_uri`` (RFC 6749 4.1.3), the client credentials in the body (the only client
    authentication Bitbucket reads) and the PKCE verifier (when PKCE was used)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    return form


def refresh_grant(refresh_token: str, client_id: str, client_secret: str) -> dict[str, str]:
    """The token request for a refresh: the refresh token and the client credentials, in the
    body like every token request."""
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }


def next_refresh_token(used: str, issued: str) -> str:
    """The refresh token to keep after a refresh: refresh tokens rotate, so the one just
    issued replaces the one used (which Bitbucket has revoked); the used one stays only when
    the answer carried none (RFC 6749 6)."""
    return issued or used


def token_expired(expires_at: float, now: float) -> bool:
    """Whether an access token is (about to be) expired by the integration's own clock."""
    return now >= expires_at - EXPIRY_MARGIN_SECONDS


def refresh_failure_logs_out(status: int) -> bool:
    """A refresh that Bitbucket refuses (4xx: link deleted, token revoked) ends the login;
    a server error or an outage does not."""
    return 400 <= status < 500


def next_page_start(page: Mapping[str, Any], start: int) -> int | None:
    """Where the next page starts (Bitbucket's ``nextPageStart``), or None after the last.
    Never ``start + limit``: the server may cap the limit. A ``nextPageStart`` that does not
    move forward ends the listing."""
    following = page.get("nextPageStart")
    if page.get("isLastPage", True) or not isinstance(following, int) or following <= start:
        return None
    return following


def credentials_rejected(status: int, error: str) -> bool:
    """The revoke probe's answer to wrong client credentials."""
    return status in (400, 401) and error == "invalid_client"


def token_rejected(status: int, username: str | None) -> bool:
    """Bitbucket did not take the access token: a 401, or an answer without ``X-AUSERNAME``
    (an unknown or expired Bearer token counts as anonymous)."""
    return status == 401 or username is None


# -- the Composer repository -----------------------------------------------------------------

#: Page size when listing a repository's tags and branches (``nextPageStart`` is followed).
REF_PAGE_LIMIT = 100
#: How many Composer users (integration and Bitbucket user) are kept; the least recently
#: logged in is forgotten first.
MAX_USERS = 1_000
#: How many repositories a user's packages come from, at most.
MAX_REPOSITORIES_PER_USER = 1_000
#: How many refs (tags and branches) of one repository become versions, at most.
MAX_VERSIONS_PER_REPOSITORY = 1_000
#: The largest ``composer.json`` read (bytes); a larger one is skipped.
MAX_COMPOSER_JSON_BYTES = 512 * 1024
#: The ``composer.json`` fields the metadata carries (besides name, version and the rest
#: made here), as Composer's own repositories do.
COMPOSER_FIELDS: tuple[str, ...] = (
    "description",
    "type",
    "keywords",
    "homepage",
    "license",
    "authors",
    "require",
    "require-dev",
    "conflict",
    "replace",
    "provide",
    "suggest",
    "autoload",
    "autoload-dev",
    "include-path",
    "target-dir",
    "extra",
    "bin",
    "support",
    "funding",
    "archive",
    "abandoned",
    "time",
)
#: Composer's package names (``vendor/name``, lower case).
PACKAGE_NAME = re.compile(r"^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$")
#: The realm of the Composer repository's HTTP Basic challenge.
COMPOSER_REALM = "Composer repository"


def new_composer_token() -> str:
    """A user's Composer token: the HTTP Basic password of the Composer repository."""
    return secrets.token_urlsafe(24)


def composer_password_matches(expected: str, given: str) -> bool:
    """Whether the Basic password is the user's Composer token (constant time)."""
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def declared_name(composer: object) -> str | None:
    """The ``name`` a ``composer.json`` declares, as written (None when it has none)."""
    name = composer.get("name") if isinstance(composer, dict) else None
    return name if isinstance(name, str) and name else None


def package_name(composer: object) -> str | None:
    """The package a ``composer.json`` declares (lower case), or None when it declares no
    valid name."""
    name = declared_name(composer)
    if name is None or not PACKAGE_NAME.match(name.lower()):
        return None
    return name.lower()


def tag_version(tag: str) -> tuple[str, str] | None:
    """A tag's ``(version, version_normalized)``: its name (``v1.0.0``) and Composer's
    normal form (``1.0.0.0``); None when Composer takes it for no version."""
    return versions.tag_version(tag)


def branch_version(branch: str) -> tuple[str, str]:
    """A branch's ``(version, version_normalized)``: ``dev-<branch>``, or ``1.x-dev`` for
    a numeric branch, as Composer names them."""
    return versions.branch_version(branch)


def kept_versions(held: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]:
    """A repository's versions after reading it again: exactly what Bitbucket has now (a
    ref that disappeared takes its version with it)."""
    return dict(read)


def still_readable(repository: tuple[str, str], listed: frozenset[tuple[str, str]]) -> bool:
    """Whether a repository the user's packages came from is kept by a synchronisation:
    only when Bitbucket still lists it as readable for that user."""
    return repository in listed


#: Where no webhook reports pushes, a user's packages are read again this long (on the
#: integration's clock) after their last synchronisation: Private Packagist's "every 12
#: hours" for repositories without a webhook.
POLL_INTERVAL_SECONDS = 12 * 3600.0
#: How often (wall-clock seconds) the poller looks for users that are due; advancing the
#: integration's clock wakes it at once.
POLL_CHECK_SECONDS = 60.0


def poll_due(synchronised_at: float, now: float) -> bool:
    """Whether a user last synchronised at ``synchronised_at`` is polled at ``now``."""
    return now - synchronised_at >= POLL_INTERVAL_SECONDS


# -- webhooks --------------------------------------------------------------------------------

#: What the webhook subscribes to: pushes of branches and tags, nothing else.
WEBHOOK_EVENTS: tuple[str, ...] = ("repo:refs_changed",)
#: How many code credentials and webhooks are kept.
MAX_CODE_CREDENTIALS = 100
MAX_WEBHOOKS = 10_000
#: The largest delivery read (bytes).
MAX_DELIVERY_BYTES = 1024 * 1024
#: A delivery dated more than this before the integration's clock is ignored (a replay).
WEBHOOK_MAX_AGE_SECONDS = 3600.0
#: Bitbucket's delivery date, Java's ``yyyy-MM-dd'T'HH:mm:ssZ`` (``2017-09-19T09:58:11-0800``).
WEBHOOK_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2})(\d{2})$")


def webhook_url(public_url: str, slug: str) -> str:
    """The receiver of an integration's webhooks."""
    return f"{public_url}/webhooks/bitbucket/{slug}"


def new_webhook_secret() -> str:
    """A webhook's secret (its deliveries are signed with it)."""
    return secrets.token_hex(32)


def webhook_definition(name: str, url: str, secret: str) -> dict[str, Any]:
    """The webhook created on a repository: ``repo:refs_changed`` to the receiver, signed."""
    return {
        "name": name,
        "url": url,
        "events": list(WEBHOOK_EVENTS),
        "active": True,
        "configuration": {"secret": secret},
    }


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature`` is ``sha256=`` the HMAC-SHA256 of the raw body keyed by
    the webhook's secret (constant-time comparison)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").lower().encode())


def parse_webhook_date(text: object) -> float | None:
    """A delivery's ``date`` as seconds since the epoch, its offset applied
    (``2017-09-19T09:58:11-0800`` is 17:58:11 UTC); None when it is not that format."""
    if not isinstance(text, str):
        return None
    match = WEBHOOK_DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    sign, offset_hours, offset_minutes = match.group(7), int(match.group(8)), int(match.group(9))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    offset = (offset_hours * 60 + offset_minutes) * 60
    return moment.timestamp() - (offset if sign == "+" else -offset)


def webhook_stale(date: float | None, now: float) -> bool:
    """Whether a delivery is too old to act on (or has no readable date)."""
    return date is None or date < now - WEBHOOK_MAX_AGE_SECONDS
