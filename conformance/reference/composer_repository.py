"""The Composer 2 repository the reference serves each user, and its webhook receiver.

    {"repositories": [{"type": "composer", "url": "<reference>/composer"}]}

- ``GET /composer/packages.json``: ``metadata-url`` (``/composer/p2/%package%.json``) and
  ``available-packages``;
- ``GET /composer/p2/{vendor}/{name}.json``: the tagged versions, ``{name}~dev.json`` the
  dev versions (branches), as Composer 2 asks for them;
- ``GET /composer/dist/{integration}/{project}/{slug}/{commit}.zip``: Bitbucket's archive of
  that commit, streamed with the user's token.

Each needs HTTP Basic: the Bitbucket user's name and the Composer token the home page shows
(never a Bitbucket credential); anything else is a 401 with a ``Basic`` challenge.
``POST /webhooks/bitbucket/{slug}`` is :meth:`~conformance.reference.webhooks.WebhookSetup.receive`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from conformance.reference.bitbucket import Answer, BitbucketClient, Credential
from conformance.reference.keys import reference_key
from conformance.reference.package_store import ComposerUser
from conformance.reference.packages import split_dev
from conformance.reference.service import LoginProblemError, Reference

CHUNK_BYTES = 64 * 1024


def _reference(request: web.Request) -> Reference:
    return request.app[reference_key]


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(username, password)`` of an ``Authorization: Basic`` header."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def composer_user(request: web.Request) -> ComposerUser | None:
    """The user the request's Basic credentials name, if any."""
    reference = _reference(request)
    given = basic_credentials(request.headers.get("Authorization"))
    if given is not None:
        username, password = given
        for user in reference.state.packages.with_password(
            password, reference.rules.composer_password_matches
        ):
            if user.username == username:
                return user
    return None


def challenge(request: web.Request) -> web.Response:
    """The 401 asking for the user name and the Composer token."""
    realm = _reference(request).rules.COMPOSER_REALM
    return web.json_response(
        {"error": "Log in with your Bitbucket user name and your Composer token."},
        status=401,
        headers={"WWW-Authenticate": f'Basic realm="{realm}"'},
    )


async def packages_json(request: web.Request) -> web.Response:
    """``GET /composer/packages.json``."""
    reference = _reference(request)
    user = composer_user(request)
    if user is None:
        return challenge(request)
    root = urlsplit(reference.public_url).path.rstrip("/")
    return web.json_response(
        {
            "packages": [],
            "metadata-url": f"{root}/composer/p2/%package%.json",
            "available-packages": sorted(reference.composer.metadata(user)),
        }
    )


async def metadata_json(request: web.Request) -> web.Response:
    """``GET /composer/p2/{vendor}/{name}.json`` (``~dev`` for the dev versions)."""
    reference = _reference(request)
    user = composer_user(request)
    if user is None:
        return challenge(request)
    name = f"{request.match_info['vendor']}/{request.match_info['name']}".lower()
    dev = name.endswith("~dev")
    name = name.removesuffix("~dev")
    entries = reference.composer.metadata(user).get(name)
    if entries is None:
        raise web.HTTPNotFound(
            text='{"error": "No such package."}', content_type="application/json"
        )
    tagged, dev_versions = split_dev(entries)
    return web.json_response({"packages": {name: dev_versions if dev else tagged}})


async def dist_zip(request: web.Request) -> web.StreamResponse:
    """``GET /composer/dist/{integration}/{project}/{slug}/{commit}.zip``: streamed from
    Bitbucket's archive, for a commit of one of the user's versions."""
    reference = _reference(request)
    user = composer_user(request)
    if user is None:
        return challenge(request)
    project, slug = request.match_info["project"], request.match_info["slug"]
    commit = request.match_info["commit"]
    integration = reference.state.integrations.get(user.integration_id)
    repo = user.repositories.get((project, slug))
    if (
        integration is None
        or integration.slug != request.match_info["integration"]
        or repo is None
        or not any(v.commit == commit for v in repo.versions.values())
    ):
        raise web.HTTPNotFound(text='{"error": "No such dist."}', content_type="application/json")
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{slug}-{commit[:12]}.zip"',
        }
    )

    async def deliver(upstream: aiohttp.ClientResponse) -> None:
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        async for chunk in upstream.content.iter_chunked(CHUNK_BYTES):
            await response.write(chunk)
        await response.write_eof()

    async def call(client: BitbucketClient, auth: Credential) -> Answer:
        return await client.archive(auth, project, slug, commit, deliver)

    try:
        answer = await reference._authorized(user.session, call)
    except LoginProblemError as problem:
        raise web.HTTPBadGateway(text=problem.message) from None
    if answer.status != 200:
        raise web.HTTPBadGateway(text=f"Bitbucket answered HTTP {answer.status} for the archive.")
    return response


async def webhook_delivery(request: web.Request) -> web.Response:
    """``POST /webhooks/bitbucket/{slug}``: a Bitbucket webhook delivery."""
    reference = _reference(request)
    limit = reference.rules.MAX_DELIVERY_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    outcome = await reference.webhooks.receive(
        request.match_info["slug"],
        request.headers.get("X-Event-Key"),
        request.headers.get("X-Hub-Signature"),
        body,
    )
    if outcome.status == 204:
        return web.Response(status=204)
    if outcome.status < 300:
        return web.json_response({"message": outcome.message}, status=outcome.status)
    return web.json_response({"error": outcome.message}, status=outcome.status)


def routes() -> list[web.RouteDef]:
    """The Composer repository and the webhook receiver."""
    return [
        web.get("/composer/packages.json", packages_json),
        web.get("/composer/p2/{vendor}/{name}.json", metadata_json),
        web.get("/composer/dist/{integration}/{project}/{slug}/{commit}.zip", dist_zip),
        web.post("/webhooks/bitbucket/{slug}", webhook_delivery),
    ]
