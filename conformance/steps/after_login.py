"""After the login: the packages an integration serves a user (``features/after-login/``).

The guide ends at the login; a Packagist-like integration's work starts there. Private
Packagist's documentation: it lists every tag and branch of the repositories the user can
read, reads the ``composer.json`` of each and serves a version per ref. The harness reads the
same from Bitbucket's REST API as the user (the ground truth) and compares it with what the
integration's ``GET /packages`` holds.

Versions are matched leniently, as Composer names them: a tag ``v1.2.0`` may be served as
``v1.2.0`` or ``1.2.0``; a branch ``main`` as ``dev-main``, a numeric branch ``1.x`` as
``1.x-dev`` (or ``dev-1.x``). A version is the ref's when its ``source.reference`` is the ref's
commit and its ``name`` is what that commit's ``composer.json`` says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from conformance.context import ADMIN_USERNAME, FeatureFileError, ScenarioContext
from conformance.steps import expect, given, then, when
from conformance.steps.common import bitbucket_get, bitbucket_pages, bitbucket_request
from conformance.steps.share_the_login_link import attempt_of, log_in_through_link, session_of
from conformance.sut import DriverError, Packaged, Packages, PackageVersion

RefKind = Literal["TAG", "BRANCH"]
#: A repository: (project key, slug).
RepoKey = tuple[str, str]
#: The most refs of one kind the harness reads per repository.
MAX_REFS = 1000


@dataclass(frozen=True, slots=True)
class Ref:
    """A tag or branch on Bitbucket and the package its ``composer.json`` names."""

    repo: RepoKey
    kind: RefKind
    name: str
    commit: str
    #: The ``name`` of ``composer.json`` at the commit; None without a usable one.
    package: str | None

    def describe(self) -> str:
        """``PKG/core tag v1.0.0 (abc1234)`` for messages."""
        kind = "tag" if self.kind == "TAG" else "branch"
        return f"{self.repo[0]}/{self.repo[1]} {kind} {self.name} ({self.commit[:12]})"


def tag_versions(tag: str) -> set[str]:
    """The version strings Composer may give a tag: its name, without a leading ``v``."""
    names = {tag}
    if tag[:1] in ("v", "V") and tag[1:2].isdigit():
        names.add(tag[1:])
    return names


def branch_versions(branch: str) -> set[str]:
    """The version strings Composer may give a branch: ``dev-<name>``, or for numeric
    branches ``<name>-dev`` / ``<name>.x-dev`` (a leading ``v`` dropped)."""
    names = {f"dev-{branch}"}
    bare = branch[1:] if branch[:1] in ("v", "V") and branch[1:2].isdigit() else branch
    if bare[:1].isdigit():
        names |= {f"{bare}-dev", f"{bare}.x-dev", f"{branch}-dev"}
    return names


def _repo_path(repo: RepoKey) -> str:
    return f"/rest/api/1.0/projects/{quote(repo[0], safe='')}/repos/{quote(repo[1], safe='')}"


def readable_repositories(ctx: ScenarioContext, username: str, archived: bool) -> list[RepoKey]:
    """The repositories ``username`` can read (with the archived ones when ``archived``)."""
    query = {"limit": "1000", **({"archived": "ALL"} if archived else {})}
    rows = bitbucket_pages(ctx, username, "/rest/api/1.0/repos", query)
    return sorted((row["project"]["key"], row["slug"]) for row in rows)


def granted_repositories(ctx: ScenarioContext, username: str) -> list[RepoKey]:
    """The (unarchived) repositories ``username`` has REPO_READ on through a grant: those an
    integration must synchronise (public ones without a grant, and archived ones, may be left
    out or included)."""
    query = {"limit": "1000", "permission": "REPO_READ"}
    rows = bitbucket_pages(ctx, username, "/rest/api/1.0/repos", query)
    return sorted((row["project"]["key"], row["slug"]) for row in rows)


def administered_repositories(ctx: ScenarioContext, username: str) -> list[RepoKey]:
    """The repositories ``username`` administers (REPO_ADMIN)."""
    query = {"limit": "1000", "permission": "REPO_ADMIN"}
    rows = bitbucket_pages(ctx, username, "/rest/api/1.0/repos", query)
    return sorted((row["project"]["key"], row["slug"]) for row in rows)


def composer_name(ctx: ScenarioContext, username: str, repo: RepoKey, commit: str) -> str | None:
    """The package name in ``composer.json`` at ``commit``, or None without a usable one."""
    path = _repo_path(repo) + "/raw/composer.json"
    status, document = bitbucket_get(ctx, username, path, {"at": commit})
    name = document.get("name") if status == 200 and isinstance(document, dict) else None
    return name if isinstance(name, str) and name else None


def refs_of(ctx: ScenarioContext, username: str, repo: RepoKey, kind: RefKind) -> list[Ref]:
    """Every tag or branch of ``repo`` with the package its ``composer.json`` names."""
    resource = "/tags" if kind == "TAG" else "/branches"
    rows = bitbucket_pages(ctx, username, _repo_path(repo) + resource, {"limit": str(MAX_REFS)})
    names: dict[str, str | None] = {}
    refs = []
    for row in rows:
        commit = str(row["latestCommit"])
        if commit not in names:
            names[commit] = composer_name(ctx, username, repo, commit)
        refs.append(Ref(repo, kind, str(row["displayId"]), commit, names[commit]))
    return refs


def truth(ctx: ScenarioContext, username: str, repos: Iterable[RepoKey]) -> list[Ref]:
    """Every tag and branch of ``repos`` as ``username`` reads them on Bitbucket."""
    refs: list[Ref] = []
    for repo in repos:
        refs += refs_of(ctx, username, repo, "TAG")
        refs += refs_of(ctx, username, repo, "BRANCH")
    return refs


def offered(packages: Packages) -> list[PackageVersion]:
    """Every version of every package, in order."""
    return [version for name in sorted(packages) for version in packages[name]]


def offers(packages: Packages, ref: Ref) -> bool:
    """Whether the integration serves ``ref`` as a version of its package."""
    if ref.package is None:
        return False
    wanted = tag_versions(ref.name) if ref.kind == "TAG" else branch_versions(ref.name)
    return any(
        version.version in wanted
        and version.reference == ref.commit
        and version.name == ref.package
        for version in packages.get(ref.package, ())
    )


def describe_packages(packages: Packages, limit: int = 12) -> str:
    """A summary of a package list for messages."""
    versions = offered(packages)
    if not versions:
        return "no packages"
    shown = ", ".join(f"{v.name} {v.version} ({v.reference[:12]})" for v in versions[:limit])
    more = f" and {len(versions) - limit} more" if len(versions) > limit else ""
    return f"{len(packages)} packages, {len(versions)} versions: {shown}{more}"


def _only(packages: Packages, name: str | None) -> Packages:
    """The one package ``name`` when offered, else everything (for messages)."""
    if name is not None and name in packages:
        return {name: packages[name]}
    return packages


def packages_of(ctx: ScenarioContext, username: str) -> Packages:
    """What the integration holds for ``username``'s browser now (``GET /packages``)."""
    return packaged(ctx).packages(attempt_of(ctx, username).cookies())


