"""The npm package ``oauth2-mock-server``, the peer of the token endpoint benchmark.

It lives in ``bench/peers/`` (ignored by git): :func:`prepare` installs it there by name with
``npm install --prefix bench/peers oauth2-mock-server`` when it is missing, writes a small
start script next to it and returns the command (``node <script> <version>``) that serves it
on ``127.0.0.1`` port 0. The script prints
``oauth2-mock-server <version> ready at http://127.0.0.1:<port>``, the line that
:func:`bench.common.start_server` waits for. Without node, npm or the registry the peer is
unavailable and :func:`prepare` says why instead of raising.

The peer's token endpoint is ``POST /token``. For ``grant_type=refresh_token`` it checks
nothing (any refresh token and any client are accepted); it answers a fresh RS256-signed
access token and ID token and a new random refresh token.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH_DIR

PACKAGE = "oauth2-mock-server"
PEERS_DIR = BENCH_DIR / "peers"
SCRIPT_NAME = "serve-oauth2-mock-server.mjs"
TOKEN_PATH = "/token"  # noqa: S105 - a path
INSTALL_TIMEOUT = 300.0
#: The start script, written into the peers folder so that node resolves the package there.
SCRIPT = """\
// Written by bench/peer_oauth2_mock_server.py: serve oauth2-mock-server on 127.0.0.1.
import { OAuth2Server } from 'oauth2-mock-server';

const version = process.argv[2] ?? 'unknown';
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const { port } = server.address();
console.log(`oauth2-mock-server ${version} ready at http://127.0.0.1:${port}`);
process.on('SIGTERM', () => process.exit(0));
"""


@dataclass(frozen=True)
class Peer:
    """The peer's start command and version, or why it is not available."""

    command: list[str] | None = None
    version: str | None = None
    reason: str | None = None


def package_dir(peers: Path = PEERS_DIR) -> Path:
    """Where npm puts the package under ``--prefix peers``."""
    return peers / "node_modules" / PACKAGE


def installed_version(peers: Path = PEERS_DIR) -> str | None:
    """The installed package's version, or None if it is not installed."""
    try:
        manifest = json.loads((package_dir(peers) / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def install_command(npm: str, peers: Path = PEERS_DIR) -> list[str]:
    """``npm install --prefix <peers> oauth2-mock-server`` (quiet, no audit, no funding)."""
    return [npm, "install", "--prefix", str(peers), "--no-audit", "--no-fund", PACKAGE]


def last_line(text: str) -> str:
    """The last non-blank line of a tool's output ('' if none), for a one-line reason."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def install(peers: Path = PEERS_DIR, timeout: float = INSTALL_TIMEOUT) -> str | None:
    """Install the package with npm; None on success, else the reason it failed."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    peers.mkdir(parents=True, exist_ok=True)
    try:
        finished = subprocess.run(
            install_command(npm, peers),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=peers,
        )
    except subprocess.TimeoutExpired:
        return f"npm install {PACKAGE} did not finish within {timeout:.0f} s"
    except OSError as exc:
        return f"npm could not run: {exc}"
    if finished.returncode != 0:
        why = last_line(finished.stderr) or last_line(finished.stdout)
        return f"npm install {PACKAGE} failed ({finished.returncode}): {why}"
    if installed_version(peers) is None:
        return f"npm install {PACKAGE} succeeded but {package_dir(peers)} has no package.json"
    return None


def write_script(peers: Path = PEERS_DIR) -> Path:
    """Write the start script into the peers folder (only if it differs); its path."""
    script = peers / SCRIPT_NAME
    if not script.exists() or script.read_text(encoding="utf-8") != SCRIPT:
        script.write_text(SCRIPT, encoding="utf-8")
    return script


def prepare(peers: Path = PEERS_DIR, allow_install: bool = True) -> Peer:
    """The peer ready to start (installing it if needed and allowed), or the reason it is not."""
    node = shutil.which("node")
    if node is None:
        return Peer(reason="node is not installed")
    if installed_version(peers) is None:
        if not allow_install:
            return Peer(reason=f"{PACKAGE} is not installed in {peers}")
        problem = install(peers)
        if problem is not None:
            return Peer(reason=problem)
    try:
        script = write_script(peers)
    except OSError as exc:
        return Peer(reason=f"cannot write the start script: {exc}")
    version = installed_version(peers)
    return Peer(command=[node, str(script), version or "unknown"], version=version)
