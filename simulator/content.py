"""The git content of the simulated repositories: refs, commits and file trees.

Nothing here is stored. A repository's content is derived from ``(catalog.seed, repository)``
the first time it is read and kept in a bounded cache, so ``--dataset large`` costs memory only
for the repositories that are actually read.

Each non-empty repository has a linear history on its default branch, 0-4 release tags on that
history (``v1.0.0``, ``v1.1.0``, ``v2.0.0``, ``v2.1.0``), and a few other branches one commit
ahead of it. Every commit carries a small PHP package tree; ``composer.json`` (when the
repository has one) tightens its constraints from tag to tag and branches carry the newest.
The one empty repository has no refs, commits or files.

Paths are looked up by exact key in one repository's tree, after :func:`normalise_path`
rejects ``.``/``..`` segments, backslashes and control characters; nothing can reach outside.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from simulator.errors import NoSuchCommitError, NoSuchPathError
from simulator.model import Repository
from simulator.seed import Catalog

BRANCH = "BRANCH"
TAG = "TAG"
HEADS = "refs/heads/"
TAGS = "refs/tags/"
#: How many characters of a commit id Bitbucket shows as its ``displayId``.
DISPLAY_ID_LENGTH = 11
TAG_NAMES = ("v1.0.0", "v1.1.0", "v2.0.0", "v2.1.0")
#: composer.json ``require`` per release (index = tag index; the last one is unreleased work).
REQUIREMENTS: tuple[dict[str, str], ...] = (
    {"php": ">=7.4", "psr/log": "^1.1"},
    {"php": ">=7.4", "psr/log": "^1.1", "symfony/console": "^5.4"},
    {"php": ">=8.0", "psr/log": "^2.0 || ^3.0", "symfony/console": "^5.4 || ^6.0"},
    {"php": ">=8.1", "psr/log": "^3.0", "symfony/console": "^6.0"},
    {
        "php": ">=8.1",
        "psr/log": "^3.0",
        "symfony/console": "^6.4 || ^7.0",
        "guzzlehttp/guzzle": "^7.8",
    },
)
_TOPICS = ("cache", "parser", "logging", "retry", "config", "docs", "ci", "performance")
_MESSAGES = (
    "Fix typo in README",
    "Add {name}Helper::normalise()",
    "Improve test coverage",
    "Update dependencies",
    "Refactor {name}::handle()",
    "Document the public API",
    "Fix an edge case with empty input",
    "Tidy up .gitignore",
)
EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z: every commit lies between this and 2022
DAY_MS = 86_400_000
ARCHIVE_FORMATS: Mapping[str, str] = {
    "zip": "application/zip",
    "tar": "application/x-tar",
    "tar.gz": "application/x-gzip",
    "tgz": "application/x-gzip",
}
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

EntryType = Literal["FILE", "DIRECTORY"]
#: The git mode of an ordinary file.
FILE_MODE = "100644"


def object_id(kind: str, body: bytes) -> str:
    """The git object id of an object of this kind (``blob``, ``tree``, ``commit``, ``tag``)."""
    header = f"{kind} {len(body)}\0".encode()
    return hashlib.sha1(header + body, usedforsecurity=False).hexdigest()


def signature(person: Person, when_ms: int) -> str:
    """An author, committer or tagger line's value, as git writes it (UTC)."""
    return f"{person.name} <{person.email}> {when_ms // 1000} +0000"


def commit_body(
    tree_id: str,
    parents: Sequence[str],
    *,
    author: Person,
    author_ms: int,
    committer: Person,
    committer_ms: int,
    message: str,
) -> bytes:
    """A commit object's body; the message ends with a newline, as ``git commit`` leaves it."""
    lines = [f"tree {tree_id}", *(f"parent {parent}" for parent in parents)]
    lines += [f"author {signature(author, author_ms)}"]
    lines += [f"committer {signature(committer, committer_ms)}", "", message]
    return ("\n".join(lines) + "\n").encode()


def tag_body(commit_id: str, name: str, tagger: Person, when_ms: int, message: str) -> bytes:
    """An annotated tag object's body, pointing at a commit."""
    lines = [f"object {commit_id}", "type commit", f"tag {name}"]
    lines += [f"tagger {signature(tagger, when_ms)}", "", message]
    return ("\n".join(lines) + "\n").encode()


