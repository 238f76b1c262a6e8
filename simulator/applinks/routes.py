"""Routes of the Application Links area: the admin pages (OAuth 2 and OAuth 1 links) and the
OAuth 2 client REST, each handler :func:`~simulator.lazy.lazy` (imported on first use)."""

from __future__ import annotations

from aiohttp import web

from simulator.applinks.paths import (
    CLIENT_PREFIXES,
    CREATE_PATH,
    LINK_APPLICATIONS_PATH,
    LIST_PATH,
    NEW_INCOMING_PATH,
    NEW_OAUTH1_PATH,
    SERVLET,
)
from simulator.lazy import lazy

_PAGES = "simulator.applinks.pages:"
_OAUTH1 = "simulator.applinks.oauth1_pages:"
_CLIENTS = "simulator.applinks.client_rest:"
_OAUTH2_LINK = SERVLET + "/oauth2/{id}"
_OAUTH1_LINK = SERVLET + "/oauth1/{id}"

#: (method, path, handler as module:function), in matching order.
TABLE: tuple[tuple[str, str, str], ...] = (
    ("GET", LIST_PATH, _PAGES + "list_application_links"),
    ("GET", CREATE_PATH, _PAGES + "get_create_link"),
    ("POST", CREATE_PATH, _PAGES + "post_create_link"),
    ("GET", NEW_INCOMING_PATH, _PAGES + "get_new_incoming_link"),
    ("POST", NEW_INCOMING_PATH, _PAGES + "create_incoming_link"),
    ("GET", _OAUTH2_LINK + "/credentials", _PAGES + "get_client_credentials"),
    ("POST", _OAUTH2_LINK + "/credentials", _PAGES + "reset_client_secret"),
    ("GET", _OAUTH2_LINK + "/edit", _PAGES + "get_edit_client"),
    ("POST", _OAUTH2_LINK + "/edit", _PAGES + "update_client"),
    ("GET", _OAUTH2_LINK + "/delete", _PAGES + "get_delete_client"),
    ("POST", _OAUTH2_LINK + "/delete", _PAGES + "delete_client"),
    ("GET", NEW_OAUTH1_PATH, _OAUTH1 + "get_new_oauth1_link"),
    ("POST", NEW_OAUTH1_PATH, _OAUTH1 + "post_application_url"),
    ("GET", LINK_APPLICATIONS_PATH, _OAUTH1 + "get_link_applications"),
    ("POST", LINK_APPLICATIONS_PATH, _OAUTH1 + "post_link_applications"),
    ("GET", _OAUTH1_LINK + "/edit", _OAUTH1 + "get_edit_oauth1_link"),
    ("POST", _OAUTH1_LINK + "/edit", _OAUTH1 + "update_oauth1_link"),
    ("GET", _OAUTH1_LINK + "/delete", _OAUTH1 + "get_delete_oauth1_link"),
    ("POST", _OAUTH1_LINK + "/delete", _OAUTH1 + "delete_oauth1_link_page"),
)

#: The client resource, under each of :data:`CLIENT_PREFIXES`.
CLIENTS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/client", _CLIENTS + "get_clients"),
    ("POST", "/client", _CLIENTS + "create_client"),
    ("PUT", "/client/reset/{clientId}", _CLIENTS + "reset_client_secret"),
    ("GET", "/client/{id}", _CLIENTS + "get_client"),
    ("PUT", "/client/{id}", _CLIENTS + "update_client"),
    ("DELETE", "/client/{id}", _CLIENTS + "delete_client"),
)


def routes() -> list[web.RouteDef]:
    """The admin pages and the client resource."""
    table = [web.route(method, path, lazy(target)) for method, path, target in TABLE]
    for prefix in CLIENT_PREFIXES:
        table += [
            web.route(method, prefix + path, lazy(target)) for method, path, target in CLIENTS
        ]
    return table
