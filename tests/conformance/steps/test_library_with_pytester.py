"""The step library through the pytest plugin, on feature files written for each test
(pytester): library steps need no Python, and every bad input gets file, line and a non-zero
exit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BINDING = "from pytest_bdd import scenarios\n\nscenarios('.')\n"
#: The plugin, and a configuration of its own (as `bbdc-sim conform` runs it).
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

FORM_FEATURE = """\
@section:open-the-add-integration-form
Feature: The form, written by QA from the catalogue

  @must
  Scenario: The setup link is displayed
    Given a Bitbucket Data Center server at version "8.19.1"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed
    And the Client ID and Client Secret fields are empty
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A directory with the binding module (features are added per test)."""
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_features=BINDING)
    return pytester


def feature(pytester: pytest.Pytester, name: str, text: str) -> Path:
    """Write ``<name>.feature``."""
    path = pytester.path / f"{name}.feature"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_feature_of_library_steps_runs_with_no_python(suite: pytest.Pytester) -> None:
    feature(suite, "form", FORM_FEATURE)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*PASSED: 1 passed, 0 failed*"])


VERSION_NOTE_AT_8_19 = """\
@section:version-note
Feature: A note that does not apply

  @{level}
  Scenario: The form warns about OAuth 2 although the server has it
    Given a Bitbucket Data Center server at version "8.19.1"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then the admin is told that OAuth 2 needs Bitbucket 7.21 and pointed to OAuth 1
"""


def test_a_failing_should_scenario_is_a_warning_and_the_run_passes(suite: pytest.Pytester) -> None:
    feature(suite, "note", VERSION_NOTE_AT_8_19.format(level="should"))
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(xfailed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "warning @should note.feature:5: *",
            "  step (line 9): Then the admin is told that OAuth 2 needs Bitbucket 7.21 and "
            "pointed to OAuth 1",
            "  expected: a message on the form saying OAuth 2 needs Bitbucket 7.21*",
            "  actual:   the form shows setup link *messages: none",
            "  Bitbucket's side (1 of the integration's 1 exchanges):",
            "    during: And selects *",
            "      1. GET /rest/api/1.0/application-properties -> 200 [no credentials: anonymous]",
            "PASSED: 0 passed, 0 failed, 1 warning, 0 skipped*",
        ]
    )


def test_a_failing_must_scenario_fails_the_run(suite: pytest.Pytester) -> None:
    feature(suite, "note", VERSION_NOTE_AT_8_19.format(level="must"))
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAILED  @must note.feature:5: *", "FAILED: 0 passed, 1 failed*"])


def test_a_misused_step_fails_the_run_even_in_a_should_scenario(suite: pytest.Pytester) -> None:
    feature(
        suite,
        "misuse",
        "@section:finish-the-setup\nFeature: Misuse\n\n  @should\n  Scenario: No form\n"
        '    Given a Bitbucket Data Center server at version "8.19.1"\n'
        "    Then the Client ID and Client Secret fields are empty\n",
    )
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*feature file problem: no Add Integration form is open*"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            FORM_FEATURE.replace(
                "When the admin opens the Add Integration form",
                "When the admin opens the Add Integrashun form",
            ),
            "form.feature:7: undefined step: When the admin opens the Add Integrashun form; "
            "closest library steps: the admin opens the Add Integration form*",
        ),
        (
            FORM_FEATURE.replace("  @must\n", "  @must @musst\n"),
            "form.feature:4: unknown tag @musst (known: @must, *@should*, @section:<slug>)",
        ),
        (
            FORM_FEATURE.replace("  @must\n", ""),
            "form.feature:4: scenario 'The setup link is displayed' needs exactly one level "
            "tag, @must or @should (has none)",
        ),
        (
            FORM_FEATURE.replace("  @must\n", "  @must @should\n"),
            "*needs exactly one level tag, @must or @should (has @must and @should)",
        ),
        (
            FORM_FEATURE.replace("@section:open-the-add-integration-form\n", ""),
            "*needs exactly one @section:<slug> tag, on it or its feature (has none)",
        ),
        (
            FORM_FEATURE.replace("@section:open-the-add-integration-form", "@section:Open_Form"),
            "form.feature:1: @section:Open_Form: "
            "a section slug is lower-case words joined by hyphens",
        ),
        (
            FORM_FEATURE.replace("    Then a link", "  Then: oops\n    Then a link"),
            "form.feature:9: Gherkin syntax error: *",
        ),
    ],
    ids=[
        "undefined-step",
        "unknown-tag",
        "no-level",
        "two-levels",
        "no-section",
        "bad-section",
        "syntax-error",
    ],
)
def test_a_broken_feature_file_stops_the_run_naming_file_and_line(
    suite: pytest.Pytester, text: str, problem: str
) -> None:
    feature(suite, "form", text)
    result = suite.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: the feature files have problems:", f"  {problem}"])


TWO_SECTIONS = (
    FORM_FEATURE
    + """
  @should @section:version-note
  Scenario: OAuth 2 is offered at 9.4
    Given a Bitbucket Data Center server at version "9.4.16"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed
