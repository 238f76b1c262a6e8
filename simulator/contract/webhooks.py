"""The contract of ``…/webhooks`` at repository and project level
(:mod:`simulator.webhooks.rest`)."""

from __future__ import annotations

from typing import Any

from simulator.contract import handler_key
from simulator.contract.spec import (
    BLANK,
    PAGING,
    STRING,
    Operation,
    Schema,
    empty,
    error,
    json_answer,
    json_body,
    op,
    query,
    ref,
)
from simulator.webhooks import EVENTS, rest
from simulator.webhooks.model import (
    MAX_CONFIGURATION_CHARS,
    MAX_CONFIGURATION_KEYS,
    MAX_CREDENTIAL_CHARS,
    MAX_NAME_CHARS,
    MAX_URL_CHARS,
)

_REFUSED = error(
    "Anonymous, or the caller does not administer the repository (REPO_ADMIN) or project "
    "(PROJECT_ADMIN), or its credential is capped below that (AuthorisationException)."
)
_MISSING = error(
    "No such project or repository, or webhook in it; or Bitbucket before 5.4 "
    "(NoSuchProjectException, NoSuchRepositoryException, NoSuchWebhookException)."
)


def _text(limit: int) -> Schema:
    return {"type": ["string", "null"], "maxLength": limit}


_CREDENTIALS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["username"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": MAX_CREDENTIAL_CHARS},
        "password": _text(MAX_CREDENTIAL_CHARS),
    },
}
#: Fields Bitbucket answers and ignores when they come back (any value is taken).
_READ_ONLY = ("id", "createdDate", "updatedDate", "scopeType", "statistics")


def _webhook_body(required: tuple[str, ...]) -> Schema:
    properties: dict[str, Any] = {
        "name": _text(MAX_NAME_CHARS),
        "url": {**_text(MAX_URL_CHARS), "description": "An absolute http(s) URL."},
        "events": {
            "type": ["array", "null"],
            "minItems": 1,
            "items": {"enum": list(EVENTS)},
        },
        "active": {"type": ["boolean", "null"]},
        "configuration": {
            "type": ["object", "null"],
            "maxProperties": MAX_CONFIGURATION_KEYS,
            "propertyNames": {"maxLength": 255},
            "additionalProperties": {"type": "string", "maxLength": MAX_CONFIGURATION_CHARS},
            "description": "secret: the key deliveries are signed with (X-Hub-Signature).",
        },
        "sslVerificationRequired": {"type": ["boolean", "null"]},
        "credentials": {
            "oneOf": [_CREDENTIALS, {"type": "null"}],
            "description": "Sent as Authorization: Basic with every delivery; null removes.",
        },
        **{name: {} for name in _READ_ONLY},
    }
    schema: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
        for name in required:
            properties[name] = {**properties[name], "type": properties[name]["type"][0]}
    return schema


_STATISTICS = query(
    "statistics", STRING, "true (any case) adds the counts by outcome; anything else does not."
)
_EVENT_FILTER = query(
    "event",
    {"type": "array", "items": STRING},
    "Only webhooks subscribed to one of these events (repeatable).",
)
_WEBHOOK = json_answer(ref("webhook"), "The webhook (RestWebhook).")
_BAD_PAGE = error("A bad start or limit (ArgumentValidationException).")
_BAD_BODY = error(
    "A missing or bad field, named in context: name, url, events, configuration, "
    "credentials, or an unknown one (ArgumentValidationException); JSON that does not parse "
    "(BadRequestException)."
)
_XSRF = error("A form-like content type without X-Atlassian-Token: no-check (XSRF check).")
_MEDIA = error("A body that is not application/json.")


def _listing(*extra: dict[str, Any]) -> Operation:
    return op(
        parameters=(_EVENT_FILTER, _STATISTICS, *extra, *PAGING),
        responses={
            "200": json_answer(ref("webhooks-page"), "A page of webhooks, by id."),
            "400": _BAD_PAGE if not extra else error("A bad start, limit or scopeType."),
            "401": _REFUSED,
            "404": _MISSING,
        },
    )


def _with_body(required: tuple[str, ...], description: str) -> Operation:
    return op(
        body=json_body(_webhook_body(required), description),
        responses={
            "200": _WEBHOOK,
            "400": _BAD_BODY,
            "401": _REFUSED,
            "403": _XSRF,
            "404": _MISSING,
            "415": _MEDIA,
        },
    )


_HISTORY = json_answer(ref("webhook-statistics"), "Counts by outcome (RestInvocationHistory).")
_OUTCOME = query(
    "outcome",
    {"anyOf": [{"enum": ["SUCCESS", "FAILURE", "ERROR"]}, BLANK]},
    "Only invocations of this outcome (exact case).",
)
_INVOCATION_EVENT = query("event", STRING, "Only invocations of this event.")

_OPERATIONS: tuple[tuple[Any, Operation], ...] = (
    (rest.find_webhooks, _listing()),
    (
        rest.search_webhooks,
        _listing(
            query(
                "scopeType",
                {"type": "array", "items": {"enum": ["repository", "project"]}},
                "repository and/or project (repeatable; default both).",
            )
        ),
    ),
    (rest.create_webhook, _with_body(("name", "url", "events"), "The new webhook.")),
    (
        rest.get_webhook,
        op(
            parameters=(_STATISTICS,),
            responses={"200": _WEBHOOK, "401": _REFUSED, "404": _MISSING},
        ),
    ),
    (rest.update_webhook, _with_body((), "The fields to change; the others are kept.")),
    (
        rest.delete_webhook,
        op(responses={"204": empty("Deleted."), "401": _REFUSED, "404": _MISSING}),
    ),
    (
        rest.get_latest_invocation,
        op(
            parameters=(_INVOCATION_EVENT, _OUTCOME),
            responses={
                "200": json_answer(ref("webhook-invocation"), "The last invocation."),
                "204": empty("No invocation (of that event and outcome) yet."),
                "400": error("A bad outcome (ArgumentValidationException)."),
                "401": _REFUSED,
                "404": _MISSING,
            },
        ),
    ),
    (
        rest.get_statistics,
        op(
            parameters=(_INVOCATION_EVENT,),
            responses={"200": _HISTORY, "401": _REFUSED, "404": _MISSING},
        ),
    ),
    (
        rest.get_statistics_summary,
        op(responses={"200": _HISTORY, "401": _REFUSED, "404": _MISSING}),
    ),
    (
        rest.send_test_ping,
        op(
            parameters=(
                query("url", STRING, "Where to send the ping (default: the webhook's URL)."),
                query("webhookId", STRING, "Send with this webhook's secret and credentials."),
                query("sslVerificationRequired", STRING, "false skips certificate checks."),
            ),
            body=json_body(
                {"oneOf": [_CREDENTIALS, {"type": "object", "maxProperties": 0}]},
                "Basic credentials to send, if any ({} or no body: none).",
                required=False,
            ),
            responses={
                "200": json_answer(
                    ref("webhook-test-result"), "The request sent and the answer or the error."
                ),
                "400": error("No url, a bad one, or bad credentials."),
                "401": _REFUSED,
                "403": _XSRF,
                "404": _MISSING,
                "415": _MEDIA,
            },
        ),
    ),
)

OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation for handler, operation in _OPERATIONS
}
