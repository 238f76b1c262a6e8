"""Bare repositories on disk, built from the derived content on first use, and the content
of the repositories pushes and the control API changed.

One directory per simulator repository (``<root>/<id>.git``), written by ``git fast-import``
from :class:`~simulator.content.RepoContent`: every commit with its author, committer, dates
and message, every tree, the branches, and each tag, annotated or lightweight. The content
module computes the same git objects itself, so the ids git writes are checked against the
ids the REST API serves; a difference is an error, never a silent drift. Nothing is built
before a client asks (the ``large`` dataset's 100,000 repositories cost nothing until
cloned), and a build happens once per repository: concurrent requests wait for the first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from simulator.content import HEADS, Commit, RepoContent, signature

#: git's environment for the simulator's own calls: no user or system configuration.
BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}
#: Server-side settings of every repository: partial clones allowed.
REPO_CONFIG = (
    ("uploadpack.allowFilter", "true"),
    ("uploadpack.allowAnySHA1InWant", "true"),
    ("http.receivepack", "true"),  # who may push is decided before git runs
    ("receive.denyNonFastForwards", "false"),  # Bitbucket allows force pushes by default
    ("gc.auto", "0"),  # no background gc while requests read the folder
)


class GitError(RuntimeError):
    """git failed, or wrote objects other than the content's."""


def git_environment() -> dict[str, str]:
    """The environment git runs in: PATH and HOME kept, every inherited ``GIT_*`` dropped."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**kept, **BASE_ENV}


async def run_git(*args: str, cwd: Path | None = None, stdin: bytes = b"") -> bytes:
    """Run git; its output, or :class:`GitError` with what it printed."""
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        env=git_environment(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        raise GitError(f"git {args[0]} failed ({process.returncode}): {err.decode()[-2000:]}")
    return out


def fast_import_stream(content: RepoContent) -> bytes:
    """The ``git fast-import`` input that writes a repository's whole content."""
    tips = {ref.commit.id: ref.id for ref in content.branches}
    default = content.default_ref_id
    marks: dict[str, int] = {}
    out = bytearray()

    def data(payload: bytes) -> None:
        out.extend(b"data %d\n" % len(payload) + payload + b"\n")

    for commit in content.commits.values():
        mark = marks[commit.id] = len(marks) + 1
        target = tips.get(commit.id, default)
        out.extend(f"commit {target}\nmark :{mark}\n".encode())
        out.extend(f"author {signature(commit.author, commit.author_ms)}\n".encode())
        out.extend(f"committer {signature(commit.committer, commit.committer_ms)}\n".encode())
        data((commit.message + "\n").encode())
        for parent in commit.parents:
            out.extend(f"from :{marks[parent]}\n".encode())
        out.extend(b"deleteall\n")
        for path, blob in commit.tree.files.items():
            out.extend(f"M 100644 inline {path}\n".encode())
            data(blob)
        out.extend(b"\n")
    for ref in content.branches:
        out.extend(f"reset {ref.id}\nfrom :{marks[ref.commit.id]}\n\n".encode())
    for ref in content.tags:
        if ref.hash is None:
            out.extend(f"reset {ref.id}\nfrom :{marks[ref.commit.id]}\n\n".encode())
        else:
            out.extend(f"tag {ref.display_id}\nfrom :{marks[ref.commit.id]}\n".encode())
            tagger = _tagger(ref.commit)
            out.extend(f"tagger {tagger}\n".encode())
            data((ref.commit.message + "\n").encode())
    out.extend(b"done\n")
    return bytes(out)


def _tagger(commit: Commit) -> str:
    return signature(commit.committer, commit.committer_ms)


def expected_refs(content: RepoContent) -> dict[str, str]:
    """Each ref and the object id it must name (a tag object for an annotated tag)."""
    refs = {ref.id: ref.commit.id for ref in content.branches}
    refs.update({ref.id: ref.hash or ref.commit.id for ref in content.tags})
    return refs


