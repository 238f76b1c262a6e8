"""simulator.contract.rest: every REST route is described, as tightly as its handler checks.

The descriptions are checked three ways: each route of ``/rest/api/`` and
``/rest/access-tokens/`` has one; the schemas of the parameters the handlers parse by hand
(case-folded enumerations, archive prefixes and file names, token bodies) accept exactly what
the handlers accept; and real answers, the error ones included, have a status, media type,
headers and body the document declares for them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from simulator.app import create_app
from simulator.content import ARCHIVE_FORMATS, archive_prefix, content_of
from simulator.contract import describe
from simulator.contract.rest import (
    ARCHIVE_FILENAME,
    ARCHIVE_PREFIX,
    LOWER_EXTRA,
    NEW_TOKEN,
    TOKEN_CHANGE,
    UPPER_EXTRA,
    folded,
)
from simulator.errors import BitbucketError, ValidationError
from simulator.rest import access_tokens, files, refs, repos, users
from simulator.settings import Settings
from simulator.store import Store
from simulator.version import BitbucketVersion
from tests.conftest import Client, basic

ALICE = basic("alice")
ADMIN = basic("admin")
ANONYMOUS: dict[str, str] = {}
API = "/rest/api/1.0"
REPO = API + "/projects/{projectKey}/repos/{repositorySlug}"
TOKENS = "/rest/access-tokens/1.0/users/{userSlug}"


def described_prefix(path: str) -> bool:
    return path.startswith(("/rest/api/", "/rest/access-tokens/"))


# -- every route has a description -----------------------------------------------------------


def test_every_rest_and_access_token_route_is_described() -> None:
    app = create_app(Settings(port=0))
    routes = [
        route
        for route in app.router.routes()
        if route.resource is not None and described_prefix(route.resource.canonical)
    ]
    assert len(routes) > 40
    missing = [
        f"{route.method} {route.resource.canonical}"
        for route in routes
        if route.resource is not None and describe(route.handler) is None
    ]
    assert missing == []


def test_every_handler_of_the_rest_package_is_described() -> None:
    from simulator import rest_routes

    missing = [
        f"{definition.method} {definition.path}"
        for definition in rest_routes.routes()
        if isinstance(definition, web.RouteDef) and describe(definition.handler) is None
    ]
    assert missing == []


# -- parameter schemas against the parsers ---------------------------------------------------


def test_the_case_folding_tables_hold_every_character_that_folds_into_ascii() -> None:
    upper, lower = {}, {}
    for point in range(128, 0x110000):
        char = chr(point)
        if char.upper().isascii():
            upper[char] = char.upper()
        if char.lower().isascii():
            lower[char] = char.lower()
    assert upper == UPPER_EXTRA
    assert lower == LOWER_EXTRA


def accepts(schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


def parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except BitbucketError:
        return False
    return True


#: Spellings to try against the case-folded parameters: every value in several cases, with
#: the Unicode look-alikes that fold into it, and near misses.
def spellings(values: list[str]) -> list[str]:
    out = ["", " ", "x", "true", "0"]
    for value in values:
        out += [value, value.lower(), value.upper(), value.title(), value + " ", value[:-1]]
        out += [value.replace("I", "\u0131").replace("i", "\u0131"), value.lower() + "x"]
        out += [value.replace("FI", "\ufb01").replace("fi", "\ufb01")]
        out += [value.replace("FFL", "\ufb04").replace("ffl", "\ufb04")]
        out += [value.replace("FF", "\ufb00").replace("ff", "\ufb00")]
        out += [value.replace("S", "\u017f").replace("s", "\u017f")]
    return out


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("visibility", list(repos.VISIBILITIES)),
        ("state", list(repos.STATES)),
        ("archived", list(repos.ARCHIVED_VALUES)),
    ],
)
def test_folded_repository_filters_accept_what_the_parser_accepts(
    name: str, values: list[str]
) -> None:
    schema = folded(values)
    for text in spellings(values):
        parsed = parses(lambda raw: repos._choice({name: raw}, name, values, fold=True), text)
        assert accepts(schema, text) == parsed, text


def test_folded_order_accepts_what_parse_order_accepts() -> None:
    schema = folded(refs.ORDERS)
    for text in spellings(list(refs.ORDERS)):
        assert accepts(schema, text) == parses(refs.parse_order, text), text


def test_folded_format_accepts_what_parse_format_accepts() -> None:
    schema = folded(ARCHIVE_FORMATS, upper=False)
    for text in [*spellings(list(ARCHIVE_FORMATS)), "TAR.GZ", "Tgz", "tar.\u212a", "rar"]:
        assert accepts(schema, text) == parses(files.parse_format, text), text


PREFIXES = [
    "",
    "a",
    "a/",
    "a//",
    "a/b/c/",
    "/a",
    "/",
    "a//b",
    ".",
    "./a",
    "a/.",
    "..",
    "a/../b",
    "...",
    ".a",
    "..a",
    "a.",
    "a\\b",
    "a\x00b",
    "a\x7f",
    "caf\u00e9/x",
    "a\u2028b",
]


def test_archive_prefix_schema_accepts_what_archive_prefix_accepts() -> None:
    for text in PREFIXES:
        assert accepts(ARCHIVE_PREFIX, text) == (archive_prefix(text) is not None), repr(text)


def test_archive_filename_schema_accepts_what_content_disposition_accepts() -> None:
    for text in ["", "a.zip", ".", "..", "...", "a/b", "a\\b", "a\nb", 'a"b', "\u00e9.zip", "\x7f"]:
        assert accepts(ARCHIVE_FILENAME, text) == parses(files.content_disposition, text), repr(
            text
        )


TOKEN_BODIES: list[Any] = [
    {"name": "ci", "permissions": ["REPO_READ"]},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 30},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": None},
    {"name": "ci", "permissions": ["PROJECT_ADMIN", "REPO_WRITE"], "other": 1},
    {"name": "ci", "permissions": ["REPO_READ", "REPO_READ"]},
    {"name": "ci", "permissions": ["REPO_READ", "REPO_WRITE"]},
    {"name": "ci", "permissions": ["PROJECT_READ", "PROJECT_ADMIN"]},
    {"name": "ci", "permissions": []},
    {"name": "ci", "permissions": ["REPO_NONE"]},
    {"name": "ci", "permissions": "REPO_READ"},
    {"name": "ci", "permissions": [1]},
    {"name": " \t", "permissions": ["REPO_READ"]},
    {"name": "\u3000", "permissions": ["REPO_READ"]},
    {"name": "", "permissions": ["REPO_READ"]},
    {"name": "x" * 255, "permissions": ["REPO_READ"]},
    {"name": "x" * 256, "permissions": ["REPO_READ"]},
    {"name": 5, "permissions": ["REPO_READ"]},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 0},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": -1},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 2**31 - 1},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 2**31},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": True},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": 1.5},
    {"name": "ci", "permissions": ["REPO_READ"], "expiryDays": "30"},
    {"permissions": ["REPO_READ"]},
    {"name": "ci"},
    {},
]


@pytest.mark.parametrize("body", TOKEN_BODIES)
def test_new_token_schema_accepts_what_parse_new_token_accepts(body: Any) -> None:
    assert accepts(NEW_TOKEN, body) == parses(access_tokens.parse_new_token, body)


@pytest.mark.parametrize("body", TOKEN_BODIES)
def test_token_change_schema_accepts_what_parse_token_change_accepts(body: Any) -> None:
    assert accepts(TOKEN_CHANGE, body) == parses(access_tokens.parse_token_change, body)


@pytest.mark.parametrize(
    ("raw", "valid"),
    [("1", True), ("+48", True), ("2147483647", True), ("0", False), ("2147483648", False)],
)
def test_avatar_size_bounds_are_the_described_ones(raw: str, valid: bool) -> None:
    assert parses(lambda text: users.parse_avatar_size({"avatarSize": text}), raw) == valid


def test_a_bad_avatar_size_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        users.parse_avatar_size({"avatarSize": "4_8"})


# -- real answers against the document -------------------------------------------------------


async def document_of(client: Client) -> dict[str, Any]:
    response = await client.get("/_sim/openapi.json")
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    return document


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


async def conforms(
    client: Client,
    document: dict[str, Any],
    method: str,
    template: str,
    url: str,
    *,
    headers: dict[str, str],
    status: int,
    body: Any = None,
) -> Any:
    """Send a request and check its answer against the document's operation; the JSON body."""
    operation = document["paths"][template][method.lower()]
    data = None if body is None else json.dumps(body)
    request_headers = {**headers, **({"Content-Type": "application/json"} if data else {})}
    response = await client.request(method, url, headers=request_headers, data=data)
    raw = await response.read()
    assert response.status == status, raw[:500]
    declared = operation["responses"].get(str(status))
    assert declared is not None, f"{method} {template} does not declare {status}"
    for name, header in declared.get("headers", {}).items():
        value = response.headers.get(name)
        if header.get("required"):
            assert value is not None, name
        if value is not None:
            assert accepts(header["schema"], value), (name, value)
    content = declared.get("content")
    if not content:
        assert raw == b""
        return None
    kind = media_type(response.headers["Content-Type"])
    assert kind in content, (kind, sorted(content))
    if kind != "application/json":
        return raw
    answer = json.loads(raw)
    schema = {**content[kind]["schema"], "components": document["components"]}
    Draft202012Validator(schema).validate(answer)
    return answer


