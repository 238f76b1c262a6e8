"""The bugs the mutants carry, one small piece each.

Most are a replacement for one rule of :mod:`conformance.reference.rules` (a function with the
rule's signature, or a constant), applied with :func:`conformance.mutants.rulebook.variant`.
The rest live in the flow or in the HTTP client rather than in a rule; each of those is a
subclass of :class:`~conformance.reference.service.Reference` that overrides one method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp

from conformance.reference import rules
from conformance.reference.bitbucket import (
    FORM_HEADERS,
    TIMEOUT,
    Answer,
    BitbucketClient,
    BitbucketUnreachableError,
    Credential,
    describe,
)
from conformance.reference.models import (
    Account,
    BrowserSession,
    Integration,
    PendingLogin,
    PendingOAuth1Login,
    Tokens,
)
from conformance.reference.service import LoginProblemError, Reference
from conformance.sut import SubmitResult

# -- rules -----------------------------------------------------------------------------------


def tag_as_branch(tag: str) -> tuple[str, str] | None:
    """A tag named as a branch would be: ``dev-v1.0.0``."""
    return f"dev-{tag}", f"dev-{tag}"


def versions_never_removed(held: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, Any]:
    """What was read is added to what was held: a ref deleted on Bitbucket keeps its version."""
    return {**held, **read}


def every_repository_still_readable(
    repository: tuple[str, str], listed: frozenset[tuple[str, str]]
) -> bool:
    """A repository once synchronised is kept, whether or not the user can still read it."""
    return True


def any_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Every delivery is taken for Bitbucket's, signed or not."""
    return True


def webhook_date_as_utc(text: object) -> float | None:
    """The delivery's date with its offset dropped, read as UTC."""
    if not isinstance(text, str) or len(text) < 5:
        return None
    return rules.parse_webhook_date(text[:-5] + "+0000")


def authorize_url_without_state(
    base_url: str, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    """The authorization request with its ``state`` left out."""
    url = rules.authorize_url(base_url, client_id, redirect_uri, state, challenge)
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k != "state"]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def any_state_matches(expected: str | None, given: str | None) -> bool:
    """Whatever ``state`` comes back is accepted."""
    return True


def _host_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def normalise_base_url_to_host(raw: object) -> str:
    """The base URL cut to scheme, host and port: the context path is dropped."""
    return _host_root(rules.normalise_base_url(raw))


def setup_link_at_host_root(base_url: str) -> str:
    """The setup link built from the host, without the base URL's context path."""
    return _host_root(base_url) + "/plugins/servlet/applinks/listApplicationLinks"


def setup_link_to_admin_home(base_url: str) -> str:
    """The setup link to Bitbucket's administration home instead of Application links."""
    return base_url + "/admin"


def code_grant_with_slash(
    code: str, redirect_uri: str, client_id: str, client_secret: str, code_verifier: str
) -> dict[str, str]:
    """The code exchange with a ``redirect_uri`` that gained a trailing slash."""
    form = rules.code_grant(code, redirect_uri, client_id, client_secret, code_verifier)
    form["redirect_uri"] = redirect_uri + "/"
    return form


def refresh_grant_without_secret(
    refresh_token: str, client_id: str, client_secret: str
) -> dict[str, str]:
    """The refresh request without the client secret."""
    form = rules.refresh_grant(refresh_token, client_id, client_secret)
    del form["client_secret"]
    return form


def keep_first_refresh_token(used: str, issued: str) -> str:
    """The refresh token of the login is kept for ever (the rotated one is dropped)."""
    return used


def start_plus_limit(page: Mapping[str, Any], start: int) -> int | None:
    """The next page computed as ``start + limit`` (the limit asked for, not the one served)."""
    if page.get("isLastPage", True):
        return None
    return start + rules.PAGE_LIMIT


def first_page_only(page: Mapping[str, Any], start: int) -> int | None:
    """Paging ignored: the first page is taken for the whole list."""
    return None


def offers_oauth2_everywhere(version: tuple[int, int, int]) -> bool:
    """Every Bitbucket version is taken to have OAuth 2 links."""
    return True


