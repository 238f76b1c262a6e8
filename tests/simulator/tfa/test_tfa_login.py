"""Browser logins through the "U2F & TOTP" plugin: enrolment, verification, and each setting
that decides whether 2FA applies (simulator/tfa, simulator/web/login.py)."""

from __future__ import annotations

import pyotp
from aiohttp import ClientResponse

from simulator.store import SESSION_COOKIE, Store
from simulator.tfa.enrolment import PENDING_COOKIE, PENDING_SECONDS
from tests.conftest import Client
from tests.simulator.oauth2.test_oauth2_flow import parse_page
from tests.simulator.tfa.support import (
    ENROL,
    VERIFY,
    code_now,
    cookie_header,
    cookies_of,
    enrol,
    enrol_form,
    html_page,
    install,
    password_login,
    pending_id,
    submit_code,
    verify_form,
)


def session_of(response: ClientResponse) -> str | None:
    """The session cookie a login answer set, if any."""
    return cookies_of(response).get(SESSION_COOKIE)


async def goes_straight_in(client: Client, store: Store, username: str, **headers: str) -> bool:
    """Whether a password login opens a session at once (no 2FA step)."""
    response = await password_login(client, username, headers=headers or None)
    assert response.status == 302
    if response.headers["Location"] in (store.base_url + ENROL, store.base_url + VERIFY):
        assert session_of(response) is None
        return False
    assert response.headers["Location"] == store.base_url + "/dashboard"
    assert session_of(response) in store.sessions
    return True


# -- not installed ---------------------------------------------------------------------------


async def test_plugin_not_installed_leaves_the_login_alone(client: Client, store: Store) -> None:
    assert await goes_straight_in(client, store, "alice")


