"""Every route of Bitbucket's REST APIs the simulator serves, gathered from their areas."""

from __future__ import annotations

from aiohttp import web

from simulator.rest import access_tokens, files, projects, properties, refs, repos, users


def routes() -> list[web.RouteDef]:
    """All REST routes."""
    return [
        *properties.routes(),
        *users.routes(),
        *projects.routes(),
        *repos.routes(),
        *refs.routes(),
        *files.routes(),
        *access_tokens.routes(),
    ]
