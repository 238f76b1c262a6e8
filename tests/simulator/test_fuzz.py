"""schemathesis against ``/_sim/openapi.json``: no answer is a server error, and every answer
has a status, a media type, headers and a body the document declares for it.

The run is the real CLI against a real server on loopback (port 0), as a user would point it.
It is bounded: ``BBDC_SIM_FUZZ_EXAMPLES`` cases per operation (3 by default, a few hundred to
a couple of thousand in all with the coverage phase) and ``BBDC_SIM_FUZZ_SECONDS`` seconds;
``make fuzz`` runs thousands. Two control operations are left out because answering what they
are told is their job: ``add_fault`` (a fault answers the 5xx it is given) and
``update_config`` (a changed version or page cap changes every later answer mid-run).
Path parameters are drawn, four times in five, from what the seed really holds (a project,
a repository, its tags, a commit, its files, the users), read from the server before the run
and given to schemathesis as dictionaries; otherwise nearly every REST case would be a 404.
``add_webhook_fault`` is left out for the same reason (a delivery fault may delay every
later delivery by 30 s). ``positive_data_acceptance`` is left out because validity there
depends on state the fuzzer cannot know (a code, a token, a form's XSRF token): a
well-formed but unknown code is rightly refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.settings import Settings
from simulator.testing import SimulatorServer

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
EXCLUDED_OPERATIONS = ("add_fault", "update_config", "add_webhook_fault")
#: Serializers for git's request bodies.
HOOKS = Path(__file__).with_name("fuzz_hooks.py")


def schemathesis_command() -> list[str]:
    """The schemathesis CLI of this environment."""
    beside = Path(sys.executable).with_name("schemathesis")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.skip("schemathesis is not installed (it is in the dev extra)")
    return [found]


def _get(server: SimulatorServer, path: str) -> Any:
    answer = requests.get(server.base_url + path, auth=("admin", "admin"), timeout=10)
    answer.raise_for_status()
    return answer.json()


def seeded_values(server: SimulatorServer) -> dict[str, list[str]]:
    """Real values of the path parameters, by name, read from the running server."""
    repository = _get(server, "/rest/api/1.0/repos?limit=1")["values"][0]
    key, slug = repository["project"]["key"], repository["slug"]
    base = f"/rest/api/1.0/projects/{key}/repos/{slug}"
    tags = _get(server, base + "/tags")["values"]
    files = _get(server, base + "/files")["values"]
    users = _get(server, "/rest/api/1.0/users?limit=5")["values"]
    return {
        "projectKey": [key],
        "repositorySlug": [slug],
        "name": [tag["displayId"] for tag in tags],
        "commitId": [tag["latestCommit"] for tag in tags],
        "path": files,
        "userSlug": [user["slug"] for user in users],
    }


def config_file(values: dict[str, list[str]], folder: Path) -> Path:
    """A schemathesis config binding each path parameter to its dictionary of real values."""
    lines = []
    for name, options in values.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = [" + ", ".join(json.dumps(option) for option in options) + "]")
    lines.append("[parameters]")
    for name in values:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}')
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


def test_no_answer_is_a_server_error_or_off_the_document(
    server: SimulatorServer, tmp_path: Path
) -> None:
    examples = os.environ.get("BBDC_SIM_FUZZ_EXAMPLES", "3")
    seconds = os.environ.get("BBDC_SIM_FUZZ_SECONDS", "240")
    config = config_file(seeded_values(server), tmp_path)
    command = [
        *schemathesis_command(),
        "--config-file",
        str(config),
        "run",
        f"{server.base_url}/_sim/openapi.json",
        "--max-examples",
        examples,
        "--seed",
        os.environ.get("BBDC_SIM_FUZZ_SEED", "20261202"),
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        ",".join(CHECKS),
        "--auth",
        "admin:admin",
        "--request-timeout",
        "10",
        # One worker: hypothesis describes its filters from their source, which is not safe
        # across threads (schemathesis then reports an internal error, not a finding).
        "--workers",
        "1",
        "--no-shrink",
        "--output-truncate",
        "false",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    for operation_id in EXCLUDED_OPERATIONS:
        command += ["--exclude-operation-id", operation_id]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=float(seconds) + 60,
        check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    assert "Tested: " in done.stdout, done.stdout[-3000:]
    print(done.stdout[-1500:])
