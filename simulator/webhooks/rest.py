"""``…/webhooks`` of REST API 1.0, at repository and at project level (Bitbucket 9.6's
OpenAPI: ``findWebhooks``, ``createWebhook``, ``getWebhook``, ``updateWebhook``,
``deleteWebhook``, ``testWebhook``, ``getLatestInvocation``, ``getStatistics``,
``getStatisticsSummary``, ``searchWebhooks``).

Repository webhooks need REPO_ADMIN on the repository, project webhooks PROJECT_ADMIN on the
project (the OpenAPI's descriptions), capped by the credential as everywhere: a REPO_READ
OAuth 2 or personal token is refused with Bitbucket's 401 ``AuthorisationException``. A
missing project, repository or webhook is a 404. Before 5.4 (no webhooks) every path is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.errors import (
    AuthorisationError,
    BadRequestError,
    NotFoundError,
    ValidationError,
    json_response,
)
from simulator.model import ProjectLevel, RepoLevel
from simulator.paging import page_of
from simulator.rest import access_of, caller, page_request, store_of
from simulator.store import Store
from simulator.webhooks import PING, SINCE, payloads
from simulator.webhooks.model import (
    LAST_NAMES,
    OUTCOMES,
    Credentials,
    Outcome,
    Scope,
    Webhook,
    check_url,
    parse_credentials,
    webhook_request,
)

#: How many of the receiver's answer headers ``POST …/webhooks/test`` shows.
MAX_ANSWER_HEADERS = 50


def _store(request: web.Request) -> Store:
    store = store_of(request)
    if store.config.version < SINCE:
        raise NotFoundError(request.path)
    return store


def _repository_scope(request: web.Request) -> Scope:
    repo = access_of(request).repository(
        caller(request),
        request.match_info["projectKey"],
        request.match_info["repositorySlug"],
        need=RepoLevel.REPO_ADMIN,
    )
    return Scope("repository", str(repo.id))


def _project_scope(request: web.Request) -> Scope:
    access, principal = access_of(request), caller(request)
    project = access.project(principal, request.match_info["projectKey"])
    if access.project_level(principal, project) < ProjectLevel.PROJECT_ADMIN:
        raise AuthorisationError()
    return Scope("project", project.key)


def _scope(request: web.Request) -> Scope:
    """The scope of the path, when the caller administers it (401 otherwise)."""
    _store(request)
    if "repositorySlug" in request.match_info:
        return _repository_scope(request)
    return _project_scope(request)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} when there is none): a form-like content type without
    ``X-Atlassian-Token: no-check`` is a 403 (Atlassian's XSRF rule), another non-JSON one a
    415, and JSON that could not be written back (a lone surrogate) a 400."""
    raw = await request.read()
    if not raw.strip():
        return {}
    from simulator.applinks.client_rest import (
        SIMPLE_CONTENT_TYPES,
        UnsupportedMediaTypeError,
        XsrfCheckFailedError,
    )

    content_type = request.content_type
    if (
        content_type in SIMPLE_CONTENT_TYPES
        and request.headers.get("X-Atlassian-Token", "").lower() != "no-check"
    ):
        raise XsrfCheckFailedError()
    if content_type != "application/json":
        raise UnsupportedMediaTypeError(content_type)
    try:
        value = json.loads(raw.decode("utf-8"))
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        raise BadRequestError("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return value


def _flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter as Jersey reads one: true only for ``true``, any case."""
    return request.query.get(name, "").lower() == "true"


def _render(store: Store, hook: Webhook, statistics: bool) -> dict[str, Any]:
    body = hook.to_json()
    if statistics:
        body["statistics"] = store.webhooks.history_of(hook).statistics_json(detailed=False)
    return body


def _page(request: web.Request, hooks: list[Webhook]) -> web.Response:
    store = store_of(request)
    wanted = set(request.query.getall("event", []))
    chosen = [hook for hook in hooks if not wanted or wanted & set(hook.events)]
    statistics = _flag(request, "statistics")
    return json_response(
        page_of(chosen, page_request(request), lambda hook: _render(store, hook, statistics))
    )


async def find_webhooks(request: web.Request) -> web.Response:
    """``GET …/webhooks``: this scope's webhooks, paged, by id; ``event`` (repeatable) keeps
    those subscribed to one of them, ``statistics=true`` adds their counts."""
    scope = _scope(request)
    return _page(request, store_of(request).webhooks.in_scope(scope))


async def search_webhooks(request: web.Request) -> web.Response:
    """``GET …/repos/{slug}/webhooks/search``: the repository's webhooks and its project's
    (``scopeType`` repository and/or project, repeatable; default both)."""
    scope = _scope(request)
    store = store_of(request)
    key = request.match_info["projectKey"].upper()
    types = set(request.query.getall("scopeType", [])) or {"repository", "project"}
    unknown = types - {"repository", "project"}
    if unknown:
        raise ValidationError(
            f"scopeType must be repository or project: '{sorted(unknown)[0][:100]}'.",
            "scopeType",
        )
    hooks: list[Webhook] = []
    if "repository" in types:
        hooks += store.webhooks.in_scope(scope)
    if "project" in types:
        hooks += store.webhooks.in_scope(Scope("project", key))
    return _page(request, sorted(hooks, key=lambda hook: hook.id))


async def create_webhook(request: web.Request) -> web.Response:
    """``POST …/webhooks``: a new webhook; 200 with it (``RestWebhook``), as Bitbucket's
    OpenAPI and Atlassian's Jenkins fixture ``webhook_created_response.json`` show."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.create(scope, webhook_request(await _body(request)), store.clock.now_ms())
    return json_response(hook.to_json())


async def get_webhook(request: web.Request) -> web.Response:
    """``GET …/webhooks/{webhookId}``; ``statistics=true`` adds its counts."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.get(scope, request.match_info["webhookId"])
    return json_response(_render(store, hook, _flag(request, "statistics")))


async def update_webhook(request: web.Request) -> web.Response:
    """``PUT …/webhooks/{webhookId}``: change the fields given; 200 with the webhook."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.get(scope, request.match_info["webhookId"])
    wanted = webhook_request(await _body(request))
    return json_response(store.webhooks.update(hook, wanted, store.clock.now_ms()).to_json())


async def delete_webhook(request: web.Request) -> web.Response:
    """``DELETE …/webhooks/{webhookId}``: 204."""
    scope = _scope(request)
    store = store_of(request)
    store.webhooks.delete(store.webhooks.get(scope, request.match_info["webhookId"]))
    return web.Response(status=204)


def _outcome(request: web.Request) -> Outcome | None:
    raw = request.query.get("outcome")
    if raw is None or raw == "":
        return None
    for outcome in OUTCOMES:
        if raw == outcome:
            return outcome
    raise ValidationError(f"outcome must be SUCCESS, FAILURE or ERROR: '{raw[:100]}'.", "outcome")


async def get_latest_invocation(request: web.Request) -> web.Response:
    """``GET …/webhooks/{webhookId}/latest``: the last delivery (``event``, ``outcome``
    narrow it); 204 when there is none."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.get(scope, request.match_info["webhookId"])
    outcome = _outcome(request)
    event = request.query.get("event") or None
    latest = store.webhooks.history_of(hook).latest(event, outcome)
    if latest is None:
        return web.Response(status=204)
    return json_response(latest.to_json())


async def get_statistics(request: web.Request) -> web.Response:
    """``GET …/webhooks/{webhookId}/statistics``: counts by outcome and the last success,
    failure and error (``event`` narrows the last ones)."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.get(scope, request.match_info["webhookId"])
    history = store.webhooks.history_of(hook)
    event = request.query.get("event") or None
    body = history.statistics_json(detailed=False)
    for outcome, name in LAST_NAMES:
        found = history.latest(event, outcome)
        if found is not None:
            body[name] = found.to_json()
    return json_response(body)


async def get_statistics_summary(request: web.Request) -> web.Response:
    """``GET …/webhooks/{webhookId}/statistics/summary``: the counts by outcome."""
    scope = _scope(request)
    store = store_of(request)
    hook = store.webhooks.get(scope, request.match_info["webhookId"])
    return json_response(store.webhooks.history_of(hook).statistics_json(detailed=False))


async def send_test_ping(request: web.Request) -> web.Response:
    """``POST …/webhooks/test?url=…``: send ``diagnostics:ping`` (``{"test": true}``) now and
    answer what came of it: the request sent and the receiver's answer, or the error.
    ``webhookId`` sends with that webhook's secret and credentials (and URL, when ``url`` is
    absent); a body ``{"username", "password"}`` sends those credentials instead."""
    scope = _scope(request)
    store = store_of(request)
    given = await _body(request)
    credentials: Credentials | None = parse_credentials(given) if given else None
    hook: Webhook | None = None
    raw_id = request.query.get("webhookId")
    if raw_id:
        hook = store.webhooks.get(scope, raw_id)
    raw_url = request.query.get("url") or (hook.url if hook is not None else "")
    if not raw_url:
        raise ValidationError("Give the URL to test: url=<URL>.", "url")
    url = check_url(raw_url[:2000])
    verify = request.query.get("sslVerificationRequired", "true").strip().lower() != "false"
    from simulator.webhooks.dispatch import Target, dispatcher_of, shown_headers

    target = Target(
        url,
        hook.secret if hook is not None else None,
        credentials or (hook.credentials if hook is not None else None),
        verify,
    )
    body = payloads.encode(payloads.PING_BODY)
    attempt = await dispatcher_of(store).send(target, PING, body)
    answer: dict[str, Any] = {
        "request": {
            "url": url,
            "method": "POST",
            "headers": shown_headers(attempt.headers),
            "body": body.decode(),
        }
    }
    if attempt.status is not None:
        answer["response"] = {
            "statusCode": attempt.status,
            "headers": dict(list(attempt.answer_headers.items())[:MAX_ANSWER_HEADERS]),
            "body": attempt.answer or "",
        }
    else:
        answer["error"] = attempt.error or ""
    return json_response(answer)
