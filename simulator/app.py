"""``create_app(settings)``: the whole simulated Bitbucket as one aiohttp application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from simulator import control, logredact, rest_routes, web_routes
from simulator.applinks import routes as applinks_routes
from simulator.errors import error_middleware
from simulator.git import routes as git_routes
from simulator.keys import settings_key, store_key
from simulator.oauth1 import routes as oauth1_routes
from simulator.oauth2 import routes as oauth2_routes
from simulator.pipeline import make_pipeline
from simulator.settings import Settings
from simulator.store import Store
from simulator.tfa import routes as tfa_routes
from simulator.web.login import get_context_root


def create_app(settings: Settings | None = None, store: Store | None = None) -> web.Application:
    """Build the simulator. With a context path in the base URL, everything is served under it."""
    settings = settings or Settings()
    store = store or Store(settings)
    logredact.install()
    state = None
    if settings.state_file:
        from simulator.persistence import StateFile  # sqlite3 only when asked for

        state = StateFile(Path(settings.state_file))
        state.load(store)
    app = web.Application(
        middlewares=[make_pipeline(store, state)],
        client_max_size=4 * 1024 * 1024,
    )
    app[settings_key] = settings
    app[store_key] = store
    if state is not None:
        app.on_startup.append(_restore_repositories)
    app.on_cleanup.append(_stop_webhooks)
    app.add_routes(rest_routes.routes())
    app.add_routes(web_routes.routes())
    app.add_routes(control.routes())
    app.add_routes(oauth2_routes.routes())
    app.add_routes(oauth1_routes.routes())
    app.add_routes(applinks_routes.routes())
    app.add_routes(tfa_routes.routes())
    app.add_routes(git_routes.routes())
    context = settings.context_path
    if not context:
        return app
    root = web.Application(middlewares=[error_middleware])
    root[settings_key] = settings
    root[store_key] = store
    root.router.add_get(context, get_context_root)  # before the sub-app, which would 404 it
    root.add_subapp(context + "/", app)
    return root


async def _restore_repositories(app: web.Application) -> None:
    await app[store_key].restore_changed_repositories()


async def _stop_webhooks(app: web.Application) -> None:
    """Cancel the webhook deliveries still queued and close their client."""
    dispatcher = app[store_key].webhooks.dispatcher
    if dispatcher is not None:
        from simulator.webhooks.dispatch import Dispatcher

        assert isinstance(dispatcher, Dispatcher)
        await dispatcher.close()
