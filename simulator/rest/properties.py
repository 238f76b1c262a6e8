"""``GET /rest/api/1.0/application-properties``: the version probe, open to anonymous callers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from aiohttp import web

from simulator.errors import JSON_CONTENT_TYPE
from simulator.rest import api_routes, store_of
from simulator.version import BitbucketVersion

#: A deterministic stand-in for the release date of 7.0.0; later versions are dated after it.
_DATE_OF_7_0 = datetime(2020, 3, 3, 12, 0, tzinfo=UTC)

#: The headers real Bitbucket sends with this resource (the user headers come from middleware).
_HEADERS = {
    "Content-Type": JSON_CONTENT_TYPE,
    "Cache-Control": "no-cache, no-transform",
    "Vary": "X-AUSERNAME,Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
}


def build_date(version: BitbucketVersion) -> str:
    """A deterministic ``buildDate``: epoch milliseconds, as a string, growing with the version."""
    days = (version.major - 7) * 365 + version.minor * 30 + version.patch * 7
    moment = _DATE_OF_7_0 + timedelta(days=days)
    return str(int(moment.timestamp()) * 1000)


def application_properties_json(version: BitbucketVersion) -> dict[str, str]:
    """``RestApplicationProperties``: every field is a string."""
    return {
        "version": str(version),
        "buildNumber": str(version.build_number),
        "buildDate": build_date(version),
        "displayName": "Bitbucket",
    }


@lru_cache(maxsize=64)
def _body(version: BitbucketVersion) -> bytes:
    return json.dumps(application_properties_json(version), separators=(",", ":")).encode()


async def get_application_properties(request: web.Request) -> web.Response:
    """The version, build number, build date and product name; no authentication needed."""
    return web.Response(body=_body(store_of(request).config.version), headers=_HEADERS)


def routes() -> list[web.RouteDef]:
    """This area's routes."""
    return api_routes("GET", "/application-properties", get_application_properties)
