"""The repository settings page for webhooks (path UNCONFIRMED: Bitbucket's own is a
single-page app under ``/plugins/servlet/webhooks/projects/{key}/repos/{slug}``).

``GET`` lists the repository's webhooks (name, URL, events, status, the last delivery's
outcome) with a "Create webhook" form; ``POST`` creates one (name, URL, secret, Basic
credentials, events, SSL verification, active), validated as the REST API validates (a bad
field re-renders the form, 400, with its error, and creates nothing); ``POST …/{id}/delete``
deletes one. The visitor needs REPO_ADMIN, as on the REST API: anonymous visitors are sent to
log in, others get a 401 page, a missing repository a 404 page. Forms carry ``atl_token``
(an HMAC of the browser session); a missing or wrong one is a 403 page, and scripted admins
using HTTP Basic send ``X-Atlassian-Token: no-check`` instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote

from aiohttp import web

from simulator.auth import principal_of
from simulator.errors import BitbucketError, ValidationError
from simulator.journal import app_path
from simulator.keys import store_key
from simulator.model import RepoLevel, Repository
from simulator.store import Store
from simulator.web.login import login_url
from simulator.web.pages import escape, html_response, redirect, render, xsrf_ok, xsrf_token
from simulator.webhooks import EVENTS, SINCE
from simulator.webhooks.model import Scope, webhook_request

Form = dict[str, list[str]]
#: The fields a form error may be shown beside (others go above the Save button).
_FIELDS = ("name", "url", "configuration", "credentials", "events")


def _store(request: web.Request) -> Store:
    return request.app[store_key]


def _message_page(title: str, message: str, status: int) -> web.Response:
    body = f'<p class="aui-message aui-message-error" id="webhooks-error">{escape(message)}</p>'
    page = render("entity.html", {"breadcrumbs": "", "body": body}, title=title, heading=title)
    return html_response(page, status)


def _repository(request: web.Request) -> Repository | web.Response:
    """The repository of the path when the visitor administers it, else the page to show."""
    store = _store(request)
    if store.config.version < SINCE:
        return _message_page("Page not found", "Webhooks need Bitbucket 5.4 or later.", 404)
    repo = store.catalog.find_repository(
        request.match_info["projectKey"], request.match_info["repositorySlug"]
    )
    if repo is None:
        return _message_page("Page not found", "This repository does not exist.", 404)
    principal = principal_of(request)
    if store.access().repo_level(principal, repo) >= RepoLevel.REPO_ADMIN:
        return repo
    if principal.user is None:
        return redirect(login_url(store.base_url, app_path(request)))
    return _message_page(
        "Not permitted", "You need repository admin permission to manage its webhooks.", 401
    )


def settings_url(store: Store, repo: Repository) -> str:
    """The page's absolute URL."""
    key, slug = quote(repo.project.key, safe=""), quote(repo.slug, safe="")
    return f"{store.base_url}/plugins/servlet/webhooks/projects/{key}/repos/{slug}"


async def _read_form(request: web.Request) -> Form:
    """Every value of a url-encoded body's names; any other body is an empty form."""
    if request.content_type != "application/x-www-form-urlencoded" or not request.body_exists:
        return {}
    fields: Form = {}
    text = (await request.read()).decode("utf-8", "replace")
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


def _first(form: Form, name: str) -> str:
    return form.get(name, [""])[0]


def _rows(store: Store, repo: Repository, token: str) -> str:
    hooks = store.webhooks.in_scope(Scope("repository", str(repo.id)))
    if not hooks:
        return '<tr><td colspan="6" class="description">No webhooks yet.</td></tr>'
    rows = []
    for hook in hooks:
        latest = store.webhooks.history_of(hook).latest(None, None)
        last = f"{latest.outcome} ({latest.description})" if latest else "Never"
        delete = f"{settings_url(store, repo)}/{hook.id}/delete"
        rows.append(
            f'<tr id="webhook-{hook.id}"><td>{escape(hook.name)}</td>'
            f"<td>{escape(hook.url)}</td><td>{escape(', '.join(hook.events))}</td>"
            f"<td>{'Active' if hook.active else 'Inactive'}</td><td>{escape(last[:200])}</td>"
            f'<td><form method="post" action="{escape(delete)}" class="aui inline-form">'
            f'<input type="hidden" name="atl_token" value="{escape(token)}">'
            f'<input type="submit" class="aui-button aui-button-link" '
            f'id="delete-webhook-{hook.id}" value="Delete"></form></td></tr>'
        )
    return "".join(rows)