def packaged(ctx: ScenarioContext) -> Packaged:
    """The SUT's package list (it declares ``packages``, or the scenario was skipped)."""
    sut = ctx.sut
    if not isinstance(sut, Packaged):
        raise DriverError("packages()", "the SUT's driver serves no package list")
    return sut


def _refs_text(refs: list[Ref], limit: int = 8) -> str:
    return "; ".join(f"{ref.describe()} of {ref.package}" for ref in refs[:limit])


# -- steps: the login and the synchronisation ---------------------------------------------------


@given('the user "{username}" has logged in to the integration through the login link')
def user_has_logged_in(ctx: ScenarioContext, username: str) -> None:
    """Logs ``username`` in through the login link (Bitbucket's login and consent pages) and
    checks the integration knows them."""
    attempt = log_in_through_link(ctx, username, "allow")
    state = session_of(ctx, attempt)
    expect(
        state.authenticated and state.username == username,
        f"the integration to have logged {username!r} in",
        f"GET /session says authenticated={state.authenticated}, username={state.username!r}, "
        f"error={state.error!r}",
    )


@given('the integration has synchronised the packages of "{username}"')
@when('the integration synchronises the packages of "{username}"')
def integration_synchronises(ctx: ScenarioContext, username: str) -> None:
    """Asks the integration to synchronise ``username``'s packages now (``POST
    /packages/sync``), as its periodic update or a user's "Update" button would."""
    packaged(ctx).synchronise(attempt_of(ctx, username).cookies())


