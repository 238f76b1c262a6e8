"""Shared pieces of every HTML page: templates, responses, redirects and XSRF tokens.

Templates live in ``simulator/web/templates/`` (``string.Template`` syntax, ``$name``).
Values passed as ``text`` are HTML-escaped; only markup built in code goes in ``markup``.
Every template also places the page's frame (head, header bar, admin sidebar, footer) with
the ``$_head``, ``$_header``, ``$_admin_nav`` and ``$_footer`` placeholders, which
:func:`render` fills from :mod:`simulator.web.layout`.

XSRF: a form carries ``atl_token``, an HMAC of the browser session id, so a token from
another or an earlier session never passes. Callers without a session (HTTP Basic, tokens)
must send ``X-Atlassian-Token: no-check`` instead, as Bitbucket's non-browser clients do.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from simulator.store import SESSION_COOKIE, Store
from simulator.web.layout import chrome

HTML_CONTENT_TYPE = "text/html;charset=UTF-8"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
XSRF_FIELD = "atl_token"


@lru_cache(maxsize=64)
def _template(name: str) -> string.Template:
    return string.Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def escape(text: str) -> str:
    """HTML-escape text for an element body or a quoted attribute."""
    return html.escape(text, quote=True)


def render(name: str, markup: Mapping[str, str] | None = None, **text: str) -> str:
    """Fill a template: ``text`` values are escaped, ``markup`` values are trusted markup;
    the frame's placeholders (``$_header``, ...) come from the request's layout."""
    values = chrome(name)
    values.update({key: escape(value) for key, value in text.items()})
    values.update(markup or {})
    return _template(name).substitute(values)


def html_response(page: str, status: int = 200) -> web.Response:
    """An HTML page with Bitbucket's content type."""
    return web.Response(
        body=page.encode("utf-8"), status=status, headers={"Content-Type": HTML_CONTENT_TYPE}
    )


def ascii_location(location: str) -> str:
    """``location`` with every non-ASCII character percent-encoded as UTF-8 (RFC 3986), so
    that the header is valid and every client reads the same address; ASCII is kept as it
    is, escapes included."""
    if location.isascii():
        return location
    return quote(location, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def redirect(location: str, status: int = 302) -> web.Response:
    """A redirect (302 by default) to an absolute URL."""
    return web.Response(status=status, headers={"Location": ascii_location(location)})


def xsrf_token(store: Store, request: web.Request) -> str:
    """The XSRF token of this request's browser session ('' without a session)."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id not in store.sessions:
        return ""
    digest = hmac.new(store.xsrf_secret, session_id.encode(), hashlib.sha256).hexdigest()
    return digest[:40]


def xsrf_ok(store: Store, request: web.Request, form: Mapping[str, str]) -> bool:
    """Whether a form POST passes Bitbucket's XSRF check."""
    expected = xsrf_token(store, request)
    if expected:
        given = form.get(XSRF_FIELD, "")
        return hmac.compare_digest(expected.encode(), given.encode())
    return request.headers.get("X-Atlassian-Token", "").lower() == "no-check"
