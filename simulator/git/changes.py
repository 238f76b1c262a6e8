"""Changing a repository: a push, or the control API's commits, tags and deletions.

Every change runs under the repository's change lock, on its bare repository (built from the
seed first if need be), and then reads the repository back (:mod:`simulator.git.reader`), so
that the REST API and later clones see the same objects. :func:`change` answers which refs
moved, as Bitbucket's ``repo:refs_changed`` reports them (``ADD``, ``UPDATE``, ``DELETE``;
the all-zero id stands for "no commit").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from simulator.content import BRANCH, HEADS, TAG, TAGS, Commit, Person, Ref, RepoContent, signature
from simulator.errors import (
    BitbucketError,
    DuplicateRefError,
    NoSuchBranchError,
    NoSuchTagError,
    ValidationError,
)
from simulator.git.reader import read_content, ref_tips
from simulator.git.repos import GitError, run_git
from simulator.model import Repository, User

if TYPE_CHECKING:
    from simulator.store import Store

#: At most this many repositories are changed at once (each is held in memory).
MAX_CHANGED_REPOSITORIES = 1_000
#: The id Bitbucket sends for the missing side of an added or deleted ref.
ZERO_ID = "0" * 40
T = TypeVar("T")


class TooManyChangesError(BitbucketError):
    """507: the bound on changed repositories is reached."""

    status = 507
    exception_name = "com.atlassian.bitbucket.ServiceException"


@dataclass(frozen=True, slots=True)
class RefChange:
    """One ref that a change moved."""

    ref_id: str
    from_hash: str
    to_hash: str

    @property
    def type(self) -> str:
        """``ADD``, ``UPDATE`` or ``DELETE``."""
        if self.from_hash == ZERO_ID:
            return "ADD"
        return "DELETE" if self.to_hash == ZERO_ID else "UPDATE"

    @property
    def ref_type(self) -> str:
        """``BRANCH`` or ``TAG``."""
        return BRANCH if self.ref_id.startswith(HEADS) else TAG

    @property
    def display_id(self) -> str:
        """The ref's short name."""
        return self.ref_id.split("/", 2)[2] if self.ref_id.count("/") >= 2 else self.ref_id

    def to_json(self) -> dict[str, object]:
        """As a ``repo:refs_changed`` payload's ``changes[]`` entry shows it."""
        return {
            "ref": {"id": self.ref_id, "displayId": self.display_id, "type": self.ref_type},
            "refId": self.ref_id,
            "fromHash": self.from_hash,
            "toHash": self.to_hash,
            "type": self.type,
        }


def ref_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[RefChange]:
    """The refs that differ between two listings, by ref id."""
    return [
        RefChange(ref, before.get(ref, ZERO_ID), after.get(ref, ZERO_ID))
        for ref in sorted(set(before) | set(after))
        if before.get(ref) != after.get(ref)
    ]


@dataclass(frozen=True, slots=True)
class Changed:
    """What a change did: the repository's content now, and the refs it moved."""

    content: RepoContent
    changes: list[RefChange]


async def change(
    store: Store,
    repo: Repository,
    action: Callable[[Path], Awaitable[T]],
    actor: User | None = None,
) -> tuple[T, Changed]:
    """Run ``action`` on the repository's folder under its change lock; what it returned, and
    what changed. A change that moved refs makes the folder the repository's truth, and is
    then handed to the webhooks as ``actor``'s (None: the seeded admin's)."""
    git = store.git
    if repo.id not in git.changed and len(git.changed) >= MAX_CHANGED_REPOSITORIES:
        raise TooManyChangesError(
            f"{MAX_CHANGED_REPOSITORIES} repositories have changed since the last reset; "
            "POST /_sim/reset before changing another."
        )
    async with git.changing(repo.id):
        folder = await git.ensure(store.content(repo))
        before = await ref_tips(folder)
        result = await action(folder)
        moved = ref_changes(before, await ref_tips(folder))
        if moved:
            git.mark_changed(await read_content(folder, repo))
        changed = Changed(store.content(repo), moved)
    if moved and store.webhooks.hooks:
        from simulator.webhooks.dispatch import refs_changed

        refs_changed(store, repo, actor, moved)
    return result, changed