def repo_url(store: Store, index: int, tail: str = "") -> str:
    repo = store.catalog.project_repositories(store.catalog.projects_by_key["PKG"])[index]
    return f"{API}/projects/PKG/repos/{repo.slug}" + (f"/{tail}" if tail else "")


async def test_users_projects_and_repositories_answer_as_described(
    client: Client, store: Store
) -> None:
    document = await document_of(client)
    cases: list[tuple[str, str, dict[str, str], int]] = [
        (API + "/application-properties", API + "/application-properties", ANONYMOUS, 200),
        (API + "/users", API + "/users?avatarSize=32&limit=3", ALICE, 200),
        (API + "/users", API + "/users?start=", ALICE, 200),
        (API + "/users", API + "/users?limit=0", ALICE, 400),
        (API + "/users", API + "/users?avatarSize=4_8", ALICE, 400),
        (API + "/users", API + "/users", ANONYMOUS, 401),
        (API + "/users", API + "/users", basic("alice", "wrong"), 401),
        (API + "/users/{userSlug}", API + "/users/bob?avatarSize=16", ALICE, 200),
        (API + "/users/{userSlug}", API + "/users/nobody", ALICE, 404),
        (API + "/projects", API + "/projects?limit=2", ANONYMOUS, 200),
        (API + "/projects", API + "/projects?permission=PROJECT_ADMIN", ALICE, 200),
        (API + "/projects", API + "/projects?permission=project_admin", ALICE, 400),
        (API + "/projects/{projectKey}", API + "/projects/pkg", ALICE, 200),
        (API + "/projects/{projectKey}", API + "/projects/~ALICE", ALICE, 200),
        (API + "/projects/{projectKey}", API + "/projects/PKG", ANONYMOUS, 401),
        (API + "/projects/{projectKey}", API + "/projects/NOPE", ALICE, 404),
        (API + "/projects/{projectKey}/repos", API + "/projects/PKG/repos", ALICE, 200),
        (
            API + "/projects/{projectKey}/repos",
            API + "/projects/PKG/repos?archived=all&state=available&visibility=PRIVATE",
            ALICE,
            200,
        ),
        (API + "/projects/{projectKey}/repos", API + "/projects/PKG/repos?state=x", ALICE, 400),
        (API + "/projects/{projectKey}/repos", API + "/projects/PKG/repos", ANONYMOUS, 401),
        (API + "/projects/{projectKey}/repos", API + "/projects/NOPE/repos", ALICE, 404),
        (API + "/repos", API + "/repos?limit=3", ANONYMOUS, 200),
        (API + "/repos", API + "/repos?permission=REPO_ADMIN&projectkey=pkg", ALICE, 200),
        (API + "/repos", API + "/repos?visibility=hidden", ALICE, 400),
        (REPO, repo_url(store, 0), ALICE, 200),
        (REPO, repo_url(store, 0), ANONYMOUS, 401),
        (REPO, API + "/projects/PKG/repos/nope", ALICE, 404),
    ]
    for template, url, headers, status in cases:
        await conforms(client, document, "GET", template, url, headers=headers, status=status)


