"""The driver protocol (``docs/driver-protocol.md``): JSON endpoints the harness calls.

Each handler parses, calls one :class:`~conformance.reference.service.Reference` operation
and serialises its :mod:`conformance.sut` answer; a refusal is ``{"error": ...}`` with its
status (400 malformed, 401 not logged in, 404 unknown id, 422 refused by the rules).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from conformance.reference.keys import reference_key
from conformance.reference.rules import RefusalError
from conformance.reference.service import Reference, entry
from conformance.sut import (
    Capabilities,
    CreatedIntegration,
    IntegrationSummary,
    RepositoryEntry,
    SessionState,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_answer(body: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(body, status=status)


def json_error(message: str, status: int) -> web.Response:
    """The protocol's error answer."""
    return json_answer({"error": message}, status)


def refusals_as_json(handler: Handler) -> Handler:
    """Answer a :class:`RefusalError` as ``{"error"}`` with its status."""

    @functools.wraps(handler)
    async def answering(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RefusalError as refusal:
            return json_error(refusal.message, refusal.status)

    return answering


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object in the request body; 400 otherwise."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise RefusalError("The body must be a JSON object.", 400) from None
    if not isinstance(body, dict):
        raise RefusalError("The body must be a JSON object.", 400)
    return body


def _reference(request: web.Request) -> Reference:
    return request.app[reference_key]


# -- serialisation ----------------------------------------------------------------------------


def capabilities_json(capabilities: Capabilities) -> dict[str, Any]:
    """``GET /capabilities``."""
    return {
        "protocol": capabilities.protocol,
        "name": capabilities.name,
        "oauth_versions": list(capabilities.oauth_versions),
        "repositories": capabilities.repositories,
        "clock": capabilities.clock,
        "packages": capabilities.packages,
        "webhooks": capabilities.webhooks,
    }


def created_json(created: CreatedIntegration) -> dict[str, Any]:
    """``POST /integrations`` (the OAuth 1 fields only when present)."""
    body: dict[str, Any] = {
        "id": created.id,
        "setup_link": created.setup_link,
        "callback_urls": list(created.callback_urls),
        "client_id": created.client_id,
        "client_secret": created.client_secret,
        "messages": list(created.messages),
    }
    for name in ("consumer_key", "public_key", "application_url"):
        value = getattr(created, name)
        if value is not None:
            body[name] = value
    return body


def summary_json(summary: IntegrationSummary) -> dict[str, Any]:
    """One row of ``GET /integrations``."""
    return {
        "id": summary.id,
        "platform": summary.platform,
        "base_url": summary.base_url,
        "oauth_version": summary.oauth_version,
        "login_link": summary.login_link,
    }


def session_json(state: SessionState) -> dict[str, Any]:
    """``GET /session``."""
    return {"authenticated": state.authenticated, "username": state.username, "error": state.error}


def repository_json(row: RepositoryEntry) -> dict[str, Any]:
    """One row of ``GET /repositories``."""
    return {"project": row.project, "slug": row.slug, "has_composer_json": row.has_composer_json}


# -- handlers ---------------------------------------------------------------------------------


@refusals_as_json
async def get_capabilities(request: web.Request) -> web.Response:
    """``GET /capabilities``."""
    return json_answer(capabilities_json(_reference(request).capabilities()))


@refusals_as_json
async def post_reset(request: web.Request) -> web.Response:
    """``POST /reset``: forget integrations and sessions."""
    _reference(request).reset()
    return web.Response(status=204)


@refusals_as_json
async def post_clock(request: web.Request) -> web.Response:
    """``POST /clock`` ``{"advance_seconds": N}``: time passed (when the rules offer it)."""
    reference = _reference(request)
    if not reference.rules.OFFERS_CLOCK:
        raise RefusalError("This integration has no clock to move (capabilities.clock).", 404)
    seconds = (await read_object(request)).get("advance_seconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
        raise RefusalError("advance_seconds must be a whole number of seconds, 0 or more.", 400)
    reference.advance_clock(seconds)
    return web.Response(status=204)


@refusals_as_json
async def post_integration(request: web.Request) -> web.Response:
    """``POST /integrations``: the Add Integration form, before the credentials."""
    body = await read_object(request)
    created = await _reference(request).create_integration(
        body.get("platform"), body.get("base_url"), body.get("oauth_version")
    )
    return json_answer(created_json(created), 201)


@refusals_as_json
async def post_submit(request: web.Request) -> web.Response:
    """``POST /integrations/{id}/submit``: "Create Integration"."""
    reference = _reference(request)
    integration = reference.integration(request.match_info["id"])
    body = await read_object(request)
    result = await reference.submit(
        integration.id, body.get("client_id"), body.get("client_secret")
    )
    if result.redirect_to is None:
        return json_error(result.error or "The integration was not created.", 422)
    return json_answer({"redirect_to": result.redirect_to})


@refusals_as_json
async def get_integrations(request: web.Request) -> web.Response:
    """``GET /integrations``: created integrations with their login links."""
    return json_answer([summary_json(s) for s in _reference(request).integrations()])


@refusals_as_json
async def get_session(request: web.Request) -> web.Response:
    """``GET /session`` with the browser's cookies."""
    reference = _reference(request)
    state = await reference.session_state(reference.session_for(request.cookies))
    return json_answer(session_json(state))


@refusals_as_json
async def get_repositories(request: web.Request) -> web.Response:
    """``GET /repositories`` with the browser's cookies."""
    reference = _reference(request)
    repositories = await reference.repositories(reference.session_for(request.cookies))
    return json_answer([repository_json(entry(r)) for r in repositories])


@refusals_as_json
async def get_packages(request: web.Request) -> web.Response:
    """``GET /packages`` with the browser's cookies: the user's packages as held now."""
    reference = _reference(request)
    return json_answer(reference.composer.json(reference.session_for(request.cookies)))


@refusals_as_json
async def post_packages_sync(request: web.Request) -> web.Response:
    """``POST /packages/sync`` with the browser's cookies: synchronise now."""
    reference = _reference(request)
    await reference.composer.synchronise(reference.session_for(request.cookies))
    return web.Response(status=204)


@refusals_as_json
async def post_code_credentials(request: web.Request) -> web.Response:
    """``POST /code-credentials`` ``{"username", "token"}``: a personal access token to
    set up webhooks with."""
    reference = _reference(request)
    if not reference.capabilities().webhooks:
        raise RefusalError("This integration sets up no webhooks (capabilities.webhooks).", 404)
    body = await read_object(request)
    reference.webhooks.add_credential(body.get("username"), body.get("token"))
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    """The driver protocol (``GET /integrations`` is routed in :mod:`.app`, shared with the
    HTML list)."""
    return [
        web.get("/capabilities", get_capabilities),
        web.post("/reset", post_reset),
        web.post("/clock", post_clock),
        web.post("/integrations", post_integration),
        web.post("/integrations/{id}/submit", post_submit),
        web.get("/session", get_session),
        web.get("/repositories", get_repositories),
        web.get("/packages", get_packages),
        web.post("/packages/sync", post_packages_sync),
        web.post("/code-credentials", post_code_credentials),
    ]
