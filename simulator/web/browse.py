"""The web pages a person reaches from the REST API's links: a repository's files
(``links.self``, ``…/browse[/{path}]?at=``), a project's repositories, a user's profile.

Each is a real HTML page in Bitbucket's frame, permission-checked as the REST API checks:
an anonymous visitor who may not see it is sent to the login page (and back after it), an
authenticated one gets a 404 page (UNCONFIRMED: Bitbucket hides what may not be seen); a
missing project, repository, revision or path is a 404 page. Everything shown is escaped.
Repository content comes from :meth:`Store.content`, so pushes show at once.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from simulator.auth import principal_of
from simulator.errors import BitbucketError
from simulator.journal import app_path
from simulator.keys import store_key
from simulator.model import Project, RepoLevel, Repository
from simulator.store import Store
from simulator.web.login import login_url
from simulator.web.pages import escape, html_response, redirect, render


def _store(request: web.Request) -> Store:
    return request.app[store_key]


def _page(title: str, crumbs: list[tuple[str, str]], body: str, status: int = 200) -> web.Response:
    trail = "".join(
        f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for text, href in crumbs
    )
    markup = {"breadcrumbs": trail, "body": body}
    return html_response(render("entity.html", markup, title=title, heading=title), status)


def _not_found(what: str) -> web.Response:
    body = f'<p class="aui-message aui-message-error">{escape(what)}</p>'
    return _page("Page not found", [], body, status=404)


def _refused(request: web.Request, what: str) -> web.Response:
    """Anonymous: to the login page and back; authenticated: a 404 page."""
    if principal_of(request).user is None:
        query = request.rel_url.raw_query_string
        wanted = app_path(request) + (f"?{query}" if query else "")
        return redirect(login_url(_store(request).base_url, wanted))
    return _not_found(what)


def _project_href(store: Store, project: Project) -> str:
    if project.type == "PERSONAL":
        return f"{store.base_url}/users/{quote(project.owner or '')}"
    return f"{store.base_url}/projects/{quote(project.key)}"


def _repo_href(store: Store, repo: Repository, tail: str = "browse") -> str:
    project = repo.project
    if project.type == "PERSONAL":
        return (
            f"{store.base_url}/users/{quote(project.owner or '')}/repos/{quote(repo.slug)}/{tail}"
        )
    return f"{store.base_url}/projects/{quote(project.key)}/repos/{quote(repo.slug)}/{tail}"


def _repo_list(store: Store, request: web.Request, project: Project) -> str:
    access, principal = store.access(), principal_of(request)
    rows = [
        f'<li><a href="{escape(_repo_href(store, repo))}">{escape(repo.name)}</a>'
        f'<span class="description"> {escape(repo.description)}</span></li>'
        for repo in store.catalog.project_repositories(project)
        if access.repo_level(principal, repo) >= RepoLevel.PUBLIC
    ]
    if not rows:
        return '<p class="description">No repositories to show.</p>'
    return '<ul class="repository-list">' + "".join(rows) + "</ul>"


async def get_project_page(request: web.Request) -> web.Response:
    """``GET /projects/{projectKey}``: the project and the repositories the visitor sees."""
    store = _store(request)
    project = store.catalog.projects_by_key.get(request.match_info["projectKey"].upper())
    if project is None or project.type == "PERSONAL":
        return _not_found("This project does not exist.")
    if not store.access().can_see_project(principal_of(request), project):
        return _refused(request, "This project does not exist.")
    body = f'<p class="description">{escape(project.description or "")}</p>'
    body += _repo_list(store, request, project)
    return _page(project.name, [("Projects", store.base_url + "/projects")], body)


async def get_user_page(request: web.Request) -> web.Response:
    """``GET /users/{userSlug}``: the user's profile and the personal repositories seen."""
    store = _store(request)
    if principal_of(request).user is None:
        return _refused(request, "This user does not exist.")
    user = store.catalog.users_by_slug.get(request.match_info["userSlug"].lower())
    if user is None:
        return _not_found("This user does not exist.")
    project = store.catalog.projects_by_key.get("~" + user.slug.upper())
    body = f'<p id="user-display-name">{escape(user.display_name)}</p>'
    body += f'<p id="user-name" class="description">{escape(user.name)}</p>'
    if project is not None:
        body += _repo_list(store, request, project)
    return _page(user.display_name, [], body)


def _find_repo(request: web.Request, store: Store) -> Repository | None:
    slug = request.match_info["repositorySlug"]
    if "userSlug" in request.match_info:
        return store.catalog.find_repository("~" + request.match_info["userSlug"], slug)
    return store.catalog.find_repository(request.match_info["projectKey"], slug)


async def get_repository_root(request: web.Request) -> web.Response:
    """``GET …/repos/{slug}``: on to its ``browse`` page, as Bitbucket sends visitors."""
    store = _store(request)
    repo = _find_repo(request, store)
    if repo is None:
        return _not_found("This repository does not exist.")
    return redirect(_repo_href(store, repo))


async def get_browse_page(request: web.Request) -> web.Response:
    """``GET …/repos/{slug}/browse[/{path}]?at=``: a directory's entries or a file's text."""
    store = _store(request)
    repo = _find_repo(request, store)
    if repo is None:
        return _not_found("This repository does not exist.")
    if store.access().repo_level(principal_of(request), repo) < RepoLevel.PUBLIC:
        return _refused(request, "This repository does not exist.")
    content = store.content(repo)
    at = request.query.get("at") or None
    try:
        revision = content.resolve(at)
        path, kind = content.path_kind(revision, request.match_info.get("path", ""))
    except BitbucketError as exc:
        return _not_found(str(exc))
    tree = revision.commit.tree
    query = "?" + urlencode({"at": at}) if at else ""
    base = _repo_href(store, repo)
    if kind == "FILE":
        text = tree.files[path].decode("utf-8", errors="replace")
        body = f'<pre class="source" id="file-content">{escape(text)}</pre>'
    else:
        rows = []
        for entry in tree.children(path):
            child = f"{path}/{entry.name}" if path else entry.name
            href = f"{base}/{quote(child)}{query}"
            link = f'<a href="{escape(href)}">{escape(entry.name)}</a>'
            rows.append(f'<li class="{entry.type.lower()}">{link}</li>')
        body = '<ul class="file-list">' + "".join(rows) + "</ul>"
    revision_text = revision.ref.display_id if revision.ref else revision.commit.display_id
    body = f'<p class="description" id="revision">{escape(revision_text)}</p>' + body
    crumbs = [(repo.project.name, _project_href(store, repo.project)), (repo.name, base)]
    return _page(path or repo.name, crumbs, body)
