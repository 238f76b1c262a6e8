"""Deliveries checked by a public receiver's signature check, reimplemented here: the Jenkins
bitbucket-branch-source plugin's ``AbstractWebhookProcessor.verifyPayload``
(``src/main/java/com/cloudbees/jenkins/plugins/bitbucket/impl/webhook/``): a receiver with
signatures enabled refuses (403) a request without ``X-Hub-Signature``; the header is
``<algorithm>=<hex>``, the algorithm one of sha1, sha256, sha384, sha512 (any case), else 403;
a hex value that does not decode is a 400; the HMAC of the body (as the UTF-8 string the
servlet read) under the secret's UTF-8 bytes must equal the decoded value (compared in
constant time), else 403 "Signature verification failed"."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import shutil
from collections.abc import Awaitable, Callable, Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.store import Store
from tests.conftest import Client, basic
from tests.simulator.webhooks.support import (
    JSON,
    deliveries,
    hook_body,
    pkg_repo,
    repo_hooks,
    settle,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
ADMIN = basic("admin")
ServerFactory = Callable[..., Awaitable[TestServer]]
_ALGORITHMS = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


class RefusedError(Exception):
    """The plugin's ``BitbucketWebhookProcessorException``: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def verify_payload(headers: Mapping[str, str], body: str, secret: str | None) -> None:
    """``verifyPayload`` with signatures enabled when ``secret`` is set."""
    if secret is None:
        return
    if "X-Hub-Signature" not in headers:
        raise RefusedError(403, "Payload has not be signed")
    algorithm, _, given = headers["X-Hub-Signature"].partition("=")
    digest = _ALGORITHMS.get(algorithm.strip().lower())
    if digest is None:
        raise RefusedError(403, f"Signature {algorithm} not supported")
    try:
        expected = binascii.unhexlify(given.strip())
    except (binascii.Error, ValueError):
        raise RefusedError(400, f"Hex signature can not be decoded: {given}") from None
    computed = hmac.new(secret.encode(), body.encode(), getattr(hashlib, digest)).digest()
    if not hmac.compare_digest(expected, computed):
        raise RefusedError(403, "Signature verification failed")


def test_the_reimplementation_refuses_what_the_plugin_refuses() -> None:
    body = '{"test":true}'
    good = "sha256=" + hmac.new(b"k", body.encode(), hashlib.sha256).hexdigest()
    verify_payload({"X-Hub-Signature": good}, body, "k")
    verify_payload({"X-Hub-Signature": good.replace("sha256", "SHA256")}, body, "k")
    verify_payload({}, body, None)
    for headers, status in (
        ({}, 403),
        ({"X-Hub-Signature": good[:-1] + ("0" if good[-1] != "0" else "1")}, 403),
        ({"X-Hub-Signature": "md5=00"}, 403),
        ({"X-Hub-Signature": "sha256=zz"}, 400),
    ):
        with pytest.raises(RefusedError) as refused:
            verify_payload(headers, body, "k")
        assert refused.value.status == status


@pytest.fixture
async def jenkins(aiohttp_server: ServerFactory) -> tuple[str, list[str]]:
    """A receiver checking signatures with the secret in its path (``/<secret>``, or
    ``/-`` for none), answering 200 or the plugin's refusal; the messages it sent back."""
    refusals: list[str] = []

    async def receive(request: web.Request) -> web.Response:
        secret = request.match_info["secret"]
        try:
            verify_payload(request.headers, await request.text(), None if secret == "-" else secret)
        except RefusedError as exc:
            refusals.append(str(exc))
            return web.Response(status=exc.status, text=str(exc))
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/{secret}", receive)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}", refusals


async def test_deliveries_pass_the_plugins_check_with_the_right_secret_only(
    client: Client, store: Store, jenkins: tuple[str, list[str]]
) -> None:
    base, refusals = jenkins
    repo = pkg_repo(store)
    for url, secret in (
        (base + "/s3cr3t", "s3cr3t"),  # the receiver knows the webhook's secret
        (base + "/other", "s3cr3t"),  # it expects another one
        (base + "/s3cr3t", None),  # the webhook signs nothing
        (base + "/-", None),  # neither signs nor checks
        (base + "/%C3%A9t%C3%A9", "été"),  # a secret beyond ASCII, as UTF-8
    ):
        configuration = {"secret": secret} if secret else {}
        body = hook_body(url, configuration=configuration, events=["repo:refs_changed"])
        assert (await client.post(repo_hooks(repo), json=body, headers=ADMIN)).status == 200
    commit = {"branch": repo.default_branch, "message": "Sign me", "files": {"é.txt": "ü"}}
    control = f"/_sim/repos/{repo.project.key}/{repo.slug}/commits"
    assert (await client.post(control, json=commit, headers=JSON)).status == 201
    await settle(client)
    outcomes = [(d["statusCode"], d["answer"]) for d in await deliveries(client)]
    assert outcomes == [
        (200, "OK"),
        (403, "Signature verification failed"),
        (403, "Payload has not be signed"),
        (200, "OK"),
        (200, "OK"),
    ]
    assert len(refusals) == 2
    ping = await client.post(repo_hooks(repo) + "/test", params={"webhookId": "1"}, headers=ADMIN)
    response = (await ping.json())["response"]
    assert (response["statusCode"], response["body"]) == (200, "OK")  # the ping is signed too
