"""Avatars: the PNG images a user's ``avatarUrl`` and a project's avatar link point at.

``GET /users/{userSlug}/avatar.png?s=N`` (where ``avatarUrl`` points) and
``GET /projects/{projectKey}/avatar.png?s=N``, also as REST
``/rest/api/{1.0,latest}/projects/{projectKey}/avatar.png`` and ``…/users/{userSlug}/
avatar.png``. Each image is a real PNG, ``s`` pixels square (default 48, within 16 to 256;
UNCONFIRMED: Bitbucket's own bounds are not documented, these are the sizes its pages ask
for), one colour derived from the user's slug or the project's key, so it is the same on
every run. A user's avatar needs an authenticated caller and an existing user, as
``GET users/{userSlug}`` does; a project's needs that the caller may see the project. Both
are cacheable privately, with an ``ETag``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import lru_cache

from aiohttp import web

from simulator.paging import java_int
from simulator.rest import access_of, caller, store_of
from simulator.rest.users import find_user, require_user

DEFAULT_SIZE = 48
MIN_SIZE = 16
MAX_SIZE = 256


def avatar_size(raw: str | None) -> int:
    """``s``: a whole number clamped to the served sizes; absent or unreadable is the default
    (an image URL is never an error page)."""
    value = java_int(raw) if raw else None
    if value is None or value <= 0:
        return DEFAULT_SIZE
    return max(MIN_SIZE, min(MAX_SIZE, value))


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@lru_cache(maxsize=512)
def png(seed: str, size: int) -> bytes:
    """A ``size``-pixel square PNG of one colour chosen by ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    colour = bytes(64 + byte % 160 for byte in digest[:3])  # never too dark or too light
    row = b"\x00" + colour * size  # filter type 0, then RGB pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size, 9))
        + _chunk(b"IEND", b"")
    )


def _image(request: web.Request, seed: str) -> web.Response:
    data = png(seed, avatar_size(request.query.get("s")))
    tag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest()[:16] + '"'
    headers = {"Cache-Control": "private, max-age=3600", "ETag": tag}
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type="image/png", headers=headers)


async def get_user_avatar(request: web.Request) -> web.Response:
    """A user's avatar; 401 anonymous, 404 NoSuchUser."""
    require_user(caller(request))
    user = find_user(store_of(request).catalog, request.match_info["userSlug"])
    return _image(request, "user:" + user.slug)


async def get_project_avatar(request: web.Request) -> web.Response:
    """A project's avatar; 404 NoSuchProject, 401 when it may not be seen."""
    project = access_of(request).project(caller(request), request.match_info["projectKey"])
    return _image(request, "project:" + project.key)
