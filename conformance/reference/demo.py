"""A local demo: the reference integration beside a simulator, set up as the guide says.

    python -m conformance.reference [--port 8000] [--bitbucket-port 7990] [--oauth-version 1]

Starts a simulator (unless ``--bitbucket-url`` names a running Bitbucket), starts the
reference, and with its own simulator creates an integration, its application link (OAuth 2
by default; with ``--oauth-version 1`` an OAuth 1 link with the generated consumer key and
certificate) and submits it, then prints the login link: open it, log in as
``alice``/``alice``, press Allow, and the reference lists your repositories. Ctrl-C stops
both.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from typing import Any

from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer


def _post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the URL is the demo's own simulator)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        result: dict[str, Any] = json.loads(answer.read())
    return result


def set_up(integrator: ReferenceIntegrator, bitbucket_url: str, oauth_version: int = 2) -> str:
    """The guide's steps against a simulator (link created through its control API); the
    login link."""
    created = integrator.create_integration("bitbucket-server", bitbucket_url, oauth_version)
    name = f"Reference demo {created.id}"
    if oauth_version == 1:
        _post_json(
            bitbucket_url + "/_sim/applinks",
            {
                "type": "oauth1",
                "name": name,
                "consumer_key": created.consumer_key,
                "public_key": created.public_key,
                "callback_url": "",
            },
        )
        credentials = {"client_id": "", "client_secret": ""}
    else:
        credentials = _post_json(
            bitbucket_url + "/_sim/applinks",
            {"type": "oauth2", "name": name, "redirect_urls": list(created.callback_urls)},
        )
    result = integrator.submit(created.id, credentials["client_id"], credentials["client_secret"])
    if not result.ok:
        raise RuntimeError(result.error)
    (summary,) = [s for s in integrator.integrations() if s.id == created.id]
    return summary.login_link


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m conformance.reference", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the reference's port")
    parser.add_argument("--bitbucket-port", type=int, default=7990, help="the simulator's port")
    parser.add_argument("--bitbucket-url", help="use this Bitbucket instead of a simulator")
    parser.add_argument(
        "--oauth-version", type=int, choices=(1, 2), default=2, help="the link's OAuth version"
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        bitbucket_url = args.bitbucket_url
        if bitbucket_url is None:
            from simulator.settings import Settings
            from simulator.testing import SimulatorServer

            simulator = stack.enter_context(SimulatorServer(Settings(port=args.bitbucket_port)))
            bitbucket_url = simulator.base_url
        server = stack.enter_context(ReferenceServer(port=args.port))
        print(f"bbdc-sim reference ready at {server.base_url} (Bitbucket: {bitbucket_url})")
        if args.bitbucket_url is None:
            login_link = set_up(ReferenceIntegrator(server), bitbucket_url, args.oauth_version)
            print(f"login link: {login_link} (log in as alice/alice)")
        sys.stdout.flush()
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0