async def test_refs_and_commits_answer_as_described(client: Client, store: Store) -> None:
    document = await document_of(client)
    content = content_of(
        store.catalog, store.catalog.project_repositories(store.catalog.projects_by_key["PKG"])[0]
    )
    tag = content.tags[0].display_id if content.tags else "none"
    cases: list[tuple[str, str, dict[str, str], int]] = [
        (REPO + "/branches", repo_url(store, 0, "branches?orderBy=alphabetical"), ALICE, 200),
        (REPO + "/branches", repo_url(store, 0, "branches?orderBy=NAME"), ALICE, 400),
        (REPO + "/branches", repo_url(store, 0, "branches"), ANONYMOUS, 401),
        (REPO + "/branches", API + "/projects/PKG/repos/nope/branches", ALICE, 404),
        (REPO + "/default-branch", repo_url(store, 0, "default-branch"), ALICE, 200),
        (REPO + "/default-branch", repo_url(store, -1, "default-branch"), ALICE, 200),
        (REPO + "/branches/default", repo_url(store, 0, "branches/default"), ALICE, 200),
        (REPO + "/branches/default", repo_url(store, -1, "branches/default"), ALICE, 204),
        (REPO + "/tags", repo_url(store, 0, "tags?filterText=v&limit=1"), ALICE, 200),
        (REPO + "/tags/{name}", repo_url(store, 0, f"tags/refs/tags/{tag}"), ALICE, 200),
        (REPO + "/tags/{name}", repo_url(store, 0, "tags/no/such"), ALICE, 404),
        (REPO + "/commits/{commitId}", repo_url(store, 0, "commits/main"), ALICE, 200),
        (REPO + "/commits/{commitId}", repo_url(store, 0, "commits/0000000"), ALICE, 404),
    ]
    assert content.tags, "the first PKG repository is expected to have tags"
    for template, url, headers, status in cases:
        await conforms(client, document, "GET", template, url, headers=headers, status=status)