def _events(chosen: set[str]) -> str:
    boxes = []
    for index, event in enumerate(EVENTS):
        checked = " checked" if event in chosen else ""
        boxes.append(
            f'<div class="checkbox"><input type="checkbox" class="checkbox" '
            f'id="webhook-event-{index}" name="events" value="{escape(event)}"{checked}>'
            f'<label for="webhook-event-{index}">{escape(event)}</label></div>'
        )
    return "".join(boxes)


def _error(errors: dict[str, str], field: str) -> str:
    message = errors.get(field)
    if message is None:
        return ""
    return f'<div class="error" id="webhook-{field}-error">{escape(message)}</div>'


def _page(
    request: web.Request,
    repo: Repository,
    *,
    form: Form | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    store = _store(request)
    form = form if form is not None else {"events": ["repo:refs_changed"], "active": ["on"]}
    errors = errors or {}
    token = xsrf_token(store, request)
    fresh = not errors and not form.get("name")
    other = {k: v for k, v in errors.items() if k not in _FIELDS}
    markup: dict[str, Any] = {
        "message": message,
        "rows": _rows(store, repo, token),
        "events": _events(set(form.get("events", []))),
        "ssl_checked": " checked" if fresh or "sslVerificationRequired" in form else "",
        "active_checked": " checked" if fresh or "active" in form else "",
        "webhooks_error": "".join(_error(other, key) for key in other),
        **{f"{field}_error": _error(errors, field) for field in _FIELDS},
    }
    body = render(
        "webhooks-repo.html",
        markup,
        repository=repo.name,
        repository_url=f"{store.base_url}/projects/{repo.project.key}/repos/{repo.slug}/browse",
        action=settings_url(store, repo),
        hook_name=_first(form, "name"),
        hook_url=_first(form, "url"),
        username=_first(form, "username"),
        atl_token=token,
    )
    return html_response(body, status)


def _xsrf_refused(store: Store, repo: Repository) -> web.Response:
    return _message_page(
        "XSRF Security Token Missing",
        "Your session has expired or the form was not sent from this page. Reload the form "
        f"({settings_url(store, repo)}) and try again.",
        403,
    )


async def _checked_form(request: web.Request) -> tuple[Repository, Form] | web.Response:
    """The repository and the posted form when the visitor administers it and the form
    passes the XSRF check; else the page to answer."""
    found = _repository(request)
    if isinstance(found, web.Response):
        return found
    store = _store(request)
    form = await _read_form(request)
    if not xsrf_ok(store, request, {k: v[0] for k, v in form.items()}):
        return _xsrf_refused(store, found)
    return found, form


async def get_webhooks_page(request: web.Request) -> web.Response:
    """``GET …/webhooks/projects/{key}/repos/{slug}``: the webhooks and the create form."""
    found = _repository(request)
    if isinstance(found, web.Response):
        return found
    notice = ""
    if request.query.get("saved") in ("created", "deleted"):
        notice = (
            '<div class="aui-message aui-message-success" id="webhooks-saved">'
            f"Webhook {escape(request.query['saved'])}.</div>"
        )
    return _page(request, found, message=notice)


def _wanted(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": _first(form, "name"),
        "url": _first(form, "url"),
        "events": form.get("events", []),
        "active": "active" in form,
        "sslVerificationRequired": "sslVerificationRequired" in form,
    }
    if _first(form, "secret"):
        body["configuration"] = {"secret": _first(form, "secret")}
    if _first(form, "username") or _first(form, "password"):
        body["credentials"] = {
            "username": _first(form, "username"),
            "password": _first(form, "password"),
        }
    return body


async def post_webhooks_page(request: web.Request) -> web.Response:
    """``POST …/webhooks/projects/{key}/repos/{slug}``: create a webhook, all or nothing."""
    checked = await _checked_form(request)
    if isinstance(checked, web.Response):
        return checked
    found, form = checked
    store = _store(request)
    try:
        wanted = webhook_request(_wanted(form))
        store.webhooks.create(Scope("repository", str(found.id)), wanted, store.clock.now_ms())
    except ValidationError as exc:
        errors = {exc.context or "webhooks": exc.message}
        return _page(request, found, form=form, errors=errors, status=400)
    return redirect(settings_url(store, found) + "?saved=created", status=303)


async def post_delete_webhook(request: web.Request) -> web.Response:
    """``POST …/{webhookId}/delete``: delete a webhook; a missing one is a 404 page."""
    checked = await _checked_form(request)
    if isinstance(checked, web.Response):
        return checked
    found, _ = checked
    store = _store(request)
    try:
        hook = store.webhooks.get(
            Scope("repository", str(found.id)), request.match_info["webhookId"]
        )
    except BitbucketError as exc:
        return _message_page("Page not found", exc.message, 404)
    store.webhooks.delete(hook)
    return redirect(settings_url(store, found) + "?saved=deleted", status=303)
