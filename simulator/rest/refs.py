"""Branches, tags, the default branch and commits of a repository (REST API 1.0).

Every endpoint needs read access to the repository (the implicit read of a public repository
is enough): 404 for a missing project or repository, 401 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from simulator.content import DISPLAY_ID_LENGTH, Commit, Ref, RepoContent, normalise_path
from simulator.errors import NoSuchCommitError, NoSuchTagError, ValidationError, json_response
from simulator.paging import page_of
from simulator.rest import access_of, caller, page_request, store_of

ORDERS = ("ALPHABETICAL", "MODIFICATION")
#: UNCONFIRMED: the order Bitbucket uses when ``orderBy`` is absent (the UI lists by modification).
DEFAULT_ORDER = "MODIFICATION"


def requested_content(request: web.Request) -> RepoContent:
    """The content of the repository in the path, after the read-permission check."""
    repo = access_of(request).repository(
        caller(request), request.match_info["projectKey"], request.match_info["repositorySlug"]
    )
    return store_of(request).content(repo)


# -- rules -------------------------------------------------------------------------------------


def parse_order(raw: str | None) -> str:
    """``orderBy`` (case-insensitive); 400 naming the parameter for anything else."""
    if raw is None or raw == "":
        return DEFAULT_ORDER
    order = raw.upper()
    if order not in ORDERS:
        raise ValidationError(
            f"'{raw}' is not a valid orderBy; use one of {', '.join(ORDERS)}.", context="orderBy"
        )
    return order


def select_refs(refs: Sequence[Ref], filter_text: str | None, order: str) -> list[Ref]:
    """Refs whose name contains ``filter_text`` (case-insensitive), in the requested order."""
    wanted = (filter_text or "").lower()
    chosen = [ref for ref in refs if wanted in ref.display_id.lower()]
    if order == "MODIFICATION":
        chosen.sort(key=lambda ref: (-ref.commit.committer_ms, ref.display_id))
    else:
        chosen.sort(key=lambda ref: ref.display_id)
    return chosen


# -- serialisers -------------------------------------------------------------------------------


def minimal_ref_json(ref_id: str, display_id: str, ref_type: str) -> dict[str, Any]:
    """``RestMinimalRef``."""
    return {"id": ref_id, "displayId": display_id, "type": ref_type}


def branch_json(ref: Ref, content: RepoContent) -> dict[str, Any]:
    """``RestBranch`` (real JSON says ``isDefault`` where the OpenAPI says ``default``)."""
    return {
        **minimal_ref_json(ref.id, ref.display_id, ref.type),
        "latestCommit": ref.commit.id,
        "latestChangeset": ref.commit.id,
        "isDefault": ref.id == content.default_ref_id,
    }


def tag_json(ref: Ref) -> dict[str, Any]:
    """``RestTag``; ``hash`` is the annotated tag object's id, null for a lightweight tag."""
    return {
        **minimal_ref_json(ref.id, ref.display_id, ref.type),
        "latestCommit": ref.commit.id,
        "latestChangeset": ref.commit.id,
        "hash": ref.hash,
    }


def commit_json(commit: Commit) -> dict[str, Any]:
    """``RestCommit``."""
    return {
        "id": commit.id,
        "displayId": commit.display_id,
        "author": {"name": commit.author.name, "emailAddress": commit.author.email},
        "authorTimestamp": commit.author_ms,
        "committer": {"name": commit.committer.name, "emailAddress": commit.committer.email},
        "committerTimestamp": commit.committer_ms,
        "message": commit.message,
        "parents": [
            {"id": parent, "displayId": parent[:DISPLAY_ID_LENGTH]} for parent in commit.parents
        ],
    }


# -- handlers ----------------------------------------------------------------------------------


def _refs_page(
    request: web.Request, refs: Sequence[Ref], render: Callable[[Ref], Any]
) -> web.Response:
    order = parse_order(request.query.get("orderBy"))
    page = page_request(request)
    chosen = select_refs(refs, request.query.get("filterText"), order)
    return json_response(page_of(chosen, page, render))


async def get_branches(request: web.Request) -> web.Response:
    """``GET …/branches``: ``filterText``, ``orderBy``; ``details``, ``base``, ``context`` and
    ``boostMatches`` are accepted and change nothing."""
    content = requested_content(request)
    return _refs_page(request, content.branches, lambda ref: branch_json(ref, content))