def normalise_path(raw: str) -> str | None:
    """A tree path for ``raw`` ('' for the root), or None when it can name nothing.

    Leading and trailing slashes are dropped. A path with an empty, ``.`` or ``..`` segment, a
    backslash or a control character does not exist (callers answer 404, never 500).
    """
    if "\\" in raw or _CONTROL.search(raw):
        return None
    path = raw.strip("/")
    if not path:
        return ""
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        return None
    return path


# -- trees ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A child of a directory: a file (with its size) or a directory."""

    name: str
    type: EntryType
    content_id: str
    size: int | None = None


class Tree:
    """An immutable snapshot of files (path -> bytes) with git-like object ids."""

    def __init__(self, files: Mapping[str, bytes], modes: Mapping[str, str] | None = None) -> None:
        self.files: dict[str, bytes] = dict(sorted(files.items()))
        #: git file modes other than ``100644`` (``100755``, ``120000``), by path.
        self.modes: dict[str, str] = {p: m for p, m in (modes or {}).items() if m != FILE_MODE}
        listing: dict[str, dict[str, EntryType]] = {"": {}}
        for path in self.files:
            parts = path.split("/")
            for depth in range(len(parts)):
                parent = "/".join(parts[:depth])
                kind: EntryType = "FILE" if depth == len(parts) - 1 else "DIRECTORY"
                listing.setdefault(parent, {})[parts[depth]] = kind
        self._listing = listing
        self._objects: dict[str, tuple[str, int]] = {}
        self._tree_object("")

    def _tree_object(self, directory: str) -> tuple[str, int]:
        """The git tree id and object size of a directory (computed once, recursively)."""
        cached = self._objects.get(directory)
        if cached is not None:
            return cached
        body = self.object_body(directory)
        result = (object_id("tree", body), len(body))
        self._objects[directory] = result
        return result

    @property
    def id(self) -> str:
        """The root tree's git object id."""
        return self._tree_object("")[0]

    def object_body(self, directory: str) -> bytes:
        """The body of a directory's git tree object ('' is the root)."""
        body = b""
        names = self._listing[directory]
        for name in sorted(names, key=lambda n: n + "/" if names[n] == "DIRECTORY" else n):
            child = f"{directory}/{name}" if directory else name
            if names[name] == "DIRECTORY":
                mode, child_id = b"40000", self._tree_object(child)[0]
            else:
                mode = self.modes.get(child, FILE_MODE).encode()
                child_id = blob_id(self.files[child])
            body += mode + b" " + name.encode() + b"\0" + bytes.fromhex(child_id)
        return body

    def kind(self, path: str) -> EntryType | None:
        """Whether a normalised path is a file, a directory, or nothing."""
        if path in self.files:
            return "FILE"
        if path in self._listing:
            return "DIRECTORY"
        return None

    def size(self, path: str) -> int:
        """A file's size in bytes, or a directory's tree object size (``git cat-file -s``)."""
        if path in self.files:
            return len(self.files[path])
        return self._tree_object(path)[1]

    def children(self, directory: str) -> list[Entry]:
        """A directory's children: directories first, then files, each by name."""
        names = self._listing[directory]
        entries: list[Entry] = []
        for name in sorted(names, key=lambda n: (names[n] == "FILE", n)):
            child = f"{directory}/{name}" if directory else name
            if names[name] == "DIRECTORY":
                entries.append(Entry(name, "DIRECTORY", self._tree_object(child)[0]))
            else:
                data = self.files[child]
                entries.append(Entry(name, "FILE", blob_id(data), len(data)))
        return entries

    def files_under(self, directory: str) -> list[str]:
        """Every file below a directory, recursively, relative to it, by path."""
        if not directory:
            return list(self.files)
        prefix = directory + "/"
        return [path[len(prefix) :] for path in self.files if path.startswith(prefix)]

    def select(self, paths: Sequence[str]) -> list[str]:
        """The files at or below any of the given normalised paths ('' selects everything)."""
        if not paths or "" in paths:
            return list(self.files)
        return [
            path for path in self.files if any(path == p or path.startswith(p + "/") for p in paths)
        ]


