"""Avatars: ``avatarUrl`` points at a real PNG the simulator serves (users and projects),
sized by ``s``, deterministic, cacheable, and refused as the entity itself is."""

from __future__ import annotations

import struct
import zlib

import pytest

from simulator.auth import Principal
from simulator.rest.avatars import avatar_size, png
from simulator.settings import Settings
from simulator.store import Store
from tests.conftest import Client, basic


def _decode(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw scanlines of a PNG written by the simulator."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        position += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


async def test_a_users_avatar_url_serves_a_png_of_that_size(client: Client) -> None:
    user = await (
        await client.get("/rest/api/1.0/users/alice?avatarSize=64", headers=basic("alice"))
    ).json()
    answer = await client.get(user["avatarUrl"], headers=basic("bob"))
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "image/png"
    width, height, rows = _decode(await answer.read())
    assert (width, height) == (64, 64)
    assert len(rows) == 64 * (1 + 64 * 3)


@pytest.mark.parametrize("settings", [Settings(port=0, base_url="http://127.0.0.1:7990/bitbucket")])
async def test_avatar_url_carries_the_context_path(client: Client) -> None:
    user = await (
        await client.get(
            "/bitbucket/rest/api/1.0/users/alice?avatarSize=48", headers=basic("alice")
        )
    ).json()
    assert user["avatarUrl"] == "/bitbucket/users/alice/avatar.png?s=48"
    assert (await client.get(user["avatarUrl"], headers=basic("alice"))).status == 200


async def test_project_avatars_rest_and_web(client: Client) -> None:
    for path in ("/projects/PKG/avatar.png?s=32", "/rest/api/latest/projects/PKG/avatar.png?s=32"):
        answer = await client.get(path, headers=basic("alice"))
        assert answer.status == 200
        assert _decode(await answer.read())[:2] == (32, 32)


async def test_an_etag_answers_304(client: Client) -> None:
    first = await client.get("/users/alice/avatar.png", headers=basic("alice"))
    tag = first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"]
    again = await client.get(
        "/users/alice/avatar.png", headers={**basic("alice"), "If-None-Match": tag}
    )
    assert again.status == 304


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/users/alice/avatar.png", {}, 401),
        ("/users/nobody-here/avatar.png", basic("alice"), 404),
        ("/projects/NOPE/avatar.png", basic("alice"), 404),
        ("/rest/api/1.0/users/nobody-here/avatar.png", basic("alice"), 404),
    ],
)
async def test_refusals_in_the_envelope(
    client: Client, path: str, headers: dict[str, str], status: int
) -> None:
    answer = await client.get(path, headers=headers)
    assert answer.status == status
    assert (await answer.json())["errors"]


async def test_a_hidden_project_is_401_for_bob(client: Client, store: Store) -> None:
    bob = Principal(user=store.catalog.users_by_name["bob"])
    access = store.access()
    hidden = next(
        p
        for p in store.catalog.projects
        if p.type == "NORMAL" and not access.can_see_project(bob, p)
    )
    answer = await client.get(f"/projects/{hidden.key}/avatar.png", headers=basic("bob"))
    assert answer.status == 401


def test_sizes_and_colours() -> None:
    assert avatar_size(None) == avatar_size("x") == avatar_size("0") == 48
    assert avatar_size("1") == 16
    assert avatar_size("100000") == 256
    assert png("user:alice", 16) == png("user:alice", 16)
    assert png("user:alice", 16) != png("user:bob", 16)
