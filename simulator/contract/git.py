"""Operation fragments of git smart HTTP under ``/scm/`` (see :mod:`simulator.contract`).

The bodies are git's pkt-line protocol, not JSON: the document names their media types and
leaves their grammar to git's own documentation (``gitprotocol-http``). Refusals are plain
text, which git prints after ``remote:``; wrong credentials and a blocked OAuth token answer
in Bitbucket's envelope, with the Basic challenge.
"""

from __future__ import annotations

from simulator.contract import handler_key
from simulator.contract.spec import (
    Operation,
    either,
    error,
    json_body,
    media,
    op,
    query,
    with_headers,
)
from simulator.git import http

_CHALLENGE = {"WWW-Authenticate": {"required": True, "schema": {"const": http.REALM}}}
_UNAUTHORIZED = with_headers(
    either(
        "No credentials on a repository that needs them, a forced 2FA user's password (plain "
        "text), or a wrong credential or a blocked OAuth token (the envelope).",
        media("text/plain", "Authentication required."),
        error("A wrong credential, or a blocked OAuth token."),
    ),
    _CHALLENGE,
)
_FORBIDDEN = either(
    "Pushing without REPO_WRITE, the dumb protocol; or a "
    "blocked OAuth token with `blocked_response` 403 (the envelope).",
    media("text/plain", "What git prints after remote:."),
    error("A blocked OAuth token."),
)
_NOT_FOUND = media("text/plain", "Repository not found: none such, or hidden from the caller.")


def _negotiation(service: str) -> dict[str, object]:
    body = json_body({"type": "string"}, f"git's pkt-line {service} request.")
    body["content"] = {f"application/x-{service}-request": {"schema": {"type": "string"}}}
    return body


_INFO_REFS = op(
    parameters=[
        query(
            "service",
            {"enum": list(http.SERVICES)},
            "Which service's refs: smart HTTP only (anything else is a 403).",
            required=True,
        )
    ],
    responses={
        "200": either(
            "The ref advertisement (protocol v0, or v2's capabilities with `Git-Protocol: "
            "version=2`).",
            media("application/x-git-upload-pack-advertisement", "For fetch and clone."),
            media("application/x-git-receive-pack-advertisement", "For push."),
        ),
        "401": _UNAUTHORIZED,
        "403": _FORBIDDEN,
        "404": _NOT_FOUND,
    },
)


def _service(service: str, success: str) -> Operation:
    responses = {
        "400": either(
            "A body that is not a git request.",
            error("A body its Content-Encoding does not decode."),
            media("text/plain", "git found no request in the body."),
        ),
        "401": _UNAUTHORIZED,
        "403": _FORBIDDEN,
        "404": _NOT_FOUND,
        "413": error(f"A body beyond {http.MAX_BODY_BYTES} bytes."),
        "415": media("text/plain", f"A body other than application/x-{service}-request."),
        "200": media(f"application/x-{service}-result", success),
    }
    operation = op(responses=responses)
    operation["requestBody"] = _negotiation(service)
    return operation


OPERATIONS: dict[str, Operation] = {
    handler_key(handler): operation
    for handler, operation in (
        (http.get_info_refs, _INFO_REFS),
        (http.post_upload_pack, _service("git-upload-pack", "The negotiation's answer and pack.")),
        (
            http.post_receive_pack,
            _service("git-receive-pack", "git's report of each ref it updated or refused."),
        ),
    )
}
