"""schemathesis against ``/_sim/openapi.json``: no answer is a server error, and every answer
has a status, a media type, headers and a body the document declares for it.

The run is the real CLI against a real server on loopback (port 0), as a user would point it.
It is bounded: ``BBDC_SIM_FUZZ_EXAMPLES`` cases per operation (3 by default, a few hundred to
a couple of thousand in all with the coverage phase) and ``BBDC_SIM_FUZZ_SECONDS`` seconds;
``make fuzz`` runs thousands. Two control operations are left out because answering what they
are told is their job: ``add_fault`` (a fault answers the 5xx it is given) and
``update_config`` (a changed version or page cap changes every later answer mid-run).
``positive_data_acceptance`` is left out because validity there depends on state the fuzzer
cannot know (a code, a token, a form's XSRF token): a well-formed but unknown code is
rightly refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
EXCLUDED_OPERATIONS = ("add_fault", "update_config")


def schemathesis_command() -> list[str]:
    """The schemathesis CLI of this environment."""
    beside = Path(sys.executable).with_name("schemathesis")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.skip("schemathesis is not installed (it is in the dev extra)")
    return [found]


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Settings(port=0)) as running:
        yield running


def test_no_answer_is_a_server_error_or_off_the_document(
    server: SimulatorServer, tmp_path: Path
) -> None:
    examples = os.environ.get("BBDC_SIM_FUZZ_EXAMPLES", "3")
    seconds = os.environ.get("BBDC_SIM_FUZZ_SECONDS", "240")
    command = [
        *schemathesis_command(),
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
        "--workers",
        "4",
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
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    assert "Tested: " in done.stdout, done.stdout[-3000:]
