"""OAuth problems as the plugin reports them (net.oauth's ``OAuthServlet.handleException``).

A problem is answered with the status net.oauth maps it to (400 for malformed requests, 401
for credentials, 503 for refusals), a ``WWW-Authenticate`` header naming the realm (the base
URL, percent-encoded as net.oauth does) and every ``oauth_*`` parameter of the problem, and,
where the servlet asks for one, a body that repeats all of them form-encoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from aiohttp import web

CONSUMER_KEY_UNKNOWN = "consumer_key_unknown"
SIGNATURE_INVALID = "signature_invalid"
SIGNATURE_METHOD_REJECTED = "signature_method_rejected"
TIMESTAMP_REFUSED = "timestamp_refused"
NONCE_USED = "nonce_used"
TOKEN_REJECTED = "token_rejected"  # noqa: S105 - a problem name, not a secret
TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a problem name, not a secret
TOKEN_USED = "token_used"  # noqa: S105 - a problem name, not a secret
PERMISSION_DENIED = "permission_denied"
PERMISSION_UNKNOWN = "permission_unknown"
PARAMETER_ABSENT = "parameter_absent"
PARAMETER_REJECTED = "parameter_rejected"
VERSION_REJECTED = "version_rejected"

#: net.oauth's ``OAuth.Problems.TO_HTTP_CODE``; anything else is 403.
HTTP_STATUS = {
    VERSION_REJECTED: 400,
    PARAMETER_ABSENT: 400,
    PARAMETER_REJECTED: 400,
    TIMESTAMP_REFUSED: 400,
    SIGNATURE_METHOD_REJECTED: 400,
    NONCE_USED: 401,
    TOKEN_USED: 401,
    TOKEN_EXPIRED: 401,
    "token_revoked": 401,
    TOKEN_REJECTED: 401,
    "token_not_authorized": 401,
    SIGNATURE_INVALID: 401,
    CONSUMER_KEY_UNKNOWN: 401,
    "consumer_key_rejected": 401,
    "additional_authorization_required": 401,
    PERMISSION_UNKNOWN: 401,
    PERMISSION_DENIED: 401,
    "user_refused": 503,
    "consumer_key_refused": 503,
}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"


def percent_encode(text: str) -> str:
    """OAuth's percent-encoding (RFC 3986 unreserved characters stay as they are)."""
    return quote(text, safe="~")


def form_encode(pairs: Iterable[tuple[str, str]]) -> str:
    """net.oauth's ``OAuth.formEncode``: ``name=value`` pairs, percent-encoded, joined by ``&``."""
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in pairs)


def join_names(names: Iterable[str]) -> str:
    """A list of parameter names as net.oauth reports it: each percent-encoded, ``&``-joined."""
    return "&".join(percent_encode(name) for name in names)


class OAuth1ProblemError(Exception):
    """An ``oauth_problem`` with its extra parameters (e.g. ``oauth_parameters_absent``)."""

    def __init__(self, problem: str, **parameters: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.parameters = parameters

    @property
    def status(self) -> int:
        """The HTTP status net.oauth answers this problem with."""
        return HTTP_STATUS.get(self.problem, 403)

    def pairs(self) -> list[tuple[str, str]]:
        """``oauth_problem`` first, then the extra parameters in the order they were given."""
        return [("oauth_problem", self.problem), *self.parameters.items()]

    def www_authenticate(self, realm: str) -> str:
        """``OAuth realm="...", oauth_problem="...", ...`` (only ``oauth_*`` parameters)."""
        parts = [f'realm="{percent_encode(realm)}"']
        parts.extend(
            f'{percent_encode(name)}="{percent_encode(value)}"'
            for name, value in self.pairs()
            if name.startswith("oauth_")
        )
        return "OAuth " + ", ".join(parts)

    def headers(self, realm: str) -> dict[str, str]:
        """The headers of the answer (``WWW-Authenticate``)."""
        return {"WWW-Authenticate": self.www_authenticate(realm)}

    def body(self) -> str:
        """The form-encoded body that repeats the problem's parameters."""
        return form_encode(self.pairs())

    def to_response(self, realm: str) -> web.Response:
        """The servlets' answer: status, ``WWW-Authenticate`` and the form-encoded body."""
        return web.Response(
            status=self.status,
            body=self.body().encode("utf-8"),
            headers={**self.headers(realm), "Content-Type": FORM_CONTENT_TYPE},
        )


def parameter_absent(names: Iterable[str]) -> OAuth1ProblemError:
    """``parameter_absent`` naming the missing parameters."""
    return OAuth1ProblemError(PARAMETER_ABSENT, oauth_parameters_absent=join_names(names))


def parameter_rejected(names: Iterable[str], advice: str | None = None) -> OAuth1ProblemError:
    """``parameter_rejected`` naming the rejected parameters, with advice when given."""
    problem = OAuth1ProblemError(PARAMETER_REJECTED)
    listed = join_names(names)
    if listed:
        problem.parameters["oauth_parameters_rejected"] = listed
    if advice:
        problem.parameters["oauth_problem_advice"] = advice
    return problem
