"""Operation fragments of rest handlers (see :mod:`simulator.contract`).

Bitbucket's REST API 1.0 (``/rest/api/1.0`` and ``/rest/api/latest``: application
properties, users, projects, repositories, refs, commits and file content) and the personal
access tokens (``/rest/access-tokens/1.0|latest``), each described as tightly as its handler
in :mod:`simulator.rest` checks it (``tests/simulator/test_contract_rest.py`` checks that
every route has its description, and that the parameter schemas accept what the handlers do).

Conventions the handlers share, and so the descriptions:

- An enumerated query parameter given empty is as if absent. ``visibility``, ``state``,
  ``archived`` and ``orderBy`` are matched in any case, as Java's ``toUpperCase`` (and
  Python's ``str.upper``) folds them, ``format`` as ``str.lower`` does; ``permission`` is
  exact. :func:`folded` writes the pattern that accepts exactly what the fold accepts.
- A Jersey ``Boolean`` query parameter (``size``, ``type``, ``details``, ``boostMatches``)
  is true for ``true`` in any case and false for anything else, so any text is valid.
- A project, repository, user, ref, commit, path or token that does not exist is a 404; one
  that exists but may not be seen (or an anonymous caller where a user is needed) is a 401,
  as Bitbucket answers both alike; the document adds the 401 of a wrong credential anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import combinations
from typing import Any

from simulator.content import ARCHIVE_FORMATS
from simulator.contract import handler_key
from simulator.contract.spec import (
    PAGING,
    STRING,
    Operation,
    Schema,
    empty,
    error,
    json_answer,
    json_body,
    media,
    op,
    query,
    ref,
)
from simulator.rest import (
    access_tokens,
    authconfig,
    capabilities,
    files,
    projects,
    properties,
    refs,
    repos,
    users,
)

# -- case folding ----------------------------------------------------------------------------

#: Characters outside ASCII that ``str.upper`` turns into ASCII letters (Java's
#: ``toUpperCase`` does the same), and what they become: a dotless i upper-cases to I.
#: ``tests/simulator/test_contract_rest.py`` recomputes both tables over all of Unicode.
UPPER_EXTRA: dict[str, str] = {
    "\u00df": "SS",  # sharp s
    "\u0131": "I",  # dotless i
    "\u017f": "S",  # long s
    "\ufb00": "FF",  # the ligatures ff, fi, fl, ffi, ffl, long st, st
    "\ufb01": "FI",
    "\ufb02": "FL",
    "\ufb03": "FFI",
    "\ufb04": "FFL",
    "\ufb05": "ST",
    "\ufb06": "ST",
}
#: The same for ``str.lower`` (the Kelvin sign).
LOWER_EXTRA: dict[str, str] = {"\u212a": "k"}


def _folded_regex(target: str, fold: Callable[[str], str], extra: dict[str, str]) -> str:
    """A regex for the strings whose ``fold`` is ``target`` (which is already folded)."""
    if not target:
        return ""
    head = target[0]
    singles = {head, head.lower(), head.upper()} | {c for c, to in extra.items() if to == head}
    singles = {c for c in singles if fold(c) == head}
    klass = "".join(re.escape(c) for c in sorted(singles))
    options = [
        (f"[{klass}]" if len(singles) > 1 else klass) + _folded_regex(target[1:], fold, extra)
    ]
    for char, to in sorted(extra.items()):
        if len(to) > 1 and target.startswith(to):
            options.append(re.escape(char) + _folded_regex(target[len(to) :], fold, extra))
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def folded(values: Iterable[str], *, upper: bool = True, blank: bool = True) -> Schema:
    """A string schema accepting exactly the text whose ``upper()`` (or ``lower()``) is one
    of ``values``, and the empty string when ``blank`` (empty is as if absent)."""
    fold: Callable[[str], str] = str.upper if upper else str.lower
    extra = UPPER_EXTRA if upper else LOWER_EXTRA
    options = [_folded_regex(fold(value), fold, extra) for value in values]
    if blank:
        options.append("")
    return {"type": "string", "pattern": "^(?:" + "|".join(options) + ")$"}


def exact(values: Iterable[str], *, blank: bool = True) -> Schema:
    """A string schema of listed values, and the empty string when ``blank``."""
    return {"type": "string", "enum": [*values, *([""] if blank else [])]}


# -- shared pieces ---------------------------------------------------------------------------

#: Jersey's ``Boolean``: ``true`` in any case is true, any other text false (never a 400).
JERSEY_BOOLEAN: Schema = {
    "type": "string",
    "description": "true (any case) is true; any other value is false.",
    "examples": ["true", "false"],
}
#: ``at``: a branch or tag (short or qualified) or a commit id; the default branch if absent.
AT = query(
    "at",
    STRING,
    "A branch or tag (short or qualified name) or a commit id (at least 4 hex digits); "
    "the default branch when absent or empty.",
)
AVATAR_SIZE = query(
    "avatarSize",
    {"type": "integer", "minimum": 1, "maximum": users.MAX_AVATAR_SIZE},
    "Adds a relative avatarUrl for this size in pixels (an int: a sign and digits only).",
)
REPO_PERMISSION = exact(repos.REPO_PERMISSIONS)
ORDER_BY = query(
    "orderBy",
    folded(refs.ORDERS),
    "ALPHABETICAL or MODIFICATION (any case); MODIFICATION when absent.",
)
FILTER_TEXT = query("filterText", STRING, "Only refs whose name contains this (any case).")
VISIBILITY = query("visibility", folded(repos.VISIBILITIES), "public or private (any case).")
STATE = query("state", folded(repos.STATES), "The repository state (any case).")
ARCHIVED = query(
    "archived",
    folded(repos.ARCHIVED_VALUES),
    "ACTIVE (the default), ARCHIVED or ALL, any case; from Bitbucket 8.0 (ignored before).",
)

_TEXT = "text/plain"


def _bad(*names: str) -> str:
    """The 400 of parameters with bad values (ArgumentValidationException; context names it)."""
    return f"A bad {', '.join(names)} (ArgumentValidationException; context names it)."


UNAUTHORISED_USER = error("Anonymous: a user is needed (AuthorisationException).")
HIDDEN_PROJECT = error("The project exists but may not be seen (AuthorisationException).")
HIDDEN_REPO = error(
    "The repository exists but the caller may not read it (AuthorisationException)."
)


def _repo_answers(
    ok: dict[str, dict[str, Any]], missing: str = "", bad: str = ""
) -> dict[str, dict[str, Any]]:
    """The answers of an endpoint below ``projects/{projectKey}/repos/{repositorySlug}``."""
    answers = dict(ok)
    if bad:
        answers["400"] = error(bad)
    answers["401"] = HIDDEN_REPO
    answers["404"] = error(
        "No such project or repository (NoSuchProjectException, NoSuchRepositoryException)"
        + (f", or {missing}." if missing else ".")
    )
    return answers


# -- REST API 1.0 ----------------------------------------------------------------------------

_APPLICATION_PROPERTIES = op(
    responses={
        "200": json_answer(
            ref("application-properties"), "Version, build number, build date, product name."
        )
    }
)

_USERS = op(
    parameters=(
        query("filter", STRING, "Only users whose name, display name or e-mail contain this."),
        AVATAR_SIZE,
        *PAGING,
    ),
    responses={
        "200": json_answer(ref("users-page"), "A page of active users, by name."),
        "400": error(_bad("start", "limit", "avatarSize")),
        "401": UNAUTHORISED_USER,
    },
)

_USER = op(
    parameters=(AVATAR_SIZE,),
    responses={
        "200": json_answer(ref("user"), "The user (an inactive one too, active false)."),
        "400": error(_bad("avatarSize")),
        "401": UNAUTHORISED_USER,
        "404": error("No such user (NoSuchUserException)."),
    },
)

_WHOAMI = op(
    responses={
        "200": media(_TEXT, "The caller's user name; empty for an anonymous caller."),
    }
)

_PROJECTS = op(
    parameters=(
        query("name", STRING, "Only projects whose name contains this (any case)."),
        query(
            "permission",
            exact(projects.PROJECT_PERMISSIONS),
            "Only projects the caller holds at least this permission on (exact case).",
        ),
        *PAGING,
    ),
    responses={
        "200": json_answer(
            ref("projects-page"), "A page of the visible projects (anonymous: public ones)."
        ),
        "400": error(_bad("start", "limit", "permission")),
    },
)

_PROJECT = op(
    responses={
        "200": json_answer(ref("project"), "The project; a personal one carries its owner."),
        "401": HIDDEN_PROJECT,
        "404": error("No such project (NoSuchProjectException)."),
    }
)

_REPOSITORIES = op(
    parameters=(
        query("name", STRING, "Only repositories whose name contains this (any case)."),
        query("projectname", STRING, "Only in projects whose name contains this (any case)."),
        query("projectkey", STRING, "Only in the project with this key (any case)."),
        query(
            "permission",
            REPO_PERMISSION,
            "Only repositories held at least at this level (exact case); without it, public "
            "repositories count too.",
        ),
        VISIBILITY,
        STATE,
        ARCHIVED,
        *PAGING,
    ),
    responses={
        "200": json_answer(
            ref("repositories-page"), "A page of the visible repositories that match."
        ),
        "400": error(_bad("start", "limit", "permission", "visibility", "state", "archived")),
    },
)

_PROJECT_REPOSITORIES = op(
    parameters=(VISIBILITY, STATE, *PAGING),
    responses={
        "200": json_answer(
            ref("repositories-page"),
            "A page of the project's repositories the caller can see, archived ones included "
            "(this listing has no archived parameter).",
        ),
        "400": error(_bad("start", "limit", "visibility", "state")),
        "401": HIDDEN_PROJECT,
        "404": error("No such project (NoSuchProjectException)."),
    },
)

_REPOSITORY = op(
    responses=_repo_answers({"200": json_answer(ref("repository"), "The repository.")})
)

_REF_LISTING = (
    FILTER_TEXT,
    ORDER_BY,
    *PAGING,
)

_BRANCHES = op(
    parameters=(
        *_REF_LISTING,
        query("details", JERSEY_BOOLEAN, "Accepted; changes nothing here."),
        query("base", STRING, "Accepted; changes nothing here."),
        query("context", STRING, "Accepted; changes nothing here."),
        query("boostMatches", JERSEY_BOOLEAN, "Accepted; changes nothing here."),
    ),
    responses=_repo_answers(
        {"200": json_answer(ref("branches-page"), "A page of branches.")},
        bad=_bad("start", "limit", "orderBy"),
    ),
)

_DEFAULT_BRANCH = op(
    responses=_repo_answers(
        {
            "200": json_answer(
                ref("minimal-ref"), "The configured default branch, even before it exists."
            )
        }
    )
)

_DEFAULT_BRANCH_DEPRECATED = op(
    responses=_repo_answers(
        {
            "200": json_answer(ref("branch"), "The default branch."),
            "204": empty("The repository is empty: it has no default branch yet."),
        }
    )
)

_TAGS = op(
    parameters=_REF_LISTING,
    responses=_repo_answers(
        {"200": json_answer(ref("tags-page"), "A page of tags.")},
        bad=_bad("start", "limit", "orderBy"),
    ),
)

_TAG = op(
    responses=_repo_answers(
        {"200": json_answer(ref("tag"), "The tag (short or qualified name).")},
        missing="no such tag (NoSuchTagException)",
    )
)

_COMMIT = op(
    responses=_repo_answers(
        {"200": json_answer(ref("commit"), "The commit (a full or abbreviated id, or a ref).")},
        missing="no such commit (NoSuchCommitException)",
    )
)

_COMMITS = op(
    parameters=(
        query("until", STRING, "The newest commit: a ref or commit id (default branch if absent)."),
        query("since", STRING, "Leave out this commit and its ancestors (a ref or commit id)."),
        query("merges", folded(refs.MERGES, upper=False), "include (default), exclude or only."),
        query("path", STRING, "Only commits that changed this file or directory."),
        *PAGING,
    ),
    responses=_repo_answers(
        {"200": json_answer(ref("commits-page"), "A page of commits, newest first.")},
        missing="until or since names no commit (NoSuchCommitException)",
        bad=_bad("start", "limit", "merges", "path"),
    ),
)

_NO_REVISION_OR_PATH = (
    "no such revision (NoSuchCommitException; also the empty repository without 'at') or "
    "no such path of the expected kind (NoSuchPathException)"
)

_RAW = op(
    parameters=(AT,),
    responses=_repo_answers(
        {"200": media(_TEXT, "The file's bytes, as text/plain;charset=UTF-8 whatever the file.")},
        missing=_NO_REVISION_OR_PATH,
        bad="The path is only slashes: no path to a file was given.",
    ),
)

_RAW_WITHOUT_PATH = op(responses=_repo_answers({}, bad="No path to a file was given."))

_BROWSE = op(
    parameters=(
        AT,
        query("size", JERSEY_BOOLEAN, "true: answer only the size (bytes; a tree's object size)."),
        query("type", JERSEY_BOOLEAN, "true (without size=true): answer only the type."),
        *PAGING,
    ),
    responses=_repo_answers(
        {
            "200": json_answer(
                {
                    "oneOf": [
                        ref("browse-file"),
                        ref("browse-directory"),
                        ref("browse-file/$defs/size"),
                        ref("browse-file/$defs/type"),
                    ]
                },
                "A page of a file's lines (500 without limit, at most 5,000), or the "
                "directory with a page of its children; {size} with size=true, {type} with "
                "type=true.",
            )
        },
        missing=_NO_REVISION_OR_PATH,
        bad=_bad("start", "limit"),
    ),
)

_FILES = op(
    parameters=(AT, *PAGING),
    responses=_repo_answers(
        {"200": json_answer(ref("files-page"), "A page of the file paths below the directory.")},
        missing=_NO_REVISION_OR_PATH,
        bad=_bad("start", "limit"),
    ),
)

#: A prefix segment: not empty, ``.`` or ``..``; no ``/``, backslash or control character.
_SEGMENT_CHAR = r"[^/\\\x00-\x1f\x7f]"
_SEGMENT_HEAD = r"[^./\\\x00-\x1f\x7f]"
_SEGMENT = (
    rf"(?:{_SEGMENT_HEAD}{_SEGMENT_CHAR}*|\.{_SEGMENT_HEAD}{_SEGMENT_CHAR}*|\.\.{_SEGMENT_CHAR}+)"
)
ARCHIVE_PREFIX: Schema = {
    "type": "string",
    "pattern": rf"^(?:{_SEGMENT}(?:/{_SEGMENT})*/*)?$",
}
ARCHIVE_FILENAME: Schema = {
    "type": "string",
    "pattern": r"^[^/\\\x00-\x1f\x7f]*$",
    "not": {"enum": [".", ".."]},
}
_BINARY: Schema = {"type": "string", "format": "binary"}

_ARCHIVE = op(
    parameters=(
        AT,
        query(
            "format",
            folded(ARCHIVE_FORMATS, upper=False),
            "zip (the default), tar, tar.gz or tgz, any case.",
        ),
        query(
            "prefix",
            ARCHIVE_PREFIX,
            "A relative directory every entry is put under; no '.', '..' or empty segments.",
        ),
        query(
            "path",
            {"type": "array", "items": STRING},
            "Only these files and directories (repeat for several); everything when absent.",
        ),
        query(
            "filename",
            ARCHIVE_FILENAME,
            "The name to save as (Content-Disposition); by default "
            "<slug>-<ref>@<displayId>.<format>, or <slug>-<at>.<format> for a commit id.",
        ),
    ),
    responses=_repo_answers(
        {
            "200": {
                "description": "The archive.",
                "headers": {
                    "Content-Disposition": {
                        "required": True,
                        "schema": {"type": "string", "pattern": '^attachment; filename="'},
                    }
                },
                "content": {
                    media_type: {"schema": _BINARY}
                    for media_type in dict.fromkeys(ARCHIVE_FORMATS.values())
                },
            }
        },
        missing=_NO_REVISION_OR_PATH,
        bad=_bad("format", "prefix", "filename"),
    ),
)

# -- access tokens ---------------------------------------------------------------------------

TOKEN_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": access_tokens.MAX_NAME_LENGTH,
    "pattern": r"\S",
    "description": "Not blank.",
}


def _one_per_kind() -> list[Schema]:
    """At most one permission of each kind (project, repository); repeats of one are fine."""
    by_kind: dict[str, list[str]] = {}
    for permission, kind in access_tokens.PERMISSIONS.items():
        by_kind.setdefault(kind, []).append(permission)
    return [
        {"not": {"allOf": [{"contains": {"const": a}}, {"contains": {"const": b}}]}}
        for permissions in by_kind.values()
        for a, b in combinations(permissions, 2)
    ]


TOKEN_PERMISSIONS: Schema = {
    "type": "array",
    "minItems": 1,
    "items": {"enum": list(access_tokens.PERMISSIONS)},
    "allOf": _one_per_kind(),
    "description": "At most one project and one repository permission.",
}
NEW_TOKEN: Schema = {
    "type": "object",
    "required": ["name", "permissions"],
    "properties": {
        "name": TOKEN_NAME,
        "permissions": TOKEN_PERMISSIONS,
        "expiryDays": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": access_tokens.MAX_EXPIRY_DAYS,
            "description": "Days until it expires; never when absent or null.",
        },
    },
    "examples": [{"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 30}],
}
TOKEN_CHANGE: Schema = {
    "type": "object",
    "description": "The fields given change; others (expiryDays too) are ignored.",
    "properties": {"name": TOKEN_NAME, "permissions": TOKEN_PERMISSIONS},
    "examples": [{"name": "renamed"}],
}

_READER_REFUSED = (
    "Anonymous, or another user's tokens without being an administrator (AuthorisationException)."
)
_CHANGER_REFUSED = (
    _READER_REFUSED[:-1] + "; or the caller is authenticated by an access or OAuth token, which "
    "cannot manage tokens)."
)
_NO_OWNER = "No such user (NoSuchUserException), or Bitbucket is older than 5.5"
_NO_SUCH = (
    "No such user (NoSuchUserException) or token of theirs (NoSuchEntityException), or "
    "Bitbucket is older than 5.5."
)
_BAD_BODY = (
    "Malformed JSON or not an object (BadRequestException), or invalid fields, each with its "
    "context (ArgumentValidationException)"
)

_ACCESS_TOKENS = op(
    parameters=PAGING,
    responses={
        "200": json_answer(ref("access-tokens-page"), "A page of the user's tokens, newest first."),
        "400": error(_bad("start", "limit")),
        "401": error(_READER_REFUSED),
        "404": error(_NO_OWNER + "."),
    },
)

_CREATE_ACCESS_TOKEN = op(
    body=json_body(NEW_TOKEN, "The token to create."),
    responses={
        "200": json_answer(
            ref("access-token-created"), "The token with its secret (answered this once)."
        ),
        "400": error(
            _BAD_BODY + f"; or the user already holds {access_tokens.MAX_TOKENS_PER_USER} tokens."
        ),
        "401": error(
            _CHANGER_REFUSED[:-1] + "; an administrator cannot create tokens for someone else)."
        ),
        "404": error(_NO_OWNER + "."),
    },
)

_ACCESS_TOKEN = op(
    responses={
        "200": json_answer(ref("access-token"), "The token (without its secret)."),
        "401": error(_READER_REFUSED),
        "404": error(_NO_SUCH),
    }
)

_UPDATE_ACCESS_TOKEN = op(
    body=json_body(
        TOKEN_CHANGE, "The name and/or permissions; empty changes nothing.", required=False
    ),
    responses={
        "200": json_answer(ref("access-token"), "The changed token."),
        "400": error(_BAD_BODY + "."),
        "401": error(_CHANGER_REFUSED),
        "404": error(_NO_SUCH),
    },
)

_DELETE_ACCESS_TOKEN = op(
    responses={
        "204": empty("Revoked."),
        "401": error(_CHANGER_REFUSED),
        "404": error(_NO_SUCH),
    }
)

_CAPABILITIES = op(
    responses={
        "200": json_answer(
            ref("capabilities"), "The application (stash), build date and capabilities served."
        ),
    }
)

_WEBHOOK_CAPABILITIES = op(
    responses={
        "200": json_answer(ref("webhook-capabilities"), "The events a webhook may subscribe to."),
        "404": error("Bitbucket older than 5.4: no webhooks."),
    }
)

_LOGIN_OPTIONS = op(
    responses={
        "200": json_answer(ref("login-options"), "The login methods: the login form."),
    }
)

OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (properties.get_application_properties, _APPLICATION_PROPERTIES),
        (authconfig.get_login_options, _LOGIN_OPTIONS),
        (capabilities.get_capabilities, _CAPABILITIES),
        (capabilities.get_webhook_capabilities, _WEBHOOK_CAPABILITIES),
        (users.get_users, _USERS),
        (users.get_user, _USER),
        (users.whoami, _WHOAMI),
        (projects.get_projects, _PROJECTS),
        (projects.get_project, _PROJECT),
        (repos.get_repositories, _REPOSITORIES),
        (repos.get_project_repositories, _PROJECT_REPOSITORIES),
        (repos.get_repository, _REPOSITORY),
        (refs.get_branches, _BRANCHES),
        (refs.get_default_branch, _DEFAULT_BRANCH),
        (refs.get_default_branch_deprecated, _DEFAULT_BRANCH_DEPRECATED),
        (refs.get_tags, _TAGS),
        (refs.get_tag, _TAG),
        (refs.get_commit, _COMMIT),
        (refs.get_commits, _COMMITS),
        (files.raw_without_path, _RAW_WITHOUT_PATH),
        (files.stream_raw, _RAW),
        (files.get_content, _BROWSE),
        (files.stream_files, _FILES),
        (files.get_archive, _ARCHIVE),
        (access_tokens.get_access_tokens, _ACCESS_TOKENS),
        (access_tokens.create_access_token, _CREATE_ACCESS_TOKEN),
        (access_tokens.get_access_token, _ACCESS_TOKEN),
        (access_tokens.update_access_token, _UPDATE_ACCESS_TOKEN),
        (access_tokens.delete_access_token, _DELETE_ACCESS_TOKEN),
    )
}
