"""The suite has teeth: every mutant of the reference fails the scenarios named for it, and the
reference passes them.

The runs are real: ``python -m conformance.runner --sut conformance.mutants:create_<name>``
in subprocesses (several at once), each on the scenarios named for that mutant (``-k``), read
back from the report's JUnit XML, where a failed ``@should`` scenario is ``warned``.
"""

from __future__ import annotations

import io
import types
from pathlib import Path

import pytest
from pytest_bdd.gherkin_parser import get_gherkin_document

from conformance.drivers.python import load_factory
from conformance.mutants import (
    MUTANTS,
    OAUTH1_TAGS,
    OAUTH2_TAGS,
    Catch,
    Mutant,
    by_name,
    must,
    should,
)
from conformance.mutants.rulebook import changed_rules, variant
from conformance.mutants.run import (
    ROOT,
    ScenarioOutcome,
    SuiteRun,
    in_parallel,
    merged,
    read_junit,
    run_suite,
    selection,
)
from conformance.mutants.table import Row, markdown_table, reference_misses
from conformance.reference import rules
from conformance.reference.models import ReferenceState
from conformance.reference.service import Reference

NAMES = [m.name for m in MUTANTS]
REFERENCE = "reference"


# -- the registry ----------------------------------------------------------------------------------


def test_there_are_at_least_twenty_mutants_with_unique_names() -> None:
    assert len(MUTANTS) >= 20
    assert len(set(NAMES)) == len(NAMES)
    assert all(m.catches and m.bug for m in MUTANTS)


def test_oauth1_mutants_run_on_the_oauth1_scenarios_and_the_others_on_the_oauth2_ones() -> None:
    oauth1 = {m.name for m in MUTANTS if m.tags == OAUTH1_TAGS}
    assert oauth1 == {
        "oauth1_request_token_not_checked",
        "oauth1_no_synchronisation_warning",
        "oauth1_submit_without_checking_link",
        "oauth1_link_problem_swallowed",
        "oauth1_pending_login_per_integration",
    }
    assert all(m.tags == OAUTH2_TAGS for m in MUTANTS if m.name not in oauth1)
    both = Mutant(
        "m",
        "b",
        (must("features/oauth1/04-log-in.feature", "A"), must("features/oauth2/x.feature", "B")),
        Reference,
        "rules.x",
    )
    assert both.tags is None


def scenario_levels(feature: str) -> dict[str, tuple[set[str], list[str]]]:
    """Each scenario of a feature file: its tags (with the feature's) and its examples as
    the report names them (``version: 7.6.0``)."""
    document = get_gherkin_document(str(ROOT / feature))
    found: dict[str, tuple[set[str], list[str]]] = {}
    feature_tags = {tag.name.lstrip("@") for tag in document.feature.tags}
    for child in document.feature.children:
        scenario = child.scenario
        if scenario is None:
            continue
        tags = feature_tags | {tag.name.lstrip("@") for tag in scenario.tags}
        examples = []
        for table in scenario.examples:
            header = [cell.value for cell in table.table_header.cells] if table.table_header else []
            for row in table.table_body or []:
                values = [cell.value for cell in row.cells]
                examples.append(", ".join(f"{k}: {v}" for k, v in zip(header, values, strict=True)))
        found[scenario.name] = (tags, examples)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_named_for_a_mutant_exists_with_that_level(name: str) -> None:
    for catch in by_name(name).catches:
        scenarios = scenario_levels(catch.feature)
        assert catch.scenario in scenarios, (catch.feature, sorted(scenarios))
        tags, examples = scenarios[catch.scenario]
        assert catch.level in tags, (catch, tags)
        if catch.example is not None:
            assert catch.example in examples, (catch, examples)


@pytest.mark.parametrize("name", NAMES)
def test_each_mutant_changes_exactly_what_it_names(name: str) -> None:
    """Its ``changed`` names every rule it replaces and every method its class overrides,
    and nothing else is different from the reference."""
    entry = by_name(name)
    built = entry.build(ReferenceState())
    parts = entry.changed.split(", ")
    named_rules = sorted(p.removeprefix("rules.") for p in parts if p.startswith("rules."))
    named_methods = sorted(
        p.removeprefix("Reference.") for p in parts if p.startswith("Reference.")
    )
    assert len(named_rules) + len(named_methods) == len(parts), entry.changed
    assert sorted(changed_rules(built.rules)) == named_rules
    below = type(built).__mro__[: type(built).__mro__.index(Reference)]
    overridden = sorted(
        {
            key
            for cls in below
            for key, value in vars(cls).items()
            if isinstance(value, types.FunctionType)
        }
    )
    assert overridden == named_methods
    if not named_rules:
        assert built.rules is rules


