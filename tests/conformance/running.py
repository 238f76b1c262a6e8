"""``bbdc-sim conform`` as CI runs it, for the tests that run the suite in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Long enough for the whole suite on a slow machine; a hung run still ends.
TIMEOUT = 300


def conform(*args: str) -> subprocess.CompletedProcess[str]:
    """``bbdc-sim conform ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "conformance", "conform", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