async def get_default_branch(request: web.Request) -> web.Response:
    """``GET …/default-branch``: the *configured* default branch, even in an empty repository."""
    content = requested_content(request)
    return json_response(
        minimal_ref_json(content.default_ref_id, content.repository.default_branch, "BRANCH")
    )


async def get_default_branch_deprecated(request: web.Request) -> web.Response:
    """``GET …/branches/default`` (deprecated): the branch, or 204 when the repository is empty."""
    content = requested_content(request)
    if content.default_branch is None:
        return web.Response(status=204)
    return json_response(branch_json(content.default_branch, content))


async def get_tags(request: web.Request) -> web.Response:
    """``GET …/tags``: ``filterText``, ``orderBy``."""
    content = requested_content(request)
    return _refs_page(request, content.tags, tag_json)


async def get_tag(request: web.Request) -> web.Response:
    """``GET …/tags/{name}`` (short or qualified name); 404 NoSuchTag."""
    content = requested_content(request)
    name = request.match_info["name"]
    tag = content.tag(name)
    if tag is None:
        raise NoSuchTagError(name)
    return json_response(tag_json(tag))


async def get_commit(request: web.Request) -> web.Response:
    """``GET …/commits/{commitId}``: a full or abbreviated id, or a ref name; 404 NoSuchCommit."""
    content = requested_content(request)
    commit_id = request.match_info["commitId"]
    ref = content.find_ref(commit_id)
    commit = ref.commit if ref is not None else content.find_commit(commit_id)
    if commit is None:
        raise NoSuchCommitError(commit_id)
    return json_response(commit_json(commit))


# -- the commit log -----------------------------------------------------------------------------

MERGES = ("include", "exclude", "only")


def parse_merges(raw: str | None) -> str:
    """``merges`` (case-insensitive; default include); 400 naming it for anything else."""
    if not raw:
        return "include"
    merges = raw.lower()
    if merges not in MERGES:
        raise ValidationError(
            f"'{raw}' is not a valid merges; use one of {', '.join(MERGES)}.", context="merges"
        )
    return merges


def _snapshot(commit: Commit | None, path: str) -> dict[str, bytes]:
    if commit is None:
        return {}
    tree = commit.tree
    return {name: tree.files[name] for name in tree.select([path])}


def touches(content: RepoContent, commit: Commit, path: str) -> bool:
    """Whether a commit changed anything at or below ``path`` against its first parent."""
    parent = content.commits.get(commit.parents[0]) if commit.parents else None
    return _snapshot(commit, path) != _snapshot(parent, path)


def commit_log(
    content: RepoContent, until: Commit, since: Commit | None, merges: str, path: str
) -> list[Commit]:
    """``git log since..until [-- path]``: newest first by committer date, then id."""
    excluded: set[str] = set()
    if since is not None:
        pending = [since.id]
        while pending:
            commit_id = pending.pop()
            if commit_id not in excluded and commit_id in content.commits:
                excluded.add(commit_id)
                pending.extend(content.commits[commit_id].parents)
    seen: set[str] = set()
    reached: list[Commit] = []
    pending = [until.id]
    while pending:
        commit_id = pending.pop()
        if commit_id in seen or commit_id in excluded or commit_id not in content.commits:
            continue
        seen.add(commit_id)
        commit = content.commits[commit_id]
        reached.append(commit)
        pending.extend(commit.parents)
    reached.sort(key=lambda c: (-c.committer_ms, c.id))
    chosen = []
    for commit in reached:
        merge = len(commit.parents) > 1
        if (merges == "exclude" and merge) or (merges == "only" and not merge):
            continue
        if path and not touches(content, commit, path):
            continue
        chosen.append(commit)
    return chosen


async def get_commits(request: web.Request) -> web.Response:
    """``GET …/commits``: ``until`` (default the default branch), ``since``, ``merges``,
    ``path``; an empty repository without ``until`` is an empty page."""
    content = requested_content(request)
    query = request.query
    merges = parse_merges(query.get("merges"))
    page = page_request(request)
    raw_path = query.get("path", "")
    path = normalise_path(raw_path)
    if path is None:
        raise ValidationError(f"'{raw_path}' is not a valid path.", context="path")
    until_raw = query.get("until") or None
    if until_raw is None and content.default_branch is None:
        return json_response(page_of([], page, commit_json))
    until = content.resolve(until_raw).commit
    since = content.resolve(query["since"]).commit if query.get("since") else None
    return json_response(
        page_of(commit_log(content, until, since, merges, path), page, commit_json)
    )
