"""Placeholder: routes of this area are not written yet."""

from __future__ import annotations

from aiohttp import web


def routes() -> list[web.RouteDef]:
    """This area's routes."""
    return []
