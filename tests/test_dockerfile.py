"""The Dockerfile's command and health check, run directly (images cannot be built here):
the command starts the simulator as the image would, and the health check passes on it."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> str:
    """The text of an instruction, its continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    found = re.search(rf"^{name}\s+(.*)$", text, re.M)
    assert found, f"no {name} in the Dockerfile"
    return found.group(1).strip()


def image_env() -> dict[str, str]:
    """The ENV the image sets."""
    return dict(pair.split("=", 1) for pair in shlex.split(instruction("ENV")))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_image_command_serves_and_its_health_check_passes() -> None:
    entrypoint = json.loads(instruction("ENTRYPOINT"))
    command = json.loads(instruction("CMD"))
    assert entrypoint == ["bbdc-sim"]
    assert command == ["serve"]
    health = instruction("HEALTHCHECK")
    check = json.loads(health[health.index("CMD") + 3 :].strip())
    assert check[0] == "python"
    env = {
        **os.environ,
        **image_env(),
        "BBDC_SIM_PORT": str(free_port()),
        "BBDC_SIM_CONTROL_TOKEN": "s3cret",
    }
    assert env["BBDC_SIM_HOST"] == "0.0.0.0"  # noqa: S104 - what the image binds
    program = str(Path(sys.executable).parent / entrypoint[0])
    with subprocess.Popen(
        [program, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            ready = server.stdout.readline()
            assert "ready at http://" in ready, ready
            done = subprocess.run(
                [sys.executable, *check[1:]],
                env=env,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        finally:
            server.terminate()
            server.wait(10)


def test_without_a_control_token_the_image_refuses_to_start() -> None:
    env = {**os.environ, **image_env(), "BBDC_SIM_PORT": str(free_port())}
    env.pop("BBDC_SIM_CONTROL_TOKEN", None)
    program = str(Path(sys.executable).parent / "bbdc-sim")
    done = subprocess.run(
        [program, "serve"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert "--control-token" in done.stderr
