"""Every typed application key of the simulator, in one place."""

from __future__ import annotations

from aiohttp import web

from simulator.settings import Settings
from simulator.store import Store

settings_key = web.AppKey("settings", Settings)
store_key = web.AppKey("store", Store)
