"""Helpers for the tests that run a real Composer (Debian's ``composer`` on ``php-cli``):
the skip marker, an isolated run, and the seeded packages' dependencies as metapackages."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: Skips a module when Composer, php or git is missing.
needs_composer = pytest.mark.skipif(
    shutil.which("composer") is None or shutil.which("php") is None or shutil.which("git") is None,
    reason="Composer, php-cli or git is not installed (.ci/run installs Debian's composer)",
)
#: What the seeded composer.json files require besides php, as empty metapackages: Packagist
#: is not reachable here, and the tests are about reading the package, not its dependencies.
DEPENDENCIES = {
    "psr/log": ("1.1.4", "2.0.0", "3.0.0"),
    "symfony/console": ("5.4.0", "6.4.0", "7.0.0"),
    "guzzlehttp/guzzle": ("7.8.0",),
    "phpunit/phpunit": ("9.6.0", "10.5.0"),
}


def run_composer(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Composer in ``project``, with its own home and cache, no prompt, no global git config."""
    home = project.parent / "composer-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "COMPOSER"))}
    env.update(
        COMPOSER_HOME=str(home),
        COMPOSER_CACHE_DIR=str(home / "cache"),
        COMPOSER_ALLOW_SUPERUSER="1",
        COMPOSER_NO_AUDIT="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    return subprocess.run(
        ["composer", *args, "--no-interaction", "--no-ansi"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def metapackages() -> list[dict[str, str]]:
    """:data:`DEPENDENCIES` as ``package`` repository entries."""
    return [
        {"name": name, "version": version, "type": "metapackage"}
        for name, versions in DEPENDENCIES.items()
        for version in versions
    ]
