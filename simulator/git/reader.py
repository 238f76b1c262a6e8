"""A repository's content read back from its bare repository, after a push or a control-API
change made the objects on disk the truth.

:func:`read_content` turns refs, commits, trees and blobs into the same
:class:`~simulator.content.RepoContent` the seed derives, so every REST reader serves what a
clone sees. Ids are git's own: commit and tag ids come from git, and each tree's id is
checked against the one :class:`~simulator.content.Tree` computes (modes ``100644``,
``100755`` and ``120000``). A gitlink (submodule) entry is not represented; its tree's id
then differs and :class:`GitError` says so, so the push is reported, never silently
misread. Reading is bounded by :data:`MAX_COMMITS` and :data:`MAX_BYTES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from simulator.content import BRANCH, HEADS, TAG, TAGS, Commit, Person, Ref, RepoContent, Tree
from simulator.git.repos import GitError, run_git
from simulator.model import Repository

#: At most this many commits of a changed repository are read (a larger one is refused).
MAX_COMMITS = 20_000
#: At most this many bytes of distinct file content are read.
MAX_BYTES = 256 * 1024 * 1024
_SUPPORTED_MODES = {"100644", "100755", "120000"}


async def ref_tips(path: Path) -> dict[str, str]:
    """Every ref and the object it names (a tag object for an annotated tag)."""
    listing = await run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=path)
    return dict(line.split(" ", 1) for line in listing.decode().splitlines())


async def cat_batch(path: Path, ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """Objects by id: their type and body (``git cat-file --batch``)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    out = await run_git("cat-file", "--batch", cwd=path, stdin=("\n".join(wanted) + "\n").encode())
    objects: dict[str, tuple[str, bytes]] = {}
    position = 0
    for object_id in wanted:
        end = out.index(b"\n", position)
        header = out[position:end].decode().split(" ")
        if len(header) != 3:
            raise GitError(f"object {object_id} is missing: {' '.join(header)}")
        size = int(header[2])
        start = end + 1
        objects[object_id] = (header[1], out[start : start + size])
        position = start + size + 1
    return objects


def _person(line: str) -> tuple[Person, int]:
    """An author or committer line's person and time in milliseconds."""
    name, _, rest = line.partition(" <")
    email, _, when = rest.partition("> ")
    seconds = when.split(" ", 1)[0]
    return Person(name, email), int(seconds) * 1000 if seconds.lstrip("-").isdigit() else 0


def parse_commit(body: bytes) -> tuple[str, tuple[str, ...], str, str, str]:
    """A commit body's tree, parents, author line, committer line and message."""
    head, _, message = body.partition(b"\n\n")
    tree, author, committer = "", "", ""
    parents: list[str] = []
    for line in head.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = value
        elif key == "committer":
            committer = value
    text = message.decode("utf-8", "replace").rstrip("\n")
    return tree, tuple(parents), author, committer, text


async def _trees(path: Path, tree_ids: Iterable[str]) -> dict[str, Tree]:
    """Each root tree, with its files' content and modes."""
    listings: dict[str, list[tuple[str, str, str]]] = {}
    for tree_id in dict.fromkeys(tree_ids):
        out = await run_git("ls-tree", "-r", "-z", "--full-tree", tree_id, cwd=path)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, object_id = meta.decode().split(" ")
            if kind != "blob" or mode not in _SUPPORTED_MODES:
                raise GitError(f"tree {tree_id} holds a {kind} entry ({mode}), not served")
            entries.append((name.decode("utf-8", "replace"), mode, object_id))
        listings[tree_id] = entries
    blob_ids = {object_id for entries in listings.values() for _, _, object_id in entries}
    blobs = await cat_batch(path, blob_ids)
    if sum(len(body) for _, body in blobs.values()) > MAX_BYTES:
        raise GitError(f"the repository holds more than {MAX_BYTES} bytes of files")
    trees: dict[str, Tree] = {}
    for tree_id, entries in listings.items():
        files = {name: blobs[object_id][1] for name, _, object_id in entries}
        tree = Tree(files, {name: mode for name, mode, _ in entries})
        if tree.id != tree_id:
            raise GitError(f"tree {tree_id} read back as {tree.id}")
        trees[tree_id] = tree
    return trees


async def read_content(path: Path, repo: Repository) -> RepoContent:
    """The content of the bare repository at ``path``, as the REST API serves it."""
    tips = await ref_tips(path)
    if not tips:
        return RepoContent(repo, (), (), {}, None)
    listing = await run_git("rev-list", f"--max-count={MAX_COMMITS + 1}", "--all", cwd=path)
    commit_ids = listing.decode().split()
    if len(commit_ids) > MAX_COMMITS:
        raise GitError(f"the repository holds more than {MAX_COMMITS} commits")
    bodies = await cat_batch(path, commit_ids)
    parsed = {cid: parse_commit(body) for cid, (_, body) in bodies.items()}
    trees = await _trees(path, (fields[0] for fields in parsed.values()))
    commits: dict[str, Commit] = {}
    for commit_id in reversed(commit_ids):  # oldest first, as the seed lists them
        tree, parents, author_line, committer_line, message = parsed[commit_id]
        author, author_ms = _person(author_line)
        committer, committer_ms = _person(committer_line)
        commits[commit_id] = Commit(
            commit_id, author, author_ms, committer, committer_ms, message, parents, trees[tree]
        )
    tag_objects = await cat_batch(
        path, (oid for ref, oid in tips.items() if ref.startswith(TAGS) and oid not in commits)
    )
    branches: list[Ref] = []
    tags: list[Ref] = []
    for ref_id, object_id in sorted(tips.items()):
        if ref_id.startswith(HEADS) and object_id in commits:
            branches.append(Ref(ref_id, ref_id[len(HEADS) :], BRANCH, commits[object_id]))
        elif ref_id.startswith(TAGS):
            tag = _tag(ref_id, object_id, commits, tag_objects)
            if tag is not None:
                tags.append(tag)
    default_ref = HEADS + repo.default_branch
    default = next((ref for ref in branches if ref.id == default_ref), None)
    return RepoContent(repo, tuple(branches), tuple(tags), commits, default)


def _tag(
    ref_id: str,
    object_id: str,
    commits: dict[str, Commit],
    tag_objects: dict[str, tuple[str, bytes]],
) -> Ref | None:
    """A tag ref (lightweight or annotated); None when it names no commit."""
    name = ref_id[len(TAGS) :]
    if object_id in commits:
        return Ref(ref_id, name, TAG, commits[object_id])
    kind, body = tag_objects.get(object_id, ("", b""))
    target = body.split(b"\n", 1)[0].removeprefix(b"object ").decode()
    if kind != "tag" or target not in commits:
        return None  # a tag of a tree, a blob or another tag: not listed
    return Ref(ref_id, name, TAG, commits[target], object_id, body)
