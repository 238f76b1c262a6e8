"""Smoke tests of the OAuth 2 benchmarks' pure helpers: parsing, forms, chains, the npm peer.

No timing assertions, no subprocesses and no servers: the benchmarks themselves run with
``make bench`` (``python -m bench oauth2_token oauth2_login``).
"""

from __future__ import annotations

import html
import json
import string
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from bench import oauth2_login, oauth2_token, reset
from bench import peer_oauth2_mock_server as peer
from bench.__main__ import BENCHMARKS, summary
from bench.common import Result
from bench.oauth2_login import FlowError, Link, TokenPair
from bench.throughput import LoadRun
from simulator.web.layout import chrome

WHICH = "bench.peer_oauth2_mock_server.shutil.which"
CONSENT_TEMPLATE = (
    Path(__file__).resolve().parents[2] / "simulator" / "web" / "templates" / "oauth2-consent.html"
)


def consent_html(**values: str) -> str:
    """The simulator's consent template filled like the page is (values HTML-escaped)."""
    defaults = dict.fromkeys(
        (
            "client_name",
            "product",
            "username",
            "display_name",
            "action",
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "atl_token",
        ),
        "",
    )
    defaults.update({name: html.escape(value, quote=True) for name, value in values.items()})
    defaults["scopes"] = ""
    defaults.update(chrome("oauth2-consent.html"))
    return string.Template(CONSENT_TEMPLATE.read_text(encoding="utf-8")).substitute(defaults)


# -- registration -----------------------------------------------------------------------------


def test_both_oauth2_benchmarks_are_registered_after_the_others() -> None:
    names = list(BENCHMARKS)
    assert names[names.index(reset.NAME) + 1 :] == [
        oauth2_token.NAME,
        oauth2_login.NAME,
        "plugin_cost",
        "soak",
        "git_clone",
        "webhooks",
    ]


def test_summary_widens_its_name_column_for_long_names() -> None:
    done = Result(oauth2_token.NAME, "t")
    done.check("ratio", 2.0, 1.0, False)
    lines = summary([done, Result("one", "t")], 1.0).splitlines()
    assert lines[1:4] == [
        "  oauth2_token  PASS",
        "  one           N/A",
        "  total time    1.0 s",
    ]


# -- the login flow's helpers ----------------------------------------------------------------


def test_pkce_challenge_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oauth2_login.pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_new_verifier_is_43_unreserved_characters() -> None:
    verifier = oauth2_login.new_verifier()
    assert len(verifier) == 43
    assert set(verifier) <= set(string.ascii_letters + string.digits + "-._~")


def test_authorize_query_asks_for_a_code_with_s256_pkce_and_state() -> None:
    link = Link("cid", "secret")
    query = parse_qs(oauth2_login.authorize_query(link, "st", "challenge"))
    assert query == {
        "client_id": ["cid"],
        "redirect_uri": [oauth2_login.REDIRECT_URI],
        "response_type": ["code"],
        "scope": ["REPO_READ"],
        "state": ["st"],
        "code_challenge": ["challenge"],
        "code_challenge_method": ["S256"],
    }


def test_hidden_fields_of_the_consent_page_are_unescaped() -> None:
    page = consent_html(
        client_id="cid",
        redirect_uri="http://127.0.0.1:9/cb?a=1&b=2",
        response_type="code",
        scope="REPO_READ",
        state='"quoted" <state>',
        atl_token="tok",
    )
    fields = oauth2_login.hidden_fields(page)
    assert fields["redirect_uri"] == "http://127.0.0.1:9/cb?a=1&b=2"
    assert fields["state"] == '"quoted" <state>'
    assert fields["atl_token"] == "tok"
    assert "decision" not in fields  # the buttons are not hidden inputs


def test_hidden_fields_ignore_visible_inputs() -> None:
    page = '<input type="text" name="q" value="x"><input type="hidden" name="h" value="1">'
    assert oauth2_login.hidden_fields(page) == {"h": "1"}


def test_form_action_is_the_consent_forms_target() -> None:
    page = consent_html(action="http://127.0.0.1:1/ctx/rest/oauth2/latest/authorize?a=1&b=2")
    assert oauth2_login.form_action(page) == (
        "http://127.0.0.1:1/ctx/rest/oauth2/latest/authorize?a=1&b=2"
    )
    assert oauth2_login.form_action("<p>no form</p>") is None


def test_query_parameters_take_the_first_of_repeats() -> None:
    location = "http://127.0.0.1:9/cb?code=abc&state=s&code=other"
    assert oauth2_login.query_parameters(location) == {"code": "abc", "state": "s"}


def test_session_cookie_is_found_among_set_cookie_headers() -> None:
    headers = [
        "other=1; Path=/",
        "BITBUCKETSESSIONID=s3ss10n; HttpOnly; Path=/; SameSite=Lax",
    ]
    assert oauth2_login.session_cookie(headers) == "s3ss10n"
    assert oauth2_login.session_cookie(["other=1"]) is None
    assert oauth2_login.session_cookie(["BITBUCKETSESSIONID=; Max-Age=0"]) is None


def test_code_exchange_form_carries_the_verifier_and_credentials_in_the_body() -> None:
    form = parse_qs(oauth2_login.code_exchange_form(Link("cid", "sec"), "c0de", "v").decode())
    assert form == {
        "grant_type": ["authorization_code"],
        "code": ["c0de"],
        "redirect_uri": [oauth2_login.REDIRECT_URI],
        "client_id": ["cid"],
        "client_secret": ["sec"],
        "code_verifier": ["v"],
    }