"""
)


def test_tags_select_scenarios_by_level_and_section(suite: pytest.Pytester) -> None:
    feature(
        suite,
        "form",
        TWO_SECTIONS.replace("@section:open-the-add-integration-form\n", "").replace(
            "  @must\n", "  @must @section:open-the-add-integration-form\n"
        ),
    )
    result = suite.runpytest(*ARGS, "--tags=@should and section:version-note")
    result.assert_outcomes(passed=1, deselected=1)
    result = suite.runpytest(*ARGS, "--tags", "must or should")
    result.assert_outcomes(passed=2)


def test_tags_matching_nothing_exit_5(suite: pytest.Pytester) -> None:
    feature(suite, "form", FORM_FEATURE)
    result = suite.runpytest(*ARGS, "--tags", "should")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_an_unknown_tag_in_tags_is_a_usage_error(suite: pytest.Pytester) -> None:
    feature(suite, "form", FORM_FEATURE)
    result = suite.runpytest(*ARGS, "--tags", "must and not musst")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --tags 'must and not musst': unknown tag @musst*"])


NO_REPOSITORIES = """\
import dataclasses

from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer


class NoRepositories(ReferenceIntegrator):
    def capabilities(self):
        return dataclasses.replace(super().capabilities(), repositories=False)


def create():
    return NoRepositories(ReferenceServer().start(), owns_server=True)
"""

REPOSITORIES_FEATURE = """\
@section:share-the-login-link
Feature: Repositories

  @must @repositories
  Scenario: The integration lists repositories
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes
    And the user "bob" has logged in through the login link
    Then the integration lists the repositories "bob" can read, \