def offers_oauth2_by_decimal(version: tuple[int, int, int]) -> bool:
    """Versions compared as decimal numbers: 7.6 reads as 7.60, above 7.21."""
    major, minor, _ = version
    return float(f"{major}.{minor}") >= 7.21


def never_two_factor(status: int, error_text: str) -> bool:
    """A refusal naming two-factor authentication is not told apart from any other."""
    return False


def silent_callback_error(error: str, description: str) -> str:
    """Bitbucket's ``?error=`` callback is taken as an ordinary return: nothing is said."""
    return ""


def shared_slug(integration_id: str) -> str:
    """One slug for every integration: one login link and one set of callback URLs."""
    return "bitbucketserver"


def token_taken_unless_401(status: int, username: str | None) -> bool:
    """Only a 401 counts as a rejected token; an answer for nobody (no ``X-AUSERNAME``,
    Bitbucket's answer to a dead token) is taken as the user's."""
    return status == 401


@dataclass(frozen=True, slots=True)
class RegisterUrlOnly(rules.CallbackUrls):
    """Callback URLs whose form shows only the first (the login uses the second)."""

    def as_tuple(self) -> tuple[str, ...]:
        """Only the register URL."""
        return (self.register,)


def any_request_token_matches(expected: str | None, given: str | None) -> bool:
    """Whatever ``oauth_token`` the OAuth 1 callback brings back is accepted."""
    return True


def never_warns_oauth1_synchronisation(version: tuple[int, int, int]) -> bool:
    """The OAuth 1 form never warns that Bitbucket 8 and later cannot use the link for
    synchronisations."""
    return False


def callback_urls_showing_one(public_url: str, slug: str) -> rules.CallbackUrls:
    """The two callback URLs, of which the form displays only the first."""
    urls = rules.callback_urls(public_url, slug)
    return RegisterUrlOnly(register=urls.register, login=urls.login)


# -- the flow and the HTTP client ----------------------------------------------------------------


class BasicAuthClient(BitbucketClient):
    """Token requests authenticate the client with HTTP Basic, not in the body."""

    async def token(self, form: Mapping[str, str]) -> Answer:
        """``POST rest/oauth2/latest/token`` with the client credentials in HTTP Basic only."""
        body = {k: v for k, v in form.items() if k not in ("client_id", "client_secret")}
        basic = aiohttp.BasicAuth(form.get("client_id", ""), form.get("client_secret", ""))
        try:
            async with self.http.post(
                self.base_url + "/rest/oauth2/latest/token",
                data=body,
                auth=basic,
                headers=FORM_HEADERS,
                allow_redirects=False,
                timeout=TIMEOUT,
            ) as response:
                return Answer(response.status, None, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BitbucketUnreachableError(self.base_url, describe(exc)) from exc


class ClientCredentialsInBasic(Reference):
    """Talks to Bitbucket through :class:`BasicAuthClient`."""

    def bitbucket(self, base_url: str) -> BitbucketClient:
        """A client whose token requests use HTTP Basic."""
        plain = super().bitbucket(base_url)
        return BasicAuthClient(plain.http, base_url)


class WritePermissionClient(BitbucketClient):
    """Lists the repositories the user can write to."""

    async def repos(self, auth: Credential, start: int, limit: int) -> Answer:
        """``GET rest/api/1.0/repos?permission=REPO_WRITE``."""
        params = {"permission": "REPO_WRITE", "start": str(start), "limit": str(limit)}
        return await self._send("GET", "/rest/api/1.0/repos", auth=auth, params=params)


class ListsWritableRepositories(Reference):
    """Talks to Bitbucket through :class:`WritePermissionClient`."""

    def bitbucket(self, base_url: str) -> BitbucketClient:
        """A client whose listing asks for REPO_WRITE."""
        plain = super().bitbucket(base_url)
        return WritePermissionClient(plain.http, base_url)


class NeverRefreshes(Reference):
    """Has no refresh: a token Bitbucket no longer takes ends the login."""

    async def _refresh(
        self, session: BrowserSession, integration: Integration, used: Tokens
    ) -> Tokens:
        session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
        raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)