# -- steps: what changes on Bitbucket -------------------------------------------------------------


def push_tag(ctx: ScenarioContext, username: str, tag: str, repos: list[RepoKey]) -> None:
    """Tag the default branch of the first of ``repos`` with a composer.json, as a push would
    (the control API), and remember the tag as "the new tag"."""
    for repo in repos:
        status, branch = bitbucket_get(ctx, username, _repo_path(repo) + "/branches/default")
        if status != 200 or not isinstance(branch, dict):
            continue
        commit = str(branch["latestCommit"])
        package = composer_name(ctx, username, repo, commit)
        if package is None:
            continue
        created = ctx.sim.create_tag(repo[0], repo[1], tag, start_point=commit)
        ctx.notes["new_tag"] = Ref(repo, "TAG", tag, str(created["latestCommit"]), package)
        return
    raise FeatureFileError(
        f"none of the {len(repos)} repositories has a composer.json on its default branch"
    )


@when('a tag "{tag}" is pushed to a repository "{username}" can read that has a composer.json')
def tag_pushed_to_readable(ctx: ScenarioContext, tag: str, username: str) -> None:
    """Tags the default branch of a repository ``username`` can read that has a composer.json
    (the control API's ``POST /_sim/repos/…/tags``, the change a push makes)."""
    push_tag(ctx, username, tag, granted_repositories(ctx, username))


@when('a tag of a repository "{username}" can read is deleted on Bitbucket')
def tag_deleted(ctx: ScenarioContext, username: str) -> None:
    """Deletes a tag with a composer.json of a repository ``username`` can read (as a push
    deleting it) and remembers it as "the deleted tag"."""
    for repo in granted_repositories(ctx, username):
        tags = [ref for ref in refs_of(ctx, username, repo, "TAG") if ref.package is not None]
        if tags:
            ref = tags[0]
            ctx.sim.delete_tag(repo[0], repo[1], ref.name)
            ctx.notes["deleted_tag"] = ref
            return
    raise FeatureFileError(f"no repository {username!r} can read has a tag with a composer.json")


@when('"{username}" can no longer read a repository with a composer.json')
def user_loses_a_repository(ctx: ScenarioContext, username: str) -> None:
    """Revokes ``username``'s own permission on a repository with a composer.json (``DELETE
    …/permissions/users?name=``, as an admin) that they then cannot read at all."""
    for repo in granted_repositories(ctx, username):
        refs = [ref for ref in truth(ctx, username, [repo]) if ref.package is not None]
        if not refs:
            continue
        status, _ = bitbucket_request(
            ctx,
            ADMIN_USERNAME,
            "DELETE",
            _repo_path(repo) + "/permissions/users",
            {"name": username},
        )
        expect(status == 204, f"Bitbucket to revoke {username}'s permission", f"HTTP {status}")
        still, _ = bitbucket_get(ctx, username, _repo_path(repo))
        if still != 200:
            ctx.notes["lost_repo"] = (repo, refs)
            return
    raise FeatureFileError(
        f"{username!r} reads no repository with a composer.json through a permission of "
        "their own (public or project-wide access cannot be revoked per user)"
    )


# -- steps: what the integration offers ---------------------------------------------------------


@then('the integration offers "{username}" a version of each tag they can read')
def offers_each_tag(ctx: ScenarioContext, username: str) -> None:
    """Asserts every tag with a composer.json in a repository ``username`` has REPO_READ on
    is a version of the package its composer.json names (at the tag's commit), and that every
    version offered comes from a ref ``username`` can read."""
    packages = packages_of(ctx, username)
    refs = truth(ctx, username, granted_repositories(ctx, username))
    tags = [ref for ref in refs if ref.kind == "TAG" and ref.package is not None]
    if not tags:
        raise FeatureFileError(f"no repository {username!r} can read has a tagged composer.json")
    missing = [ref for ref in tags if not offers(packages, ref)]
    expect(
        not missing,
        f"a version for each of the {len(tags)} tags with a composer.json {username!r} can "
        "read, named as its composer.json says, at the tag's commit",
        f"missing {len(missing)}: {_refs_text(missing)}; the integration offers "
        f"{describe_packages(packages)}",
        "a tag v1.0.0 may be served as v1.0.0 or 1.0.0, with source.reference its commit",
    )
    _expect_only_readable(ctx, username, packages, refs)


