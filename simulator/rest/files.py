"""File content of a repository: ``raw``, ``browse``, ``files`` and ``archive`` (REST API 1.0).

``at`` is a branch or tag (short or qualified) or a commit id; without it the default branch
is used. A path that does not exist at that revision, including any path with ``..``
segments (however encoded) or backslashes, is 404 NoSuchPath; an ``at`` that names nothing
is 404 NoSuchCommit. Text files are served as ``text/plain;charset=UTF-8``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulator.content import (
    ARCHIVE_FORMATS,
    Entry,
    RepoContent,
    Revision,
    archive_prefix,
    build_archive,
)
from simulator.errors import NoSuchPathError, ValidationError, json_response
from simulator.paging import PageRequest, page_of
from simulator.rest import page_request
from simulator.rest.refs import requested_content

TEXT_CONTENT_TYPE = "text/plain;charset=UTF-8"
#: A file's lines per ``browse`` page: Bitbucket caps a page at 5,000 (``page.max.source.lines``,
#: BSERV-4836); without ``limit`` it answers 500 (UNCONFIRMED: Rookout/explorook PR #249, and
#: the Jenkins branch-source plugin asks for 500).
MAX_LINES = 5_000
DEFAULT_LINES = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _flag(request: web.Request, name: str) -> bool:
    """``size``/``type`` count only with an explicit ``=true`` (Jersey's Boolean parsing)."""
    return request.query.get(name, "").lower() == "true"


# -- serialisers -------------------------------------------------------------------------------


def path_json(path: str) -> dict[str, Any]:
    """``RestPath``: components, parent, name, extension (when the name has one), toString."""
    components = path.split("/") if path else []
    name = components[-1] if components else ""
    body: dict[str, Any] = {
        "components": components,
        "parent": "/".join(components[:-1]),
        "name": name,
    }
    stem, dot, extension = name.rpartition(".")
    if dot and stem:
        body["extension"] = extension
    body["toString"] = path
    return body


def child_json(entry: Entry) -> dict[str, Any]:
    """One child of a directory listing; its path is relative to the directory."""
    body: dict[str, Any] = {"path": path_json(entry.name), "contentId": entry.content_id}
    body["type"] = entry.type
    if entry.size is not None:
        body["size"] = entry.size
    return body


def lines_json(data: bytes, page: PageRequest) -> dict[str, Any]:
    """A page of a file's lines: ``lines``, ``start``, ``size``, ``isLastPage`` and
    ``nextPageStart`` when another page follows; no ``limit`` (BSERV-12725's answer)."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    chosen = lines[page.start : page.start + page.limit]
    is_last = page.start + len(chosen) >= len(lines)
    body: dict[str, Any] = {
        "lines": [{"text": line} for line in chosen],
        "start": page.start,
        "size": len(chosen),
        "isLastPage": is_last,
    }
    if not is_last:
        body["nextPageStart"] = page.start + len(chosen)
    return body


# -- rules -------------------------------------------------------------------------------------


def parse_format(raw: str | None) -> str:
    """``format``: zip (default), tar, tar.gz or tgz; 400 naming the parameter otherwise."""
    if raw is None or raw == "":
        return "zip"
    fmt = raw.lower()
    if fmt not in ARCHIVE_FORMATS:
        raise ValidationError(
            f"'{raw}' is not a supported archive format; use one of {', '.join(ARCHIVE_FORMATS)}.",
            context="format",
        )
    return fmt


def archive_filename(content: RepoContent, revision: Revision, at: str | None, fmt: str) -> str:
    """Bitbucket's default name: ``<slug>-<ref short name, / as ->@<displayId>.<fmt>`` for the
    default branch, a branch or a tag, and ``<slug>-<at>.<fmt>`` for a commit id."""
    slug = content.repository.slug
    if revision.ref is None:
        return f"{slug}-{at}.{fmt}"
    name = revision.ref.display_id.replace("/", "-")
    return f"{slug}-{name}@{revision.commit.display_id}.{fmt}"


def content_disposition(filename: str) -> str:
    """``attachment`` with the name quoted; a non-ASCII name also goes in ``filename*``
    (RFC 6266). Control characters are 400 (they could split the header), and so is a path
    (``/``, ``\\``, ``.`` or ``..``): a browser or client could save it outside its folder."""
    if _CONTROL.search(filename):
        raise ValidationError(
            "The filename must not contain control characters.", context="filename"
        )
    if "/" in filename or "\\" in filename or filename in (".", ".."):
        raise ValidationError(
            "The filename must be a file name, without '/', '\\' or '..'.", context="filename"
        )
    quoted = filename.replace('"', '\\"')
    if quoted.isascii():
        return f'attachment; filename="{quoted}"'
    fallback = quoted.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def archive_paths(content: RepoContent, revision: Revision, raw_paths: list[str]) -> list[str]:
    """The files the ``path`` parameters select; 404 NoSuchPath for one that does not exist."""
    normalised = [content.path_kind(revision, raw)[0] for raw in raw_paths]
    return revision.commit.tree.select(normalised)


# -- handlers ----------------------------------------------------------------------------------


def _no_file_path() -> ValidationError:
    return ValidationError("A path to a file must be supplied.", context="path")


async def raw_without_path(request: web.Request) -> web.Response:
    """``GET …/raw`` and ``…/raw/``: 400 naming ``path`` once the repository may be read."""
    requested_content(request)
    raise _no_file_path()


async def stream_raw(request: web.Request) -> web.Response:
    """``GET …/raw/{path}?at=``: the file's bytes; 400 for a path of slashes only, 404 for a
    directory."""
    content = requested_content(request)
    raw_path = request.match_info["path"]
    if not raw_path.strip("/"):
        raise _no_file_path()
    revision = content.resolve(request.query.get("at"))
    path, kind = content.path_kind(revision, raw_path)
    if kind != "FILE":
        raise NoSuchPathError(raw_path, revision.revision)
    return web.Response(
        body=revision.commit.tree.files[path], headers={"Content-Type": TEXT_CONTENT_TYPE}
    )


async def get_content(request: web.Request) -> web.Response:
    """``GET …/browse[/{path}]?at=``: a page of a file's lines or of a directory's children;
    ``size=true`` -> ``{"size"}``, else ``type=true`` -> ``{"type"}``."""
    content = requested_content(request)
    revision = content.resolve(request.query.get("at"))
    path, kind = content.path_kind(revision, request.match_info.get("path", ""))
    tree = revision.commit.tree
    if _flag(request, "size"):
        return json_response({"size": tree.size(path)})
    if _flag(request, "type"):
        return json_response({"type": kind})
    if kind == "FILE":
        lines = PageRequest.from_query(request.query, MAX_LINES, DEFAULT_LINES)
        return json_response(lines_json(tree.files[path], lines))
    page = page_request(request)
    body = {
        "path": path_json(path),
        "revision": revision.revision,
        "children": page_of(tree.children(path), page, child_json),
    }
    return json_response(body)


async def stream_files(request: web.Request) -> web.Response:
    """``GET …/files[/{path}]?at=``: a page of the file paths below a directory, relative to it."""
    content = requested_content(request)
    revision = content.resolve(request.query.get("at"))
    raw_path = request.match_info.get("path", "")
    path, kind = content.path_kind(revision, raw_path)
    if kind != "DIRECTORY":
        raise NoSuchPathError(raw_path, revision.revision)
    files = revision.commit.tree.files_under(path)
    page = page_request(request)
    return json_response(page_of(files, page, str))


async def get_archive(request: web.Request) -> web.Response:
    """``GET …/archive?at=&format=&prefix=&path=&filename=``: the tree as zip/tar/tar.gz/tgz."""
    content = requested_content(request)
    query = request.query
    fmt = parse_format(query.get("format"))
    prefix = archive_prefix(query.get("prefix"))
    if prefix is None:
        raise ValidationError(
            "The prefix must be a relative directory without '..' segments.", context="prefix"
        )
    at = query.get("at")
    revision = content.resolve(at)
    files = archive_paths(content, revision, query.getall("path", []))
    commit = revision.commit
    data = build_archive(commit.tree, files, prefix, fmt, commit.committer_ms)
    filename = query.get("filename") or archive_filename(content, revision, at, fmt)
    headers = {
        "Content-Type": ARCHIVE_FORMATS[fmt],
        "Content-Disposition": content_disposition(filename),
    }
    return web.Response(body=data, headers=headers)
