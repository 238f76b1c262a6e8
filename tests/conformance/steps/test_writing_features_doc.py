"""The worked example of docs/writing-features.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "writing-features.md"
ARGS = (
    "-p",
    "conformance.plugin",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:asyncio",
    "-p",
    "no:aiohttp",
)


def gherkin_blocks() -> list[str]:
    """The ```gherkin blocks of the page."""
    return re.findall(r"```gherkin\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", [0, 1], ids=["new-scenarios", "outline"])
def test_a_gherkin_example_of_the_page_passes_against_the_reference(
    pytester: pytest.Pytester, index: int
) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_features="from pytest_bdd import scenarios\n\nscenarios('.')\n")
    (pytester.path / "example.feature").write_text(gherkin_blocks()[index], encoding="utf-8")
    result = pytester.runpytest(*ARGS)
    assert result.ret == 0, result.stdout.str()
    assert result.parseoutcomes()["passed"] >= 2


#: What differs from one run to the next: ports, generated ids and PKCE challenges, times.
VARYING = (
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\b[0-9a-f]{10,}\b"), "HEX"),
    (re.compile(r"code_challenge=[A-Za-z0-9_-]+"), "code_challenge=CHALLENGE"),
    (re.compile(r"\d+\.\d+ ?s\b"), "T s"),
    (re.compile(r"(?<=in )/\S+(?=/summary\.md)"), "DIR"),
)


def steady(text: str) -> list[str]:
    """The lines of a run's output from its conformance summary on, without what varies
    between runs (under pytest, the child may print a warnings summary before it)."""
    text = text[text.index("=== conformance ===") :]
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return [line.rstrip() for line in text.strip().splitlines()]


def test_the_terminal_example_is_what_the_tool_prints() -> None:
    import subprocess
    import sys

    found = re.search(
        r"<!-- terminal: (\S+) -->\n```text\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S
    )
    assert found, "docs/writing-features.md has no terminal example"
    sut, shown = found.groups()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "bbdc-sim"),
            "conform",
            "--sut",
            sut,
            "--tags",
            "must",
            "--",
            "-k",
            "test_a_user_logs_in_through_the_login_link and not oauth1",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=DOC.parents[1],
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert steady(run.stdout) == steady(shown)
