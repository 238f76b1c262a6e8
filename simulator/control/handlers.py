"""Handlers of the control API under ``/_sim/`` (not part of Bitbucket).

Each handler parses (see :mod:`simulator.control.parsing`), acts on the store, and answers
JSON with Bitbucket's content type; errors use Bitbucket's envelope. When the simulator runs
with a control token, every handler first checks ``X-Sim-Control-Token``.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from aiohttp import web

from simulator.config import ConfigError
from simulator.contract import hidden
from simulator.control import parsing
from simulator.control.guard import check_request
from simulator.errors import (
    AuthorisationError,
    BitbucketError,
    MethodNotAllowedError,
    NotFoundError,
    ValidationError,
    json_response,
)
from simulator.faults import TooManyFaultsError
from simulator.journal import app_path
from simulator.keys import settings_key, store_key
from simulator.oauth1.backend import OAuth1ValidationError
from simulator.oauth1.models import OAuth1Link
from simulator.oauth2.errors import ClientValidationError
from simulator.oauth2.models import OAuth2Client
from simulator.store import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_HEADER = "X-Sim-Control-Token"


class ControlTokenError(BitbucketError):
    """401: the control API runs with a token and the request lacks it or has a wrong one."""

    status = 401
    exception_name = AuthorisationError.exception_name

    def __init__(self) -> None:
        super().__init__(
            f"The control API requires a valid {CONTROL_HEADER} header.", CONTROL_HEADER
        )


def _store(request: web.Request) -> Store:
    return request.app[store_key]


def check_control_token(request: web.Request) -> None:
    """Raise :class:`ControlTokenError` unless the request carries the configured token."""
    expected = request.app[settings_key].control_token
    if not expected:
        return
    given = request.headers.get(CONTROL_HEADER, "")
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise ControlTokenError()


#: Operations that answer without the control token (a container's health check has none).
OPEN_HANDLERS: frozenset[str] = frozenset({"get_health"})


def guarded(handler: Handler) -> Handler:
    """Wrap a control handler with the checks of :mod:`simulator.control.guard` and the
    control-token check."""

    @functools.wraps(handler)
    async def with_token(request: web.Request) -> web.StreamResponse:
        check_request(request)
        if handler.__name__ not in OPEN_HANDLERS:
            check_control_token(request)
        return await handler(request)

    return with_token


async def _json_body(request: web.Request) -> dict[str, Any]:
    return parsing.json_object(await request.read())


def clock_json(store: Store) -> dict[str, Any]:
    """The simulated now, read once so that both forms agree, and the offset."""
    now = store.clock.now()
    return {"now": now, "now_ms": int(now * 1000), "offset_seconds": store.clock.offset}


# -- health, reset, config ---------------------------------------------------------------------


async def get_health(request: web.Request) -> web.Response:
    """Whether the simulator is up, and the Bitbucket version it reports."""
    return json_response({"status": "ok", "version": str(_store(request).config.version)})


async def reset(request: web.Request) -> web.Response:
    """Put config, clock, sessions, tokens, journal and faults back to the seed, in place."""
    _store(request).reset()
    return json_response({"reset": True})


async def get_config(request: web.Request) -> web.Response:
    """The runtime configuration."""
    return json_response(_store(request).config.to_json())


async def update_config(request: web.Request) -> web.Response:
    """Merge a JSON object into the runtime configuration, all or nothing."""
    body = await _json_body(request)
    config = _store(request).config
    try:
        config.patch(body)
    except ConfigError as exc:
        raise ValidationError(str(exc), parsing.config_error_context(exc)) from None
    return json_response(config.to_json())


# -- clock -----------------------------------------------------------------------------------


async def get_clock(request: web.Request) -> web.Response:
    """The simulated now."""
    return json_response(clock_json(_store(request)))


async def advance_clock(request: web.Request) -> web.Response:
    """Move simulated time forward by ``advance_seconds``."""
    store = _store(request)
    seconds = parsing.advance_seconds(await _json_body(request), store.clock.offset)
    store.clock.advance(seconds)
    return json_response(clock_json(store))


# -- journal ---------------------------------------------------------------------------------


async def get_journal(request: web.Request) -> web.Response:
    """The recorded exchanges, oldest first, optionally filtered by path prefix and method."""
    wanted = parsing.JournalFilter.from_query(request.query)
    entries = [e.to_json() for e in _store(request).journal.entries() if wanted.admits(e)]
    return json_response({"entries": entries, "size": len(entries)})


async def clear_journal(request: web.Request) -> web.Response:
    """Forget every recorded exchange."""
    _store(request).journal.clear()
    return web.Response(status=204)


# -- faults ----------------------------------------------------------------------------------


async def get_faults(request: web.Request) -> web.Response:
    """The faults in force, in matching order, with the uses they have left."""
    faults = [fault.to_json() for fault in _store(request).faults.faults]
    return json_response({"faults": faults, "size": len(faults)})


async def add_fault(request: web.Request) -> web.Response:
    """Put a fault in force for a path prefix."""
    fault = parsing.fault(await _json_body(request))
    try:
        _store(request).faults.add(fault)
    except TooManyFaultsError as exc:
        raise ValidationError(str(exc), "faults") from None
    return json_response(fault.to_json(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    """Remove every fault."""
    _store(request).faults.clear()
    return web.Response(status=204)


# -- application links ---------------------------------------------------------------------


def applink_json(client: OAuth2Client) -> dict[str, Any]:
    """An OAuth 2 link as the control API shows it (with its credentials)."""
    return {
        "type": "oauth2",
        "id": client.id,
        "name": client.name,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "redirect_urls": list(client.redirects),
        "scope": client.scope,
    }


async def get_applinks(request: web.Request) -> web.Response:
    """Every application link (OAuth 2 and OAuth 1), oldest first, with credentials."""
    store = _store(request)
    dated = [(c.created_ms, applink_json(c)) for c in store.oauth2.clients.values()]
    dated += [(link.created_ms, link.to_json()) for link in store.oauth1.links.values()]
    links = [body for _, body in sorted(dated, key=lambda pair: pair[0])]
    return json_response({"applinks": links, "size": len(links)})


async def create_applink(request: web.Request) -> web.Response:
    """Create an incoming link in one call, as an admin would on the admin pages."""
    store = _store(request)
    wanted = parsing.applink(await _json_body(request))
    from simulator.applinks.pages import link_name_taken  # the pages load on first use

    if link_name_taken(store, wanted.name):
        raise ValidationError(f"An application named {wanted.name} already exists.", "name")
    if isinstance(wanted, parsing.OAuth1LinkRequest):
        return json_response(create_oauth1_link(store, wanted).to_json(), status=201)
    if not store.config.version.supports_oauth2:
        raise ValidationError(
            f"OAuth 2 links need Bitbucket 7.21 or later; this is {store.config.version}.",
            "type",
        )
    admin = store.catalog.users_by_name["admin"]
    try:
        client = store.oauth2.create_client(
            wanted.name, wanted.redirect_urls, wanted.scopes, user_key=str(admin.id)
        )
    except ClientValidationError as exc:
        context = "redirect_urls" if exc.field == "redirects" else exc.field
        raise ValidationError(exc.message, context) from None
    return json_response(applink_json(client), status=201)


def create_oauth1_link(store: Store, wanted: parsing.OAuth1LinkRequest) -> OAuth1Link:
    """An OAuth 1 link (every version has them); bad fields are 400 naming the field."""
    if wanted.execute_as and wanted.execute_as.lower() not in store.catalog.users_by_name:
        raise ValidationError(f"No user is named {wanted.execute_as}.", "execute_as")
    try:
        return store.oauth1.create_link(
            name=wanted.name,
            consumer_key=wanted.consumer_key,
            public_key=wanted.public_key,
            consumer_name=wanted.consumer_name,
            description=wanted.description,
            callback_url=wanted.callback_url,
            two_legged=wanted.two_legged,
            execute_as=wanted.execute_as,
            impersonation=wanted.impersonation,
        )
    except OAuth1ValidationError as exc:
        raise ValidationError(exc.message, exc.field) from None


# -- OpenAPI ---------------------------------------------------------------------------------


async def get_openapi(request: web.Request) -> web.Response:
    """An OpenAPI 3.1 document of the control API and every simulated endpoint."""
    from simulator.control.openapi import build_document  # built on demand, not at start-up

    store = _store(request)
    settings = request.app[settings_key]
    return json_response(build_document(request.app.router.routes(), store, settings))


# -- everything else under /_sim/ ------------------------------------------------------------


def make_fallback(known_paths: Mapping[str, Collection[str]]) -> Handler:
    """A catch-all for ``/_sim/``: 405 on a known path, else 404 (after the token check)."""

    @hidden
    async def control_fallback(request: web.Request) -> web.Response:
        allowed = known_paths.get(app_path(request))
        if allowed is not None:
            raise MethodNotAllowedError(request.method, request.path, allowed)
        raise NotFoundError(request.path)

    return control_fallback
