"""OAuth 2 login throughput: full logins per second from one client process.

A *full login* here is what an OAuth 2 client and a user's browser do once the user already
has a Bitbucket session: ``GET /rest/oauth2/latest/authorize`` (303 to the consent page),
``GET`` the consent page (200 HTML, its hidden fields and ``atl_token`` parsed), ``POST`` the
decision ``allow`` to the form's action (303 back to the client with ``code`` and ``state``),
``POST /rest/oauth2/latest/token`` with ``grant_type=authorization_code`` and an ``S256`` PKCE
verifier, and one REST call with the Bearer token (``GET application-properties``, whose
``X-AUSERNAME`` must name the user). The login form itself (``POST /j_atl_security_check``) is
**not** part of it: alice logs in once before the measurement and every login reuses that
session cookie, as a browser that is already logged in would.

The client is this process (aiohttp, no cookie jar, redirects not followed): a fixed number of
logins in flight, each worker starting its next login when the previous one ends, for a warm-up
and then a fixed measured window; logins that complete inside the window are counted. The
helpers here (link creation, form login, the flow) also mint the token pairs that
:mod:`bench.oauth2_token` starts its refresh chains from.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp

from bench.common import (
    BenchError,
    Result,
    Server,
    cpu_seconds,
    fmt_seconds,
    ratio,
    serving,
    sim_command,
    verdict,
)

NAME = "oauth2_login"
CONCURRENCY = 8
DURATION = 3.0
WARMUP = 0.5
GOAL = 200.0
USER = "alice"
PASSWORD = "alice"  # noqa: S105 - the seed account's documented password
SCOPE = "REPO_READ"
#: Registered on the link and put in every request; never contacted (the 303 is not followed).
REDIRECT_URI = "http://127.0.0.1:9/oauth2/callback"
SESSION_COOKIE = "BITBUCKETSESSIONID"
AUTHORIZE_PATH = "/rest/oauth2/latest/authorize"
CONSENT_PATH = "/plugins/servlet/oauth2/consent"
TOKEN_PATH = "/rest/oauth2/latest/token"  # noqa: S105 - a path
PROPERTIES_PATH = "/rest/api/1.0/application-properties"
FORM = "application/x-www-form-urlencoded"
REQUESTS_PER_LOGIN = 5
#: One ``<input ...>`` tag of the consent form.
_INPUT = re.compile(r"<input\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)\s*=\s*"([^"]*)"')
_FORM_ACTION = re.compile(r'<form\b[^>]*\baction\s*=\s*"([^"]*)"', re.IGNORECASE)


class FlowError(BenchError):
    """A step of the login flow got an answer it did not expect."""


# -- pure helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """An OAuth 2 incoming link as ``POST /_sim/applinks`` answers it."""

    client_id: str
    client_secret: str
    redirect_uri: str = REDIRECT_URI
    scope: str = SCOPE


@dataclass(frozen=True)
class TokenPair:
    """What the token endpoint answered."""

    access_token: str
    refresh_token: str


def applink_body(name: str, redirect_uri: str = REDIRECT_URI, scope: str = SCOPE) -> bytes:
    """The JSON body of ``POST /_sim/applinks`` for an OAuth 2 incoming link."""
    body = {"type": "oauth2", "name": name, "redirect_urls": [redirect_uri], "scope": scope}
    return json.dumps(body).encode()


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 ``S256``: BASE64URL-no-padding(SHA-256(verifier))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_verifier() -> str:
    """A fresh 43-character PKCE verifier."""
    return secrets.token_urlsafe(32)


def authorize_query(link: Link, state: str, challenge: str) -> str:
    """The query string a client sends the user to ``authorize`` with."""
    return urlencode(
        {
            "client_id": link.client_id,
            "redirect_uri": link.redirect_uri,
            "response_type": "code",
            "scope": link.scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def hidden_fields(page: str) -> dict[str, str]:
    """Name and (unescaped) value of every ``<input type="hidden">`` of an HTML page."""
    fields: dict[str, str] = {}
    for match in _INPUT.finditer(page):
        attributes = {k.lower(): html.unescape(v) for k, v in _ATTRIBUTE.findall(match.group(1))}
        if attributes.get("type", "").lower() == "hidden" and "name" in attributes:
            fields.setdefault(attributes["name"], attributes.get("value", ""))
    return fields


def form_action(page: str) -> str | None:
    """The (unescaped) ``action`` of the first form of an HTML page, else None."""
    match = _FORM_ACTION.search(page)
    return html.unescape(match.group(1)) if match else None


def query_parameters(location: str) -> dict[str, str]:
    """The query parameters of a URL (first value of repeats)."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(location).query, keep_blank_values=True):
        params.setdefault(name, value)
    return params


