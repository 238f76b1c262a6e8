"""The reference's client of Bitbucket Data Center: REST API 1.0 and the OAuth 2 and OAuth 1
providers.

One :class:`BitbucketClient` per base URL, over the app's shared ``aiohttp.ClientSession``.
It only speaks HTTP: every call answers an :class:`Answer` (status, the user Bitbucket
authenticated, the body) and the caller decides; a server that cannot be reached raises
:class:`BitbucketUnreachableError`. Paths are relative to the base URL, so a context path
(``https://host/bitbucket``) is kept.

Form posts to the OAuth 2 provider are ``application/x-www-form-urlencoded`` with the client
credentials in the body, the only client authentication Bitbucket reads.

Checking client credentials without a user: :meth:`BitbucketClient.revoke` with a dummy
token. Bitbucket's revoke endpoint follows RFC 7009: it authenticates the client first
(unknown client or wrong secret -> ``invalid_client``, 401) and answers 200 for a token it
does not know, so a 200 means the Client ID and Secret are right and nothing was revoked.

Every REST call takes a :data:`Credential`: an OAuth 2 access token (sent as ``Bearer``) or an
:class:`~conformance.reference.oauth1.OAuth1Signer` (the request is signed with oauthlib,
RSA-SHA1 in the ``Authorization`` header, over the exact URL sent, query included). The OAuth 1
servlets (request-token, access-token) answer form-encoded pairs, and their problems as
``oauth_problem`` (body and ``WWW-Authenticate``): see :attr:`Answer.oauth1_problem`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import aiohttp
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header
from yarl import URL

from conformance.reference.oauth1 import OAuth1Signer

TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)
FORM_HEADERS = {"Accept": "application/json"}
#: How a call authenticates: an OAuth 2 access token (Bearer) or an OAuth 1 signer.
Credential = str | OAuth1Signer
#: Receives a 200 answer while it streams (an archive passed on to a download).
Deliver = Callable[[aiohttp.ClientResponse], Awaitable[None]]


class BitbucketUnreachableError(Exception):
    """Bitbucket could not be asked (connection refused, timeout, broken answer)."""

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(f"{base_url}: {reason}")
        self.base_url = base_url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    """What Bitbucket answered."""

    status: int
    #: ``X-AUSERNAME``, URL-decoded: the user Bitbucket authenticated (None: anonymous).
    username: str | None
    body: bytes
    #: The ``WWW-Authenticate`` header (OAuth 1 problems are named there too).
    www_authenticate: str | None = None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def oauth_error(self) -> tuple[str, str]:
        """``(error, error_description)`` of an OAuth error answer ('' when absent)."""
        body = self.json()
        if not isinstance(body, dict):
            return "", ""
        error, description = body.get("error", ""), body.get("error_description", "")
        return (
            error if isinstance(error, str) else "",
            description if isinstance(description, str) else "",
        )

    def form(self) -> dict[str, str]:
        """The body as form-encoded pairs (the OAuth 1 servlets' answers); {} when it is not."""
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            return {}

    @property
    def oauth1_problem(self) -> tuple[str, str]:
        """``(oauth_problem, oauth_problem_advice)`` of an OAuth 1 problem answer, from the
        form body or else the ``WWW-Authenticate`` header ('' when absent)."""
        pairs = self.form()
        if "oauth_problem" not in pairs and self.www_authenticate:
            try:
                pairs = dict(parse_authorization_header(self.www_authenticate))
            except ValueError:
                pairs = {}
        return pairs.get("oauth_problem", ""), pairs.get("oauth_problem_advice", "")

    @property
    def error_text(self) -> str:
        """Every error text in the answer: OAuth 2 ``error``/``error_description``, OAuth 1
        ``oauth_problem`` and its advice, and the messages of Bitbucket's ``{"errors": [...]}``
        envelope."""
        problem = " ".join(self.oauth1_problem).strip()
        body = self.json()
        if not isinstance(body, dict):
            return problem
        texts = [problem, " ".join(self.oauth_error)]
        errors = body.get("errors")
        if isinstance(errors, list):
            texts += [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
        message = body.get("message")
        if isinstance(message, str):
            texts.append(message)
        return " ".join(t for t in texts if t.strip())


def segment(value: str) -> str:
    """A path segment, percent-encoded."""
    return quote(value, safe="~")


class BitbucketClient:
    """Calls one Bitbucket server."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: Credential | None = None,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        body: object = None,
        deliver: Deliver | None = None,
    ) -> Answer:
        """One request. ``body`` is sent as JSON; ``deliver``, when given, receives a 200
        answer as it streams (the :class:`Answer` then has an empty body)."""
        headers = dict(FORM_HEADERS)
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        if isinstance(auth, OAuth1Signer):
            url, signature = auth.sign(method, url)
            headers.update(signature)
        elif auth is not None:
            headers["Authorization"] = f"Bearer {auth}"
        try:
            async with self.http.request(
                method,
                URL(url, encoded=True),
                data=dict(form) if form is not None else None,
                json=body,
                headers=headers,
                allow_redirects=False,
                timeout=TIMEOUT,
            ) as response:
                raw_user = response.headers.get("X-AUSERNAME")
                challenge = response.headers.get("WWW-Authenticate")
                if deliver is not None and response.status == 200:
                    await deliver(response)
                    data = b""
                else:
                    data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BitbucketUnreachableError(self.base_url, describe(exc)) from exc
        return Answer(response.status, unquote(raw_user) if raw_user else None, data, challenge)

    async def application_properties(self, auth: Credential | None = None) -> Answer:
        """``GET rest/api/1.0/application-properties`` (anonymous, or as the caller's user)."""
        return await self._send("GET", "/rest/api/1.0/application-properties", auth=auth)

    async def request_token(self, signer: OAuth1Signer) -> Answer:
        """``POST plugins/servlet/oauth/request-token``, signed by the consumer, with
        ``oauth_callback``: ``oauth_token``, ``oauth_token_secret``, ..."""
        return await self._send("POST", "/plugins/servlet/oauth/request-token", auth=signer)

    async def access_token(self, signer: OAuth1Signer) -> Answer:
        """``POST plugins/servlet/oauth/access-token``, signed with the authorized request
        token and ``oauth_verifier``: the access token and its secret."""
        return await self._send("POST", "/plugins/servlet/oauth/access-token", auth=signer)

    async def revoke(self, token: str, client_id: str, client_secret: str) -> Answer:
        """``POST rest/oauth2/latest/revoke`` (RFC 7009), client credentials in the body."""
        form = {"token": token, "client_id": client_id, "client_secret": client_secret}
        return await self._send("POST", "/rest/oauth2/latest/revoke", form=form)

    async def token(self, form: Mapping[str, str]) -> Answer:
        """``POST rest/oauth2/latest/token`` with a form (a grant and client credentials)."""
        return await self._send("POST", "/rest/oauth2/latest/token", form=form)

    async def users(self, auth: Credential, text: str, start: int) -> Answer:
        """``GET rest/api/1.0/users?filter=`` (a page)."""
        params = {"filter": text, "start": str(start), "limit": "100"}
        return await self._send("GET", "/rest/api/1.0/users", auth=auth, params=params)

    async def user(self, auth: Credential, slug: str) -> Answer:
        """``GET rest/api/1.0/users/{slug}``."""
        return await self._send("GET", f"/rest/api/1.0/users/{segment(slug)}", auth=auth)

    async def repos(self, auth: Credential, start: int, limit: int) -> Answer:
        """``GET rest/api/1.0/repos?permission=REPO_READ`` (a page)."""
        params = {"permission": "REPO_READ", "start": str(start), "limit": str(limit)}
        return await self._send("GET", "/rest/api/1.0/repos", auth=auth, params=params)

    async def raw(
        self, auth: Credential, project: str, slug: str, path: str, at: str | None = None
    ) -> Answer:
        """``GET rest/api/1.0/projects/{key}/repos/{slug}/raw/{path}`` (default branch, or
        the ref or commit ``at``)."""
        where = repo_path(project, slug) + "/raw/" + quote(path, safe="/")
        params = {"at": at} if at is not None else None
        return await self._send("GET", where, auth=auth, params=params)

    async def refs(
        self, auth: Credential, project: str, slug: str, kind: str, *, start: int, limit: int
    ) -> Answer:
        """``GET …/repos/{slug}/tags`` or ``…/branches`` (``kind``), a page."""
        params = {"start": str(start), "limit": str(limit)}
        return await self._send(
            "GET", f"{repo_path(project, slug)}/{kind}", auth=auth, params=params
        )

    async def archive(
        self, auth: Credential, project: str, slug: str, at: str, deliver: Deliver
    ) -> Answer:
        """``GET …/repos/{slug}/archive?at=&format=zip``, streamed to ``deliver`` when 200."""
        params = {"at": at, "format": "zip"}
        return await self._send(
            "GET", f"{repo_path(project, slug)}/archive", auth=auth, params=params, deliver=deliver
        )

    async def webhooks(self, auth: Credential, project: str, slug: str, start: int) -> Answer:
        """``GET …/repos/{slug}/webhooks`` (a page)."""
        params = {"start": str(start), "limit": "100"}
        return await self._send(
            "GET", f"{repo_path(project, slug)}/webhooks", auth=auth, params=params
        )

    async def create_webhook(
        self, auth: Credential, project: str, slug: str, webhook: Mapping[str, object]
    ) -> Answer:
        """``POST …/repos/{slug}/webhooks`` with the webhook as JSON."""
        return await self._send(
            "POST", f"{repo_path(project, slug)}/webhooks", auth=auth, body=dict(webhook)
        )

    async def update_webhook(
        self, auth: Credential, project: str, slug: str, webhook_id: int, changes: object
    ) -> Answer:
        """``PUT …/repos/{slug}/webhooks/{id}`` with the fields to change."""
        where = f"{repo_path(project, slug)}/webhooks/{webhook_id}"
        return await self._send("PUT", where, auth=auth, body=changes)


def repo_path(project: str, slug: str) -> str:
    """``/rest/api/1.0/projects/{key}/repos/{slug}``, percent-encoded."""
    return f"/rest/api/1.0/projects/{segment(project)}/repos/{segment(slug)}"


def describe(exc: BaseException) -> str:
    """A short, human reason for a failed request."""
    if isinstance(exc, TimeoutError):
        return "the request timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    return str(exc) or type(exc).__name__
