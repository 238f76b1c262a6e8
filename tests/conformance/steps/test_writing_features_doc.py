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
