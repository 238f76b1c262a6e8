"""Pure OAuth 2 rules: scopes and their closure, PKCE, the JWT token format."""

from __future__ import annotations

import base64
import json

import pytest

from simulator.model import ProjectLevel, RepoLevel
from simulator.oauth2 import jwt, pkce
from simulator.oauth2.scopes import (
    Scope,
    ScopeError,
    caps_for,
    closure,
    format_scopes,
    parse_scopes,
    strongest,
)


def test_closure_follows_the_hierarchy() -> None:
    assert closure([Scope.REPO_ADMIN]) == {
        Scope.REPO_ADMIN,
        Scope.REPO_WRITE,
        Scope.REPO_READ,
        Scope.PUBLIC_REPOS,
    }
    assert closure([Scope.SYSTEM_ADMIN]) == set(Scope)
    assert closure([Scope.PUBLIC_REPOS]) == {Scope.PUBLIC_REPOS}
    assert Scope.ACCOUNT_WRITE in closure([Scope.ADMIN_WRITE])
    assert Scope.ACCOUNT_WRITE not in closure([Scope.PROJECT_ADMIN])


def test_parse_scopes_rejects_blank_and_unknown() -> None:
    assert parse_scopes("REPO_READ  PUBLIC_REPOS") == (Scope.REPO_READ, Scope.PUBLIC_REPOS)
    for bad in ("", "   ", None, "REPO_READ repo_read", "REPO_READ,PUBLIC_REPOS"):
        with pytest.raises(ScopeError):
            parse_scopes(bad)


def test_strongest_drops_implied_scopes() -> None:
    ticked = [Scope.REPO_READ, Scope.REPO_WRITE, Scope.PUBLIC_REPOS, Scope.ACCOUNT_WRITE]
    assert strongest(ticked) == (Scope.ACCOUNT_WRITE, Scope.REPO_WRITE)
    assert format_scopes(strongest(ticked)) == "ACCOUNT_WRITE REPO_WRITE"


@pytest.mark.parametrize(
    ("scopes", "repo", "project", "admin"),
    [
        ([Scope.PUBLIC_REPOS], RepoLevel.PUBLIC, ProjectLevel.NONE, False),
        ([Scope.ACCOUNT_WRITE], RepoLevel.PUBLIC, ProjectLevel.NONE, False),
        ([Scope.REPO_READ], RepoLevel.REPO_READ, ProjectLevel.PROJECT_READ, False),
        ([Scope.REPO_WRITE], RepoLevel.REPO_WRITE, ProjectLevel.PROJECT_WRITE, False),
        ([Scope.PROJECT_ADMIN], RepoLevel.REPO_ADMIN, ProjectLevel.PROJECT_ADMIN, False),
        ([Scope.SYSTEM_ADMIN], RepoLevel.REPO_ADMIN, ProjectLevel.PROJECT_ADMIN, True),
    ],
)
def test_caps_for_scopes(
    scopes: list[Scope], repo: RepoLevel, project: ProjectLevel, admin: bool
) -> None:
    caps = caps_for(scopes)
    assert (caps.repo_cap, caps.project_cap, caps.admin_allowed) == (repo, project, admin)


VERIFIER = "dBjftJeZ4CVP-mJ92K9vYvYQ-7A5rGDgVGZ1Jx9sPoH-TAcXk"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert (
        pkce.s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_verify_plain_and_s256() -> None:
    assert pkce.verify(VERIFIER, pkce.s256(VERIFIER), "S256")
    assert pkce.verify(VERIFIER, VERIFIER, "PLAIN")
    assert not pkce.verify(VERIFIER, VERIFIER, "S256")
    assert not pkce.verify(VERIFIER + "x", pkce.s256(VERIFIER), "S256")


@pytest.mark.parametrize("verifier", [None, "", "a" * 42, "a" * 129, "a" * 42 + "!", "é" * 43])
def test_malformed_verifiers_never_verify(verifier: str | None) -> None:
    assert not pkce.verify(verifier, "a" * 43, "PLAIN")


def test_method_is_case_insensitive_and_defaults_to_plain() -> None:
    assert pkce.normalise_method("s256", "c" * 43) == "S256"
    assert pkce.normalise_method(None, "c" * 43) == "PLAIN"
    assert pkce.normalise_method(None, None) is None
    with pytest.raises(pkce.PkceError):
        pkce.normalise_method("S512", "c" * 43)
    with pytest.raises(pkce.PkceError):
        pkce.normalise_method("S256", None)


def test_challenge_alphabet_and_length() -> None:
    pkce.check_challenge("A" * 43)
    pkce.check_challenge("a-._~" * 20)
    for bad in ("A" * 42, "A" * 129, "A" * 42 + "+", "A" * 42 + "="):
        with pytest.raises(pkce.PkceError):
            pkce.check_challenge(bad)


def pad(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def test_jwt_carries_only_the_id_and_is_hs256() -> None:
    token = jwt.encode("abc123", b"secret")
    header, payload, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(pad(header))) == {"alg": "HS256"}
    assert json.loads(base64.urlsafe_b64decode(pad(payload))) == {"id": "abc123"}
    assert jwt.decode(token, b"secret") == "abc123"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        jwt.encode("abc", b"other-secret"),
        jwt.encode("abc", b"secret")[:-2] + "xx",
    ],
)
def test_jwt_rejects_forged_or_malformed(token: str) -> None:
    assert jwt.decode(token, b"secret") is None


def test_jwt_rejects_alg_none() -> None:
    body = base64.urlsafe_b64encode(b'{"id":"abc"}').rstrip(b"=").decode()
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    assert jwt.decode(f"{head}.{body}.", b"secret") is None
