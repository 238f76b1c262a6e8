"""The OAuth 2 backend's rules, without HTTP: clients, codes, token grants, revocation."""

from __future__ import annotations

import pytest

from simulator.clock import Clock
from simulator.config import OAuth2Config
from simulator.oauth2 import pkce
from simulator.oauth2.backend import OAuth2Backend, TokenRequest, check_redirect, split_redirects
from simulator.oauth2.errors import ClientValidationError, OAuth2Error
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope

REDIRECT = "https://packagist.example/oauth/login/check-custom/acme"
VERIFIER = "v" * 43


class Harness:
    def __init__(self) -> None:
        self.clock = Clock()
        self.config = OAuth2Config()
        self.backend = OAuth2Backend(self.clock, lambda: self.config)
        self.client = self.backend.create_client(
            "Packagist", [REDIRECT], (Scope.REPO_READ,), user_key="1"
        )

    def code(self, client: OAuth2Client | None = None, method: str | None = "S256") -> str:
        challenge = (
            None if method is None else (pkce.s256(VERIFIER) if method == "S256" else VERIFIER)
        )
        return self.backend.issue_code(
            client or self.client,
            redirect_uri=REDIRECT,
            scopes=(Scope.REPO_READ,),
            user_id=2,
            challenge=challenge,
            method=method,
        )

    def exchange(self, the_code: str, **overrides: str) -> dict[str, object]:
        fields = {
            "grant_type": "authorization_code",
            "code": the_code,
            "redirect_uri": REDIRECT,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
            "code_verifier": VERIFIER,
            **overrides,
        }
        return self.backend.token(TokenRequest(**fields))

    def refresh(self, refresh_token: str, **overrides: str) -> dict[str, object]:
        fields = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
            **overrides,
        }
        return self.backend.token(TokenRequest(**fields))


@pytest.fixture
def h() -> Harness:
    return Harness()


def error_of(call: object) -> OAuth2Error:
    assert callable(call)
    with pytest.raises(OAuth2Error) as caught:
        call()
    return caught.value


def test_code_exchange_issues_a_bearer_pair(h: Harness) -> None:
    body = h.exchange(h.code())
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "REPO_READ"
    access = h.backend.lookup_access_token(str(body["access_token"]))
    assert access is not None
    assert access.user_id == 2


def test_lifetimes_follow_the_config(h: Harness) -> None:
    h.config = OAuth2Config(access_token_seconds=10)
    body = h.exchange(h.code())
    assert body["expires_in"] == 10
    h.clock.advance(10)
    assert h.backend.lookup_access_token(str(body["access_token"])) is None


@pytest.mark.parametrize(
    ("overrides", "error", "status"),
    [
        ({"grant_type": ""}, "invalid_request", 400),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", 400),
        ({"grant_type": "password"}, "unsupported_grant_type", 400),
        ({"code": ""}, "invalid_request", 400),
        ({"redirect_uri": ""}, "invalid_request", 400),
        ({"client_id": ""}, "invalid_request", 400),
        ({"code": "unknown"}, "invalid_request", 400),
        ({"redirect_uri": REDIRECT + "/x"}, "invalid_grant", 400),
        ({"code_verifier": ""}, "invalid_grant", 400),
        ({"code_verifier": "w" * 43}, "invalid_grant", 400),
        ({"code_verifier": "short"}, "invalid_grant", 400),
        ({"client_secret": "wrong"}, "invalid_client", 401),
        ({"client_secret": ""}, "invalid_client", 401),
    ],
)
def test_code_exchange_errors(
    h: Harness, overrides: dict[str, str], error: str, status: int
) -> None:
    code = h.code()
    failure = error_of(lambda: h.exchange(code, **overrides))
    assert (failure.error, failure.status) == (error, status)


def test_missing_parameter_is_named(h: Harness) -> None:
    failure = error_of(lambda: h.exchange(h.code(), redirect_uri=""))
    assert failure.description == "The required parameter 'redirect_uri' is missing"


def test_a_code_of_another_client_is_invalid_grant(h: Harness) -> None:
    other = h.backend.create_client("Other", [REDIRECT], (Scope.REPO_READ,), user_key="1")
    code = h.code(client=other)
    failure = error_of(lambda: h.exchange(code))
    assert failure.error == "invalid_grant"


def test_unregistered_redirect_for_the_presenting_client_is_invalid_client(h: Harness) -> None:
    other = h.backend.create_client(
        "Other", ["https://other.example/cb"], (Scope.REPO_READ,), user_key="1"
    )
    code = h.code()
    failure = error_of(lambda: h.exchange(code, client_id=other.client_id))
    assert failure.error == "invalid_client"


def test_expired_code(h: Harness) -> None:
    code = h.code()
    h.clock.advance(61)
    assert error_of(lambda: h.exchange(code)).error == "invalid_grant"


def test_code_reuse_revokes_the_tokens_it_issued(h: Harness) -> None:
    code = h.code()
    body = h.exchange(code)
    failure = error_of(lambda: h.exchange(code))
    assert failure.error == "invalid_grant"
    assert h.backend.lookup_access_token(str(body["access_token"])) is None
    assert error_of(lambda: h.refresh(str(body["refresh_token"]))).error == "invalid_grant"


def test_code_without_pkce_needs_no_verifier(h: Harness) -> None:
    assert h.exchange(h.code(method=None), code_verifier="")["token_type"] == "bearer"


def test_plain_pkce(h: Harness) -> None:
    assert h.exchange(h.code(method="PLAIN"))["token_type"] == "bearer"


