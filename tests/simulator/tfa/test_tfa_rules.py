"""The plugin's pure rules: client address, IP whitelist, enforcement, TOTP codes."""

from __future__ import annotations

import ipaddress

import pyotp
import pytest

from simulator.config import TfaConfig
from simulator.model import User
from simulator.tfa import enrolment
from simulator.tfa.policy import (
    applies_at,
    client_address,
    forced,
    ip_whitelisted,
    parse_address,
)

ALICE = User(2, "alice", "alice", "Alice", "alice@example.com", "alice")
ADMIN = User(1, "admin", "admin", "Admin", "admin@example.com", "admin", groups=("administrators",))


def addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address literal."""
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        (" 10.0.0.1 ", "10.0.0.1"),
        ("10.0.0.1:8080", "10.0.0.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
    ],
)
def test_parse_address_accepts_peers_and_forwarded_entries(raw: str, expected: str) -> None:
    assert parse_address(raw) == addr(expected)


@pytest.mark.parametrize(
    "raw", ["", "unknown", "999.0.0.1", "[::1", "[::1]x", "10.0.0.1:x:y", "_hidden"]
)
def test_parse_address_rejects_what_is_not_an_address(raw: str) -> None:
    assert parse_address(raw) is None


def test_client_address_ignores_x_forwarded_for_unless_trusted() -> None:
    config = TfaConfig()
    assert client_address("127.0.0.1", "10.0.0.1", config) == addr("127.0.0.1")


def test_client_address_takes_the_first_forwarded_entry_when_trusted() -> None:
    config = TfaConfig(trust_x_forwarded_for=True)
    assert client_address("127.0.0.1", "10.0.0.1, 192.0.2.1", config) == addr("10.0.0.1")
    assert client_address("127.0.0.1", None, config) == addr("127.0.0.1")
    assert client_address("127.0.0.1", "garbage", config) is None


def test_ip_whitelist_matches_addresses_and_ranges_of_both_families() -> None:
    entries = ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32")
    assert ip_whitelisted(addr("10.200.0.1"), entries)
    assert ip_whitelisted(addr("192.0.2.7"), entries)
    assert ip_whitelisted(addr("2001:db8::5"), entries)
    assert not ip_whitelisted(addr("192.0.2.8"), entries)
    assert not ip_whitelisted(None, entries)
    assert not ip_whitelisted(addr("10.0.0.1"), ())


@pytest.mark.parametrize(
    ("enforce", "groups", "alice", "admin"),
    [
        ("none", (), False, False),
        ("all", (), True, True),
        ("groups", ("ADMINISTRATORS",), False, True),
        ("groups", (), False, False),
        ("all-except-groups", ("administrators",), True, False),
    ],
)
def test_enforcement_decides_who_is_forced(
    enforce: str, groups: tuple[str, ...], alice: bool, admin: bool
) -> None:
    config = TfaConfig(installed=True, enforce=enforce, groups=groups)
    assert forced(config, ALICE) is alice
    assert forced(config, ADMIN) is admin


def test_applies_needs_the_plugin_installed_and_no_whitelisted_address() -> None:
    here = addr("127.0.0.1")
    assert not applies_at(TfaConfig(installed=False), ALICE, here)
    assert applies_at(TfaConfig(installed=True), ALICE, here)
    assert not applies_at(TfaConfig(installed=True, ip_whitelist=("127.0.0.0/8",)), ALICE, here)


def test_totp_accepts_one_step_either_side_on_the_given_time() -> None:
    secret = pyotp.random_base32()
    now = 1_800_000_000.0
    totp = pyotp.TOTP(secret)
    assert enrolment.verify_code(secret, totp.at(now), now)
    assert enrolment.verify_code(secret, totp.at(now - 30), now)
    assert enrolment.verify_code(secret, totp.at(now + 30), now)
    assert not enrolment.verify_code(secret, totp.at(now - 90), now)
    assert enrolment.verify_code(secret, " ".join([totp.at(now)[:3], totp.at(now)[3:]]), now)


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_totp_rejects_what_is_not_six_digits(raw: str) -> None:
    assert not enrolment.verify_code(pyotp.random_base32(), raw, 1_800_000_000.0)


def test_totp_on_a_clock_beyond_year_9999_is_refused_not_an_error() -> None:
    assert not enrolment.verify_code(pyotp.random_base32(), "123456", 1e12)


def test_pending_logins_expire_on_the_given_clock() -> None:
    state = enrolment.TfaState()
    login = state.begin(2, "/projects", now=1000.0)
    assert state.find(login.id, 1000.0 + enrolment.PENDING_SECONDS - 1) is login
    assert state.find(login.id, 1000.0 + enrolment.PENDING_SECONDS) is None
    assert login.id not in state.pending


def test_provisioning_uri_names_the_user_and_bitbucket() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    uri = enrolment.provisioning_uri(secret, ALICE)
    assert uri == f"otpauth://totp/Bitbucket:alice?secret={secret}&issuer=Bitbucket"


def test_pending_logins_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrolment, "MAX_PENDING", 3)
    state = enrolment.TfaState()
    logins = [state.begin(user_id=1, next_path=None, now=100.0) for _ in range(5)]
    assert list(state.pending) == [login.id for login in logins[2:]]
