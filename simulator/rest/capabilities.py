"""``GET /rest/capabilities``: what this Bitbucket offers, as Atlassian's own Jenkins
integration reads it (its ``BitbucketCapabilitiesClient`` and the test fixtures
``capabilities-response.json`` and ``capabilities-missing-webhook.json``).

``application`` is ``stash`` (Bitbucket's old name, still reported), ``buildDate`` the
ISO form of ``application-properties``' date, ``links.self`` this resource, and
``capabilities`` maps a name to the URL describing it. Only what the simulator serves is
listed (:data:`SERVED`): a client must not be told of a capability it would then find
missing, and the Jenkins plugin reads a missing ``webhooks`` as "no webhooks" (the second
fixture). Anonymous, like ``application-properties``.

``GET /rest/webhooks/{1.0,latest}/capabilities`` (from 5.4, where webhooks begin) lists the
events a webhook may subscribe to, ``{"application-webhooks": [...]}``, as Atlassian's Jenkins
integration fixture ``webhook-capabilities-response.json`` shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from simulator.errors import NotFoundError, json_response
from simulator.rest import link, store_of
from simulator.rest.properties import build_date
from simulator.version import BitbucketVersion
from simulator.webhooks import EVENTS
from simulator.webhooks import SINCE as WEBHOOKS_SINCE

WEBHOOK_CAPABILITIES = "/rest/webhooks/latest/capabilities"
#: Capability name -> (the path under the context describing it, the first version serving it).
SERVED: dict[str, tuple[str, BitbucketVersion]] = {
    "webhooks": (WEBHOOK_CAPABILITIES, WEBHOOKS_SINCE),
}


def capabilities_json(
    base_url: str, build_date_ms: int, version: BitbucketVersion
) -> dict[str, object]:
    """The capabilities document for a base URL, build date and version."""
    moment = datetime.fromtimestamp(build_date_ms / 1000, tz=UTC)
    served = {name: path for name, (path, since) in SERVED.items() if version >= since}
    return {
        "links": {"self": base_url + "/rest/capabilities"},
        "application": "stash",
        "buildDate": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "capabilities": {name: base_url + path for name, path in served.items()},
    }


async def get_capabilities(request: web.Request) -> web.Response:
    """The application, its build date and the capabilities served."""
    store = store_of(request)
    version = store.config.version
    body = capabilities_json(link(request, ""), int(build_date(version)), version)
    return json_response(body)


async def get_webhook_capabilities(request: web.Request) -> web.Response:
    """The events a webhook may subscribe to; a 404 before Bitbucket 5.4."""
    if store_of(request).config.version < WEBHOOKS_SINCE:
        raise NotFoundError(request.path)
    return json_response({"application-webhooks": list(EVENTS)})
