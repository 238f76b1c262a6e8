"""The step library itself: patterns, the catalogue, and the committed features against it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from conformance.catalogue import FeatureStep, catalogue, feature_steps, format_markdown, library
from conformance.cli import main
from conformance.steps import STEP_MODULES, ExpectationError, StepPattern, expect, registry

FEATURES = Path(__file__).resolve().parents[3] / "features"


@pytest.fixture(scope="module")
def written() -> list[FeatureStep]:
    """Every step line of the committed features."""
    library()
    return feature_steps(FEATURES)


def test_a_quoted_placeholder_takes_any_text_without_a_quote() -> None:
    pattern = StepPattern('a server at version "{version}"')
    assert pattern.parse_arguments('a server at version "8.19.1"') == {"version": "8.19.1"}
    assert pattern.is_matching('a server at version ""')
    assert not pattern.is_matching('a server at version "8" under the context path "/b"')


def test_a_number_placeholder_takes_digits_and_converts_them() -> None:
    pattern = StepPattern("set up with OAuth {oauth_version:d}")
    assert pattern.parse_arguments("set up with OAuth 2") == {"oauth_version": "2"}
    assert pattern.converters["oauth_version"]("2") == 2
    assert not pattern.is_matching("set up with OAuth two")


def test_a_bare_placeholder_takes_one_word_and_the_rest_is_literal() -> None:
    pattern = StepPattern("the (admin) presses {button}.")
    assert pattern.parse_arguments("the (admin) presses Save.") == {"button": "Save"}
    assert not pattern.is_matching("the admin presses Save.")
    assert not pattern.is_matching("the (admin) presses Save now.")


def test_an_expectation_error_says_what_was_expected_and_what_happened() -> None:
    with pytest.raises(ExpectationError) as caught:
        expect(False, "a login link", "none", hint="finish the setup first")
    assert caught.value.expected == "a login link"
    assert (
        str(caught.value) == "expected a login link\n  actual: none\n  hint: finish the setup first"
    )


def test_every_module_of_the_guide_defines_steps() -> None:
    library()
    assert {definition.module for definition in registry()} == set(STEP_MODULES)


def test_every_step_of_the_features_matches_exactly_one_library_step(
    written: list[FeatureStep],
) -> None:
    for step in written:
        matching = [d.pattern.pattern for d in registry() if d.matches(step.kind, step.text)]
        assert len(matching) == 1, (step, matching)


def test_every_library_step_is_used_by_a_feature() -> None:
    unused = [entry.pattern for entry in catalogue(FEATURES) if entry.example is None]
    assert unused == []


def test_every_then_step_asserts_with_expect() -> None:
    for definition in library():
        if "then" in definition.kinds:
            assert "expect(" in inspect.getsource(definition.function), definition.pattern


def test_every_step_says_what_it_does() -> None:
    for definition in library():
        assert definition.summary.endswith("."), definition.pattern


def test_the_first_scenario_is_the_issue_example_verbatim() -> None:
    text = (FEATURES / "oauth2" / "01-open-the-add-integration-form.feature").read_text("utf-8")
    assert (
        "  @must\n"
        "  Scenario: The form shows the setup link and the callback URL\n"
        '    Given a Bitbucket Data Center server at version "8.19.1"\n'
        "    When the admin opens the Add Integration form\n"
        '    And selects "Bitbucket Data Center / Server" with the server\'s base URL and OAuth 2\n'
        "    Then a link to create an OAuth application on that server is displayed\n"
        "    And the link opens the server's application links page\n"
        '    And a "Callback URL / Redirect URL" is displayed\n'
        "    And the Client ID and Client Secret fields are empty\n"
    ) in text


def test_the_catalogue_gives_pattern_summary_and_an_example_with_its_place() -> None:
    entries = {entry.pattern: entry for entry in catalogue(FEATURES)}
    entry = entries['a Bitbucket Data Center server at version "{version}"']
    assert entry.section == "Common: the Bitbucket server and its clock"
    assert entry.keywords == ("Given",)
    assert entry.summary.startswith("Uses the simulated Bitbucket")
    assert entry.example == 'Given a Bitbucket Data Center server at version "7.21.0"'
    assert entry.example_location == "features/oauth2/00-version-note.feature:8"


def test_outline_examples_are_filled_from_the_first_row(written: list[FeatureStep]) -> None:
    assert all("<" not in step.text for step in written)


def test_the_markdown_catalogue_has_a_table_per_section() -> None:
    text = format_markdown(catalogue(FEATURES))
    assert "## Share the login link" in text
    assert '| `Then the user is logged in to the integration as "{username}"` |' in text


def test_bbdc_sim_steps_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps"]) == 0
    out = capsys.readouterr().out
    assert "== Finish the Setup (conformance.steps.finish_the_setup) ==" in out
    assert "  When an hour passes on the Bitbucket server" in out
    assert "      e.g. When an hour passes on the Bitbucket server   [features/oauth2/" in out


def test_bbdc_sim_steps_json_lists_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["steps", "--format", "json", "--features", str(FEATURES)]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == len(library())
    assert {"section", "keywords", "pattern", "summary", "example"} <= set(entries[0])


def test_a_feature_file_that_does_not_parse_gives_no_examples(tmp_path: Path) -> None:
    (tmp_path / "broken.feature").write_text("Feature: x\n  Nonsense here\n", encoding="utf-8")
    assert feature_steps(tmp_path) == []
