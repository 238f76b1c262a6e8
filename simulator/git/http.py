"""Git smart HTTP at ``/scm/{projectKey}/{slug}.git``: Bitbucket's rules, then git's protocol.

Who may do what is decided here, as Bitbucket decides it; the exchange itself is
``git http-backend`` (a CGI program shipped with git) on the repository built by
:mod:`simulator.git.repos`, so protocol v0 and v2, shallow and partial clones and gzip
request bodies behave as git's own server does.

- A repository the caller cannot read: anonymous callers get 401 with
  ``WWW-Authenticate: Basic realm="Atlassian Bitbucket"``, which makes git (and Composer,
  and Git Credential Manager, which keys on that realm) ask for credentials; an
  authenticated caller gets 404 "Repository not found" (UNCONFIRMED: Bitbucket hides a
  repository from those who cannot see it, as its REST API does).
- Pushing needs REPO_WRITE: a caller who can read but not write gets 403, as Atlassian's KB
  "Git push returns error code 403" describes.
- Credentials are those of the REST API (a session, Basic password or personal access
  token, Bearer personal or OAuth 2 token), each capped as on REST (a REPO_READ token clones
  and cannot push); on these paths an OAuth 2 access token is also taken as the Basic
  password under any user name, as Git Credential Manager sends it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.web_exceptions import HTTPRequestEntityTooLarge
from aiohttp.web_protocol import RequestPayloadError

from simulator.auth import principal_of
from simulator.errors import BadRequestError, RequestTimeoutError
from simulator.git import GIT_REALM
from simulator.git.repos import git_environment
from simulator.journal import note
from simulator.keys import store_key
from simulator.model import RepoLevel, Repository
from simulator.store import Store
from simulator.tfa import policy as tfa_policy

#: The realm Bitbucket names in its Basic challenge (Git Credential Manager matches it).
REALM = GIT_REALM
SERVICES = {"git-upload-pack": RepoLevel.REPO_READ, "git-receive-pack": RepoLevel.REPO_WRITE}
#: The largest git request body (a push's pack) read; beyond it the answer is 413.
MAX_BODY_BYTES = 256 * 1024 * 1024
#: Request headers passed on to git http-backend as CGI variables. Not Content-Encoding:
#: aiohttp has already decoded a gzip body (git sends large negotiations gzipped).
_CGI_HEADERS = {"Content-Type": "CONTENT_TYPE", "Git-Protocol": "GIT_PROTOCOL"}


def _text(status: int, message: str, **headers: str) -> web.Response:
    """A refusal git shows its user: plain text, which git prints after ``remote:``."""
    return web.Response(
        status=status, text=message + "\n", content_type="text/plain", headers=headers
    )


def challenge() -> web.Response:
    """The 401 that makes git ask for (or send) credentials."""
    return _text(401, "Authentication required", **{"WWW-Authenticate": REALM})


def _repository(request: web.Request, store: Store) -> Repository | None:
    slug = request.match_info["repositorySlug"].removesuffix(".git")
    return store.catalog.find_repository(request.match_info["projectKey"], slug)


def _refusal(request: web.Request, store: Store, need: RepoLevel) -> web.Response | None:
    """Bitbucket's answer when the caller may not do ``need`` on the repository, else None."""
    principal = principal_of(request)
    repo = _repository(request, store)
    level = RepoLevel.NONE if repo is None else store.access().repo_level(principal, repo)
    readable = level >= RepoLevel.PUBLIC  # public, or a grant the credential allows
    if level >= need or (need == RepoLevel.REPO_READ and readable):
        return None
    if not principal.authenticated:
        return challenge()
    if not readable:
        return _text(404, "Repository not found")
    return _text(403, "You are not permitted to push to this repository.")


async def get_info_refs(request: web.Request) -> web.StreamResponse:
    """``GET …/info/refs?service=…``: the ref advertisement (smart HTTP only)."""
    service = request.query.get("service", "")
    if service not in SERVICES:
        return _text(
            403, "Only the smart HTTP protocol is served: git-upload-pack, git-receive-pack."
        )
    return await _serve(request, service, "/info/refs")


async def post_upload_pack(request: web.Request) -> web.StreamResponse:
    """``POST …/git-upload-pack``: fetch and clone."""
    return await _serve(request, "git-upload-pack", "/git-upload-pack")


