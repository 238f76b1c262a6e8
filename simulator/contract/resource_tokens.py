"""The contract of the project and repository HTTP access tokens
(:mod:`simulator.rest.resource_tokens`); the bodies are the personal tokens' own
(:mod:`simulator.contract.rest`), their permissions further restricted by kind."""

from __future__ import annotations

from simulator.contract import handler_key
from simulator.contract.rest import NEW_TOKEN, TOKEN_CHANGE
from simulator.contract.spec import (
    PAGING,
    Operation,
    empty,
    error,
    json_answer,
    json_body,
    op,
    ref,
)
from simulator.resource_tokens import MAX_TOKENS, MAX_TOKENS_PER_RESOURCE
from simulator.rest import resource_tokens

_KINDS = (
    " A project token takes one project permission and at most one repository permission "
    "as high as it; a repository token one repository permission and no project permission."
)
_READER_REFUSED = (
    "Anonymous, or the caller does not administer the project (PROJECT_ADMIN) or repository "
    "(REPO_ADMIN), or its credential is capped below that (AuthorisationException)."
)
_CHANGER_REFUSED = (
    _READER_REFUSED[:-1] + "; or the caller is authenticated by an access or OAuth token, which "
    "cannot manage tokens)."
)
_NO_RESOURCE = (
    "No such project or repository (NoSuchProjectException, NoSuchRepositoryException), or "
    "Bitbucket is older than 7.12"
)
_NO_SUCH = _NO_RESOURCE + "; or no such token of it (NoSuchEntityException)."
_BAD_BODY = (
    "Malformed JSON or not an object (BadRequestException), or invalid fields, each with its "
    "context (ArgumentValidationException)"
)

_LIST = op(
    parameters=PAGING,
    responses={
        "200": json_answer(ref("resource-tokens-page"), "A page of the tokens, newest first."),
        "400": error("A bad start, limit (ArgumentValidationException; context names it)."),
        "401": error(_READER_REFUSED),
        "404": error(_NO_RESOURCE + "."),
    },
)

_CREATE = op(
    body=json_body(NEW_TOKEN, "The token to create." + _KINDS),
    responses={
        "200": json_answer(
            ref("resource-token-created"), "The token with its secret (answered this once)."
        ),
        "400": error(
            _BAD_BODY + "; or permissions the kind does not take; or the project or repository "
            f"already holds {MAX_TOKENS_PER_RESOURCE} tokens (the server {MAX_TOKENS})."
        ),
        "401": error(_CHANGER_REFUSED),
        "404": error(_NO_RESOURCE + "."),
    },
)

_ONE = op(
    responses={
        "200": json_answer(ref("resource-token"), "The token (without its secret)."),
        "401": error(_READER_REFUSED),
        "404": error(_NO_SUCH),
    }
)

_UPDATE = op(
    body=json_body(
        TOKEN_CHANGE,
        "The name and/or permissions; empty changes nothing." + _KINDS,
        required=False,
    ),
    responses={
        "200": json_answer(ref("resource-token"), "The changed token."),
        "400": error(_BAD_BODY + "; or permissions the kind does not take."),
        "401": error(_CHANGER_REFUSED),
        "404": error(_NO_SUCH),
    },
)

_DELETE = op(
    responses={
        "204": empty("Revoked."),
        "401": error(_CHANGER_REFUSED),
        "404": error(_NO_SUCH),
    }
)

OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (resource_tokens.get_resource_tokens, _LIST),
        (resource_tokens.create_resource_token, _CREATE),
        (resource_tokens.get_resource_token, _ONE),
        (resource_tokens.update_resource_token, _UPDATE),
        (resource_tokens.delete_resource_token, _DELETE),
    )
}