def test_mutants_leave_the_rules_module_and_the_reference_alone() -> None:
    builds = [m.build(ReferenceState()) for m in MUTANTS]
    repo_write = variant(SCOPE="REPO_WRITE")
    assert "scope=REPO_WRITE" in repo_write.authorize_url("https://h", "c", "https://r", "s", "x")
    assert "scope=REPO_READ" in rules.authorize_url("https://h", "c", "https://r", "s", "x")
    assert rules.SCOPE == "REPO_READ"
    assert rules.PKCE_METHOD == "S256"
    assert Reference(ReferenceState()).rules is rules
    assert changed_rules(Reference(ReferenceState()).rules) == ()
    assert len(builds) == len(MUTANTS)


def test_a_variant_refuses_a_name_that_is_not_a_rule() -> None:
    with pytest.raises(ValueError, match="no rule 'SCOPES'"):
        variant(SCOPES="REPO_READ")
    with pytest.raises(ValueError, match="replace it with a function"):
        variant(setup_link="https://elsewhere")


def test_a_code_is_exchanged_with_the_authorized_redirect_uri_and_body_credentials() -> None:
    assert rules.code_grant("c", "https://r/cb", "id", "secret", "v" * 43) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": "https://r/cb",
        "client_id": "id",
        "client_secret": "secret",
        "code_verifier": "v" * 43,
    }
    assert "code_verifier" not in rules.code_grant("c", "https://r/cb", "id", "secret", "")
    assert rules.refresh_grant("r", "id", "secret") == {
        "grant_type": "refresh_token",
        "refresh_token": "r",
        "client_id": "id",
        "client_secret": "secret",
    }


def test_a_refresh_keeps_the_refresh_token_just_issued_unless_none_came() -> None:
    assert rules.next_refresh_token("old", "new") == "new"
    assert rules.next_refresh_token("old", "") == "old"


def test_the_pkce_rules_follow_the_method_of_their_rule_book() -> None:
    plain, none = variant(PKCE_METHOD="plain"), variant(PKCE_METHOD=None)
    verifier = plain.new_code_verifier()
    assert plain.code_challenge(verifier) == verifier
    assert "code_challenge_method=plain" in plain.authorize_url("https://h", "c", "r", "s", "x")
    assert none.new_code_verifier() == ""
    assert "code_challenge" not in none.authorize_url("https://h", "c", "r", "s", "")
    assert rules.code_challenge(verifier) != verifier


@pytest.mark.parametrize("name", NAMES)
def test_every_mutant_has_a_sut_factory(name: str) -> None:
    assert callable(load_factory(by_name(name).sut))


# -- reading reports -------------------------------------------------------------------------------

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="s">
    <testcase name="A (version: 7.6.0)" file="features/oauth2/00-version-note.feature" line="20">
      <properties><property name="level" value="should" />
        <property name="outcome" value="warned" /></properties>
      <skipped message="warning: expected a message" />
    </testcase>
    <testcase name="B" file="features/oauth2/04-share-the-login-link.feature" line="7">
      <properties><property name="level" value="must" /></properties>
      <failure message="expected state" />
    </testcase>
    <testcase name="C" file="features/oauth2/04-share-the-login-link.feature">
      <skipped message="warning: no outcome property" />
    </testcase>
    <testcase name="D" file="features/oauth2/04-share-the-login-link.feature" />
  </testsuite>
