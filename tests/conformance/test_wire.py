"""Bitbucket's side of a scenario: the journal read step by step, the harness's own requests
left out, each exchange on one line with the facts that explain a failure, and the reports
showing it for failed scenarios."""

from __future__ import annotations

from typing import Any

from conformance.report import Report, ScenarioResult, StepResult, to_markdown
from conformance.useragent import USER_AGENT
from conformance.wire import CHECK_USER_AGENT, Wire, WireEntry, head_of, wire_lines


def journal_entry(
    number: int,
    path: str,
    status: int = 200,
    *,
    agent: str = "Python/3.11 aiohttp/3.14",
    method: str = "GET",
    **parts: Any,
) -> dict[str, Any]:
    return {
        "id": number,
        "time": 0.0,
        "method": method,
        "path": path,
        "query": parts.get("query", {}),
        "form": parts.get("form", {}),
        "headers": {"User-Agent": agent, **parts.get("headers", {})},
        "status": status,
        "extra": parts.get("extra", {}),
    }


class FakeJournal:
    """A control API whose journal grows between calls."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.asked: list[int] = []

    def journal(
        self, path_prefix: str | None = None, method: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        self.asked.append(since)
        return [entry for entry in self.entries if entry["id"] > since]


TOKEN_FAILURE = journal_entry(
    3,
    "/rest/oauth2/latest/token",
    401,
    method="POST",
    form={
        "grant_type": "authorization_code",
        "client_secret": "<redacted>",
        "code": "<redacted>",
        "redirect_uri": "https://p.example/cb",
    },
    extra={"client_auth": "body", "error": "invalid_client", "has_code_verifier": False},
)


def test_the_harness_requests_are_left_out_but_authorization_requests_kept() -> None:
    source = FakeJournal()
    source.entries = [
        journal_entry(1, "/login", agent=USER_AGENT),
        journal_entry(
            2,
            "/rest/oauth2/latest/authorize",
            303,
            agent=USER_AGENT,
            query={"scope": "REPO_READ", "state": "abc", "client_id": "c1"},
        ),
        TOKEN_FAILURE,
        journal_entry(4, "/rest/api/1.0/repos", agent=CHECK_USER_AGENT),
    ]
    wire = Wire()
    found = wire.collect([("http://b", "", source)], "When alice logs in")
    assert [(e.who, e.path) for e in found] == [
        ("browser", "/rest/oauth2/latest/authorize"),
        ("integration", "/rest/oauth2/latest/token"),
    ]
    browser, token = found
    assert "state=<redacted>" in browser.line()  # as in the browser's own trace
    assert "scope=REPO_READ" in browser.line()
    assert "the user's browser" in browser.line()
    assert token.line() == (
        "POST /rest/oauth2/latest/token -> 401; grant_type=authorization_code; "
        "client_secret=<redacted>; redirect_uri=https://p.example/cb; code=<redacted>; "
        "client authentication body; error invalid_client; no code_verifier"
    )


def test_each_step_reads_only_what_came_after_the_last() -> None:
    source = FakeJournal()
    wire = Wire()
    source.entries = [journal_entry(1, "/rest/api/1.0/application-properties")]
    wire.collect([("http://b", "", source)], "Given one")
    source.entries.append(TOKEN_FAILURE)
    wire.collect([("http://b", "", source)], "When two")
    assert source.asked == [0, 1]
    assert [(e.step, e.path) for e in wire.entries] == [
        ("Given one", "/rest/api/1.0/application-properties"),
        ("When two", "/rest/oauth2/latest/token"),
    ]


def test_a_credential_bitbucket_did_not_take_is_said_so() -> None:
    taken = WireEntry.from_journal(
        journal_entry(
            1,
            "/rest/api/1.0/repos",
            headers={"Authorization": "Bearer <redacted>"},
            extra={"auth": "oauth2", "user": "alice"},
        ),
        "Then",
        "integration",
    )
    ignored = WireEntry.from_journal(
        journal_entry(2, "/rest/api/1.0/repos", headers={"Authorization": "Bearer <redacted>"}),
        "Then",
        "integration",
    )
    bare = WireEntry.from_journal(journal_entry(3, "/rest/api/1.0/repos"), "Then", "integration")
    assert "[Bearer, as alice]" in taken.line()
    assert "[Bearer, anonymous: Bitbucket did not take it]" in ignored.line()
    assert bare.line() == "GET /rest/api/1.0/repos -> 200 [no credentials: anonymous]"
    assert WireEntry.from_json(taken.to_json()) == taken


def test_lines_are_grouped_by_step_and_numbered_in_the_scenario() -> None:
    entries = [
        WireEntry("Given a", "integration", "GET", "/one", 200),
        WireEntry("When b", "integration", "GET", "/two", 200),
        WireEntry("When b", "integration", "POST", "/three", 400),
    ]
    assert wire_lines(entries[1:], "  ", [2, 3]) == [
        "  during: When b",
        "    2. GET /two -> 200",
        "    3. POST /three -> 400",
    ]


def test_the_head_prefers_oauth_calls_and_errors_of_the_failed_and_previous_steps() -> None:
    login = "When alice logs in"
    check = "Then alice is logged in"
    entries = [
        WireEntry("Given setup", "integration", "GET", "/rest/api/1.0/application-properties", 200),
        WireEntry(login, "browser", "GET", "/rest/oauth2/latest/authorize", 303),
        WireEntry(login, "integration", "POST", "/rest/oauth2/latest/token", 200),
        *(
            WireEntry(login, "integration", "GET", f"/raw/{n}/composer.json", 404)
            for n in range(10)
        ),
        WireEntry(check, "integration", "GET", "/rest/api/1.0/application-properties", 200),
    ]
    assert head_of(entries, [check, login], 3) == [2, 3, len(entries)]
    assert head_of(entries, ["Then nothing happened"], 2) == [len(entries) - 1, len(entries)]


def test_the_markdown_report_shows_bitbucket_side_of_a_failure() -> None:
    failed = ScenarioResult(
        feature="Share the login link",
        section="share-the-login-link",
        name="A user logs in",
        level="must",
        outcome="failed",
        failed_step='Then the user is logged in to the integration as "alice"',
        expected="alice logged in",
        actual="nobody",
        steps=(StepResult("Then", 'the user is logged in to the integration as "alice"'),),
        wire=(
            WireEntry.from_journal(TOKEN_FAILURE, "When alice logs in", "integration").to_json(),
        ),
    )
    text = to_markdown(Report(scenarios=(failed,)))
    assert "Bitbucket's side" in text
    assert "POST /rest/oauth2/latest/token -> 401" in text
    assert "error invalid\\_client" in text or "error invalid_client" in text