def test_refresh_rotates_and_old_pair_dies(h: Harness) -> None:
    first = h.exchange(h.code())
    second = h.refresh(str(first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert h.backend.lookup_access_token(str(first["access_token"])) is None
    assert h.backend.lookup_access_token(str(second["access_token"])) is not None
    assert error_of(lambda: h.refresh(str(first["refresh_token"]))).error == "invalid_grant"
    third = h.refresh(str(second["refresh_token"]))
    assert third["scope"] == "REPO_READ"


def test_refresh_errors(h: Harness) -> None:
    body = h.exchange(h.code())
    token = str(body["refresh_token"])
    other = h.backend.create_client("Other", [REDIRECT], (Scope.REPO_READ,), user_key="1")
    assert error_of(lambda: h.refresh(token, client_id=other.client_id)).error == "invalid_grant"
    assert error_of(lambda: h.refresh(token, client_secret="x")).error == "invalid_client"
    assert error_of(lambda: h.refresh(str(body["access_token"]))).error == "invalid_grant"
    assert error_of(lambda: h.refresh("garbage")).error == "invalid_grant"
    assert error_of(lambda: h.refresh("")).error == "invalid_request"
    h.clock.advance(7_776_000)
    assert error_of(lambda: h.refresh(token)).error == "invalid_grant"


def test_revoke_refresh_token_also_kills_its_access_token(h: Harness) -> None:
    body = h.exchange(h.code())
    h.backend.revoke(
        str(body["refresh_token"]), "refresh_token", h.client.client_id, h.client.client_secret
    )
    assert h.backend.lookup_access_token(str(body["access_token"])) is None


def test_revoke_of_unknown_token_is_quietly_accepted(h: Harness) -> None:
    h.backend.revoke("nonsense", "", h.client.client_id, h.client.client_secret)


def test_revoke_needs_client_authentication(h: Harness) -> None:
    body = h.exchange(h.code())
    failure = error_of(
        lambda: h.backend.revoke(str(body["access_token"]), "", h.client.client_id, "bad")
    )
    assert failure.error == "invalid_client"
    hint = error_of(
        lambda: h.backend.revoke("t", "id_token", h.client.client_id, h.client.client_secret)
    )
    assert hint.error == "unsupported_token_type"


def test_deleting_a_client_revokes_its_tokens(h: Harness) -> None:
    body = h.exchange(h.code())
    h.backend.delete_client(h.client)
    assert h.backend.lookup_access_token(str(body["access_token"])) is None


def test_rotating_the_signing_secret_invalidates_every_token(h: Harness) -> None:
    body = h.exchange(h.code())
    h.backend.rotate_signing_secret()
    assert h.backend.lookup_access_token(str(body["access_token"])) is None


def test_scope_must_lie_within_the_closure(h: Harness) -> None:
    assert h.backend.scope_allowed(h.client, (Scope.PUBLIC_REPOS, Scope.REPO_READ))
    assert not h.backend.scope_allowed(h.client, (Scope.REPO_WRITE,))
    assert not h.backend.scope_allowed(h.client, (Scope.ACCOUNT_WRITE,))


def test_client_names_are_unique_case_insensitively(h: Harness) -> None:
    with pytest.raises(ClientValidationError) as caught:
        h.backend.create_client("packagist ", [REDIRECT], (Scope.REPO_READ,), user_key="1")
    assert caught.value.field == "name"


def test_reset_secret_changes_it(h: Harness) -> None:
    before = h.client.client_secret
    assert h.backend.reset_secret(h.client).client_secret != before


@pytest.mark.parametrize(
    "url",
    [
        "http://packagist.example/cb",
        "https://packagist.example/cb#frag",
        "/relative/cb",
        "packagist.example/cb",
        "ftp://packagist.example/cb",
        "https://" + "a" * 450 + ".example/",
        "https://packagist.example/c b",
        "https://packagist.example:99999/cb",
        "\x01https://packagist.example/cb",
        "\x00https://packagist.example/cb",
        "https://packa\x7fgist.example/cb",
        "https://packagist.example/c\x9bb",
        "https://packagist.example/c\ud800b",
        "https://a[::1]/cb",
        "http://a[::1]/cb",
        "https://[::1]x/cb",
        "https://[::1]]/cb",
    ],
)
def test_bad_redirects(url: str) -> None:
    with pytest.raises(ClientValidationError):
        check_redirect(url, allow_http=False)


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:3000/cb"]
)
def test_loopback_http_is_allowed(url: str) -> None:
    check_redirect(url, allow_http=False)


def test_relaxed_setting_allows_http() -> None:
    check_redirect("http://packagist.example/cb", allow_http=True)


def test_comma_separated_redirects() -> None:
    assert split_redirects(" https://a.example/1 ,https://a.example/2,, ") == [
        "https://a.example/1",
        "https://a.example/2",
    ]


def test_dead_codes_and_tokens_are_pruned_as_new_ones_come(h: Harness) -> None:
    from simulator.oauth2.backend import PRUNE_EVERY

    h.config = OAuth2Config(refresh_token_seconds=7200)
    for _ in range(50):
        h.exchange(h.code())
    h.code()  # issued, never redeemed
    assert len(h.backend.tokens) == 100
    h.clock.advance(7201)  # every code and token is dead by now
    for _ in range(PRUNE_EVERY):
        h.code()
    live_codes = {k for k, c in h.backend.codes.items() if c.created >= h.clock.now() - 60}
    assert set(h.backend.codes) == live_codes
    assert h.backend.tokens == {}


def test_a_code_whose_tokens_live_is_kept_for_replay_detection(h: Harness) -> None:
    the_code = h.code()
    tokens = h.exchange(the_code)
    h.clock.advance(h.config.code_seconds + 1)
    h.backend.prune()
    assert the_code in h.backend.codes
    assert error_of(lambda: h.exchange(the_code)).error == "invalid_grant"
    assert h.backend.lookup_access_token(str(tokens["access_token"])) is None
