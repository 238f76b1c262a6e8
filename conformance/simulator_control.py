"""A synchronous client of the simulator's control API (``/_sim/``, see docs/simulator.md).

Steps use it to set the scene (version, plugin settings, links), move simulated time, and read
what an integration sent to Bitbucket (the journal)::

    sim = SimulatorControl(server.base_url)
    sim.reset()
    sim.patch_config({"version": "7.20.0"})
    sim.advance_clock(3601)
    sim.journal(path_prefix="/rest/oauth2/latest/token", method="POST")

Every failure raises :class:`SimulatorControlError` naming the call, the request and the
envelope's message. Standard library only; environment proxy settings are ignored.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

CONTROL_PREFIX = "/_sim"
TOKEN_HEADER = "X-Sim-Control-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_TIMEOUT = 15.0


class SimulatorControlError(Exception):
    """A control-API call failed: unreachable, an error status, or an unexpected answer."""

    def __init__(
        self,
        call: str,
        request: str,
        message: str,
        status: int | None = None,
        context: str | None = None,
    ) -> None:
        self.call = call
        self.request = request
        self.message = message
        self.status = status
        self.context = context
        where = f" [{context}]" if context else ""
        answered = f" answered {status}" if status is not None else " failed"
        super().__init__(f"simulator control {call}: {request}{answered}{where}: {message}")


def envelope_message(body: Any) -> tuple[str, str | None]:
    """The first message and context of Bitbucket's error envelope (or a summary of ``body``)."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            first = errors[0]
            context = first.get("context")
            return str(first.get("message", "")), context if isinstance(context, str) else None
    return (json.dumps(body)[:300] if body is not None else "no body"), None


