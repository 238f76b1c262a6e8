"""The journal: redaction of secrets, the ring buffer, and its middleware."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from aiohttp import web

from simulator.journal import (
    REDACTED,
    Journal,
    make_journal_middleware,
    note,
    redact_header,
    redact_pairs,
)
from simulator.store import Store
from tests.conftest import Client, ClientFactory, basic
from tests.schemas import validate

SECRET_FIELDS = [
    "j_password",
    "password",
    "client_secret",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "token",
    "oauth_signature",
    "oauth_token",
    "oauth_token_secret",
    "oauth_verifier",
    "atl_token",
    "totp",
    "client_assertion",
    "new_password",
    "Client_Secret",
]
PLAIN_FIELDS = [
    "j_username",
    "next",
    "grant_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "token_type_hint",
    "oauth_signature_method",
    "oauth_consumer_key",
    "oauth_callback",
]


async def journal_of(client: Client, **params: str) -> list[dict[str, Any]]:
    """The journal's entries through the control API, validated."""
    response = await client.get("/_sim/journal", params=params)
    assert response.status == 200
    entries: list[dict[str, Any]] = validate(await response.json(), "control/journal.json")[
        "entries"
    ]
    return entries


# -- redaction (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize("name", SECRET_FIELDS)
def test_secret_parameters_are_redacted_but_present(name: str) -> None:
    assert redact_pairs([(name, "s3cr3t")]) == {name: REDACTED}


@pytest.mark.parametrize("name", PLAIN_FIELDS)
def test_plain_parameters_are_kept(name: str) -> None:
    assert redact_pairs([(name, "value")]) == {name: "value"}


def test_an_empty_secret_stays_visibly_empty() -> None:
    assert redact_pairs([("j_password", "")]) == {"j_password": ""}


def test_repeated_parameters_become_lists_and_each_secret_is_redacted() -> None:
    pairs = [("scope", "a"), ("scope", "b"), ("code", "x"), ("code", "y")]
    assert redact_pairs(pairs) == {"scope": ["a", "b"], "code": [REDACTED, REDACTED]}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Basic YWRtaW46YWRtaW4=", f"Basic {REDACTED}"),
        ("Bearer abc.def", f"Bearer {REDACTED}"),
        ('OAuth oauth_consumer_key="k", oauth_signature="s"', f"OAuth {REDACTED}"),
        ("rawtokenwithoutscheme", REDACTED),
        ("", ""),
    ],
)
def test_authorization_keeps_its_scheme_only(value: str, shown: str) -> None:
    assert redact_header("Authorization", value) == shown


def test_cookie_keeps_its_names_only() -> None:
    shown = redact_header("Cookie", "BITBUCKETSESSIONID=abc; atl.xsrf.token=def;")
    assert shown == f"BITBUCKETSESSIONID={REDACTED}; atl.xsrf.token={REDACTED}"


def test_other_headers_are_kept_verbatim() -> None:
    assert redact_header("Accept", "application/json") == "application/json"


# -- ring buffer ------------------------------------------------------------------------------


def _record(journal: Journal, path: str) -> None:
    journal.record(time=0.0, method="GET", path=path, query=[], form=[], headers={}, status=200)


def test_journal_is_a_ring_buffer_of_its_size() -> None:
    journal = Journal(3)
    for n in range(5):
        _record(journal, f"/{n}")
    assert journal.capacity == 3
    assert [e.path for e in journal.entries()] == ["/2", "/3", "/4"]
    assert [e.id for e in journal.entries()] == [3, 4, 5]


def test_clear_empties_the_journal_and_ids_keep_growing() -> None:
    journal = Journal(10)
    _record(journal, "/a")
    journal.clear()
    assert len(journal) == 0
    _record(journal, "/b")
    assert [e.id for e in journal.entries()] == [2]


def test_record_keeps_only_selected_headers() -> None:
    journal = Journal(1)
    entry = journal.record(
        time=1.0,
        method="GET",
        path="/",
        query=[],
        form=[],
        headers={"Accept": "*/*", "X-Secret-Thing": "x", "Authorization": "Basic abc"},
        status=200,
    )
    assert entry.headers == {"Authorization": f"Basic {REDACTED}", "Accept": "*/*"}
    validate(entry.to_json(), "control/exchange.json")


# -- through the simulator --------------------------------------------------------------------


