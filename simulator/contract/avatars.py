"""The contract of the avatar images (users and projects)."""

from __future__ import annotations

from simulator.contract import handler_key
from simulator.contract.spec import STRING, Operation, error, media, op, query
from simulator.rest import avatars

_SIZE = query(
    "s",
    STRING,
    f"Pixels (default {avatars.DEFAULT_SIZE}, clamped to {avatars.MIN_SIZE} to "
    f"{avatars.MAX_SIZE}; an unreadable value is the default).",
)
_IMAGE = media("image/png", "The avatar, s pixels square.")
_NOT_MODIFIED = {"description": "If-None-Match named the image's ETag."}

OPERATIONS: dict[str, Operation] = {
    handler_key(avatars.get_user_avatar): op(
        parameters=(_SIZE,),
        responses={
            "200": _IMAGE,
            "304": _NOT_MODIFIED,
            "401": error("Anonymous (AuthorisationException)."),
            "404": error("No such user (NoSuchUserException)."),
        },
    ),
    handler_key(avatars.get_project_avatar): op(
        parameters=(_SIZE,),
        responses={
            "200": _IMAGE,
            "304": _NOT_MODIFIED,
            "401": error("The project may not be seen (AuthorisationException)."),
            "404": error("No such project (NoSuchProjectException)."),
        },
    ),
}