def session_cookie(set_cookie_headers: Sequence[str], name: str = SESSION_COOKIE) -> str | None:
    """The value of cookie ``name`` among ``Set-Cookie`` header values, else None."""
    for header in set_cookie_headers:
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(header)
        except CookieError:
            continue
        if name in cookie and cookie[name].value:
            return cookie[name].value
    return None


def code_exchange_form(link: Link, code: str, verifier: str) -> bytes:
    """The token request body of the ``authorization_code`` grant (credentials in the body)."""
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": link.redirect_uri,
            "client_id": link.client_id,
            "client_secret": link.client_secret,
            "code_verifier": verifier,
        }
    ).encode()


def refresh_form(client_id: str, client_secret: str, refresh_token: str) -> bytes:
    """The token request body of the ``refresh_token`` grant (credentials in the body)."""
    return urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        }
    ).encode()


def token_pair(body: Mapping[str, Any]) -> TokenPair:
    """The pair from a token endpoint answer; FlowError if either token is missing."""
    access, refresh = body.get("access_token"), body.get("refresh_token")
    if not isinstance(access, str) or not isinstance(refresh, str) or not access or not refresh:
        raise FlowError(f"the token answer lacks a token pair: {sorted(body)}")
    return TokenPair(access, refresh)


# -- the flow ---------------------------------------------------------------------------------


def client_session(connections: int) -> aiohttp.ClientSession:
    """A keep-alive aiohttp session without a cookie jar (cookies are sent by hand)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def create_link(session: aiohttp.ClientSession, base_url: str, name: str) -> Link:
    """``POST /_sim/applinks``: an incoming link for :data:`REDIRECT_URI`."""
    async with session.post(
        base_url + "/_sim/applinks",
        data=applink_body(name),
        headers={"Content-Type": "application/json"},
    ) as response:
        text = await response.text()
        if response.status != 201:
            raise FlowError(f"POST /_sim/applinks answered {response.status}: {text[:200]}")
    body = json.loads(text)
    return Link(str(body["client_id"]), str(body["client_secret"]))


async def form_login(
    session: aiohttp.ClientSession, base_url: str, user: str = USER, password: str = PASSWORD
) -> str:
    """``POST /j_atl_security_check`` with the login form; the session cookie's value."""
    form = urlencode({"j_username": user, "j_password": password}).encode()
    async with session.post(
        base_url + "/j_atl_security_check",
        data=form,
        headers={"Content-Type": FORM},
        allow_redirects=False,
    ) as response:
        await response.read()
        cookie = session_cookie(response.headers.getall("Set-Cookie", []))
        if response.status != 302 or cookie is None:
            raise FlowError(f"the login form answered {response.status} without a session")
    return cookie