async def test_file_content_answers_as_described(client: Client, store: Store) -> None:
    document = await document_of(client)
    cases: list[tuple[str, str, dict[str, str], int]] = [
        (REPO + "/raw/{path}", repo_url(store, 0, "raw/README.md?at=main"), ALICE, 200),
        (REPO + "/raw/{path}", repo_url(store, 0, "raw/src"), ALICE, 404),
        (REPO + "/raw/{path}", repo_url(store, 0, "raw//"), ALICE, 400),
        (REPO + "/raw", repo_url(store, 0, "raw"), ALICE, 400),
        (REPO + "/raw/", repo_url(store, 0, "raw/"), ALICE, 400),
        (REPO + "/raw", repo_url(store, 0, "raw"), ANONYMOUS, 401),
        (REPO + "/raw/{path}", repo_url(store, -1, "raw/README.md"), ALICE, 404),
        (REPO + "/browse", repo_url(store, 0, "browse?limit=2"), ALICE, 200),
        (REPO + "/browse/", repo_url(store, 0, "browse/?size=TRUE"), ALICE, 200),
        (REPO + "/browse/{path}", repo_url(store, 0, "browse/README.md"), ALICE, 200),
        (REPO + "/browse/{path}", repo_url(store, 0, "browse/src?type=true"), ALICE, 200),
        (REPO + "/browse/{path}", repo_url(store, 0, "browse/src?type=yes&start="), ALICE, 200),
        (REPO + "/browse", repo_url(store, 0, "browse?limit=x"), ALICE, 400),
        (REPO + "/browse/{path}", repo_url(store, 0, "browse/nope"), ALICE, 404),
        (REPO + "/files", repo_url(store, 0, "files?limit=3"), ALICE, 200),
        (REPO + "/files/{path}", repo_url(store, 0, "files/src"), ALICE, 200),
        (REPO + "/files/{path}", repo_url(store, 0, "files/README.md"), ALICE, 404),
        (REPO + "/files", repo_url(store, 0, "files?start=-1"), ALICE, 400),
        (REPO + "/archive", repo_url(store, 0, "archive"), ALICE, 200),
        (REPO + "/archive", repo_url(store, 0, "archive?format=TAR&prefix=x/"), ALICE, 200),
        (REPO + "/archive", repo_url(store, 0, "archive?format=tgz&filename=a.tgz"), ALICE, 200),
        (REPO + "/archive", repo_url(store, 0, "archive?format=tar.gz&path=src"), ALICE, 200),
        (REPO + "/archive", repo_url(store, 0, "archive?format=rar"), ALICE, 400),
        (REPO + "/archive", repo_url(store, 0, "archive?prefix=../x"), ALICE, 400),
        (REPO + "/archive", repo_url(store, 0, "archive?filename=a/b"), ALICE, 400),
        (REPO + "/archive", repo_url(store, 0, "archive?path=nope"), ALICE, 404),
    ]
    for template, url, headers, status in cases:
        await conforms(client, document, "GET", template, url, headers=headers, status=status)


