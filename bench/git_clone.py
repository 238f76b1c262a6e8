"""Git clone: ``git clone`` of a seeded repository from the simulator, against
``git http-backend`` behind a bare aiohttp app serving the same repository from disk.

The simulator's repository is cloned once untimed (that first request writes it to disk:
the first-clone time is shown, not checked), then mirrored into a folder the baseline serves,
so both answer with the very same objects. Clones alternate (simulator, baseline, ...) and
the medians are compared. The simulator side includes Bitbucket's authentication (HTTP
Basic) and permission check; the baseline has none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    BenchError,
    Http,
    Result,
    Server,
    basic_auth,
    fmt_seconds,
    median,
    ratio,
    serving,
    sim_command,
)

NAME = "git_clone"
ROUNDS = 9
GOAL = 1.5


def _git(*args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    started = time.perf_counter()
    done = subprocess.run(
        ["git", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"git {args[0]} failed: {done.stderr[-500:]}")
    return time.perf_counter() - started


def _non_empty_repository(sim: Server) -> dict[str, Any]:
    """The first repository of PKG with branches (one of PKG's repositories is empty)."""
    auth = basic_auth("alice", "alice")
    with Http(sim) as client:
        reply = client.request("GET", "/rest/api/1.0/projects/PKG/repos?limit=10", auth)
        if reply.status != 200:
            raise BenchError(f"listing PKG answered {reply.status}")
        for repo in json.loads(reply.body)["values"]:
            path = f"/rest/api/1.0/projects/PKG/repos/{repo['slug']}/branches"
            if json.loads(client.request("GET", path, auth).body)["size"]:
                return dict(repo)
    raise BenchError("no repository of PKG has branches")


def run(rounds: int = ROUNDS) -> Result:
    """Clone from both servers ``rounds`` times each, alternating, and compare the medians."""
    result = Result(NAME, "git clone of a seeded repository, simulator vs git http-backend")
    if shutil.which("git") is None:
        result.unavailable = "git is not installed"
        return result
    scratch = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        with serving(sim_command()) as sim:
            repo = _non_empty_repository(sim)
            href = next(link["href"] for link in repo["links"]["clone"] if link["name"] == "http")
            sim_url = href.replace("://", "://alice:alice@", 1)
            first = _git("clone", "--quiet", "--mirror", sim_url, str(scratch / "root" / "r.git"))
            with serving(
                [
                    sys.executable,
                    "-m",
                    "bench.baseline_git",
                    "--root",
                    str(scratch / "root"),
                    "--port",
                    "0",
                ]
            ) as base:
                base_url = f"{base.url}/scm/x/r.git"
                sims, bases = [], []
                for index in range(rounds):
                    sims.append(_git("clone", "--quiet", sim_url, str(scratch / f"s{index}")))
                    bases.append(_git("clone", "--quiet", base_url, str(scratch / f"b{index}")))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.add("repository", f"PKG/{repo['slug']}")
    result.add("first clone (builds the repository; not checked)", fmt_seconds(first))
    result.add("rounds (each, alternating)", str(rounds))
    result.add("simulator median", fmt_seconds(median(sims)))
    result.add("baseline median", fmt_seconds(median(bases)))
    result.check("ratio simulator/baseline", ratio(median(sims), median(bases)), GOAL, at_most=True)
    return result