class SimulatorControl:
    """The control API of one simulator, at ``base_url`` (with its context path, if any)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Not an http(s) base URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ssl_context = ssl_context
        self.timeout = timeout

    # -- transport

    def _call(
        self,
        call: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer (None for 204)."""
        url = self.base_url + CONTROL_PREFIX + path
        if query:
            url += "?" + urlencode(query)
        request = f"{method} {url}"
        parts = urlsplit(url)
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers[TOKEN_HEADER] = self.token
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=self.ssl_context
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise SimulatorControlError(call, request, f"{type(exc).__name__}: {exc}") from exc
        finally:
            connection.close()
        if response.status == 204 or (not raw and response.status < 300):
            return None
        try:
            decoded = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            snippet = raw[:200].decode("utf-8", "replace")
            raise SimulatorControlError(
                call, request, f"not JSON: {snippet!r}", status=response.status
            ) from None
        if response.status >= 300:
            message, context = envelope_message(decoded)
            raise SimulatorControlError(
                call, request, message, status=response.status, context=context
            )
        return decoded

    def _object(self, call: str, answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise SimulatorControlError(call, call, f"expected a JSON object, got {answer!r}")
        return answer

    def _list(self, call: str, answer: Any, key: str) -> list[dict[str, Any]]:
        entries = self._object(call, answer).get(key)
        if not isinstance(entries, list):
            raise SimulatorControlError(call, call, f"expected a list under {key!r}: {answer!r}")
        return entries

    # -- operations

    def health(self) -> dict[str, Any]:
        """``GET /_sim/health``: ``{"status": "ok", "version": ...}``."""
        return self._object("health", self._call("health", "GET", "/health"))

    def reset(self) -> None:
        """``POST /_sim/reset``: config, clock, sessions, tokens, links, journal, faults."""
        self._call("reset", "POST", "/reset")

    def config(self) -> dict[str, Any]:
        """``GET /_sim/config``: the runtime configuration."""
        return self._object("config", self._call("config", "GET", "/config"))

    def patch_config(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /_sim/config``: merge ``changes`` (all or nothing); the new configuration."""
        answer = self._call("patch_config", "PATCH", "/config", body=changes)
        return self._object("patch_config", answer)

    def set_version(self, version: str) -> dict[str, Any]:
        """The Bitbucket version the simulator reports and behaves as."""
        return self.patch_config({"version": version})

    def clock(self) -> dict[str, Any]:
        """``GET /_sim/clock``: ``now``, ``now_ms``, ``offset_seconds``."""
        return self._object("clock", self._call("clock", "GET", "/clock"))

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """``POST /_sim/clock``: move simulated time forward; the new clock."""
        answer = self._call("advance_clock", "POST", "/clock", body={"advance_seconds": seconds})
        return self._object("advance_clock", answer)

    def journal(
        self, path_prefix: str | None = None, method: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """``GET /_sim/journal``: recorded exchanges (with an id above ``since``), oldest
        first, secrets redacted."""
        query = {k: v for k, v in (("path_prefix", path_prefix), ("method", method)) if v}
        if since:
            query["since"] = str(since)
        answer = self._call("journal", "GET", "/journal", query=query)
        return self._list("journal", answer, "entries")

    def clear_journal(self) -> None:
        """``DELETE /_sim/journal``."""
        self._call("clear_journal", "DELETE", "/journal")

    def faults(self) -> list[dict[str, Any]]:
        """``GET /_sim/faults``: the faults in force."""
        return self._list("faults", self._call("faults", "GET", "/faults"), "faults")

    def add_fault(
        self,
        path_prefix: str,
        status: int | None = None,
        delay_seconds: float | None = None,
        times: int | None = 1,
    ) -> dict[str, Any]:
        """``POST /_sim/faults``: answer ``status`` and/or delay on a path prefix."""
        body: dict[str, Any] = {"path_prefix": path_prefix, "times": times}
        if status is not None:
            body["status"] = status
        if delay_seconds is not None:
            body["delay_seconds"] = delay_seconds
        return self._object("add_fault", self._call("add_fault", "POST", "/faults", body=body))

    def clear_faults(self) -> None:
        """``DELETE /_sim/faults``."""
        self._call("clear_faults", "DELETE", "/faults")

    def applinks(self) -> list[dict[str, Any]]:
        """``GET /_sim/applinks``: every application link, with its credentials."""
        return self._list("applinks", self._call("applinks", "GET", "/applinks"), "applinks")

    def create_oauth2_link(
        self, name: str, redirect_urls: list[str] | tuple[str, ...], scope: str = "REPO_READ"
    ) -> dict[str, Any]:
        """An OAuth 2 incoming link; answers ``id``, ``client_id``, ``client_secret``, ..."""
        body = {
            "type": "oauth2",
            "name": name,
            "redirect_urls": list(redirect_urls),
            "scope": scope,
        }
        answer = self._call("create_oauth2_link", "POST", "/applinks", body=body)
        return self._object("create_oauth2_link", answer)

    def create_oauth1_link(
        self,
        name: str,
        consumer_key: str,
        public_key: str,
        callback_url: str | None = None,
        **optional: Any,
    ) -> dict[str, Any]:
        """An OAuth 1 link ("Atlassian product", Incoming Authentication).

        ``optional``: ``consumer_name``, ``description``, ``two_legged``, ``execute_as``,
        ``impersonation`` (the simulator rejects any other key, naming it).
        """
        body: dict[str, Any] = {
            "type": "oauth1",
            "name": name,
            "consumer_key": consumer_key,
            "public_key": public_key,
            **optional,
        }
        if callback_url is not None:
            body["callback_url"] = callback_url
        answer = self._call("create_oauth1_link", "POST", "/applinks", body=body)
        return self._object("create_oauth1_link", answer)

    # -- repositories (as a push would change them) and webhook deliveries

    def _repo_path(self, project: str, slug: str) -> str:
        return f"/repos/{quote(project, safe='')}/{quote(slug, safe='')}"

    def commit(
        self,
        project: str,
        slug: str,
        branch: str,
        message: str,
        files: Mapping[str, str | None],
        *,
        start_point: str | None = None,
    ) -> dict[str, Any]:
        """``POST /_sim/repos/{project}/{slug}/commits``: one commit on ``branch`` (``files``:
        path -> new text, or None to delete); answers the commit as REST shows it."""
        body: dict[str, Any] = {"branch": branch, "message": message, "files": dict(files)}
        if start_point is not None:
            body["startPoint"] = start_point
        path = self._repo_path(project, slug) + "/commits"
        return self._object("commit", self._call("commit", "POST", path, body=body))

    def create_tag(
        self, project: str, slug: str, name: str, start_point: str | None = None
    ) -> dict[str, Any]:
        """``POST /_sim/repos/{project}/{slug}/tags``: a tag (at the default branch unless
        ``start_point``), as a push would add it; answers the tag as REST shows it."""
        body: dict[str, Any] = {"name": name}
        if start_point is not None:
            body["startPoint"] = start_point
        path = self._repo_path(project, slug) + "/tags"
        return self._object("create_tag", self._call("create_tag", "POST", path, body=body))

    def delete_tag(self, project: str, slug: str, name: str) -> None:
        """``DELETE /_sim/repos/{project}/{slug}/tags/{name}``, as a push deleting it."""
        path = self._repo_path(project, slug) + f"/tags/{quote(name, safe='')}"
        self._call("delete_tag", "DELETE", path)

    def webhook_deliveries(self, since: int | None = None) -> list[dict[str, Any]]:
        """``GET /_sim/webhooks/deliveries``: the deliveries, oldest first (secrets redacted)."""
        query = {"since": str(since)} if since is not None else None
        answer = self._call("webhook_deliveries", "GET", "/webhooks/deliveries", query=query)
        return self._list("webhook_deliveries", answer, "deliveries")

    def settle_webhooks(self, timeout_seconds: float = 10) -> dict[str, Any]:
        """``POST /_sim/webhooks/settle``: wait until no delivery is queued or being sent."""
        body = {"timeout_seconds": timeout_seconds}
        answer = self._call("settle_webhooks", "POST", "/webhooks/settle", body=body)
        return self._object("settle_webhooks", answer)

    def add_webhook_fault(
        self,
        url_prefix: str,
        *,
        status: int | None = None,
        error: str | None = None,
        delay_seconds: float | None = None,
        times: int | None = None,
    ) -> dict[str, Any]:
        """``POST /_sim/webhooks/faults``: deliveries to ``url_prefix`` are delayed, or answered
        ``status`` or ``error`` without being sent."""
        body: dict[str, Any] = {"url_prefix": url_prefix}
        for key, value in (
            ("status", status),
            ("error", error),
            ("delay_seconds", delay_seconds),
            ("times", times),
        ):
            if value is not None:
                body[key] = value
        answer = self._call("add_webhook_fault", "POST", "/webhooks/faults", body=body)
        return self._object("add_webhook_fault", answer)

    def clear_webhook_faults(self) -> None:
        """``DELETE /_sim/webhooks/faults``."""
        self._call("clear_webhook_faults", "DELETE", "/webhooks/faults")