class WhoamiWithoutToken(Reference):
    """Asks who the user is without sending the new access token."""

    async def _whoami(self, client: BitbucketClient, auth: Credential) -> Answer:
        return await client.application_properties()


class SubmitWithoutCheck(Reference):
    """ "Create Integration" keeps whatever Client ID and Secret were typed."""

    async def _check_credentials(
        self, integration: Integration, client_id: str, client_secret: str
    ) -> str | None:
        return None


class SubmitOAuth1WithoutProbe(Reference):
    """ "Create Integration" (OAuth 1) creates the integration without asking Bitbucket for
    a request token: a missing link, or one with another Public Key, goes unnoticed."""

    async def _submit_oauth1(self, integration: Integration) -> SubmitResult:
        integration.submitted = True
        return SubmitResult(redirect_to=self.rules.integrations_page(self.public_url))


class UserBySlugFromName(Reference):
    """Reads the user at ``users/{X-AUSERNAME}``, as if the name were the slug."""

    async def _find_account(
        self, client: BitbucketClient, auth: Credential, username: str
    ) -> Account | None:
        answer = await client.user(auth, username)
        user = answer.json()
        if answer.status != 200 or not isinstance(user, dict):
            return None
        return Account(
            username=str(user.get("name", username)),
            slug=str(user.get("slug", username)),
            display_name=str(user.get("displayName", username)),
        )


def generic_token_error(error: str, description: str) -> str:
    """Every failed token exchange is told as one vague sentence (invalid_client too)."""
    return "The login failed; please try again."


def generic_oauth1_login_problem(problem: str, advice: str) -> str:
    """Every OAuth 1 problem during the login is told as one vague sentence."""
    return "The login failed; please try again."


def one_state(*_: object) -> str:
    """The same ``state`` for every browser and every login."""
    return "bbdc-sim-reference-state"


def any_return_page(public_url: str, requested: str | None) -> str:
    """The callback sends the browser wherever the login link's ``next`` says, another site
    included (an open redirect)."""
    return requested or rules.home_page(public_url)


class SharesPendingLogins(Reference):
    """Starts a login as the reference does, and also keeps it as the integration's latest
    pending login (what the two mutants below finish with)."""

    async def start_login(self, session: BrowserSession, slug: str) -> str:
        """Start as the reference does, and keep the pending login for the integration."""
        location = await super().start_login(session, slug)
        if session.pending is not None:
            shared_pending(self)[session.pending.integration_id] = session.pending
        return location


class PendingLoginPerIntegration(SharesPendingLogins):
    """Keeps the pending OAuth 2 login (state, PKCE verifier) per integration instead of per
    browser: the callback completes the latest login started, in whichever browser it
    arrives (login CSRF)."""

    async def finish_login(
        self, session: BrowserSession, slug: str, query: Mapping[str, str]
    ) -> BrowserSession:
        """Finish with the integration's latest pending login, not the browser's."""
        integration = self._login_integration(slug)
        session.pending = shared_pending(self).get(integration.id)
        return await super().finish_login(session, slug, query)


class OAuth1PendingLoginPerIntegration(SharesPendingLogins):
    """Keeps the pending OAuth 1 login (the request token) per integration instead of per
    browser: any browser's callback completes the latest login started."""

    async def finish_oauth1_login(
        self, session: BrowserSession, slug: str, query: Mapping[str, str]
    ) -> BrowserSession:
        """Finish with the integration's latest request token, not the browser's."""
        integration = self._login_integration(slug)
        session.pending = shared_pending(self).get(integration.id)
        return await super().finish_oauth1_login(session, slug, query)


def shared_pending(reference: Reference) -> dict[str, PendingLogin | PendingOAuth1Login]:
    """The pending logins a mutant keeps per integration (on the reference's state)."""
    store: dict[str, PendingLogin | PendingOAuth1Login] = reference.state.__dict__.setdefault(
        "_pending_by_integration", {}
    )
    return store
