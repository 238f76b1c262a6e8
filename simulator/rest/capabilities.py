"""``GET /rest/capabilities``: what this Bitbucket offers, as Atlassian's own Jenkins
integration reads it (its ``BitbucketCapabilitiesClient`` and the test fixtures
``capabilities-response.json`` and ``capabilities-missing-webhook.json``).

``application`` is ``stash`` (Bitbucket's old name, still reported), ``buildDate`` the
ISO form of ``application-properties``' date, ``links.self`` this resource, and
``capabilities`` maps a name to the URL describing it. Only what the simulator serves is
listed (:data:`SERVED`): a client must not be told of a capability it would then find
missing, and the Jenkins plugin reads a missing ``webhooks`` as "no webhooks" (the second
fixture). Anonymous, like ``application-properties``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from simulator.errors import json_response
from simulator.rest import link, store_of
from simulator.rest.properties import build_date

#: Capability name -> the path (under the context) describing it; empty until one is served.
SERVED: dict[str, str] = {}


def capabilities_json(base_url: str, build_date_ms: int) -> dict[str, object]:
    """The capabilities document for a base URL and build date."""
    moment = datetime.fromtimestamp(build_date_ms / 1000, tz=UTC)
    return {
        "links": {"self": base_url + "/rest/capabilities"},
        "application": "stash",
        "buildDate": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "capabilities": {name: base_url + path for name, path in SERVED.items()},
    }


async def get_capabilities(request: web.Request) -> web.Response:
    """The application, its build date and the capabilities served."""
    store = store_of(request)
    body = capabilities_json(link(request, ""), int(build_date(store.config.version)))
    return json_response(body)
