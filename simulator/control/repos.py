"""Changing repositories from tests, as a push would: ``POST /_sim/repos/{projectKey}/
{repositorySlug}/commits``, ``POST …/tags``, ``DELETE …/tags/{name}`` and
``DELETE …/branches/{name}``.

Each change is a real git change of the repository's bare repository (see
:mod:`simulator.git.changes`): the REST API, clones and fetches see it at once, and
``POST /_sim/reset`` forgets it. Commit and tag times are the simulator clock's now.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.content import Person, normalise_path
from simulator.control.parsing import json_object, reject_unknown, string_field
from simulator.errors import NoSuchRepositoryError, ValidationError, json_response
from simulator.keys import store_key
from simulator.model import Repository
from simulator.store import Store

#: At most this many files change in one commit, and at most this many bytes in all.
MAX_FILES = 1_000
MAX_BYTES = 16 * 1024 * 1024
_COMMIT_FIELDS = frozenset({"branch", "message", "files", "author", "startPoint"})
_TAG_FIELDS = frozenset({"name", "startPoint", "message"})


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """A checked ``POST …/commits`` body."""

    branch: str
    message: str
    files: dict[str, bytes | None]
    author: Person | None
    start_point: str | None


def _repository(request: web.Request) -> tuple[Store, Repository]:
    store: Store = request.app[store_key]
    key, slug = request.match_info["projectKey"], request.match_info["repositorySlug"]
    repo = store.catalog.find_repository(key, slug)
    if repo is None:
        raise NoSuchRepositoryError(key, slug)
    return store, repo


def _file_content(path: str, value: Any) -> bytes | None:
    """A file's new content: a string (UTF-8), ``{"base64": "…"}``, or null to delete it."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return value.encode()
        except UnicodeEncodeError:
            raise ValidationError(f"files[{path!r}] is not valid Unicode.", "files") from None
    if isinstance(value, dict) and set(value) == {"base64"} and isinstance(value["base64"], str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"files[{path!r}].base64 is not base64.", "files") from None
    raise ValidationError(
        f'files[{path!r}] must be a string, {{"base64": "…"}} or null (to delete it).', "files"
    )


def _files(value: Any) -> dict[str, bytes | None]:
    if not isinstance(value, dict) or not value:
        raise ValidationError("files must be an object of at least one path.", "files")
    if len(value) > MAX_FILES:
        raise ValidationError(f"files: at most {MAX_FILES} paths in one commit.", "files")
    files: dict[str, bytes | None] = {}
    for raw, content in value.items():
        path = normalise_path(raw)
        if not path or path.startswith('"'):  # fast-import would read it as quoted
            raise ValidationError(f"files: {raw!r} is not a file path.", "files")
        if path in files:
            raise ValidationError(f"files: {path!r} is named twice.", "files")
        files[path] = _file_content(raw, content)
    size = sum(len(data) for data in files.values() if data is not None)
    if size > MAX_BYTES:
        raise ValidationError(f"files: at most {MAX_BYTES} bytes in one commit.", "files")
    return files


def _person(value: Any) -> Person | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"name", "email"}:
        raise ValidationError('author must be {"name": …, "email": …}.', "author")
    return Person(_identity(value, "name"), _identity(value, "email"))


def _identity(person: Mapping[str, Any], field: str) -> str:
    """An author's name or email: git cannot hold ``<``, ``>``, a newline or NUL in them."""
    text = person.get(field)
    if not isinstance(text, str) or not text.strip() or any(c in text for c in "<>\n\0"):
        raise ValidationError(f"author.{field} must be a non-empty string without <>.", "author")
    return text.strip()


def _required(body: Mapping[str, Any], key: str) -> str:
    value = string_field(body, key, required=True)
    if value is None or not value.strip():
        raise ValidationError(f"{key} must not be blank.", key)
    return value


def commit_request(body: Mapping[str, Any]) -> CommitRequest:
    """Check a ``POST …/commits`` body."""
    reject_unknown(body, _COMMIT_FIELDS)
    return CommitRequest(
        _required(body, "branch"),
        _required(body, "message"),
        _files(body.get("files")),
        _person(body.get("author")),
        string_field(body, "startPoint", required=False),
    )


def _default_person(store: Store) -> Person:
    """Who commits and tags when the body names nobody: the seeded ``admin``."""
    admin = store.catalog.users_by_name["admin"]
    return Person(admin.display_name, admin.email)


async def add_commit(request: web.Request) -> web.Response:
    """Add a commit to a branch (created from ``startPoint`` if missing); 201 with it as
    ``GET …/commits/{commitId}`` shows it."""
    store, repo = _repository(request)
    wanted = commit_request(json_object(await request.read()))
    from simulator.git.changes import add_commit as commit  # git loads on first use
    from simulator.rest.refs import commit_json

    made, _ = await commit(
        store,
        repo,
        wanted.branch,
        wanted.files,
        message=wanted.message,
        author=wanted.author or _default_person(store),
        start_point=wanted.start_point,
    )
    return json_response(commit_json(made), status=201)


async def add_tag(request: web.Request) -> web.Response:
    """Create a tag (annotated when there is a ``message``); 201 with it as ``GET …/tags/
    {name}`` shows it; 409 when it exists."""
    store, repo = _repository(request)
    body = json_object(await request.read())
    reject_unknown(body, _TAG_FIELDS)
    name = _required(body, "name")
    message = string_field(body, "message", required=False)
    from simulator.git.changes import add_tag as tag
    from simulator.rest.refs import tag_json

    made, _ = await tag(
        store,
        repo,
        name,
        start_point=string_field(body, "startPoint", required=False),
        message=message,
        tagger=_default_person(store),
    )
    return json_response(tag_json(made), status=201)


async def delete_tag(request: web.Request) -> web.Response:
    """Delete a tag; 204, or 404 NoSuchTag."""
    return await _delete(request, "refs/tags/")


async def delete_branch(request: web.Request) -> web.Response:
    """Delete a branch; 204, or 404 NoSuchBranch."""
    return await _delete(request, "refs/heads/")


async def _delete(request: web.Request, prefix: str) -> web.Response:
    store, repo = _repository(request)
    from simulator.git.changes import delete_ref

    await delete_ref(store, repo, prefix + request.match_info["name"].removeprefix(prefix))
    return web.Response(status=204)
