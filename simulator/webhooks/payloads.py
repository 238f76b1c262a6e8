"""What a delivery carries: the body and the headers Bitbucket Data Center sends.

- ``repo:refs_changed`` (Atlassian's "Event payload"; Atlassian's Jenkins plugin fixture
  ``webhook/refs_changed_body.json``; the branch-source plugin's ``pushPayload.json``,
  ``tag_created.json``): ``eventKey``, ``date``, ``actor`` (the user as REST shows it),
  ``repository`` (as REST shows it) and ``changes``. ``date`` is Java's
  ``yyyy-MM-dd'T'HH:mm:ssZ``, the offset without a colon, in the server's time zone (the
  config's ``time_zone``, UTC unless changed), on the simulator's clock. The ``commits`` and
  ``toCommit`` of the newest fixture (``pushPayload_v10.json``) are not sent (which version
  added them is UNCONFIRMED).
- ``diagnostics:ping`` (``POST …/webhooks/test``): ``{"test": true}`` (the branch-source
  plugin's ``ping.json``; Atlassian's plugin's ``BitbucketWebhookEvent.DIAGNOSTICS_PING``).
- Headers ("Event payload", HTTP headers): ``X-Event-Key``, ``X-Request-Id`` (a UUID per
  request), ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>``
  only with a secret ("Manage webhooks", Webhook secrets), ``Authorization: Basic`` only with
  credentials; ``Content-Type: application/json; charset=utf-8`` and ``User-Agent: Atlassian
  HttpClient 4.2.0 / Bitbucket-<version> (<build number>) / Default``, as the branch-source
  plugin's ``HookProcessorTestUtil.getNativeHeaders`` records a 9.5.2 delivery (the client
  version for other Bitbucket versions is UNCONFIRMED).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from simulator.version import BitbucketVersion
from simulator.webhooks.model import Credentials

CONTENT_TYPE = "application/json; charset=utf-8"
SIGNATURE_HEADER = "X-Hub-Signature"
PING_BODY: dict[str, Any] = {"test": True}


def bitbucket_date(epoch_seconds: float, offset_minutes: int = 0) -> str:
    """A payload's ``date`` in the server's time zone: ``2017-09-19T09:45:32+1000``."""
    zone = timezone(timedelta(minutes=offset_minutes)) if offset_minutes else UTC
    moment = datetime.fromtimestamp(int(epoch_seconds), tz=zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def refs_changed(
    date: str,
    actor: dict[str, Any],
    repository: dict[str, Any],
    changes: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The ``repo:refs_changed`` payload."""
    return {
        "eventKey": "repo:refs_changed",
        "date": date,
        "actor": actor,
        "repository": repository,
        "changes": list(changes),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The raw body: compact UTF-8 JSON, as Bitbucket writes it."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature``'s value: ``sha256=`` and the lower-case hex HMAC-SHA256 of the body
    keyed by the secret's UTF-8 bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def user_agent(version: BitbucketVersion) -> str:
    """The ``User-Agent`` of Bitbucket's webhook client."""
    return f"Atlassian HttpClient 4.2.0 / Bitbucket-{version} ({version.build_number}) / Default"


def headers(
    event: str,
    body: bytes,
    *,
    version: BitbucketVersion,
    secret: str | None,
    credentials: Credentials | None,
) -> dict[str, str]:
    """The headers of one delivery (a fresh ``X-Request-Id`` each time)."""
    out = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": user_agent(version),
        "X-Event-Key": event,
        "X-Request-Id": str(uuid.uuid4()),
    }
    if secret:
        out[SIGNATURE_HEADER] = signature(secret, body)
    if credentials is not None:
        raw = f"{credentials.username}:{credentials.password}".encode()
        out["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    return out
