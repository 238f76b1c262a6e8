"""Bitbucket's error envelope, the domain errors that produce it, and the one middleware.

Every REST error answers ``{"errors": [{"context", "message", "exceptionName"}]}`` with
``Content-Type: application/json;charset=UTF-8``. Handlers and backends raise the
exceptions below; :func:`error_middleware` renders them, turns aiohttp's own 404/405 into
the same envelope, and answers anything unexpected with a logged 500 in the envelope.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar

from aiohttp import web

from simulator.journal import note

log = logging.getLogger("simulator")
#: How much of an error's message its journal entry keeps (``extra.error``).
ERROR_NOTE_CHARS = 300

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with Bitbucket's exact content type."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
    )


def error_body(
    message: str, exception_name: str | None, context: str | None = None
) -> dict[str, Any]:
    """The envelope for one error."""
    return {"errors": [{"context": context, "message": message, "exceptionName": exception_name}]}


class BitbucketError(Exception):
    """An error Bitbucket reports in its envelope. Subclasses fix status and exception name."""

    status: ClassVar[int] = 400
    exception_name: ClassVar[str | None] = None

    def __init__(self, message: str, context: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_response(self) -> web.Response:
        """Render as Bitbucket does."""
        return json_response(
            error_body(self.message, self.exception_name, self.context), status=self.status
        )


class AuthorisationError(BitbucketError):
    """401 for anonymous callers and for callers without the needed permission alike."""

    status = 401
    exception_name = "com.atlassian.bitbucket.AuthorisationException"

    def __init__(self, message: str = "You are not permitted to access this resource") -> None:
        super().__init__(message)


class AuthenticationRequiredError(BitbucketError):
    """401 where a user is needed and the caller is anonymous (e.g. an unknown Bearer token)."""

    status = 401
    exception_name = (
        "com.atlassian.plugins.rest.api.security.exception.AuthenticationRequiredException"
    )

    def __init__(self, message: str = "You are not permitted to access this resource") -> None:
        super().__init__(message)


class IncorrectPasswordError(BitbucketError):
    """401 for wrong Basic credentials."""

    status = 401
    exception_name = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"

    def __init__(
        self, message: str = "Authentication failed. Please check your credentials and try again."
    ) -> None:
        super().__init__(message)


class ValidationError(BitbucketError):
    """400 for a parameter with a bad value; ``context`` names the parameter."""

    status = 400
    exception_name = "com.atlassian.bitbucket.validation.ArgumentValidationException"


class BadRequestError(BitbucketError):
    """400 for a request Bitbucket cannot parse (e.g. malformed JSON)."""

    status = 400
    exception_name = "com.atlassian.bitbucket.rest.exception.BadRequestException"


class NoSuchProjectError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.project.NoSuchProjectException"

    def __init__(self, key: str) -> None:
        super().__init__(f"Project {key} does not exist.")


class NoSuchRepositoryError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.repository.NoSuchRepositoryException"

    def __init__(self, project_key: str, slug: str) -> None:
        super().__init__(f"Repository {project_key}/{slug} does not exist.")


class NoSuchUserError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.user.NoSuchUserException"

    def __init__(self, slug: str) -> None:
        super().__init__(f"User {slug} does not exist.")


class NoSuchCommitError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.commit.NoSuchCommitException"

    def __init__(self, commit: str) -> None:
        super().__init__(f"Commit '{commit}' does not exist in this repository.")


class NoSuchPathError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.content.NoSuchPathException"

    def __init__(self, path: str, revision: str) -> None:
        super().__init__(f'The path "{path}" does not exist at revision "{revision}"')


class NoSuchTagError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.repository.NoSuchTagException"

    def __init__(self, name: str) -> None:
        super().__init__(f"Tag '{name}' does not exist in this repository.")


class NoSuchBranchError(BitbucketError):
    status = 404
    exception_name = "com.atlassian.bitbucket.repository.NoSuchBranchException"

    def __init__(self, name: str) -> None:
        super().__init__(f"Branch '{name}' does not exist in this repository.")


class DuplicateRefError(BitbucketError):
    """409 for a branch or tag that already exists."""

    status = 409
    exception_name = "com.atlassian.bitbucket.repository.DuplicateRefException"


class NoSuchEntityError(BitbucketError):
    """404 for any other missing entity (e.g. an access token)."""

    status = 404
    exception_name = "com.atlassian.bitbucket.NoSuchEntityException"


class NotFoundError(BitbucketError):
    """404 for a path nothing is served at."""

    status = 404
    exception_name = "com.sun.jersey.api.NotFoundException"

    def __init__(self, path: str) -> None:
        super().__init__(f"No resource is served at {path}.")


class MethodNotAllowedError(BitbucketError):
    status = 405
    exception_name = "com.sun.jersey.api.MethodNotAllowedException"

    def __init__(self, method: str, path: str, allowed: Iterable[str] = ()) -> None:
        super().__init__(f"The method {method} is not allowed for {path}.")
        self.allowed = sorted(set(allowed))

    def to_response(self) -> web.Response:
        """The envelope, with the ``Allow`` header RFC 9110 requires on a 405."""
        response = super().to_response()
        response.headers["Allow"] = ", ".join(self.allowed)
        return response


class RequestTimeoutError(BitbucketError):
    """The request's body did not arrive in time (the connection is closed after it)."""

    status = 408
    exception_name = "java.net.SocketTimeoutException"

    def to_response(self) -> web.Response:
        """The envelope, on a connection closed once it is sent."""
        response = super().to_response()
        response.force_close()
        return response


class ServerError(BitbucketError):
    status = 500
    exception_name = "com.atlassian.bitbucket.ServerException"


def error_answer(request: web.Request, exc: Exception) -> web.StreamResponse | None:
    """The answer for an exception a handler raised, or ``None`` when it must propagate:
    domain errors in the envelope, aiohttp's 404/405 as Bitbucket's, anything unexpected a
    logged 500; other HTTP exceptions (redirects, deliberate answers) pass through."""
    if isinstance(exc, BitbucketError):
        note(request, error=exc.message[:ERROR_NOTE_CHARS])
        return exc.to_response()
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowedError(
            request.method, request.path, exc.allowed_methods
        ).to_response()
    if isinstance(exc, web.HTTPNotFound):
        return NotFoundError(request.path).to_response()
    if isinstance(exc, web.HTTPException):
        return None
    log.error("unexpected failure on %s %s", request.method, request.path, exc_info=exc)
    return ServerError("An unexpected error occurred; see the simulator's log.").to_response()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render domain errors in Bitbucket's envelope; never let a bare 500 escape."""
    try:
        return await handler(request)
    except Exception as exc:
        answer = error_answer(request, exc)
        if answer is None:
            raise
        return answer
