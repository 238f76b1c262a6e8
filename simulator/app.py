"""``create_app(settings)``: the whole simulated Bitbucket as one aiohttp application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from simulator import control, logredact, rest_routes, web_routes
from simulator.applinks import routes as applinks_routes
from simulator.auth import make_auth_middleware, make_headers_middleware
from simulator.errors import Handler, NotFoundError, error_middleware
from simulator.faults import make_fault_middleware
from simulator.journal import app_path, make_journal_middleware
from simulator.keys import settings_key, store_key
from simulator.oauth1 import routes as oauth1_routes
from simulator.oauth2 import routes as oauth2_routes
from simulator.persistence import StateFile, make_state_middleware
from simulator.settings import Settings
from simulator.store import Store
from simulator.tfa import routes as tfa_routes
from simulator.web.login import get_context_root
from simulator.web.middleware import make_layout_middleware


def create_app(settings: Settings | None = None, store: Store | None = None) -> web.Application:
    """Build the simulator. With a context path in the base URL, everything is served under it."""
    settings = settings or Settings()
    store = store or Store(settings)
    logredact.install()
    persistent = []
    if settings.state_file:
        state = StateFile(Path(settings.state_file))
        state.load(store)
        persistent.append(make_state_middleware(state, store))
    app = web.Application(
        middlewares=[
            *persistent,
            make_journal_middleware(store.journal, store.clock.now),
            make_headers_middleware(store),
            error_middleware,
            make_fault_middleware(store.faults, settings.context_path),
            make_version_gate(store),
            make_auth_middleware(store),
            make_layout_middleware(store),
        ],
        client_max_size=4 * 1024 * 1024,
    )
    app[settings_key] = settings
    app[store_key] = store
    app.add_routes(rest_routes.routes())
    app.add_routes(web_routes.routes())
    app.add_routes(control.routes())
    app.add_routes(oauth2_routes.routes())
    app.add_routes(oauth1_routes.routes())
    app.add_routes(applinks_routes.routes())
    app.add_routes(tfa_routes.routes())
    context = settings.context_path
    if not context:
        return app
    root = web.Application(middlewares=[error_middleware])
    root[settings_key] = settings
    root[store_key] = store
    root.router.add_get(context, get_context_root)  # before the sub-app, which would 404 it
    root.add_subapp(context + "/", app)
    return root


#: Paths that exist only where the OAuth 2 provider does (7.21 and later).
OAUTH2_PREFIXES = ("/rest/oauth2/", "/plugins/servlet/oauth2/")


def make_version_gate(store: Store) -> Any:
    """Answer 404 on every OAuth 2 path, REST and servlet, below 7.21."""

    @web.middleware
    async def version_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = app_path(request, store.settings.context_path)
        if path.startswith(OAUTH2_PREFIXES) and not store.config.version.supports_oauth2:
            raise NotFoundError(request.path)
        return await handler(request)

    return version_gate
