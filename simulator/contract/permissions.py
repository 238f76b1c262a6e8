"""The contract of ``…/permissions/users`` at project and repository level."""

from __future__ import annotations

from simulator.contract import handler_key
from simulator.contract.spec import (
    PAGING,
    STRING,
    Operation,
    empty,
    error,
    json_answer,
    op,
    query,
    ref,
)
from simulator.rest import permissions

_NAMES = query(
    "name",
    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    "The users, by name (repeatable); an unknown one is a 404 and changes nothing.",
    required=True,
)
_REFUSED = error(
    "Anonymous, or the caller does not administer it, or may not see it (AuthorisationException)."
)
_MISSING = "No such project or repository (NoSuchProjectException, NoSuchRepositoryException)"


def _listing(level: str) -> Operation:
    return op(
        parameters=(query("filter", STRING, "Only users whose name contains this."), *PAGING),
        responses={
            "200": json_answer(
                ref("permitted-users-page"), f"The users holding an explicit {level} grant."
            ),
            "400": error("A bad start or limit (ArgumentValidationException)."),
            "401": _REFUSED,
            "404": error(_MISSING + "."),
        },
    )


def _change(levels: tuple[str, ...] | None) -> Operation:
    parameters = [_NAMES]
    if levels is not None:
        parameters.append(query("permission", {"enum": list(levels)}, "The level.", required=True))
    return op(
        parameters=parameters,
        responses={
            "204": empty("Granted." if levels else "Revoked."),
            "400": error("No name, or a bad permission (ArgumentValidationException)."),
            "401": _REFUSED,
            "404": error(_MISSING + ", or no such user (NoSuchUserException)."),
        },
    )


OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (permissions.get_project_users, _listing("project")),
        (permissions.set_project_users, _change(permissions.PROJECT_LEVELS)),
        (permissions.revoke_project_user, _change(None)),
        (permissions.get_repo_users, _listing("repository")),
        (permissions.set_repo_users, _change(permissions.REPO_LEVELS)),
        (permissions.revoke_repo_user, _change(None)),
    )
}