async def test_whoami_answers_as_described(client: Client) -> None:
    document = await document_of(client)
    template = "/plugins/servlet/applinks/whoami"
    assert (
        await conforms(client, document, "GET", template, template, headers=ALICE, status=200)
        == b"alice"
    )
    assert (
        await conforms(client, document, "GET", template, template, headers=ANONYMOUS, status=200)
        == b""
    )


async def test_access_tokens_answer_as_described(client: Client) -> None:
    document = await document_of(client)
    one = TOKENS + "/{tokenId}"
    mine = "/rest/access-tokens/1.0/users/alice"
    new = {"name": "ci", "permissions": ["REPO_READ", "PROJECT_READ"], "expiryDays": 7}
    created = await conforms(
        client, document, "PUT", TOKENS, mine, headers=ALICE, status=200, body=new
    )
    token_id = created["id"]
    await conforms(
        client, document, "PUT", TOKENS, mine, headers=ALICE, status=400, body={"name": "ci"}
    )
    await conforms(client, document, "PUT", TOKENS, mine, headers=ANONYMOUS, status=401, body=new)
    await conforms(client, document, "PUT", TOKENS, mine, headers=ADMIN, status=401, body=new)
    token_auth = {"Authorization": "Bearer " + created["token"]}
    await conforms(client, document, "PUT", TOKENS, mine, headers=token_auth, status=401, body=new)
    await conforms(client, document, "PUT", TOKENS, mine + "x", headers=ALICE, status=404, body=new)
    await conforms(client, document, "GET", TOKENS, mine + "?limit=1", headers=ALICE, status=200)
    await conforms(client, document, "GET", TOKENS, mine, headers=ADMIN, status=200)
    await conforms(client, document, "GET", TOKENS, mine, headers=basic("bob"), status=401)
    await conforms(client, document, "GET", TOKENS, mine + "?start=x", headers=ALICE, status=400)
    await conforms(client, document, "GET", one, f"{mine}/{token_id}", headers=ALICE, status=200)
    await conforms(client, document, "GET", one, f"{mine}/000000000000", headers=ALICE, status=404)
    change = {"name": "renamed", "permissions": ["REPO_WRITE"]}
    changed = await conforms(
        client, document, "POST", one, f"{mine}/{token_id}", headers=ADMIN, status=200, body=change
    )
    assert changed["name"] == "renamed"
    bad = {"permissions": ["REPO_READ", "REPO_WRITE"]}
    await conforms(
        client, document, "POST", one, f"{mine}/{token_id}", headers=ALICE, status=400, body=bad
    )
    await conforms(
        client, document, "DELETE", one, f"{mine}/{token_id}", headers=basic("bob"), status=401
    )
    await conforms(client, document, "DELETE", one, f"{mine}/{token_id}", headers=ALICE, status=204)
    await conforms(client, document, "DELETE", one, f"{mine}/{token_id}", headers=ALICE, status=404)


async def test_access_tokens_are_404_before_5_5(
    aiohttp_client: Any,
) -> None:
    client = await aiohttp_client(
        create_app(Settings(port=0, bitbucket_version=BitbucketVersion.parse("5.4.0")))
    )
    document = await document_of(client)
    mine = "/rest/access-tokens/1.0/users/alice"
    await conforms(client, document, "GET", TOKENS, mine, headers=ALICE, status=404)
    answer = await conforms(
        client, document, "PUT", TOKENS, mine, headers=ALICE, status=404, body={"name": "x"}
    )
    assert re.search("NotFoundException", answer["errors"][0]["exceptionName"])
