"""Every browser-facing route (pages and servlets), gathered from their areas."""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy
from simulator.web import login, stylesheet
from simulator.webhooks import SETTINGS_PAGE

_BROWSE = "simulator.web.browse:"
_REPO = "/repos/{repositorySlug}"
#: The pages the REST API's links lead to (simulator.web.browse, loaded on first use).
ENTITY_PAGES = (
    ("/projects/{projectKey}", "get_project_page"),
    ("/users/{userSlug}", "get_user_page"),
    *(
        (owner + _REPO + tail, handler)
        for owner in ("/projects/{projectKey}", "/users/{userSlug}")
        for tail, handler in (
            ("", "get_repository_root"),
            ("/browse", "get_browse_page"),
            ("/browse/{path:[\\s\\S]+}", "get_browse_page"),  # any character: a 404 page
        )
    ),
)


_HOOKS = "simulator.webhooks.pages:"
#: A repository's webhook settings (simulator.webhooks.pages, loaded on first use).
WEBHOOK_PAGES = (
    ("GET", SETTINGS_PAGE, _HOOKS + "get_webhooks_page"),
    ("POST", SETTINGS_PAGE, _HOOKS + "post_webhooks_page"),
    ("POST", SETTINGS_PAGE + "/{webhookId}/delete", _HOOKS + "post_delete_webhook"),
)


def routes() -> list[web.RouteDef]:
    """All page routes, and the pages' stylesheet."""
    pages = [web.get(path, lazy(_BROWSE + name)) for path, name in ENTITY_PAGES]
    pages += [web.route(method, path, lazy(target)) for method, path, target in WEBHOOK_PAGES]
    return [*login.routes(), *stylesheet.routes(), *pages]