def test_refresh_form_is_the_refresh_grant_with_credentials_in_the_body() -> None:
    form = parse_qs(oauth2_login.refresh_form("cid", "sec", "r.t.k").decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["r.t.k"],
        "client_id": ["cid"],
        "client_secret": ["sec"],
    }


def test_token_pair_reads_both_tokens() -> None:
    body = {"access_token": "a", "refresh_token": "r", "token_type": "bearer"}
    assert oauth2_login.token_pair(body) == TokenPair("a", "r")


@pytest.mark.parametrize(
    "body", [{}, {"access_token": "a"}, {"access_token": "a", "refresh_token": ""}]
)
def test_token_pair_without_both_tokens_is_a_flow_error(body: dict[str, str]) -> None:
    with pytest.raises(FlowError, match="token pair"):
        oauth2_login.token_pair(body)


def test_applink_body_asks_for_an_oauth2_link_to_the_bench_redirect() -> None:
    assert json.loads(oauth2_login.applink_body("bench")) == {
        "type": "oauth2",
        "name": "bench",
        "redirect_urls": [oauth2_login.REDIRECT_URI],
        "scope": "REPO_READ",
    }


def test_logins_per_second_divide_by_the_window() -> None:
    assert oauth2_login.LoginCounts(ok=600, seconds=3.0).per_second == 200.0
    assert oauth2_login.LoginCounts(ok=5, seconds=0.0).per_second == 0.0


def test_login_figures_show_rate_and_both_cpu_shares() -> None:
    result = Result(oauth2_login.NAME, "t")
    counts = oauth2_login.LoginCounts(ok=900, total=1000, seconds=3.0)
    oauth2_login.describe(result, oauth2_login.LoginRun(counts, 3.5, 1.4, 1.75))
    shown = dict(result.figures)
    assert shown["simulator"] == "300.0 logins/s (900 in 3 s, 1,500 requests/s)"
    assert shown["server CPU"].startswith("1.40 ms/login, busy 40%")
    assert shown["client CPU"] == "busy 50% (this process)"


# -- the refresh load -------------------------------------------------------------------------


def test_chains_round_trip_through_json() -> None:
    chains = oauth2_token.Chains("http://127.0.0.1:1/token", "cid", "sec", ["r1", "r2"])
    assert oauth2_token.Chains.from_json(chains.to_json()) == chains


def test_chains_without_a_token_list_are_rejected() -> None:
    text = json.dumps({"url": "u", "client_id": "c", "client_secret": "s", "refresh_tokens": 3})
    with pytest.raises(ValueError, match="refresh_tokens"):
        oauth2_token.Chains.from_json(text)


def test_refresh_counts_start_empty() -> None:
    counts = oauth2_token.RefreshCounts()
    assert (counts.ok, counts.other, counts.errors, counts.broken) == (0, 0, 0, 0)
    assert counts.refresh_tokens == []


def test_describe_shows_the_median_each_run_and_the_server_cost() -> None:
    runs = [
        LoadRun(rps=rps, ok=1, other=0, errors=0, cpu_per_request=0.0002, server_busy=0.5)
        for rps in (1000.0, 3000.0, 2000.0)
    ]
    assert oauth2_token.describe(runs) == (
        "2,000 req/s (runs: 1,000, 3,000, 2,000); server CPU 200.0 us/request, busy 50%"
    )


def test_median_or_none_skips_unknown_values() -> None:
    assert oauth2_token.median_or_none([None, 1.0, 3.0]) == 2.0
    assert oauth2_token.median_or_none([None]) is None


# -- the npm peer -----------------------------------------------------------------------------


def fake_install(peers: Path, version: str = "8.2.3") -> None:
    package = peer.package_dir(peers)
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": version}), encoding="utf-8")


def test_installed_version_is_read_from_the_packages_manifest(tmp_path: Path) -> None:
    assert peer.installed_version(tmp_path) is None
    fake_install(tmp_path)
    assert peer.installed_version(tmp_path) == "8.2.3"


def test_install_command_installs_the_package_by_name_under_the_prefix(tmp_path: Path) -> None:
    command = peer.install_command("npm", tmp_path)
    assert command[:4] == ["npm", "install", "--prefix", str(tmp_path)]
    assert command[-1] == "oauth2-mock-server"


def test_last_line_is_the_last_non_blank_line() -> None:
    assert peer.last_line("npm ERR! a\nnpm ERR! b\n\n") == "npm ERR! b"
    assert peer.last_line("") == ""


def test_start_script_is_written_into_the_peers_folder(tmp_path: Path) -> None:
    script = peer.write_script(tmp_path)
    assert script.parent == tmp_path
    text = script.read_text(encoding="utf-8")
    assert "from 'oauth2-mock-server'" in text
    assert "server.start(0, '127.0.0.1')" in text
    assert "ready at http://127.0.0.1:${port}" in text


def test_without_node_the_peer_is_unavailable_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WHICH, lambda name: None)
    assert peer.prepare(tmp_path) == peer.Peer(reason="node is not installed")


def test_without_npm_the_install_fails_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WHICH, lambda name: None)
    assert peer.install(tmp_path) == "npm is not installed"


def test_a_missing_package_is_reported_when_installing_is_not_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WHICH, lambda name: f"/usr/bin/{name}")
    found = peer.prepare(tmp_path, allow_install=False)
    assert found.command is None
    assert found.reason == f"oauth2-mock-server is not installed in {tmp_path}"


def test_an_installed_package_gives_a_node_command_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WHICH, lambda name: f"/usr/bin/{name}")
    fake_install(tmp_path, "9.9.9")
    found = peer.prepare(tmp_path, allow_install=False)
    assert found == peer.Peer(
        command=["/usr/bin/node", str(tmp_path / peer.SCRIPT_NAME), "9.9.9"], version="9.9.9"
    )
