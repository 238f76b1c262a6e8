"""``create_app(reference)``: the reference integration as one aiohttp application.

While it runs, its HTTP client to Bitbucket is open and its poller (:mod:`.polling`) runs.

It serves the driver protocol (JSON, :mod:`.protocol`), the pages people use (:mod:`.pages`),
and the users' Composer repository and webhook receiver (:mod:`.composer_repository`).
``GET /integrations`` is both: a browser (``Accept: text/html``) gets the page, every other
caller the JSON list. One middleware answers unknown paths, wrong methods
and unexpected failures as ``{"error"}`` (or a page for browsers), never a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from conformance.reference import composer_repository, pages, protocol
from conformance.reference.keys import reference_key
from conformance.reference.models import ReferenceState
from conformance.reference.protocol import Handler
from conformance.reference.service import Reference

log = logging.getLogger("conformance.reference")


def wants_html(request: web.Request) -> bool:
    """Whether the caller is a browser asking for a page."""
    return "text/html" in request.headers.get("Accept", "")


async def get_integrations(request: web.Request) -> web.StreamResponse:
    """``GET /integrations``: the page for browsers, the protocol's JSON otherwise."""
    if wants_html(request):
        return await pages.integrations_page(request)
    return await protocol.get_integrations(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors as ``{"error"}`` (a page for browsers); unexpected ones logged, answered 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = f"{request.method} {request.path}: {exc.reason}"
        status = exc.status
    except Exception as exc:
        log.exception("the reference failed on %s %s", request.method, request.path)
        message = f"The reference failed: {type(exc).__name__}: {exc}"
        status = 500
    if wants_html(request):
        return pages.message_page("Error", message, status)
    return protocol.json_error(message, status)


def create_app(reference: Reference | None = None) -> web.Application:
    """The reference app; its HTTP client to Bitbucket lives as long as the app runs."""
    reference = reference or Reference(ReferenceState())
    app = web.Application(middlewares=[error_middleware])
    app[reference_key] = reference

    async def http_client(_: web.Application) -> AsyncIterator[None]:
        await reference.open()
        reference.poller.start()
        yield
        await reference.poller.stop()
        await reference.close()

    app.cleanup_ctx.append(http_client)
    app.add_routes(protocol.routes())
    app.add_routes(pages.routes())
    app.add_routes(composer_repository.routes())
    app.router.add_get("/integrations", get_integrations)
    return app
