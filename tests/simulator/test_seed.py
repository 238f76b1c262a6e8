"""The seeded catalog: deterministic, with the accounts and shapes the issue asks for."""

from __future__ import annotations

import json

import pytest

from simulator.model import GlobalLevel, ProjectLevel
from simulator.seed import MAIN_PROJECT_KEY, Catalog, DatasetSize, build_catalog, user_slug


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(1, DatasetSize.named("small"))


def _fingerprint(catalog: Catalog) -> str:
    repos = [
        (r.id, r.slug, r.public, r.archived, r.empty, r.has_composer_json)
        for p in catalog.projects
        for r in catalog.project_repositories(p)
    ]
    users = [(u.id, u.name, u.slug, u.email, u.active) for u in catalog.users]
    projects = [(p.key, p.name, p.public, p.repo_count) for p in catalog.projects]
    return json.dumps([users, projects, repos])


def test_same_seed_gives_the_same_data() -> None:
    size = DatasetSize.named("small")
    assert _fingerprint(Catalog(7, size)) == _fingerprint(Catalog(7, size))


def test_another_seed_gives_other_data() -> None:
    size = DatasetSize.named("small")
    assert _fingerprint(Catalog(7, size)) != _fingerprint(Catalog(8, size))


def test_fixed_accounts(catalog: Catalog) -> None:
    admin = catalog.users_by_name["admin"]
    assert admin.global_level == GlobalLevel.SYS_ADMIN
    assert admin.password == "admin"
    jane = catalog.users_by_name["jane@example.com"]
    assert jane.slug == "jane_example.com" != jane.name
    assert not catalog.users_by_name["inactive.ian"].active
    assert all(user.password == user.name for user in catalog.users)


def test_slugs_replace_characters_urls_cannot_carry() -> None:
    assert user_slug("Jane@Example.com") == "jane_example.com"
    assert user_slug("o'brien x") == "o_brien_x"


def test_sizes_and_explicit_counts(catalog: Catalog) -> None:
    assert len(catalog.users) == 12
    assert sum(p.repo_count for p in catalog.projects) == 40
    custom = Catalog(1, DatasetSize.named("small", users=20, projects=3, repos=30))
    assert len(custom.users) == 20
    assert len([p for p in custom.projects if p.type == "NORMAL"]) == 3
    assert sum(p.repo_count for p in custom.projects) == 30


def test_personal_projects_and_their_owner(catalog: Catalog) -> None:
    personal = catalog.projects_by_key["~ALICE"]
    assert personal.type == "PERSONAL"
    assert personal.owner == "alice"
    alice = catalog.users_by_name["alice"]
    assert catalog.project_grants[alice.id]["~ALICE"] == ProjectLevel.PROJECT_ADMIN


def test_public_and_private_repositories_exist(catalog: Catalog) -> None:
    repos = [r for p in catalog.projects for r in catalog.project_repositories(p)]
    assert any(r.public for r in repos)
    assert any(not r.public for r in repos)
    assert any(p.public for p in catalog.projects)


def test_one_empty_repository_and_some_without_composer_json(catalog: Catalog) -> None:
    repos = [r for p in catalog.projects for r in catalog.project_repositories(p)]
    empty = [r for r in repos if r.empty]
    assert len(empty) == 1
    assert empty[0].project.key == MAIN_PROJECT_KEY
    assert not empty[0].has_composer_json
    with_composer = [r for r in repos if r.has_composer_json]
    assert len(with_composer) > len(repos) // 2
    assert len(with_composer) < len(repos) - 1


def test_repositories_are_listed_by_name_within_a_project(catalog: Catalog) -> None:
    for project in catalog.projects:
        names = [r.name for r in catalog.project_repositories(project)]
        assert names == sorted(names)
        assert len(set(names)) == len(names)
        assert [r.id for r in catalog.project_repositories(project)] == list(project.repo_ids())


def test_lookup_by_id_key_and_slug(catalog: Catalog) -> None:
    repo = catalog.project_repositories(catalog.projects_by_key[MAIN_PROJECT_KEY])[0]
    assert catalog.repository(repo.id) == repo
    assert catalog.find_repository("pkg", repo.slug.upper()) == repo
    assert catalog.find_repository("NOPE", repo.slug) is None
    assert catalog.repository(0) is None
    assert catalog.repository(10_000) is None


def test_large_dataset_is_derived_not_materialised() -> None:
    catalog = Catalog(1, DatasetSize.named("large"))
    assert sum(p.repo_count for p in catalog.projects) == 100_000
    last = catalog.repository(100_000)
    assert last is not None
    assert last.id == 100_000
    assert catalog._repos_of_project.cache_info().currsize == 1
