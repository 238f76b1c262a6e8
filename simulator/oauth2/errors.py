"""OAuth 2 errors: ``{"error", "error_description"}`` JSON from the token endpoints, or a
redirect back to the client from authorize."""

from __future__ import annotations

from aiohttp import web

from simulator.errors import json_response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuth2Error(Exception):
    """An RFC 6749 error as Bitbucket's token resource reports it."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def to_response(self) -> web.Response:
        """JSON body, never HTML; not cacheable."""
        return json_response(
            {"error": self.error, "error_description": self.description},
            status=self.status,
            headers=NO_STORE,
        )


def invalid_request(description: str) -> OAuth2Error:
    return OAuth2Error("invalid_request", description)


def invalid_grant(description: str) -> OAuth2Error:
    return OAuth2Error("invalid_grant", description)


def invalid_client(description: str) -> OAuth2Error:
    """401: the status for client authentication failures (UNCONFIRMED; RFC 6749 allows it)."""
    return OAuth2Error("invalid_client", description, status=401)


def missing(parameter: str) -> OAuth2Error:
    """The wording seen in a real capture."""
    return invalid_request(f"The required parameter '{parameter}' is missing")


class ClientValidationError(ValueError):
    """A client (incoming link) field with a bad value; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