#: Refuses a push whose new commits hold what the REST API cannot serve: submodules.
PRE_RECEIVE = """#!/bin/sh
zero=0000000000000000000000000000000000000000
while read old new ref; do
    [ "$new" = "$zero" ] && continue
    [ "$(git cat-file -t "$new")" = commit ] || continue
    for commit in $(git rev-list "$new" --not --all); do
        if git ls-tree -r "$commit" | grep -q '^160000 '; then
            echo "Submodules are not served by this simulator ($ref, commit $commit)."
            exit 1
        fi
    done
done
"""
#: A file in a repository's folder that says pushes or the control API changed it.
CHANGED_MARKER = "simulator-changed"


class GitRepositories:
    """Where the bare repositories live, building them on first use, and the content of
    those that pushes or the control API changed (read back from disk, see
    :mod:`simulator.git.reader`)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._building: dict[int, asyncio.Lock] = {}
        self._changing: dict[int, asyncio.Lock] = {}
        #: The content of each changed repository, by repository id.
        self.changed: dict[int, RepoContent] = {}

    def changing(self, repo_id: int) -> asyncio.Lock:
        """The lock that one change of a repository (a push, a control-API change) holds."""
        return self._changing.setdefault(repo_id, asyncio.Lock())

    def mark_changed(self, content: RepoContent) -> None:
        """Serve ``content`` for its repository from now on, and say so on disk (a state
        file's restart reads it back)."""
        repo_id = content.repository.id
        (self.path_of(repo_id) / CHANGED_MARKER).touch()
        self.changed[repo_id] = content

    def forget_changes(self) -> None:
        """Back to the seed: every changed repository's folder goes (the next git request
        builds it again from the seed)."""
        for repo_id in list(self.changed):
            shutil.rmtree(self.path_of(repo_id), ignore_errors=True)
        self.changed.clear()

    def changed_folders(self) -> list[tuple[int, Path]]:
        """The repositories on disk that carry the changed marker (after a restart)."""
        if self._root is None or not self._root.is_dir():
            return []
        found = []
        for folder in sorted(self._root.glob("*.git")):
            stem = folder.name.removesuffix(".git")
            if stem.isdigit() and (folder / CHANGED_MARKER).is_file():
                found.append((int(stem), folder))
        return found

    @property
    def root(self) -> Path:
        """The folder holding the repositories (a private temporary one unless given)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="bbdc-sim-git-"))
            weakref.finalize(self, shutil.rmtree, self._root, True)
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def path_of(self, repo_id: int) -> Path:
        """A repository's folder (whether built yet or not)."""
        return self.root / f"{repo_id}.git"

    async def ensure(self, content: RepoContent) -> Path:
        """The repository's folder, built from its content if it is not there yet."""
        path = self.path_of(content.repository.id)
        if path.is_dir():
            return path
        lock = self._building.setdefault(content.repository.id, asyncio.Lock())
        async with lock:
            if not path.is_dir():
                await self._build(content, path)
        return path

    async def _build(self, content: RepoContent, path: Path) -> None:
        scratch = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=self.root))
        try:
            branch = content.repository.default_branch
            await run_git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(scratch))
            for key, value in REPO_CONFIG:
                await run_git("config", key, value, cwd=scratch)
            if content.commits:
                await run_git(
                    "fast-import", "--quiet", cwd=scratch, stdin=fast_import_stream(content)
                )
                await _check(content, scratch)
            await run_git("symbolic-ref", "HEAD", HEADS + branch, cwd=scratch)
            hook = scratch / "hooks" / "pre-receive"
            hook.parent.mkdir(exist_ok=True)
            hook.write_text(PRE_RECEIVE)
            hook.chmod(0o755)
            scratch.rename(path)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)


async def _check(content: RepoContent, path: Path) -> None:
    listing = await run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=path)
    written = dict(line.split(" ", 1) for line in listing.decode().splitlines())
    expected = expected_refs(content)
    if written != expected:
        raise GitError(
            f"git wrote other objects than the content of repository {content.repository.id}: "
            f"{sorted(set(written.items()) ^ set(expected.items()))[:6]}"
        )