async def test_plugin_pages_answer_404_when_not_installed(client: Client) -> None:
    for path in (ENROL, VERIFY, "/plugins/servlet/tfa/blocked", "/plugins/servlet/tfa/admin"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 404
        assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


# -- enrolment ------------------------------------------------------------------------------


async def test_first_login_opens_no_session_and_goes_to_enrolment(
    client: Client, store: Store
) -> None:
    await install(client)
    response = await password_login(client, "alice")
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + ENROL
    assert pending_id(response) in store.tfa.pending
    assert store.sessions == {}


async def test_enrolment_page_shows_secret_uri_and_qr_code(client: Client, store: Store) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    response = await client.get(ENROL, headers=cookie_header(**{PENDING_COOKIE: pending}))
    text = await html_page(response)
    assert response.headers["Cache-Control"] == "no-store"
    secret, fields = await enrol_form(client, pending)
    assert len(secret) == 32
    assert f"otpauth://totp/Bitbucket:alice?secret={secret}&amp;issuer=Bitbucket" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="tfa-qr-code"' in text
    assert fields["atl_token"]


async def test_enrolment_with_a_valid_code_logs_in_and_goes_to_next(
    client: Client, store: Store
) -> None:
    await install(client)
    login = await password_login(client, "alice", next_path="/projects/PKG")
    pending = pending_id(login)
    secret, fields = await enrol_form(client, pending)
    done = await submit_code(client, ENROL, pending, fields, code_now(store, secret))
    assert done.status == 302
    assert done.headers["Location"] == store.base_url + "/projects/PKG"
    session_id = session_of(done)
    assert session_id in store.sessions
    assert done.cookies[PENDING_COOKIE].value == ""  # the pending cookie is expired
    assert store.tfa.secrets[store.catalog.users_by_name["alice"].id] == secret
    dashboard = await client.get(
        "/dashboard", headers=cookie_header(**{SESSION_COOKIE: session_id})
    )
    assert "alice" in await html_page(dashboard)


async def test_enrolment_secret_stays_the_same_across_reloads(client: Client) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    first, _ = await enrol_form(client, pending)
    second, _ = await enrol_form(client, pending)
    assert first == second


async def test_enrolment_with_a_wrong_code_rerenders_with_an_error(
    client: Client, store: Store
) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    secret, fields = await enrol_form(client, pending)
    wrong = f"{(int(code_now(store, secret)) + 1) % 1_000_000:06d}"
    response = await submit_code(client, ENROL, pending, fields, wrong)
    page = parse_page(await html_page(response))
    assert "wrong or has expired" in page.text
    assert session_of(response) is None
    assert store.sessions == {}
    assert not store.tfa.enrolled(store.catalog.users_by_name["alice"].id)


async def test_enrolment_with_a_blank_code_asks_for_one(client: Client) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    _, fields = await enrol_form(client, pending)
    response = await submit_code(client, ENROL, pending, fields, "  ")
    assert "Enter the 6-digit verification code" in await html_page(response)


async def test_enrolment_without_the_xsrf_token_is_refused(client: Client, store: Store) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    secret, _ = await enrol_form(client, pending)
    response = await submit_code(client, ENROL, pending, {}, code_now(store, secret))
    assert "XSRF" in await html_page(response, status=403)
    assert store.sessions == {}


async def test_enrolment_without_a_pending_login_goes_to_the_login_page(
    client: Client, store: Store
) -> None:
    await install(client)
    for headers in ({}, cookie_header(**{PENDING_COOKIE: "unknown"})):
        response = await client.get(ENROL, headers=headers, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == store.base_url + "/login"


# -- verification -------------------------------------------------------------------------------


async def test_later_login_asks_for_a_code_and_a_valid_one_logs_in(
    client: Client, store: Store
) -> None:
    await install(client)
    secret, _ = await enrol(client, store, "alice")
    await client.post("/_sim/clock", json={"advance_seconds": 60})
    login = await password_login(client, "alice")
    assert login.headers["Location"] == store.base_url + VERIFY
    pending = pending_id(login)
    fields = await verify_form(client, pending)
    done = await submit_code(client, VERIFY, pending, fields, code_now(store, secret))
    assert done.status == 302
    assert done.headers["Location"] == store.base_url + "/dashboard"
    assert session_of(done) in store.sessions


async def test_wrong_code_at_verification_rerenders_with_an_error(
    client: Client, store: Store
) -> None:
    await install(client)
    await enrol(client, store, "alice")
    pending = pending_id(await password_login(client, "alice"))
    fields = await verify_form(client, pending)
    response = await submit_code(client, VERIFY, pending, fields, "000000x")
    assert "wrong or has expired" in await html_page(response)
    assert session_of(response) is None
    assert pending in store.tfa.pending  # the user may try again


async def test_expired_code_is_refused_after_the_clock_moves_on(
    client: Client, store: Store
) -> None:
    await install(client)
    secret, _ = await enrol(client, store, "alice")
    pending = pending_id(await password_login(client, "alice"))
    fields = await verify_form(client, pending)
    old_code = code_now(store, secret)
    await client.post("/_sim/clock", json={"advance_seconds": 120})
    response = await submit_code(client, VERIFY, pending, fields, old_code)
    assert "wrong or has expired" in await html_page(response)
    fresh = await submit_code(client, VERIFY, pending, fields, code_now(store, secret))
    assert session_of(fresh) in store.sessions


async def test_code_of_the_previous_step_is_still_accepted(client: Client, store: Store) -> None:
    await install(client)
    secret, _ = await enrol(client, store, "alice")
    pending = pending_id(await password_login(client, "alice"))
    fields = await verify_form(client, pending)
    previous = pyotp.TOTP(secret).at(store.clock.now() - 30)
    done = await submit_code(client, VERIFY, pending, fields, previous)
    assert session_of(done) in store.sessions


async def test_pending_login_expires_and_goes_back_to_login(client: Client, store: Store) -> None:
    await install(client)
    secret, _ = await enrol(client, store, "alice")
    pending = pending_id(await password_login(client, "alice"))
    fields = await verify_form(client, pending)
    sessions = set(store.sessions)
    await client.post("/_sim/clock", json={"advance_seconds": PENDING_SECONDS})
    response = await submit_code(client, VERIFY, pending, fields, code_now(store, secret))
    assert response.status == 302
    assert response.headers["Location"] == store.base_url + "/login"
    assert set(store.sessions) == sessions


async def test_verification_token_of_another_pending_login_is_refused(
    client: Client, store: Store
) -> None:
    await install(client)
    secret, _ = await enrol(client, store, "alice")
    first = pending_id(await password_login(client, "alice"))
    second = pending_id(await password_login(client, "alice"))
    fields = await verify_form(client, first)
    response = await submit_code(client, VERIFY, second, fields, code_now(store, secret))
    assert "XSRF" in await html_page(response, status=403)


async def test_verify_page_of_a_user_not_enrolled_goes_to_enrolment(
    client: Client, store: Store
) -> None:
    await install(client)
    pending = pending_id(await password_login(client, "alice"))
    response = await client.get(
        VERIFY, headers=cookie_header(**{PENDING_COOKIE: pending}), allow_redirects=False
    )
    assert response.headers["Location"] == store.base_url + ENROL


async def test_reset_forgets_enrolments(client: Client, store: Store) -> None:
    await install(client)
    await enrol(client, store, "alice")
    await client.post("/_sim/reset")
    assert store.tfa.secrets == {}
    await install(client)
    login = await password_login(client, "alice")
    assert login.headers["Location"] == store.base_url + ENROL


# -- who must use 2FA ------------------------------------------------------------------------------


async def test_enforce_none_asks_nobody(client: Client, store: Store) -> None:
    await install(client, enforce="none")
    assert await goes_straight_in(client, store, "alice")
    assert await goes_straight_in(client, store, "admin")


async def test_enforce_groups_asks_only_members(client: Client, store: Store) -> None:
    await install(client, enforce="groups", groups=["Administrators"])
    assert not await goes_straight_in(client, store, "admin")
    assert await goes_straight_in(client, store, "alice")


async def test_enforce_all_except_groups_spares_members(client: Client, store: Store) -> None:
    await install(client, enforce="all-except-groups", groups=["administrators"])
    assert await goes_straight_in(client, store, "admin")
    assert not await goes_straight_in(client, store, "alice")


async def test_ip_whitelist_skips_2fa_for_the_peer_address(client: Client, store: Store) -> None:
    await install(client, ip_whitelist=["127.0.0.1"])
    assert await goes_straight_in(client, store, "alice")
    await install(client, ip_whitelist=["10.0.0.0/8", "::1/128"])
    assert not await goes_straight_in(client, store, "alice")


async def test_spoofed_x_forwarded_for_is_ignored_by_default(client: Client, store: Store) -> None:
    await install(client, ip_whitelist=["10.0.0.0/8"])
    assert not await goes_straight_in(client, store, "alice", **{"X-Forwarded-For": "10.1.2.3"})


async def test_trusted_x_forwarded_for_names_the_client(client: Client, store: Store) -> None:
    await install(client, ip_whitelist=["10.0.0.0/8"], trust_x_forwarded_for=True)
    assert await goes_straight_in(
        client, store, "alice", **{"X-Forwarded-For": "10.1.2.3, 192.0.2.1"}
    )


async def test_trusted_x_forwarded_for_overrides_a_whitelisted_peer(
    client: Client, store: Store
) -> None:
    await install(client, ip_whitelist=["127.0.0.1"], trust_x_forwarded_for=True)
    assert not await goes_straight_in(client, store, "alice", **{"X-Forwarded-For": "203.0.113.9"})
    assert await goes_straight_in(client, store, "alice")  # no header: the peer counts


async def test_malformed_trusted_x_forwarded_for_matches_no_whitelist(
    client: Client, store: Store
) -> None:
    await install(client, ip_whitelist=["127.0.0.1"], trust_x_forwarded_for=True)
    for value in ("not-an-ip", "", "999.1.1.1", "[::1"):
        assert not await goes_straight_in(client, store, "alice", **{"X-Forwarded-For": value})


async def test_wrong_password_still_fails_before_any_2fa_step(client: Client, store: Store) -> None:
    await install(client)
    response = await client.post(
        "/j_atl_security_check", data={"j_username": "alice", "j_password": "nope"}
    )
    assert "Invalid username or password." in await html_page(response)
    assert store.tfa.pending == {}