</testsuites>
"""


def test_junit_outcomes_read_warnings_of_should_scenarios_as_caught(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    outcomes = {o.name: o for o in read_junit(path)}
    assert outcomes["A (version: 7.6.0)"].outcome == "warned"
    assert outcomes["A (version: 7.6.0)"].level == "should"
    assert outcomes["B"].outcome == "failed"
    assert outcomes["C"].outcome == "warned"
    assert outcomes["D"].outcome == "passed"
    assert [o.name for o in outcomes.values() if o.caught] == ["A (version: 7.6.0)", "B", "C"]


def test_a_catch_of_an_outline_matches_every_row_or_only_its_example() -> None:
    feature = "features/oauth2/00-version-note.feature"
    every = should(feature, "A")
    one = should(feature, "A", "version: 7.6.0")
    assert every.matches(feature, "A (version: 7.17.0)")
    assert every.matches(feature, "A")
    assert not every.matches(feature, "AB")
    assert not every.matches("features/oauth1/x.feature", "A")
    assert one.matches(feature, "A (version: 7.6.0)")
    assert not one.matches(feature, "A (version: 7.17.0)")


def fake_run(*outcomes: ScenarioOutcome) -> SuiteRun:
    return SuiteRun("x", 1, 0.1, outcomes, "")


def test_runs_of_one_sut_on_parts_of_the_suite_merge_into_one() -> None:
    first = ScenarioOutcome("f1", "A", "must", "passed")
    second = ScenarioOutcome("f2", "B", "must", "failed")
    passing = SuiteRun("reference", 0, 1.0, (first,), "one")
    failing = SuiteRun("reference", 1, 2.0, (second,), "two")
    both = merged([passing, failing])
    assert both.scenarios == (first, second)
    assert (both.exit_code, both.seconds, both.output) == (1, 3.0, "one\ntwo")
    assert merged([passing, passing]).exit_code == 0
    with pytest.raises(ValueError, match="nothing to merge"):
        merged([])


def test_the_table_says_which_named_scenario_a_mutant_survived() -> None:
    feature = "features/oauth2/04-share-the-login-link.feature"
    entry = Mutant(
        name="m",
        bug="a bug",
        catches=(must(feature, "Caught"), must(feature, "Survived")),
        build=Reference,
        changed="rules.x",
    )
    run = fake_run(
        ScenarioOutcome(feature, "Caught", "must", "failed"),
        ScenarioOutcome(feature, "Survived", "must", "passed"),
        ScenarioOutcome(feature, "Other", "should", "warned"),
    )
    row = Row(entry, run)
    assert not row.killed
    assert row.level == "@must"
    assert row.caught_by() == "04 Caught; +1 more"
    table = markdown_table([row])
    assert "| m | `rules.x` | 04 Caught; +1 more | @must | NO: " in table
    assert "Survived" in table.splitlines()[-1]


def test_the_table_names_an_outline_once_with_the_examples_that_caught_the_mutant() -> None:
    feature = "features/oauth1/05-bitbucket-8-and-later.feature"
    rows = ("version: 8.0.0", "version: 9.4.16")
    entry = Mutant("m", "b", tuple(should(feature, "W", r) for r in rows), Reference, "rules.x")
    run = fake_run(*(ScenarioOutcome(feature, f"W ({r})", "should", "warned") for r in rows))
    assert Row(entry, run).caught_by() == (
        "oauth1/05-bitbucket-8-and-later W (version: 8.0.0; version: 9.4.16)"
    )


def test_the_reference_must_pass_every_named_scenario() -> None:
    feature = "features/oauth2/04-share-the-login-link.feature"
    entry = Mutant("m", "b", (must(feature, "Caught"),), Reference, "rules.x")
    failing = fake_run(ScenarioOutcome(feature, "Caught", "must", "failed"))
    assert reference_misses(failing, [entry]) == [f"{entry.catches[0]}: Caught: failed"]
    assert reference_misses(fake_run(), [entry]) == [f"{entry.catches[0]}: did not run"]


# -- the suite against every mutant ----------------------------------------------------------------


@pytest.fixture(scope="module")
def runs() -> dict[str, SuiteRun]:
    """The reference on every named scenario (OAuth 1 and 2), each mutant on its own named
    scenarios (of its part of the suite), several at once."""
    jobs: list[tuple[str, str, str | None, str]] = [
        (REFERENCE, REFERENCE, None, selection(c for m in MUTANTS for c in m.catches))
    ]
    jobs += [(m.name, m.sut, m.tags, selection(m.catches)) for m in MUTANTS]

    def one(job: tuple[str, str, str | None, str]) -> SuiteRun:
        _, sut, tags, keyword = job
        return run_suite(sut, tags=tags, keyword=keyword)

    return dict(zip([job[0] for job in jobs], in_parallel(one, jobs, None), strict=True))


def describe(run: SuiteRun, catch: Catch) -> str:
    rows = run.outcomes_of(catch)
    shown = ", ".join(f"{o.name}: {o.outcome}" for o in rows) or "did not run"
    return f"{catch} on {run.sut} (exit {run.exit_code}): {shown}\n{run.output[-3000:]}"


def test_the_reference_passes_every_scenario_named_for_a_mutant(
    runs: dict[str, SuiteRun],
) -> None:
    reference = runs[REFERENCE]
    assert reference.exit_code == 0, reference.output[-3000:]
    problems = reference_misses(reference, MUTANTS)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_named_for_a_mutant_fails_on_it(
    runs: dict[str, SuiteRun], name: str
) -> None:
    entry = by_name(name)
    run = runs[name]
    for catch in entry.catches:
        outcomes = run.outcomes_of(catch)
        assert outcomes, describe(run, catch)
        expected = "warned" if catch.level == "should" else "failed"
        assert all(o.outcome == expected for o in outcomes), describe(run, catch)
    if any(c.level == "must" for c in entry.catches):
        assert run.exit_code == 1, run.output[-3000:]


def test_the_table_prints_a_row_per_mutant_and_the_times(
    runs: dict[str, SuiteRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.mutants import table

    chosen = ["no_state", "no_pkce", "oauth1_request_token_not_checked"]
    asked: list[tuple[str, object]] = []

    def recorded(sut: str, **options: object) -> SuiteRun:
        asked.append((sut, options["tags"]))
        if sut != REFERENCE:
            return runs[sut.rsplit("create_", 1)[1]]
        # The reference's run covers both parts: each part gets its own scenarios.
        oauth1 = options["tags"] == OAUTH1_TAGS
        scenarios = tuple(
            s
            for s in runs[REFERENCE].scenarios
            if s.feature.startswith("features/oauth1/") == oauth1
        )
        return SuiteRun(REFERENCE, 0, 1.0, scenarios, "")

    monkeypatch.setattr(table, "run_suite", recorded)
    out = io.StringIO()
    assert table.main(chosen, out) == 0
    text = out.getvalue()
    assert sorted(asked, key=str) == sorted(
        [
            (REFERENCE, OAUTH2_TAGS),
            (REFERENCE, OAUTH1_TAGS),
            (by_name("no_state").sut, OAUTH2_TAGS),
            (by_name("no_pkce").sut, OAUTH2_TAGS),
            (by_name("oauth1_request_token_not_checked").sut, OAUTH1_TAGS),
        ],
        key=str,
    )
    assert (
        "| no_state | `rules.authorize_url, rules.state_matches` "
        "| 04 The authorization request carries state | @should | yes |"
    ) in text
    no_pkce = next(line for line in text.splitlines() if line.startswith("| no_pkce |"))
    assert no_pkce.startswith("| no_pkce | `rules.PKCE_METHOD` | 04 PKCE is used")
    assert "A stolen authorization code" in no_pkce
    assert no_pkce.endswith("| @should | yes |")
    assert (
        "| oauth1_request_token_not_checked | `rules.request_token_matches` "
        "| oauth1/04-log-in A callback with another oauth_token is rejected | @must | yes |"
    ) in text
    assert "3 of 3 mutants caught by every scenario named for them" in text
    assert "Scenarios: --tags 'not oauth1', --tags 'oauth1'. Time:" in text


def test_the_table_runs_every_mutant_on_the_tags_asked_for(
    runs: dict[str, SuiteRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.mutants import table

    asked: list[object] = []

    def recorded(sut: str, **options: object) -> SuiteRun:
        asked.append(options["tags"])
        return runs[REFERENCE if sut == REFERENCE else sut.rsplit("create_", 1)[1]]

    monkeypatch.setattr(table, "run_suite", recorded)
    out = io.StringIO()
    assert table.main(["no_state", "oauth1_request_token_not_checked", "--tags", ""], out) == 0
    assert asked == [None, None, None]
    assert "Scenarios: all." in out.getvalue()


def test_the_table_refuses_an_unknown_mutant(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.mutants import table

    assert table.main(["no_such_mutant"], io.StringIO()) == 2
    assert "no mutant 'no_such_mutant'" in capsys.readouterr().err


def test_the_docs_list_every_mutant_with_what_it_changes() -> None:
    text = (ROOT / "docs" / "mutants.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    for entry in MUTANTS:
        assert entry.name in rows, entry.name
        assert f"`{entry.changed}`" in rows[entry.name], entry.name