def _expect_only_readable(
    ctx: ScenarioContext, username: str, packages: Packages, refs: list[Ref]
) -> None:
    others = set(readable_repositories(ctx, username, archived=True))
    others -= {ref.repo for ref in refs}
    refs = refs + truth(ctx, username, sorted(others))
    known = {(ref.package, ref.commit) for ref in refs}
    foreign = [v for v in offered(packages) if (v.name, v.reference) not in known]
    expect(
        not foreign,
        f"only versions of refs {username!r} can read",
        "not at any readable ref's commit: "
        + "; ".join(f"{v.name} {v.version} ({v.reference[:12]})" for v in foreign[:8]),
    )


@then('the integration offers "{username}" a dev version of each branch they can read')
def offers_each_branch(ctx: ScenarioContext, username: str) -> None:
    """Asserts every branch with a composer.json in a repository ``username`` can read is a
    ``dev-`` version (``1.x-dev`` for numeric branches) at the branch's head."""
    packages = packages_of(ctx, username)
    branches = [
        ref
        for repo in granted_repositories(ctx, username)
        for ref in refs_of(ctx, username, repo, "BRANCH")
        if ref.package is not None
    ]
    if not branches:
        raise FeatureFileError(f"no repository {username!r} can read has a composer.json")
    missing = [ref for ref in branches if not offers(packages, ref)]
    expect(
        not missing,
        f"a dev version for each of the {len(branches)} branches with a composer.json",
        f"missing {len(missing)}: {_refs_text(missing)}; the integration offers "
        f"{describe_packages(packages)}",
        "a branch main is dev-main; 1.x may be 1.x-dev",
    )


@then('the integration offers "{username}" the new tag\'s version')
def offers_new_tag(ctx: ScenarioContext, username: str) -> None:
    """Asserts the tag pushed in this scenario is now a version of its package."""
    ref: Ref = ctx.notes["new_tag"]
    packages = packages_of(ctx, username)
    expect(
        offers(packages, ref),
        f"{ref.package} to have a version for {ref.describe()}",
        _offered_text(packages, ref),
    )


@then('the integration does not offer "{username}" the new tag\'s version')
def does_not_offer_new_tag(ctx: ScenarioContext, username: str) -> None:
    """Asserts the tag pushed in this scenario is not (yet) a version of its package."""
    ref: Ref = ctx.notes["new_tag"]
    packages = packages_of(ctx, username)
    expect(
        not offers(packages, ref),
        f"no version for {ref.describe()} (nothing genuine told the integration of it)",
        _offered_text(packages, ref),
    )


def _offered_text(packages: Packages, ref: Ref) -> str:
    return f"the integration offers {describe_packages(_only(packages, ref.package))}"


@then('the integration no longer offers "{username}" the deleted tag\'s version')
def no_longer_offers_deleted_tag(ctx: ScenarioContext, username: str) -> None:
    """Asserts no version of the deleted tag's package is named after the deleted tag."""
    ref: Ref = ctx.notes["deleted_tag"]
    packages = packages_of(ctx, username)
    names = tag_versions(ref.name)
    stale = [v for v in packages.get(str(ref.package), ()) if v.version in names]
    expect(
        not stale,
        f"no version of {ref.package} for the deleted {ref.describe()}",
        "still offered: " + ", ".join(f"{v.version} ({v.reference[:12]})" for v in stale),
    )


@then('the integration offers "{username}" nothing from that repository')
def offers_nothing_from_lost_repo(ctx: ScenarioContext, username: str) -> None:
    """Asserts no version of the refs of the repository ``username`` lost is still offered
    (unless the same package and commit also live in a repository they still read)."""
    repo, refs = ctx.notes["lost_repo"]
    packages = packages_of(ctx, username)
    lost = {(ref.package, ref.commit) for ref in refs}
    kept = {
        (ref.package, ref.commit)
        for ref in truth(ctx, username, readable_repositories(ctx, username, archived=True))
    }
    stale = [v for v in offered(packages) if (v.name, v.reference) in lost - kept]
    expect(
        not stale,
        f"nothing from {repo[0]}/{repo[1]}, which {username!r} can no longer read",
        "still offered: "
        + ", ".join(f"{v.name} {v.version} ({v.reference[:12]})" for v in stale[:8]),
    )