# -- the control API's changes ------------------------------------------------------------------


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def commit_stream(
    branch_ref: str,
    parent: str | None,
    files: Mapping[str, bytes | None],
    *,
    author: Person,
    when_ms: int,
    message: str,
) -> bytes:
    """The ``git fast-import`` input of one commit on ``branch_ref`` (None deletes a file)."""
    out = bytearray(f"commit {branch_ref}\n".encode())
    out += f"author {signature(author, when_ms)}\n".encode()
    out += f"committer {signature(author, when_ms)}\n".encode()
    out += _data((message.rstrip("\n") + "\n").encode())
    if parent is not None:
        out += f"from {parent}\n".encode()
    for path, blob in files.items():
        if blob is None:
            out += f"D {path}\n".encode()
        else:
            out += f"M 100644 inline {path}\n".encode() + _data(blob)
    out += b"\ndone\n"
    return bytes(out)


def tag_stream(name: str, target: str, *, tagger: Person, when_ms: int, message: str) -> bytes:
    """The ``git fast-import`` input of one annotated tag."""
    out = f"tag {name}\nfrom {target}\ntagger {signature(tagger, when_ms)}\n".encode()
    return out + _data((message.rstrip("\n") + "\n").encode()) + b"done\n"


async def fast_import(folder: Path, stream: bytes) -> None:
    """Feed ``git fast-import`` (which never moves a branch other than forward)."""
    await run_git("fast-import", "--quiet", "--done", cwd=folder, stdin=stream)


async def valid_ref_name(ref_id: str) -> bool:
    """Whether git accepts this as a ref name (``git check-ref-format``)."""
    try:
        await run_git("check-ref-format", ref_id)
    except GitError:
        return False
    return True


async def add_commit(
    store: Store,
    repo: Repository,
    branch: str,
    files: Mapping[str, bytes | None],
    *,
    message: str,
    author: Person,
    start_point: str | None,
) -> tuple[Commit, Changed]:
    """One commit on ``branch`` changing ``files`` (None deletes one). A missing branch is
    created at ``start_point`` (default: the default branch; none in an empty repository)."""
    branch_ref = HEADS + branch.removeprefix(HEADS)
    if not await valid_ref_name(branch_ref):
        raise ValidationError(f"'{branch}' is not a valid branch name.", "branch")

    async def write(folder: Path) -> str:
        content = store.content(repo)
        tip = content.branch(branch_ref)
        if tip is not None:
            parent: Commit | None = tip.commit
        elif start_point or content.default_branch is not None:
            parent = content.resolve(start_point).commit
        else:
            parent = None
        for path, blob in files.items():
            if blob is None and (parent is None or parent.tree.kind(path) != "FILE"):
                raise ValidationError(
                    f"'{path}' is not a file on {branch}: cannot delete it.", "files"
                )
        when_ms = int(store.clock.now()) * 1000
        await fast_import(
            folder,
            commit_stream(
                branch_ref,
                None if parent is None else parent.id,
                files,
                author=author,
                when_ms=when_ms,
                message=message,
            ),
        )
        return (await ref_tips(folder))[branch_ref]

    commit_id, changed = await change(store, repo, write)
    return changed.content.commits[commit_id], changed


async def add_tag(
    store: Store,
    repo: Repository,
    name: str,
    *,
    start_point: str | None,
    message: str | None,
    tagger: Person,
) -> tuple[Ref, Changed]:
    """A tag at ``start_point`` (default: the default branch's tip); annotated when there is
    a message. 409 when it exists."""
    tag_ref = TAGS + name.removeprefix(TAGS)
    if not await valid_ref_name(tag_ref):
        raise ValidationError(f"'{name}' is not a valid tag name.", "name")

    async def write(folder: Path) -> None:
        content = store.content(repo)
        if content.tag(tag_ref) is not None:
            raise DuplicateRefError(
                f"Tag '{tag_ref[len(TAGS) :]}' already exists in this repository."
            )
        target = content.resolve(start_point).commit.id
        if message is None:
            await run_git("update-ref", tag_ref, target, ZERO_ID, cwd=folder)
        else:
            when_ms = int(store.clock.now()) * 1000
            stream = tag_stream(
                tag_ref[len(TAGS) :], target, tagger=tagger, when_ms=when_ms, message=message
            )
            await fast_import(folder, stream)

    _, changed = await change(store, repo, write)
    tag = changed.content.tag(tag_ref)
    assert tag is not None
    return tag, changed


async def delete_ref(store: Store, repo: Repository, ref_id: str) -> Changed:
    """Delete a branch or tag (qualified id); 404 when there is none."""

    async def delete(folder: Path) -> None:
        tips = await ref_tips(folder)
        if ref_id not in tips:
            name = ref_id.split("/", 2)[-1]
            raise NoSuchBranchError(name) if ref_id.startswith(HEADS) else NoSuchTagError(name)
        await run_git("update-ref", "-d", ref_id, tips[ref_id], cwd=folder)

    _, changed = await change(store, repo, delete)
    return changed
