"""The wheel carries the suite: built from this checkout and installed into a fresh virtual
environment, ``bbdc-sim conform``, ``bbdc-sim steps`` and a QA-written feature run from a
folder outside the repository (which holds a ``features/`` of its own that must be ignored)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QA_FEATURE = "\n".join(
    [
        "@section:finish-the-setup",
        "Feature: Written by QA",
        "",
        "  @must",
        "  Scenario: The integration is created, as QA wrote it",
        '    Given a Bitbucket Data Center server at version "8.19.1"',
        "    And the admin has opened the Add Integration form for that server with OAuth 2",
        "    And the admin has created the application link in Bitbucket as the guide describes",
        "    When the admin enters the Client ID and Client Secret and submits the form with"
        ' "Create Integration"',
        "    Then the admin is redirected back to the list of integrations",
        "",
    ]
)
BEHAT = "Feature: A Behat feature of the project\n  Scenario: not ours\n    Given nothing\n"


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the fresh environment's bin folder, an empty project folder outside the checkout)."""
    scratch = tmp_path_factory.mktemp("wheel")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(scratch), str(ROOT)],
        scratch,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = scratch.glob("bbdc_sim-*.whl")
    environment = scratch / "env"
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    pip = run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], scratch)
    assert pip.returncode == 0, pip.stderr[-3000:]
    project = scratch / "php-project"
    (project / "features").mkdir(parents=True)
    (project / "features" / "behat.feature").write_text(BEHAT, encoding="utf-8")
    return bin_dir, project


def test_conform_runs_the_bundled_suite_from_any_folder(installed: tuple[Path, Path]) -> None:
    bin_dir, project = installed
    done = run([str(bin_dir / "bbdc-sim"), "conform", "--report", "report"], project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 failed" in done.stdout
    assert "bbdc-sim conform: report in report" in done.stdout
    assert (project / "report" / "summary.md").is_file()
    assert "Behat" not in done.stdout


def test_steps_shows_examples_from_the_bundled_features(installed: tuple[Path, Path]) -> None:
    bin_dir, project = installed
    done = run([str(bin_dir / "bbdc-sim"), "steps"], project)
    assert done.returncode == 0, done.stderr
    assert "e.g. When the user" in done.stdout


def test_a_qa_feature_runs_with_no_python_beside_it(installed: tuple[Path, Path]) -> None:
    bin_dir, project = installed
    ours = project / "qa"
    ours.mkdir()
    (ours / "created.feature").write_text(QA_FEATURE, encoding="utf-8")
    only = run(
        [str(bin_dir / "bbdc-sim"), "conform", "--features", "qa", "--only-features"], project
    )
    assert only.returncode == 0, only.stdout[-3000:] + only.stderr[-2000:]
    assert "PASSED: 1 passed, 0 failed" in only.stdout


def test_the_openapi_document_has_its_answer_schemas_from_the_wheel(
    installed: tuple[Path, Path],
) -> None:
    bin_dir, project = installed
    script = (
        "from simulator.contract.components import component_schemas, schema_dir\n"
        "print(schema_dir())\n"
        "print(sorted(component_schemas())[:3], 'repository' in component_schemas())\n"
    )
    done = run([str(bin_dir / "python"), "-c", script], project)
    assert done.returncode == 0, done.stderr
    folder, names = done.stdout.splitlines()
    assert str(bin_dir.parent) in folder
    assert folder.endswith("simulator/schemas")
    assert names.endswith("True")
