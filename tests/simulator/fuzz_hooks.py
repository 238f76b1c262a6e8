"""schemathesis hooks for ``test_fuzz.py``: git's pkt-line request bodies are sent as the
raw bytes they are (schemathesis has no serializer for git's media types)."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias(
    ["application/x-git-upload-pack-request", "application/x-git-receive-pack-request"],
    "application/octet-stream",
)