@dataclass
class LoginFlow:
    """The OAuth 2 flow of one client and one logged-in browser session."""

    session: aiohttp.ClientSession
    base_url: str
    link: Link
    cookie: str
    user: str = USER

    async def _redirect(self, response: aiohttp.ClientResponse, step: str) -> str:
        await response.read()
        location = response.headers.get("Location", "")
        if response.status != 303 or not location:
            raise FlowError(f"{step} answered {response.status}, not a 303 with a Location")
        return location

    async def tokens(self) -> TokenPair:
        """authorize -> consent page -> allow -> token exchange; the token pair."""
        verifier, state = new_verifier(), secrets.token_urlsafe(12)
        browser = {"Cookie": f"{SESSION_COOKIE}={self.cookie}"}
        query = authorize_query(self.link, state, pkce_challenge(verifier))
        async with self.session.get(
            f"{self.base_url}{AUTHORIZE_PATH}?{query}", allow_redirects=False
        ) as response:
            consent = await self._redirect(response, "GET authorize")
        if urlsplit(consent).path != urlsplit(self.base_url + CONSENT_PATH).path:
            raise FlowError(f"GET authorize went to {consent}, not the consent page")
        async with self.session.get(consent, headers=browser, allow_redirects=False) as response:
            page = await response.text()
            if response.status != 200:
                raise FlowError(f"the consent page answered {response.status}")
        fields = hidden_fields(page)
        action = form_action(page)
        if not fields.get("atl_token") or not action:
            raise FlowError("the consent page has no atl_token or no form action")
        fields["decision"] = "allow"
        async with self.session.post(
            action,
            data=urlencode(fields).encode(),
            headers={**browser, "Content-Type": FORM},
            allow_redirects=False,
        ) as response:
            back = await self._redirect(response, "POST authorize")
        params = query_parameters(back)
        if not back.startswith(self.link.redirect_uri) or "code" not in params:
            raise FlowError(f"allow went to {back} without a code")
        if params.get("state") != state:
            raise FlowError("allow did not echo the state")
        async with self.session.post(
            self.base_url + TOKEN_PATH,
            data=code_exchange_form(self.link, params["code"], verifier),
            headers={"Content-Type": FORM},
        ) as response:
            text = await response.text()
            if response.status != 200:
                raise FlowError(f"the code exchange answered {response.status}: {text[:200]}")
        return token_pair(json.loads(text))

    async def rest_call(self, access_token: str) -> None:
        """One REST call with the Bearer token; it must be made as the user."""
        async with self.session.get(
            self.base_url + PROPERTIES_PATH,
            headers={"Authorization": f"Bearer {access_token}"},
        ) as response:
            await response.read()
            who = response.headers.get("X-AUSERNAME")
            if response.status != 200 or who != self.user:
                raise FlowError(
                    f"GET {PROPERTIES_PATH} with the token answered {response.status} "
                    f"as {who or 'anonymous'}"
                )

    async def full_login(self) -> TokenPair:
        """A full login: the flow and one REST call with the new access token."""
        pair = await self.tokens()
        await self.rest_call(pair.access_token)
        return pair


async def prepare(
    session: aiohttp.ClientSession, base_url: str, name: str, link: Link | None = None
) -> tuple[Link, str]:
    """A link (a fresh one named ``name`` unless given) and alice's browser session cookie."""
    if link is None:
        link = await create_link(session, base_url, name)
    cookie = await form_login(session, base_url)
    return link, cookie


async def mint_pairs(
    base_url: str, count: int, name: str = "bench", link: Link | None = None
) -> tuple[Link, list[TokenPair]]:
    """The link (new unless given) and ``count`` token pairs, each from the real flow."""
    async with client_session(1) as session:
        link, cookie = await prepare(session, base_url, name, link)
        flow = LoginFlow(session, base_url, link, cookie)
        pairs = [await flow.tokens() for _ in range(count)]
    return link, pairs


# -- measurement -------------------------------------------------------------------------------


