"""What the control API refuses before any handler runs: a request from a web page.

The control API changes everything (links, secrets, the clock), so a page the developer
visits must not reach it through their browser: on ``make serve``'s fixed port a cross-site
form could plant a link, and through DNS rebinding a page could read every client secret.
A browser cannot hide what gives it away, so the control API refuses:

- a ``Host`` that is not the server's (DNS rebinding: the attacker's name resolving to
  127.0.0.1): allowed are the loopback names, the base URL's host, the bound host and the
  ``control_hosts`` setting (containers reach the simulator under other names);
- an ``Origin`` other than the server's own (a cross-site ``fetch`` or form sends one);
- a request body that is not JSON (every cross-site form is ``application/x-www-form-
  urlencoded``, ``multipart/form-data`` or ``text/plain``, which need no CORS preflight).

Each refusal is a 403 (or 415 for the content type) in Bitbucket's error envelope.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from simulator.errors import BitbucketError
from simulator.keys import settings_key, store_key

LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})
#: Bind addresses that name no host of their own.
WILDCARD_HOSTS: Final = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared, not bound
#: Methods whose requests carry no body.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_TYPES: Final = frozenset({"application/json"})
#: What an HTML form or a CORS-free ``fetch`` can send: refused even without a body.
FORM_TYPES: Final = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


class ForeignRequestError(BitbucketError):
    """403: the request comes from elsewhere than a test client (another Host or Origin)."""

    status = 403
    exception_name = "com.atlassian.bitbucket.AuthorisationException"


class UnsupportedMediaError(BitbucketError):
    """415: the control API reads JSON only."""

    status = 415
    exception_name = "javax.ws.rs.NotSupportedException"


def hostname_of(host: str) -> str:
    """The name part of a ``Host`` header (``[::1]:7990`` -> ``::1``), lower-cased."""
    return (urlsplit(f"//{host}").hostname or "").lower()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_hosts(request: web.Request) -> frozenset[str]:
    """The host names the control API answers to."""
    settings = request.app[settings_key]
    names = set(LOOPBACK_NAMES) | {name.lower() for name in settings.control_hosts}
    base_url = request.app[store_key].base_url or settings.base_url
    if base_url:
        names.add((urlsplit(base_url).hostname or "").lower())
    if settings.host not in WILDCARD_HOSTS:
        names.add(settings.host.lower())
    return frozenset(names)


def acceptable_type(request: web.Request) -> bool:
    """JSON, or no body at all under any type but a form's (``POST /_sim/reset`` needs no
    body; clients label an empty one ``application/octet-stream``)."""
    if "Content-Type" not in request.headers or request.content_type in JSON_TYPES:
        return True
    empty = request.content_length == 0 or (
        request.content_length is None and "Transfer-Encoding" not in request.headers
    )
    return empty and request.content_type not in FORM_TYPES


def check_request(request: web.Request) -> None:
    """Raise unless the request may reach the control API (see the module's docstring)."""
    host = request.headers.get("Host", "")
    if hostname_of(host) not in allowed_hosts(request):
        raise ForeignRequestError(
            f"The control API does not answer for the host {host!r}: add it to the "
            "control_hosts setting (BBDC_SIM_CONTROL_HOSTS) if the simulator is reached "
            "under that name.",
            "Host",
        )
    origin = request.headers.get("Origin")
    if origin is not None:
        own = {f"{request.scheme}://{host}".lower()}
        base_url = request.app[store_key].base_url
        if base_url:
            own.add(origin_of(base_url))
        if origin.lower() not in own:
            raise ForeignRequestError(
                f"The control API refuses requests from web pages of another origin ({origin!r}).",
                "Origin",
            )
    if request.method not in SAFE_METHODS and not acceptable_type(request):
        raise UnsupportedMediaError(
            f"The control API reads JSON only (Content-Type: application/json), not "
            f"{request.content_type}.",
            "Content-Type",
        )