def _wrong_body_type(request: web.Request, service: str) -> web.Response | None:
    expected = f"application/x-{service}-request"
    if request.content_type == expected:
        return None
    return _text(
        415,
        f"Expected POST with Content-Type '{expected}', but received "
        f"'{request.content_type}' instead.",
    )


async def post_receive_pack(request: web.Request) -> web.StreamResponse:
    """``POST …/git-receive-pack``: push."""
    return await _serve(request, "git-receive-pack", "/git-receive-pack")


def _password_refused(request: web.Request, store: Store) -> web.Response | None:
    """With the 2FA plugin, a forced user's password does not work for git (its docs: "git
    over HTTPS needs a personal access token"); the token does."""
    principal = principal_of(request)
    if principal.method != "basic" or principal.user is None:
        return None
    if not tfa_policy.applies(store, principal.user, request):
        return None
    note(request, tfa="git-password-refused")
    return _text(
        401,
        "Two-factor authentication is enabled for your account: use a personal access "
        "token instead of your password.",
        **{"WWW-Authenticate": REALM},
    )


async def _serve(request: web.Request, service: str, tail: str) -> web.StreamResponse:
    store = request.app[store_key]
    refused = _password_refused(request, store) or _refusal(request, store, SERVICES[service])
    if refused is None and request.method == "POST":
        refused = _wrong_body_type(request, service)
    if refused is not None:
        return refused
    repo = _repository(request, store)
    if repo is None:  # _refusal answered already; kept for the type checker
        return _text(404, "Repository not found")
    if service == "git-receive-pack" and request.method == "POST":
        return await _push(request, store, repo, tail)
    folder = await store.git.ensure(store.content(repo))
    return await http_backend(request, folder, tail)


async def _push(
    request: web.Request, store: Store, repo: Repository, tail: str
) -> web.StreamResponse:
    """A push: git receives it, then the repository is read back, so REST and later clones
    see what it moved."""
    from simulator.git.changes import change  # the reader loads on the first push

    body = await read_git_body(request)

    async def receive(folder: Path) -> web.Response:
        return await http_backend(request, folder, tail, body)

    answer, changed = await change(store, repo, receive, principal_of(request).user)
    if changed.changes:
        note(request, refs_changed=[change.to_json() for change in changed.changes])
    return answer


async def http_backend(
    request: web.Request, folder: Path, tail: str, body: bytes | None = None
) -> web.Response:
    """Run ``git http-backend`` for one request on a repository folder; its answer."""
    env = git_environment()
    env.update(
        GIT_PROJECT_ROOT=str(folder.parent),
        GIT_HTTP_EXPORT_ALL="1",
        PATH_INFO=f"/{folder.name}{tail}",
        REQUEST_METHOD=request.method,
        QUERY_STRING=request.query_string,
        REMOTE_ADDR=request.remote or "127.0.0.1",
    )
    user = principal_of(request).user
    if user is not None:
        env["REMOTE_USER"] = user.name
    for header, variable in _CGI_HEADERS.items():
        value = request.headers.get(header)
        if value is not None:
            env[variable] = value
    if body is None:
        body = await read_git_body(request)
    env["CONTENT_LENGTH"] = str(len(body))
    process = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(body)
    answer = _cgi_response(out, err)
    if request.method == "POST" and answer.status == 200 and not answer.body:
        # git read no request in the body (it wrote nothing back): a protocol error.
        reason = err.decode(errors="replace").strip()[-500:] or "no git request in the body"
        return _text(400, f"The request is not a git {tail.lstrip('/')} request: {reason}")
    return answer


async def read_git_body(request: web.Request) -> bytes:
    """The request body (gzip already decoded by aiohttp), read within ``connection_timeout``
    and at most :data:`MAX_BODY_BYTES` long, past the app's ``client_max_size``."""
    if not request.body_exists:
        return b""
    timeout = request.app[store_key].settings.connection_timeout
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=size)
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeoutError(
            f"The request body did not arrive within {timeout:g} s."
        ) from None
    except RequestPayloadError as exc:
        raise BadRequestError(f"The request body could not be read: {exc}") from None
    return b"".join(chunks)


def _cgi_response(out: bytes, err: bytes) -> web.Response:
    head, sep, body = out.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = out.partition(b"\n\n")
    status = 200
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split(" ", 1)[0])
        elif name:
            headers[name.strip()] = value.strip()
    if not sep:
        return _text(500, "git http-backend failed: " + err.decode(errors="replace")[-500:])
    return web.Response(status=status, body=body, headers=headers)
