"""Bitbucket's REST API 1.0, served at both ``/rest/api/1.0/`` and ``/rest/api/latest/``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from simulator.access import Access
from simulator.auth import Principal, principal_of
from simulator.keys import store_key
from simulator.paging import PageRequest
from simulator.store import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PREFIXES = ("/rest/api/1.0", "/rest/api/latest")
#: A repository's path under the API prefixes.
REPO_PATH = "/projects/{projectKey}/repos/{repositorySlug}"


def api_routes(method: str, path: str, handler: Handler) -> list[web.RouteDef]:
    """One route per API prefix for ``path`` (which starts with ``/``)."""
    return [web.route(method, prefix + path, handler) for prefix in API_PREFIXES]


def store_of(request: web.Request) -> Store:
    """The simulator's store."""
    return request.app[store_key]


def access_of(request: web.Request) -> Access:
    """Permission decisions over the store's catalog and its changed grants."""
    return store_of(request).access()


def caller(request: web.Request) -> Principal:
    """The principal of this request."""
    return principal_of(request)


def page_request(request: web.Request) -> PageRequest:
    """The request's validated paging parameters."""
    return PageRequest.from_query(request.query, store_of(request).config.max_page_limit)


def link(request: web.Request, path: str) -> str:
    """An absolute link under the configured base URL."""
    return store_of(request).base_url + path
