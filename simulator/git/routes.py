"""The git smart HTTP routes, under ``/scm/`` (handlers in :mod:`simulator.git.http`, loaded on
the first git request)."""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy

SCM_PATH = "/scm/{projectKey}/{repositorySlug}"
_HTTP = "simulator.git.http:"


def routes() -> list[web.RouteDef]:
    """info/refs, git-upload-pack and git-receive-pack of every repository."""
    return [
        web.get(SCM_PATH + "/info/refs", lazy(_HTTP + "get_info_refs")),
        web.post(SCM_PATH + "/git-upload-pack", lazy(_HTTP + "post_upload_pack")),
        web.post(SCM_PATH + "/git-receive-pack", lazy(_HTTP + "post_receive_pack")),
    ]
