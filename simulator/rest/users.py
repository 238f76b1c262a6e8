"""Users: ``GET users``, ``GET users/{userSlug}`` and the ``applinks/whoami`` servlet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from aiohttp import web

from simulator.auth import Principal
from simulator.errors import AuthorisationError, NoSuchUserError, ValidationError, json_response
from simulator.model import User
from simulator.paging import JAVA_INT_MAX, java_int, page_of
from simulator.rest import caller, page_request, store_of
from simulator.rest.serializers import user_json
from simulator.seed import Catalog

#: ``avatarSize`` is an ``int`` in Bitbucket's API (read by :func:`simulator.paging.java_int`).
MAX_AVATAR_SIZE = JAVA_INT_MAX


def parse_avatar_size(query: Mapping[str, str]) -> int | None:
    """The ``avatarSize`` parameter: absent, or a positive ``int`` (400 otherwise)."""
    raw = query.get("avatarSize")
    if raw is None:
        return None
    size = java_int(raw)
    if size is None:
        raise ValidationError(
            f"avatarSize must be a positive whole number: '{raw}'.", context="avatarSize"
        )
    if not 1 <= size <= MAX_AVATAR_SIZE:
        raise ValidationError("avatarSize must be a positive whole number.", context="avatarSize")
    return size


def require_user(principal: Principal) -> User:
    """The calling user; anonymous callers get Bitbucket's 401."""
    if principal.user is None:
        raise AuthorisationError()
    return principal.user


@lru_cache(maxsize=8)
def _active_users(catalog: Catalog) -> tuple[User, ...]:
    return tuple(sorted((u for u in catalog.users if u.active), key=lambda u: u.name.lower()))


def find_users(catalog: Catalog, text: str | None) -> Sequence[User]:
    """Active users ordered by name; ``text`` matches name, display name or e-mail (any case)."""
    users = _active_users(catalog)
    if not text:
        return users
    needle = text.lower()
    return [
        user
        for user in users
        if needle in user.name.lower()
        or needle in user.display_name.lower()
        or needle in user.email.lower()
    ]


def find_user(catalog: Catalog, slug: str) -> User:
    """The user with this slug (active or not); 404 when there is none."""
    user = catalog.users_by_slug.get(slug.lower())
    if user is None:
        raise NoSuchUserError(slug)
    return user


async def get_users(request: web.Request) -> web.Response:
    """A page of active users, optionally filtered; authenticated callers only."""
    require_user(caller(request))
    page = page_request(request)
    avatar_size = parse_avatar_size(request.query)
    store = store_of(request)
    users = find_users(store.catalog, request.query.get("filter", "").strip())
    return json_response(
        page_of(users, page, lambda user: user_json(user, store.base_url, avatar_size))
    )


async def get_user(request: web.Request) -> web.Response:
    """One user by slug; ``avatarSize`` adds a relative ``avatarUrl``."""
    require_user(caller(request))
    avatar_size = parse_avatar_size(request.query)
    store = store_of(request)
    user = find_user(store.catalog, request.match_info["userSlug"])
    return json_response(user_json(user, store.base_url, avatar_size))


async def whoami(request: web.Request) -> web.Response:
    """The caller's user name as plain text; an empty body for anonymous callers."""
    user = caller(request).user
    return web.Response(
        body=(user.name if user is not None else "").encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