async def test_form_secrets_are_redacted_and_other_fields_kept(client: Client) -> None:
    form = {"j_username": "admin", "j_password": "admin", "next": "/projects"}
    await client.post("/journal-probe", data=form)
    (entry,) = await journal_of(client)
    assert entry["method"] == "POST"
    assert entry["form"] == {"j_username": "admin", "j_password": REDACTED, "next": "/projects"}
    assert entry["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_oauth_form_secrets_are_redacted(client: Client) -> None:
    form = {
        "grant_type": "authorization_code",
        "client_id": "cid",
        "client_secret": "csecret",
        "code": "thecode",
        "code_verifier": "verifier",
        "refresh_token": "rt",
        "redirect_uri": "http://localhost/cb",
    }
    await client.post("/journal-probe", data=form)
    (entry,) = await journal_of(client)
    for name in ("client_secret", "code", "code_verifier", "refresh_token"):
        assert entry["form"][name] == REDACTED
    assert entry["form"]["client_id"] == "cid"
    assert entry["form"]["redirect_uri"] == "http://localhost/cb"


async def test_query_secrets_are_redacted(client: Client) -> None:
    await client.get("/journal-probe", params={"access_token": "abc", "state": "xyz"})
    (entry,) = await journal_of(client)
    assert entry["query"] == {"access_token": REDACTED, "state": "xyz"}


async def test_authorization_and_cookie_values_never_reach_the_journal(client: Client) -> None:
    headers = {**basic("admin"), "Cookie": "BITBUCKETSESSIONID=sess123"}
    await client.get("/journal-probe", headers=headers)
    (entry,) = await journal_of(client)
    assert entry["headers"]["Authorization"] == f"Basic {REDACTED}"
    assert entry["headers"]["Cookie"] == f"BITBUCKETSESSIONID={REDACTED}"
    assert "sess123" not in str(entry)
    assert headers["Authorization"].split()[1] not in str(entry)


async def test_the_journal_records_the_answered_status(client: Client) -> None:
    await client.get("/journal-probe", headers=basic("admin", "wrong"))
    (entry,) = await journal_of(client)
    assert entry["status"] == 401


async def test_the_journal_notes_who_a_request_ran_as_and_how(client: Client) -> None:
    await client.get("/rest/api/1.0/application-properties", headers=basic("alice"))
    await client.get("/rest/api/1.0/application-properties")
    authenticated, anonymous = await journal_of(client)
    assert authenticated["extra"] == {"auth": "basic", "user": "alice"}
    assert "user" not in anonymous["extra"]


async def test_the_journal_notes_the_error_bitbucket_answered(client: Client) -> None:
    await client.get("/rest/api/1.0/projects/NOPE")
    (entry,) = await journal_of(client)
    assert entry["status"] == 404
    assert "NOPE" in entry["extra"]["error"]


async def test_the_journal_uses_the_simulated_clock(client: Client, store: Store) -> None:
    store.clock.advance(1_000_000)
    await client.get("/journal-probe")
    (entry,) = await journal_of(client)
    assert entry["time"] >= store.clock.now() - 60
    assert entry["time"] > store.clock.now() - 1_000_000


# -- the middleware on its own ----------------------------------------------------------------


async def echo_form(request: web.Request) -> web.Response:
    """Answer the form fields the handler itself reads after the middleware did."""
    form = await request.post()
    note(request, seen=sorted(form))
    return web.json_response({name: str(value) for name, value in form.items()})


@pytest.fixture
async def bare(aiohttp_client: ClientFactory) -> tuple[Client, Journal]:
    """A minimal app with only the journal middleware and a form-reading handler."""
    journal = Journal(10)
    app = web.Application(middlewares=[make_journal_middleware(journal, lambda: 42.0)])
    app.router.add_post("/j_atl_security_check", echo_form)
    app.router.add_get("/_sim/health", echo_form)
    return await aiohttp_client(app), journal


async def test_handlers_still_read_the_form_after_the_journal_did(
    bare: tuple[Client, Journal],
) -> None:
    client, journal = bare
    form = {"j_username": "alice", "j_password": "alice", "next": "/x"}
    response = await client.post("/j_atl_security_check", data=form)
    assert response.status == 200
    assert await response.json() == form
    (entry,) = journal.entries()
    assert entry.form == {"j_username": "alice", "j_password": REDACTED, "next": "/x"}
    assert entry.time == 42.0
    assert entry.extra == {"seen": ["j_password", "j_username", "next"]}


async def test_the_middleware_skips_the_control_api(bare: tuple[Client, Journal]) -> None:
    client, journal = bare
    await client.get("/_sim/health")
    assert journal.entries() == []


async def test_a_json_body_is_not_recorded_as_a_form(bare: tuple[Client, Journal]) -> None:
    client, journal = bare
    await client.post("/j_atl_security_check", json={"password": "x"})
    (entry,) = journal.entries()
    assert entry.form == {}


async def test_a_form_with_an_unknown_charset_is_recorded_not_a_500(client: Client) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=nonsense"}
    response = await client.post("/journal-probe", data=b"a=1&password=x", headers=headers)
    assert response.status == 404
    (entry,) = await journal_of(client)
    assert entry["form"] == {"a": "1", "password": REDACTED}


async def test_a_latin1_form_is_decoded_with_its_charset(client: Client) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=latin-1"}
    await client.post("/journal-probe", data=b"name=J%E9r%F4me", headers=headers)
    (entry,) = await journal_of(client)
    assert entry["form"] == {"name": "J\u00e9r\u00f4me"}


async def test_login_still_reads_its_form_after_the_journal_did(
    client: Client, store: Store
) -> None:
    form = {"j_username": "admin", "j_password": "admin", "next": "/projects"}
    response = await client.post("/j_atl_security_check", data=form, allow_redirects=False)
    assert response.status == 302
    assert len(store.sessions) == 1
    (entry,) = await journal_of(client)
    assert entry["status"] == 302
    assert entry["form"] == {"j_username": "admin", "j_password": REDACTED, "next": "/projects"}


async def test_a_referer_keeps_its_address_but_not_its_secrets(client: Client) -> None:
    referer = "http://127.0.0.1:5000/cb?oauth_token=t0k3n&oauth_verifier=v&code=c&page=2"
    await client.get("/journal-probe", headers={"Referer": referer})
    (entry,) = await journal_of(client)
    kept = entry["headers"]["Referer"]
    assert "t0k3n" not in kept
    assert "=v&" not in kept
    assert "code=c" not in kept
    assert kept.startswith("http://127.0.0.1:5000/cb?")
    assert "page=2" in kept


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "utf-32"])
async def test_a_form_in_a_charset_that_hides_its_names_is_not_kept(
    client: Client, charset: str
) -> None:
    headers = {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"}
    body = "client_secret=s3cr3t&password=hunter2".encode(charset)
    await client.post("/journal-probe", data=body, headers=headers)
    (entry,) = await journal_of(client)
    text = json.dumps(entry)
    assert "s3cr3t" not in text
    assert "hunter2" not in text
    assert list(entry["form"]) == ["(form)"]


async def test_a_huge_form_is_cut_to_a_bounded_entry(client: Client) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = io.BytesIO("&".join(f"k{i}={'x' * 5000}" for i in range(500)).encode())
    await client.post("/journal-probe", data=body, headers=headers)
    (entry,) = await journal_of(client)
    assert len(entry["form"]) == 64
    assert entry["form"]["k0"].endswith("…(5000 chars)")
    assert len(json.dumps(entry)) < 100_000


def test_the_journal_keeps_to_its_byte_budget() -> None:
    from simulator.journal import Journal

    journal = Journal(1000, byte_budget=50_000)
    for i in range(200):
        journal.record(
            time=0.0,
            method="POST",
            path=f"/x/{i}",
            query=[],
            form=[("v", "y" * 1000)],
            headers={},
            status=404,
        )
    assert journal.bytes <= 50_000
    assert 0 < len(journal) < 60
    assert journal.entries()[-1].path == "/x/199"
    journal.clear()
    assert journal.bytes == 0


async def test_a_form_is_parsed_once_for_the_journal_and_the_handler(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import parse_qsl

    from aiohttp.web_request import BaseRequest

    calls: list[str] = []
    original_post = BaseRequest.post

    async def counting_post(self: BaseRequest) -> Any:
        if self._post is None:  # a real parse, not the cached result
            calls.append("post")
        return await original_post(self)

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        calls.append("parse_qsl")
        return parse_qsl(*args, **kwargs)

    monkeypatch.setattr(BaseRequest, "post", counting_post)
    monkeypatch.setattr("simulator.journal.parse_qsl", counting_parse)
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": "alice", "j_password": "alice"},
        allow_redirects=False,
    )
    assert response.status == 302  # the handler read the form
    (entry,) = await journal_of(client, path_prefix="/j_atl")
    assert entry["form"] == {"j_username": "alice", "j_password": REDACTED}
    assert calls == ["post"]