def blob_id(data: bytes) -> str:
    """The git blob id of some content."""
    return object_id("blob", data)


# -- commits and refs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """A commit author or committer as git records them."""

    name: str
    email: str


@dataclass(frozen=True, slots=True, eq=False)
class Commit:
    """One commit; ``tree`` is the snapshot it records."""

    id: str
    author: Person
    author_ms: int
    committer: Person
    committer_ms: int
    message: str
    parents: tuple[str, ...]
    tree: Tree

    @property
    def display_id(self) -> str:
        """The abbreviated id Bitbucket shows."""
        return self.id[:DISPLAY_ID_LENGTH]


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    """A branch or tag. ``hash`` is the annotated tag object's id (None for a lightweight one),
    ``tag_object`` that object's body."""

    id: str
    display_id: str
    type: str
    commit: Commit
    hash: str | None = None
    tag_object: bytes | None = None


@dataclass(frozen=True, slots=True)
class Revision:
    """What an ``at`` resolved to: the commit, the ref if it named one, and the text asked."""

    commit: Commit
    ref: Ref | None
    revision: str


@dataclass(frozen=True, eq=False)
class RepoContent:
    """A repository's refs and commits."""

    repository: Repository
    branches: tuple[Ref, ...]  # by name
    tags: tuple[Ref, ...]  # by name
    commits: Mapping[str, Commit]
    default_branch: Ref | None

    @property
    def default_ref_id(self) -> str:
        """The configured default branch's ref id (it may not exist in an empty repository)."""
        return HEADS + self.repository.default_branch

    def branch(self, name: str) -> Ref | None:
        """A branch by short or qualified name."""
        name = name.removeprefix(HEADS)
        return next((ref for ref in self.branches if ref.display_id == name), None)

    def tag(self, name: str) -> Ref | None:
        """A tag by short or qualified name."""
        name = name.removeprefix(TAGS)
        return next((ref for ref in self.tags if ref.display_id == name), None)

    def find_ref(self, name: str) -> Ref | None:
        """A qualified ref, or a short name tried as a branch and then as a tag."""
        if name.startswith(HEADS):
            return self.branch(name)
        if name.startswith(TAGS):
            return self.tag(name)
        return self.branch(name) or self.tag(name)

    def find_commit(self, commit_id: str) -> Commit | None:
        """A commit by full id or unique abbreviation (at least 4 hex digits)."""
        if not _HEX.fullmatch(commit_id):
            return None
        wanted = commit_id.lower()
        exact = self.commits.get(wanted)
        if exact is not None:
            return exact
        matches = [commit for key, commit in self.commits.items() if key.startswith(wanted)]
        return matches[0] if len(matches) == 1 else None

    def resolve(self, at: str | None) -> Revision:
        """Resolve ``at`` (None or '' = default branch); 404 NoSuchCommit when it names nothing."""
        if not at:
            if self.default_branch is None:
                raise NoSuchCommitError(self.default_ref_id)
            return Revision(self.default_branch.commit, self.default_branch, self.default_ref_id)
        ref = self.find_ref(at)
        if ref is not None:
            return Revision(ref.commit, ref, at)
        commit = self.find_commit(at)
        if commit is None:
            raise NoSuchCommitError(at)
        return Revision(commit, None, at)

    def path_kind(self, revision: Revision, raw_path: str) -> tuple[str, EntryType]:
        """The normalised path and its kind; 404 NoSuchPath when it does not exist."""
        path = normalise_path(raw_path)
        kind = None if path is None else revision.commit.tree.kind(path)
        if path is None or kind is None:
            raise NoSuchPathError(raw_path, revision.revision)
        return path, kind


def content_of(catalog: Catalog, repo: Repository) -> RepoContent:
    """The content of a repository, derived on first use and cached (bounded)."""
    return _content(catalog, repo)


@lru_cache(maxsize=256)
def _content(catalog: Catalog, repo: Repository) -> RepoContent:
    if repo.empty:
        return RepoContent(repo, (), (), {}, None)
    return _Builder(catalog, repo).build()


