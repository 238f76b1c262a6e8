"""RFC 9700 where Bitbucket is laxer: the decompiled plugin's behaviour by default (a quirk
kept, docs/simulator.md), the RFC's with ``oauth2.strict_rfc9700``."""

from __future__ import annotations

import pytest

from simulator.store import Store
from tests.conftest import Client
from tests.simulator.oauth2.test_oauth2_flow import (
    exchange,
    make_link,
    oauth_error,
    obtain_code,
    refresh,
    token_body,
    whoami,
)

STRICT = {"oauth2": {"strict_rfc9700": True}}


@pytest.fixture(params=[False, True], ids=["bitbucket", "strict"])
def strict(request: pytest.FixtureRequest, store: Store) -> bool:
    """Each test runs as Bitbucket does and with the strict setting."""
    value = bool(request.param)
    if value:
        store.config.patch(STRICT)
    return value


async def test_a_verifier_for_a_code_issued_without_pkce(
    client: Client, store: Store, strict: bool
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link, code_challenge=None, code_challenge_method=None)
    answer = await exchange(client, link, code)
    if strict:
        await oauth_error(answer, 400, "invalid_grant")
    else:
        await token_body(answer)


async def test_a_code_replayed_without_the_client_secret(
    client: Client, store: Store, strict: bool
) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    tokens = await token_body(await exchange(client, link, code))
    await oauth_error(
        await exchange(client, link, code, client_secret="stolen?"), 400, "invalid_grant"
    )
    # Bitbucket revokes before it checks the client; RFC 9700 only for the rightful client.
    assert (await whoami(client, tokens["access_token"]) == "alice") is strict
    await oauth_error(await exchange(client, link, code), 400, "invalid_grant")
    assert await whoami(client, tokens["access_token"]) is None


async def test_a_rotated_refresh_token_replayed(client: Client, store: Store, strict: bool) -> None:
    link = make_link(store)
    code = await obtain_code(client, store, link)
    first = await token_body(await exchange(client, link, code))
    second = await token_body(await refresh(client, link, first["refresh_token"]))
    await oauth_error(await refresh(client, link, first["refresh_token"]), 400, "invalid_grant")
    # RFC 9700 4.14.2: the replay ends the grant's live pair too.
    assert (await whoami(client, second["access_token"]) is None) is strict
    renewed = await refresh(client, link, second["refresh_token"])
    if strict:
        await oauth_error(renewed, 400, "invalid_grant")
    else:
        await token_body(renewed)


async def test_the_strict_setting_is_off_by_default(store: Store) -> None:
    assert store.config.oauth2.strict_rfc9700 is False
