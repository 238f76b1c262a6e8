"""``create_app(settings)``: the whole simulated Bitbucket as one aiohttp application."""

from __future__ import annotations

from aiohttp import web

from simulator import control, rest_routes, web_routes
from simulator.auth import make_auth_middleware, make_headers_middleware
from simulator.errors import error_middleware
from simulator.faults import make_fault_middleware
from simulator.journal import make_journal_middleware
from simulator.keys import settings_key, store_key
from simulator.settings import Settings
from simulator.store import Store


def create_app(settings: Settings | None = None, store: Store | None = None) -> web.Application:
    """Build the simulator. With a context path in the base URL, everything is served under it."""
    settings = settings or Settings()
    store = store or Store(settings)
    app = web.Application(
        middlewares=[
            make_journal_middleware(store.journal, store.clock.now),
            make_headers_middleware(store),
            error_middleware,
            make_fault_middleware(store.faults, ""),
            make_auth_middleware(store),
        ],
        client_max_size=4 * 1024 * 1024,
    )
    app[settings_key] = settings
    app[store_key] = store
    app.add_routes(rest_routes.routes())
    app.add_routes(web_routes.routes())
    app.add_routes(control.routes())
    context = settings.context_path
    if not context:
        return app
    root = web.Application(middlewares=[error_middleware])
    root[settings_key] = settings
    root[store_key] = store
    root.add_subapp(context + "/", app)
    return root