@dataclass
class LoginCounts:
    """What the measured window saw."""

    ok: int = 0
    failed: int = 0
    total: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Completed logins per second of the window."""
        return self.ok / self.seconds if self.seconds else 0.0


async def measure_logins(
    flow: LoginFlow, concurrency: int, duration: float, warmup: float
) -> LoginCounts:
    """``concurrency`` workers doing full logins back to back; count those in the window."""
    loop = asyncio.get_running_loop()
    counts = LoginCounts(seconds=duration)
    window_start = loop.time() + warmup
    window_end = window_start + duration

    async def worker() -> None:
        while loop.time() < window_end:
            try:
                await flow.full_login()
                ok = True
            except (FlowError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                ok = False
                if len(counts.errors) < 3:
                    counts.errors.append(str(exc))
            done = loop.time()
            counts.total += 1
            if window_start <= done < window_end:
                if ok:
                    counts.ok += 1
                else:
                    counts.failed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


@dataclass
class LoginRun:
    """The counts and the CPU seconds the server and this client used while measuring."""

    counts: LoginCounts
    elapsed: float
    server_cpu: float | None
    client_cpu: float


async def _login_run(server: Server, concurrency: int, duration: float, warmup: float) -> LoginRun:
    async with client_session(concurrency) as session:
        link, cookie = await prepare(session, server.url, "bench oauth2_login")
        flow = LoginFlow(session, server.url, link, cookie)
        await flow.full_login()  # one untimed login: every step works before we measure
        server_before, client_before = cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        counts = await measure_logins(flow, concurrency, duration, warmup)
        elapsed = time.perf_counter() - started
        server_after, client_after = cpu_seconds(server.pid), time.process_time()
    server_cpu = (
        None if server_before is None or server_after is None else server_after - server_before
    )
    return LoginRun(counts, elapsed, server_cpu, client_after - client_before)


def run(
    concurrency: int = CONCURRENCY, duration: float = DURATION, warmup: float = WARMUP
) -> Result:
    """Measure full logins per second against the simulator; goal :data:`GOAL`."""
    result = Result(NAME, "full OAuth 2 logins/second from one client process")
    result.add(
        "a login",
        "GET authorize -> GET consent page -> POST allow -> POST token (authorization_code, "
        "S256) -> GET application-properties with the Bearer token",
    )
    result.add("not in it", f"the login form: {USER} logged in once before, its session reused")
    result.add("load", f"{concurrency} logins in flight, {warmup:g} s warm-up + {duration:g} s")
    with serving(sim_command()) as sim:
        try:
            measured = asyncio.run(_login_run(sim, concurrency, duration, warmup))
        except (FlowError, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            result.unavailable = f"a full login did not work: {exc}"
            return result
    describe(result, measured)
    result.check("logins/second", measured.counts.per_second, GOAL, at_most=False)
    return result


def describe(result: Result, measured: LoginRun) -> None:
    """Add the figures of a measured run to the result."""
    counts = measured.counts
    result.add(
        "simulator",
        f"{counts.per_second:,.1f} logins/s ({counts.ok} in {counts.seconds:g} s, "
        f"{REQUESTS_PER_LOGIN * counts.per_second:,.0f} requests/s)",
    )
    client_busy = measured.client_cpu / measured.elapsed if measured.elapsed else 0.0
    if measured.server_cpu is not None and counts.total:
        per_login = measured.server_cpu / counts.total
        server_busy = measured.server_cpu / measured.elapsed if measured.elapsed else 0.0
        result.add(
            "server CPU",
            f"{fmt_seconds(per_login)}/login, busy {server_busy:.0%} "
            f"(if the server were the bottleneck: {ratio(1.0, per_login):,.0f} logins/s; "
            "not checked)",
        )
        result.add("client CPU", f"busy {client_busy:.0%} (this process)")
        if server_busy < 0.8 and verdict(counts.per_second, GOAL, at_most=False) == "MISS":
            result.notes.append("the server was not saturated: the client process limits the rate")
    if counts.failed:
        result.notes.append(f"{counts.failed} logins failed (not counted): {counts.errors}")