each with whether it has a composer.json
"""


def test_repositories_scenarios_run_when_the_sut_lists_repositories(
    suite: pytest.Pytester,
) -> None:
    feature(suite, "repos", REPOSITORIES_FEATURE)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=1)


def test_repositories_scenarios_are_skipped_when_the_sut_has_no_listing_and_none_ran_exits_5(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(norepos=NO_REPOSITORIES)
    suite.syspathinsert()
    feature(suite, "repos", REPOSITORIES_FEATURE)
    result = suite.runpytest(*ARGS, "--sut", "norepos:create", "-rs")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*the SUT does not list repositories*"])


def test_an_unreachable_sut_stops_the_run_naming_the_endpoint(suite: pytest.Pytester) -> None:
    feature(suite, "form", FORM_FEATURE)
    result = suite.runpytest(*ARGS, "--sut", "http://127.0.0.1:9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: the system under test cannot be used: GET http://127.0.0.1:9/capabilities: *"]
    )


LOGIN_FEATURE = """\
@section:share-the-login-link
Feature: Login

  @must
  Scenario: Alice is taken for Bob
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "bob"
"""


def test_the_report_shows_the_failed_step_what_was_expected_and_its_trace(
    suite: pytest.Pytester,
) -> None:
    feature(suite, "login", LOGIN_FEATURE)
    result = suite.runpytest(*ARGS, "--report", "report")
    assert result.ret == 1
    folder = suite.path / "report"
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "- Result: **FAILED**" in summary
    assert '- Step: `Then the user is logged in to the integration as "bob"`' in summary
    assert "- Expected: `the integration to report 'bob' logged in`" in summary
    assert "authenticated=True, username='alice'" in summary
    assert "HTTP trace of the step" in summary
    assert "CALL session(cookies: REFSESSION)" in summary
    cucumber = json.loads((folder / "cucumber.json").read_text(encoding="utf-8"))
    steps = cucumber[0]["elements"][0]["steps"]
    assert [s["result"]["status"] for s in steps] == ["passed", "passed", "passed", "failed"]
    assert '<failure message="Then the user is logged in' in (folder / "junit.xml").read_text(
        encoding="utf-8"
    )


BLOCKED_FEATURE = """\
@section:configure-bitbucket-server-plugins
Feature: Blocked

  @must
  Scenario: The plugin stops the user at the consent page
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes
    And the "U2F & TOTP" plugin is installed without the OAuth whitelist
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
"""


def test_the_trace_of_a_failed_login_step_shows_every_hop_with_secrets_redacted(
    suite: pytest.Pytester,
) -> None:
    feature(suite, "blocked", BLOCKED_FEATURE)
    result = suite.runpytest(*ARGS, "--report", "report")
    assert result.ret == 1
    summary = (suite.path / "report" / "summary.md").read_text(encoding="utf-8")
    assert '- Step: `When the user "alice" opens the login link' in summary
    assert "/plugins/servlet/tfa/blocked" in summary
    trace = summary[summary.index("HTTP trace of the step") :]
    assert "/rest/oauth2/latest/authorize?" in trace
    assert "state=<redacted>" in trace
    assert "j_password=<redacted>" in trace
    assert "(form) code=<redacted>" in trace
    assert "BITBUCKETSESSIONID=<redacted>" in trace


NO_VERSION_FEATURE = """\
@section:version-note
Feature: A server whose version the scenario leaves open

  @must
  Scenario: The form reflects the version given on the command line
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then the admin is told that OAuth 2 needs Bitbucket 7.21 and pointed to OAuth 1
"""


def test_bitbucket_version_sets_the_server_of_a_scenario_that_sets_none(
    suite: pytest.Pytester,
) -> None:
    feature(suite, "open", NO_VERSION_FEATURE)
    suite.runpytest(*ARGS, "--bitbucket-version", "7.20.0").assert_outcomes(passed=1)
    suite.runpytest(*ARGS).assert_outcomes(failed=1)


WRONG_SESSION = """\
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer


class WrongSession(ReferenceIntegrator):
    def session(self, cookies):
        return {"authenticated": True}


def create():
    return WrongSession(ReferenceServer().start(), owns_server=True)
"""


def test_an_answer_off_the_protocol_fails_the_run_even_in_a_should_scenario(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(wrong=WRONG_SESSION)
    suite.syspathinsert()
    feature(suite, "login", LOGIN_FEATURE.replace("@must", "@should"))
    result = suite.runpytest(*ARGS, "--sut", "wrong:create")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*expected: an answer that follows the driver protocol (docs/driver-protocol.md)",
            "*actual:   wrong:create().session(): returned a dict, expected "
            "conformance.sut.SessionState",
        ]
    )


class _HtmlHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def html_site() -> Iterator[str]:
    """A web site answering HTML to everything (not a driver protocol implementation)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_sut_answering_html_stops_the_run_naming_the_endpoint(
    suite: pytest.Pytester, html_site: str
) -> None:
    feature(suite, "form", FORM_FEATURE)
    result = suite.runpytest(*ARGS, "--sut", html_site)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: the system under test cannot be used: GET {html_site}/capabilities: *html*"]
    )
