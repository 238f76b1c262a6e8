"""The typed application keys of the reference app."""

from __future__ import annotations

from aiohttp import web

from conformance.reference.service import Reference

reference_key = web.AppKey("reference", Reference)