class _Builder:
    """Derives one repository's history from a RNG seeded with (seed, repository id)."""

    def __init__(self, catalog: Catalog, repo: Repository) -> None:
        self.seed = catalog.seed
        self.repo = repo
        self.rng = random.Random(f"content:{catalog.seed}:{repo.id}")
        self.people = [Person(u.display_name, u.email) for u in catalog.users if u.active]
        self.commits: dict[str, Commit] = {}
        self.name = _studly(repo.slug)

    def _commit(
        self, ref: str, index: int, when_ms: int, *, message: str, parent: Commit | None, tree: Tree
    ) -> Commit:
        author = self.rng.choice(self.people)
        committer = author if self.rng.random() < 0.8 else self.rng.choice(self.people)
        when_ms -= when_ms % 1000  # git keeps seconds
        committed_ms = when_ms + self.rng.randrange(0, 3_600) * 1000
        parents = () if parent is None else (parent.id,)
        body = commit_body(
            tree.id,
            parents,
            author=author,
            author_ms=when_ms,
            committer=committer,
            committer_ms=committed_ms,
            message=message,
        )
        commit = Commit(
            id=object_id("commit", body),
            author=author,
            author_ms=when_ms,
            committer=committer,
            committer_ms=committed_ms,
            message=message,
            parents=parents,
            tree=tree,
        )
        self.commits[commit.id] = commit
        return commit

    def build(self) -> RepoContent:
        rng, repo = self.rng, self.repo
        tag_count = rng.randint(0, len(TAG_NAMES))
        length = rng.randint(tag_count + 2, tag_count + 6)
        tag_at = sorted(rng.sample(range(1, length - 1), tag_count))
        when = EPOCH_MS + rng.randrange(0, 700 * DAY_MS)
        year = datetime.fromtimestamp(when / 1000, tz=UTC).year
        trees = [self._tree(version, tag_count, year) for version in range(tag_count + 1)]
        default_ref = HEADS + repo.default_branch
        head: Commit | None = None
        tags: list[Ref] = []
        for index in range(length):
            version = sum(1 for position in tag_at if position < index)
            if index == 0:
                message = "Initial commit"
            elif index in tag_at:
                message = f"Release {TAG_NAMES[tag_at.index(index)].lstrip('v')}"
            else:
                message = rng.choice(_MESSAGES).format(name=self.name)
            head = self._commit(
                default_ref, index, when, message=message, parent=head, tree=trees[version]
            )
            if index in tag_at:
                name = TAG_NAMES[tag_at.index(index)]
                if rng.random() < 0.5:  # annotated, by the release commit's committer
                    body = tag_body(head.id, name, head.committer, head.committer_ms, head.message)
                    tags.append(Ref(TAGS + name, name, TAG, head, object_id("tag", body), body))
                else:
                    tags.append(Ref(TAGS + name, name, TAG, head))
            when += rng.randrange(DAY_MS // 4, 5 * DAY_MS)
        assert head is not None  # length >= 2
        default = Ref(default_ref, repo.default_branch, BRANCH, head)
        branches = [default]
        topics = rng.sample(_TOPICS, 2)
        candidates = ["develop", f"feature/{topics[0]}", "release/1.x", f"bugfix/{topics[1]}"]
        for name in sorted(rng.sample(candidates, rng.randint(0, 3))):
            when += rng.randrange(DAY_MS // 4, 3 * DAY_MS)
            message = f"Work on {name.rpartition('/')[2]}"
            tip = self._commit(
                HEADS + name, 0, when, message=message, parent=head, tree=trees[tag_count]
            )
            branches.append(Ref(HEADS + name, name, BRANCH, tip))
        branches.sort(key=lambda ref: ref.display_id)
        return RepoContent(repo, tuple(branches), tuple(tags), self.commits, default)

    def _tree(self, version: int, tag_count: int, year: int) -> Tree:
        repo = self.repo
        name = self.name
        vendor = _studly(repo.project.key.lstrip("~"))
        namespace = f"{vendor}\\{name}"
        package = f"{repo.project.key.lstrip('~').lower()}/{repo.slug}"
        label = (
            TAG_NAMES[version].lstrip("v") if version < tag_count else "dev-" + repo.default_branch
        )
        install = (
            f"```bash\ncomposer require {package}\n```"
            if repo.has_composer_json
            else f"Clone the repository and include `src/{name}.php`."
        )
        files = {
            "README.md": f"# {repo.name}\n\n{repo.description}\n\n## Installation\n\n"
            f"{install}\n\nVersion: {label}\n",
            "LICENSE": _MIT.format(year=year, holder=repo.project.name),
            ".gitignore": "/vendor/\n/composer.lock\n/.phpunit.result.cache\n",
            f"src/{name}.php": _CLASS.format(ns=namespace, name=name, version=label),
            f"src/Util/{name}Helper.php": _HELPER.format(ns=namespace, name=name),
            f"tests/{name}Test.php": _TEST.format(ns=namespace, name=name),
        }
        if repo.has_composer_json:
            files["composer.json"] = _composer_json(repo, package, namespace, version)
        return Tree({path: text.encode() for path, text in files.items()})


def _composer_json(repo: Repository, package: str, namespace: str, version: int) -> str:
    manifest = {
        "name": package,
        "description": repo.description,
        "type": "library",
        "license": "MIT",
        "require": REQUIREMENTS[version],
        "require-dev": {"phpunit/phpunit": "^9.6" if version < 3 else "^10.5"},
        "autoload": {"psr-4": {namespace + "\\": "src/"}},
        "autoload-dev": {"psr-4": {namespace + "\\Tests\\": "tests/"}},
    }
    return json.dumps(manifest, indent=4) + "\n"


def _studly(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


_MIT = """MIT License

Copyright (c) {year} {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

_CLASS = """<?php

declare(strict_types=1);

namespace {ns};

use {ns}\\Util\\{name}Helper;

final class {name}
{{
    public const VERSION = '{version}';

    public function handle(string $input): string
    {{
        return {name}Helper::normalise($input);
    }}
}}
"""

_HELPER = """<?php

declare(strict_types=1);

namespace {ns}\\Util;

final class {name}Helper
{{
    public static function normalise(string $input): string
    {{
        return strtolower(trim($input));
    }}
}}
"""

_TEST = """<?php

declare(strict_types=1);

namespace {ns}\\Tests;

use PHPUnit\\Framework\\TestCase;
use {ns}\\{name};

final class {name}Test extends TestCase
{{
    public function testHandleNormalisesInput(): void
    {{
        self::assertSame('abc', (new {name}())->handle('  ABC '));
    }}
}}
"""


# -- archives ---------------------------------------------------------------------------------


def archive_prefix(raw: str | None) -> str | None:
    """The directory prefix for archive entries ('' for none), with a trailing ``/`` added.

    None when it would climb out of the archive (``..`` segments, an absolute path, a
    backslash or control characters).
    """
    if not raw:
        return ""
    if raw.startswith("/") or "\\" in raw or _CONTROL.search(raw):
        return None
    segments = raw.rstrip("/").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    return "/".join(segments) + "/"


def build_archive(tree: Tree, files: Iterable[str], prefix: str, fmt: str, mtime_ms: int) -> bytes:
    """An archive of some of a tree's files (with their directories) under ``prefix``."""
    chosen = sorted(files)
    directories = sorted(
        {
            "/".join(path.split("/")[:depth]) + "/"
            for path in chosen
            for depth in range(1, path.count("/") + 1)
        }
    )
    names = ([prefix] if prefix else []) + [prefix + d for d in directories]
    entries: list[tuple[str, bytes | None]] = [(name, None) for name in names]
    entries += [(prefix + p, tree.files[p]) for p in chosen]
    if fmt == "zip":
        return _zip(entries, mtime_ms)
    data = _tar(entries, mtime_ms)
    if fmt == "tar":
        return data
    import gzip  # archives are rare: start-up does not pay for these modules

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=mtime_ms // 1000) as stream:
        stream.write(data)
    return out.getvalue()


def _zip(entries: Sequence[tuple[str, bytes | None]], mtime_ms: int) -> bytes:
    import zipfile

    stamp = datetime.fromtimestamp(mtime_ms / 1000, tz=UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            if data is None:
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    return out.getvalue()


def _tar(entries: Sequence[tuple[str, bytes | None]], mtime_ms: int) -> bytes:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = mtime_ms // 1000
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                archive.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return out.getvalue()
