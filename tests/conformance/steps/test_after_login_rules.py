"""The after-login steps' matching rules: which version strings a tag or branch may have, and
when a package version is a ref's (``conformance.steps.after_login``)."""

from __future__ import annotations

import pytest

from conformance.steps.after_login import Ref, branch_versions, offers, tag_versions
from conformance.sut import PackageVersion

COMMIT = "a" * 40
OTHER = "b" * 40


@pytest.mark.parametrize(
    ("tag", "accepted"),
    [
        ("v1.2.0", {"v1.2.0", "1.2.0"}),
        ("V2.0", {"V2.0", "2.0"}),
        ("1.0.0", {"1.0.0"}),
        ("very-old", {"very-old"}),
    ],
)
def test_a_tag_may_keep_or_drop_its_leading_v(tag: str, accepted: set[str]) -> None:
    assert tag_versions(tag) == accepted


@pytest.mark.parametrize(
    ("branch", "accepted", "refused"),
    [
        ("main", {"dev-main"}, {"main", "main-dev"}),
        ("feature/x", {"dev-feature/x"}, {"feature/x"}),
        ("1.x", {"1.x-dev", "dev-1.x"}, {"1.x"}),
        ("2.0", {"2.0.x-dev", "dev-2.0", "2.0-dev"}, {"2.0"}),
        ("v3.x", {"3.x-dev", "dev-v3.x"}, {"v3.x"}),
    ],
)
def test_a_branch_is_a_dev_version_as_composer_names_it(
    branch: str, accepted: set[str], refused: set[str]
) -> None:
    versions = branch_versions(branch)
    assert accepted <= versions
    assert not refused & versions


def _version(name: str, version: str, reference: str = COMMIT) -> PackageVersion:
    return PackageVersion(name, version, reference, "http://bitbucket/scm/p/r.git")


def test_a_version_is_the_refs_only_with_its_name_version_and_commit() -> None:
    ref = Ref(("PKG", "core"), "TAG", "v1.0.0", COMMIT, "acme/core")
    assert offers({"acme/core": (_version("acme/core", "1.0.0"),)}, ref)
    assert offers({"acme/core": (_version("acme/core", "v1.0.0"),)}, ref)
    assert not offers({"acme/core": (_version("acme/core", "dev-v1.0.0"),)}, ref)
    assert not offers({"acme/core": (_version("acme/core", "1.0.0", OTHER),)}, ref)
    assert not offers({"acme/core": (_version("acme/other", "1.0.0"),)}, ref)
    assert not offers({"acme/other": (_version("acme/other", "1.0.0"),)}, ref)


def test_a_ref_without_a_package_is_never_offered() -> None:
    ref = Ref(("PKG", "core"), "BRANCH", "main", COMMIT, None)
    assert not offers({"acme/core": (_version("acme/core", "dev-main"),)}, ref)
