"""Permission semantics: levels, caps, visibility, 404 versus 401."""

from __future__ import annotations

import pytest

from simulator.access import Access
from simulator.auth import ANONYMOUS, Principal
from simulator.errors import AuthorisationError, NoSuchProjectError, NoSuchRepositoryError
from simulator.model import ProjectLevel, RepoLevel, Repository
from simulator.seed import MAIN_PROJECT_KEY, DatasetSize, build_catalog


@pytest.fixture(scope="module")
def access() -> Access:
    return Access(build_catalog(1, DatasetSize.named("small")))


def who(access: Access, name: str, **caps: object) -> Principal:
    return Principal(user=access.catalog.users_by_name[name], method="basic", **caps)  # type: ignore[arg-type]


def main_repos(access: Access) -> tuple[Repository, ...]:
    return access.catalog.project_repositories(access.catalog.projects_by_key[MAIN_PROJECT_KEY])


def all_repos(access: Access) -> list[Repository]:
    return [r for p in access.catalog.projects for r in access.catalog.project_repositories(p)]


def test_sysadmin_administers_everything(access: Access) -> None:
    admin = who(access, "admin")
    assert all(access.repo_level(admin, r) == RepoLevel.REPO_ADMIN for r in all_repos(access))


def test_project_grant_gives_repository_level_of_same_rank(access: Access) -> None:
    alice = who(access, "alice")
    assert all(access.repo_level(alice, r) == RepoLevel.REPO_ADMIN for r in main_repos(access))


def test_repository_grant_without_project_grant(access: Access) -> None:
    bob = who(access, "bob")
    levels = [access.repo_level(bob, r) for r in main_repos(access)]
    assert levels[:2] == [RepoLevel.REPO_READ, RepoLevel.REPO_READ]
    assert all(level <= RepoLevel.PUBLIC for level in levels[2:])


def test_anonymous_sees_public_repositories_only(access: Access) -> None:
    for repo in all_repos(access):
        expected = RepoLevel.PUBLIC if repo.public else RepoLevel.NONE
        assert access.repo_level(ANONYMOUS, repo) == expected


def test_credential_cap_limits_the_user(access: Access) -> None:
    capped = who(access, "alice", repo_cap=RepoLevel.REPO_READ)
    assert access.repo_level(capped, main_repos(access)[0]) == RepoLevel.REPO_READ
    public_only = who(access, "alice", repo_cap=RepoLevel.PUBLIC)
    for repo in main_repos(access):
        expected = RepoLevel.PUBLIC if repo.public else RepoLevel.NONE
        assert access.repo_level(public_only, repo) == expected


def test_token_without_admin_right_is_not_admin(access: Access) -> None:
    admin = who(access, "admin", admin_allowed=False, project_cap=ProjectLevel.NONE)
    private = next(r for r in all_repos(access) if not r.public)
    assert access.repo_level(admin, private) == RepoLevel.NONE


def test_missing_is_404_hidden_is_401(access: Access) -> None:
    with pytest.raises(NoSuchProjectError):
        access.repository(ANONYMOUS, "NOPE", "x")
    with pytest.raises(NoSuchRepositoryError):
        access.repository(ANONYMOUS, MAIN_PROJECT_KEY, "no-such-repo")
    private = next(r for r in main_repos(access) if not r.public)
    with pytest.raises(AuthorisationError):
        access.repository(ANONYMOUS, MAIN_PROJECT_KEY, private.slug)
    with pytest.raises(AuthorisationError):
        access.repository(who(access, "bob"), MAIN_PROJECT_KEY, private.slug, RepoLevel.REPO_WRITE)


@pytest.mark.parametrize("name", ["admin", "alice", "bob", "jane@example.com", None])
@pytest.mark.parametrize("need", [RepoLevel.PUBLIC, RepoLevel.REPO_READ, RepoLevel.REPO_WRITE])
def test_visible_ids_agree_with_levels(access: Access, name: str | None, need: RepoLevel) -> None:
    principal = ANONYMOUS if name is None else who(access, name)
    listed = [rid for chunk in access.visible_repo_ids(principal, need) for rid in chunk]
    expected = [r.id for r in all_repos(access) if access.repo_level(principal, r) >= need]
    assert listed == expected


def test_token_with_only_a_repository_permission_lists_what_it_reads(access: Access) -> None:
    capped = who(access, "alice", repo_cap=RepoLevel.REPO_READ, project_cap=ProjectLevel.NONE)
    listed = [
        rid for chunk in access.visible_repo_ids(capped, RepoLevel.REPO_READ) for rid in chunk
    ]
    assert [r.id for r in main_repos(access)] == [
        r for r in listed if r in {m.id for m in main_repos(access)}
    ]
    assert all(access.repo_level(capped, r) == RepoLevel.REPO_READ for r in main_repos(access))
