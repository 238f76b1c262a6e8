"""``/_sim/webhooks/…`` (not Bitbucket's): what tests see of deliveries, and how they wait.

- ``GET deliveries`` (``?since=<id>``, ``?webhookId=<id>``): the last deliveries, oldest
  first, secrets redacted: webhook, event, URL, state (``QUEUED``, ``SENDING``, ``SUCCESS``,
  ``FAILURE``, ``ERROR``), the headers sent, the status, duration and an excerpt of the answer,
  or the error, and the payload;
- ``POST settle`` (``{"timeout_seconds": n}``, default 10, at most 30): wait until no delivery
  is queued or sending, so that no test sleeps; answers whether it settled;
- ``GET|POST|DELETE faults``: ``{"url_prefix", "status", "error", "delay_seconds",
  "times"}`` delays deliveries and/or answers for the receiver (a status, or an error as if
  the connection failed) without sending.

:data:`OPERATIONS` and :data:`SCHEMAS` describe them for ``/_sim/openapi.json``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from simulator.control.parsing import json_object, reject_unknown
from simulator.errors import ValidationError, json_response
from simulator.keys import store_key
from simulator.webhooks.dispatch import MAX_FAULT_DELAY, DeliveryFault, dispatcher_of

#: The longest a settle may wait, and its default.
MAX_SETTLE_SECONDS = 30.0
DEFAULT_SETTLE_SECONDS = 10.0
_FAULT_KEYS = frozenset({"url_prefix", "status", "error", "delay_seconds", "times"})
_DELIVERY_PARAMS = frozenset({"since", "webhookId"})


def _number(body: Mapping[str, Any], key: str, maximum: float) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{key} must be a number.", key)
    if not 0 <= value <= maximum or not math.isfinite(value):
        raise ValidationError(f"{key} must lie between 0 and {maximum:g}.", key)
    return float(value)


def _whole(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError(f"{name} must be a whole number, 0 or more.", name)
    return int(raw)


async def get_webhook_deliveries(request: web.Request) -> web.Response:
    """The last deliveries, oldest first, secrets redacted (``since``, ``webhookId``)."""
    reject_unknown(request.query, _DELIVERY_PARAMS)
    since = _whole(request.query.get("since"), "since") or 0
    hook = _whole(request.query.get("webhookId"), "webhookId")
    dispatcher = dispatcher_of(request.app[store_key])
    chosen = [
        delivery.to_json()
        for delivery in dispatcher.log
        if delivery.id > since and (hook is None or delivery.webhook_id == hook)
    ]
    return json_response({"deliveries": chosen, "size": len(chosen), "pending": dispatcher.pending})


async def settle_webhook_deliveries(request: web.Request) -> web.Response:
    """Wait until no delivery is queued or sending (at most ``timeout_seconds``)."""
    raw = await request.read()
    body = json_object(raw) if raw.strip() else {}
    reject_unknown(body, frozenset({"timeout_seconds"}))
    timeout = DEFAULT_SETTLE_SECONDS
    if body.get("timeout_seconds") is not None:
        timeout = _number(body, "timeout_seconds", MAX_SETTLE_SECONDS)
    dispatcher = dispatcher_of(request.app[store_key])
    settled = await dispatcher.settle(timeout)
    return json_response({"settled": settled, "pending": dispatcher.pending})


def delivery_fault(body: Mapping[str, Any]) -> DeliveryFault:
    """The fault a ``POST /_sim/webhooks/faults`` body describes."""
    reject_unknown(body, _FAULT_KEYS)
    prefix = body.get("url_prefix", "")
    if not isinstance(prefix, str) or len(prefix) > 2000:
        raise ValidationError("url_prefix must be a string (a URL's start).", "url_prefix")
    status = body.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise ValidationError("status must be an integer from 100 to 599, or null.", "status")
    error = body.get("error")
    if error is not None and (not isinstance(error, str) or not error.strip() or len(error) > 500):
        raise ValidationError("error must be a message of 1 to 500 characters, or null.", "error")
    if status is not None and error is not None:
        raise ValidationError("A fault answers a status or an error, not both.", "error")
    delay = 0.0
    if body.get("delay_seconds") is not None:
        delay = _number(body, "delay_seconds", MAX_FAULT_DELAY)
    times = body.get("times", 1)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise ValidationError("times must be a positive integer, or null (until reset).", "times")
    if status is None and error is None and delay == 0:
        raise ValidationError("A fault needs a status, an error, a delay, or both.", "status")
    return DeliveryFault(prefix, status, error, delay, times)


async def get_webhook_faults(request: web.Request) -> web.Response:
    """The delivery faults in force, in matching order."""
    faults = [fault.to_json() for fault in dispatcher_of(request.app[store_key]).faults]
    return json_response({"faults": faults, "size": len(faults)})


async def add_webhook_fault(request: web.Request) -> web.Response:
    """Delay deliveries and/or answer for their receiver."""
    fault = delivery_fault(json_object(await request.read()))
    try:
        dispatcher_of(request.app[store_key]).add_fault(fault)
    except ValueError as exc:
        raise ValidationError(str(exc), "faults") from None
    return json_response(fault.to_json(), status=201)


async def clear_webhook_faults(request: web.Request) -> web.Response:
    """Remove every delivery fault."""
    dispatcher_of(request.app[store_key]).faults.clear()
    return web.Response(status=204)


#: (method, path under /_sim, handler) for simulator.control.routes.
ROUTES: tuple[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]], ...] = (
    ("GET", "/webhooks/deliveries", get_webhook_deliveries),
    ("POST", "/webhooks/settle", settle_webhook_deliveries),
    ("GET", "/webhooks/faults", get_webhook_faults),
    ("POST", "/webhooks/faults", add_webhook_fault),
    ("DELETE", "/webhooks/faults", clear_webhook_faults),
)


# -- the OpenAPI document ----------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NULLABLE_TEXT = {"type": ["string", "null"]}
_NULLABLE_WHOLE = {"type": ["integer", "null"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "WebhookDelivery": {
        "type": "object",
        "description": "One delivery; credentials and the signature read '<redacted>'.",
        "required": [
            "id",
            "webhookId",
            "event",
            "url",
            "state",
            "queued",
            "requestId",
            "headers",
            "statusCode",
            "duration",
            "answer",
            "error",
            "payload",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "webhookId": _NULLABLE_WHOLE,
            "event": {"type": "string"},
            "url": {"type": "string"},
            "state": {"enum": ["QUEUED", "SENDING", "SUCCESS", "FAILURE", "ERROR"]},
            "queued": {"type": "integer", "description": "Epoch ms on the simulator clock."},
            "requestId": _NULLABLE_TEXT,
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "statusCode": _NULLABLE_WHOLE,
            "duration": _NULLABLE_WHOLE,
            "answer": _NULLABLE_TEXT,
            "error": _NULLABLE_TEXT,
            "payload": {"type": "object"},
        },
    },
    "WebhookDeliveries": {
        "type": "object",
        "required": ["deliveries", "size", "pending"],
        "additionalProperties": False,
        "properties": {
            "deliveries": {"type": "array", "items": _ref("WebhookDelivery")},
            "size": {"type": "integer", "minimum": 0},
            "pending": {"type": "integer", "minimum": 0},
        },
    },
    "WebhookSettleRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "timeout_seconds": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": MAX_SETTLE_SECONDS,
                "default": DEFAULT_SETTLE_SECONDS,
            }
        },
    },
    "WebhookSettled": {
        "type": "object",
        "required": ["settled", "pending"],
        "additionalProperties": False,
        "properties": {
            "settled": {"type": "boolean"},
            "pending": {"type": "integer", "minimum": 0},
        },
    },
    "WebhookFaultRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url_prefix": {"type": "string", "maxLength": 2000, "default": ""},
            "status": {"type": ["integer", "null"], "minimum": 100, "maximum": 599},
            "error": {"type": ["string", "null"], "minLength": 1, "maxLength": 500},
            "delay_seconds": {"type": ["number", "null"], "minimum": 0, "maximum": 30},
            "times": {"type": ["integer", "null"], "minimum": 1, "default": 1},
        },
    },
    "WebhookFault": {
        "type": "object",
        "required": ["url_prefix", "status", "error", "delay_seconds", "times"],
        "additionalProperties": False,
        "properties": {
            "url_prefix": {"type": "string"},
            "status": _NULLABLE_WHOLE,
            "error": _NULLABLE_TEXT,
            "delay_seconds": {"type": "number", "minimum": 0},
            "times": {"type": ["integer", "null"], "minimum": 1},
        },
    },
    "WebhookFaults": {
        "type": "object",
        "required": ["faults", "size"],
        "additionalProperties": False,
        "properties": {
            "faults": {"type": "array", "items": _ref("WebhookFault")},
            "size": {"type": "integer", "minimum": 0},
        },
    },
}

_ERROR = _ref("Error")
_BAD = {"400": _json(_ERROR, "Malformed JSON, or a field with a bad value (context).")}
_WHOLE_QUERY = {"type": "integer", "minimum": 0}
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_sim/webhooks/deliveries"): {
        "operationId": "get_webhook_deliveries",
        "summary": "The last webhook deliveries, oldest first, secrets redacted.",
        "parameters": [
            {
                "name": "since",
                "in": "query",
                "required": False,
                "description": "Only deliveries with a greater id (ids grow across resets).",
                "schema": _WHOLE_QUERY,
            },
            {
                "name": "webhookId",
                "in": "query",
                "required": False,
                "description": "Only the deliveries of this webhook.",
                "schema": _WHOLE_QUERY,
            },
        ],
        "responses": {"200": _json(_ref("WebhookDeliveries"), "The deliveries."), **_BAD},
    },
    ("POST", "/_sim/webhooks/settle"): {
        "operationId": "settle_webhook_deliveries",
        "summary": "Wait until no webhook delivery is queued or sending.",
        "requestBody": {
            "required": False,
            **_json(_ref("WebhookSettleRequest"), "How long to wait at most."),
        },
        "responses": {"200": _json(_ref("WebhookSettled"), "Settled, or not in time."), **_BAD},
    },
    ("GET", "/_sim/webhooks/faults"): {
        "operationId": "get_webhook_faults",
        "summary": "The webhook delivery faults in force, in matching order.",
        "responses": {"200": _json(_ref("WebhookFaults"), "The faults.")},
    },
    ("POST", "/_sim/webhooks/faults"): {
        "operationId": "add_webhook_fault",
        "summary": "Delay webhook deliveries and/or answer for their receiver.",
        "requestBody": {"required": True, **_json(_ref("WebhookFaultRequest"), "The fault.")},
        "responses": {"201": _json(_ref("WebhookFault"), "In force."), **_BAD},
    },
    ("DELETE", "/_sim/webhooks/faults"): {
        "operationId": "clear_webhook_faults",
        "summary": "Remove every webhook delivery fault.",
        "responses": {"204": {"description": "Done."}},
    },
}
