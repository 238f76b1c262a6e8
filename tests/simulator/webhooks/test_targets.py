"""Where deliveries may go (:mod:`simulator.webhooks.targets`), the resolver that never asks
DNS, the payload helpers, and webhooks kept by a state file across a restart."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiohttp import web

from simulator.app import create_app
from simulator.keys import store_key
from simulator.persistence import StateFile
from simulator.settings import Settings, SettingsError
from simulator.store import Store
from simulator.version import BitbucketVersion
from simulator.webhooks import payloads
from simulator.webhooks.targets import LoopbackResolver, refusal
from tests.conftest import ClientFactory, basic
from tests.simulator.webhooks.support import hook_body, pkg_repo, repo_hooks

OWN = ("127.0.0.1", 7990)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.9.9.9/hook",
        "https://[::1]:8443/hook",
        "http://[::ffff:127.0.0.1]:81/",
        "http://localhost:8080/",
        "http://ci.localhost./hook",
        "http://127.0.0.1:7991/",
    ],
)
def test_loopback_targets_may_go(url: str) -> None:
    assert refusal(url, remote_allowed=False, own=OWN) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "http://10.1.2.3/",
        "http://192.168.0.1:7990/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://localhost.example.com/",
        "http://127.0.0.1.nip.io/",
    ],
)
def test_other_targets_are_refused_unless_allowed(url: str) -> None:
    refused = refusal(url, remote_allowed=False, own=OWN)
    assert refused is not None
    assert "--webhook-remote-targets" in refused
    assert refusal(url, remote_allowed=True, own=OWN) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:7990/_sim/reset", "http://localhost:7990/", "http://[::1]:7990/"]
)
def test_the_simulator_itself_is_refused_even_when_remote_targets_are_allowed(url: str) -> None:
    for allowed in (False, True):
        assert refusal(url, remote_allowed=allowed, own=OWN) == (
            "the URL is the simulator's own address"
        )
    assert refusal(
        "https://bitbucket.example:443/", remote_allowed=True, own=("bitbucket.example", 443)
    )


async def test_the_resolver_maps_local_names_and_refuses_others_without_dns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_dns(*_: object, **__: object) -> None:
        raise AssertionError("a DNS lookup")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    resolver = LoopbackResolver()
    both = await resolver.resolve("localhost", 8080, socket.AF_UNSPEC)
    assert [(r["host"], r["port"], r["family"]) for r in both] == [
        ("127.0.0.1", 8080, socket.AF_INET),
        ("::1", 8080, socket.AF_INET6),
    ]
    only_v4 = await resolver.resolve("api.localhost", 1, socket.AF_INET)
    assert [r["host"] for r in only_v4] == ["127.0.0.1"]
    assert [r["host"] for r in await resolver.resolve("127.0.0.2", 1)] == ["127.0.0.2"]
    for name in ("example.com", "10.0.0.1"):
        with pytest.raises(OSError, match="not a loopback address"):
            await resolver.resolve(name, 80)
    await resolver.close()


def test_payload_helpers_write_bitbuckets_forms() -> None:
    assert payloads.bitbucket_date(1505778332.9) == "2017-09-18T23:45:32+0000"
    assert payloads.encode({"test": True, "é": 1}) == '{"test":true,"é":1}'.encode()
    # RFC-style vector (Wikipedia's HMAC examples): key "key", the quick brown fox.
    assert payloads.signature("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
    assert payloads.user_agent(BitbucketVersion.parse("8.19.1")) == (
        "Atlassian HttpClient 4.2.0 / Bitbucket-8.19.1 (8019001) / Default"
    )


def test_the_webhook_settings_are_checked() -> None:
    assert Settings.from_sources(
        {}, {"BBDC_SIM_WEBHOOK_REMOTE_TARGETS": "1"}
    ).webhook_remote_targets
    assert Settings.from_sources({"webhook_timeout": "2.5"}, {}).webhook_timeout == 2.5
    for bad in ("0", "61", "soon"):
        with pytest.raises(SettingsError, match=r"webhook.timeout"):
            Settings.from_sources({"webhook_timeout": bad}, {})


async def test_a_state_file_keeps_the_webhooks(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite"
    settings = Settings(port=0, state_file=str(state))
    app: web.Application = create_app(settings)
    client = await aiohttp_client(app)
    repo = pkg_repo(app[store_key])
    body = hook_body("http://127.0.0.1:9/", configuration={"secret": "kept"})
    assert (await client.post(repo_hooks(repo), json=body, headers=basic("admin"))).status == 200
    restored = Store(settings)
    StateFile(state).load(restored)
    [hook] = restored.webhooks.hooks.values()
    assert (hook.id, hook.secret, restored.webhooks.next_id) == (1, "kept", 2)
    assert (await client.post("/_sim/reset")).status == 200
    emptied = Store(settings)
    StateFile(state).load(emptied)
    assert emptied.webhooks.hooks == {}
