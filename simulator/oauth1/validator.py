"""oauthlib's server-side endpoints, backed by the simulator's OAuth 1 backend.

Every signature is checked by oauthlib (``RequestTokenEndpoint``, ``AccessTokenEndpoint``,
``ResourceEndpoint``, ``SignatureOnlyEndpoint``) against the link's RSA public key; the
:class:`SimulatorValidator` answers oauthlib's questions from the backend and notes the first
problem it finds, so that a failed validation can be reported with the ``oauth_problem``
Bitbucket would give. Timestamps and nonces are judged on the simulator's clock (oauthlib's
own wall-clock check is switched off by an unbounded ``timestamp_lifetime``).

The flows below run the checks in the order of Atlassian's servlets (see
:mod:`simulator.oauth1.endpoints`): the servlet's own checks (consumer, token, verifier),
then :func:`~simulator.oauth1.message.check_message`, then oauthlib.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
    SignatureOnlyEndpoint,
)
from oauthlib.oauth1.rfc5849.errors import OAuth1Error

from simulator.oauth1.backend import OAuth1Backend, is_http_url
from simulator.oauth1.message import (
    SignedRequest,
    accepted_methods,
    check_message,
    require,
)
from simulator.oauth1.models import AccessToken, Authorization, OAuth1Link, RequestToken
from simulator.oauth1.problems import (
    CONSUMER_KEY_UNKNOWN,
    NONCE_USED,
    PERMISSION_DENIED,
    PERMISSION_UNKNOWN,
    SIGNATURE_INVALID,
    TOKEN_EXPIRED,
    TOKEN_REJECTED,
    OAuth1ProblemError,
    form_encode,
    parameter_rejected,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: The advice of a rejected ``oauth_callback`` (``RequestTokenServlet``).
INVALID_CALLBACK_ADVICE = (
    "As per OAuth spec version 1.0 Revision A Section 6.1 <http://oauth.net/core/1.0a#auth_step1>, "
    "the oauth_callback parameter is required and must be either a valid, absolute URI using "
    "the http or https scheme, or 'oob' if the callback has been established out of band. The "
    "following invalid URI was supplied '{}'"
)
DUMMY = "simulator-dummy"


@cache
def _dummy_key() -> RSAPublicKey:
    """A key no consumer holds, for oauthlib's constant-time path with unknown consumers."""
    from cryptography.hazmat.primitives.asymmetric import rsa  # deferred: start-up cost

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


class SimulatorValidator(RequestValidator):  # type: ignore[misc]
    """Answers oauthlib from the backend; ``problem`` is the first problem found."""

    def __init__(self, backend: OAuth1Backend) -> None:
        super().__init__()
        self.backend = backend
        self.problem: OAuth1ProblemError | None = None

    def fail(self, problem: str, **parameters: str) -> bool:
        """Note a problem (the first one wins) and answer False to oauthlib."""
        if self.problem is None:
            self.problem = OAuth1ProblemError(problem, **parameters)
        return False

    # -- policy -----------------------------------------------------------------------------

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return accepted_methods(self.backend.config)

    @property
    def enforce_ssl(self) -> bool:
        return False

    @property
    def timestamp_lifetime(self) -> int:
        # Judged on the simulated clock in validate_timestamp_and_nonce instead.
        return 10**12

    @property
    def realms(self) -> list[str]:
        return []

    # Consumer keys, tokens, nonces and verifiers of any shape reach the lookups, which
    # report unknown values with the problem Bitbucket gives.
    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key)

    def check_request_token(self, request_token: str) -> bool:
        return bool(request_token)

    def check_access_token(self, request_token: str) -> bool:
        return bool(request_token)

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce)

    def check_verifier(self, verifier: str) -> bool:
        return bool(verifier)

    def check_realms(self, realms: Any) -> bool:
        return True

    @property
    def dummy_client(self) -> str:
        return DUMMY

    @property
    def dummy_request_token(self) -> str:
        return DUMMY

    @property
    def dummy_access_token(self) -> str:
        return DUMMY

    # -- keys and secrets ---------------------------------------------------------------------

    def get_rsa_key(self, client_key: str, request: Any) -> RSAPublicKey:
        link = self.backend.link_by_consumer_key(client_key)
        return link.rsa_key if link is not None else _dummy_key()

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return ""  # never used: only RSA signature methods get this far

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return ""

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return ""

    # -- realms (Bitbucket has none) ----------------------------------------------------------

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def validate_requested_realms(self, client_key: str, realms: Any, request: Any) -> bool:
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def verify_realms(self, token: str, realms: Any, request: Any) -> bool:
        return True

    # -- lookups ------------------------------------------------------------------------------

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        if self.backend.link_by_consumer_key(client_key) is None:
            return self.fail(CONSUMER_KEY_UNKNOWN)
        return True

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        *,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        refused = self.backend.check_timestamp(int(timestamp))
        if refused is not None:
            return self.fail(refused.problem, **refused.parameters)
        token = request_token or access_token or getattr(request, "resource_owner_key", None)
        if not self.backend.use_nonce(client_key, token, int(timestamp), nonce):
            return self.fail(NONCE_USED)
        return True

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        return True  # checked before (see check_callback)

    def get_redirect_uri(self, token: str, request: Any) -> str:
        found = self.backend.request_tokens.get(token)
        return (found.callback if found else None) or "oob"

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        found = self.backend.request_tokens.get(token)
        if found is None or found.consumer_key != client_key:
            return self.fail(TOKEN_REJECTED)
        return True

    def verify_request_token(self, token: str, request: Any) -> bool:
        return token in self.backend.request_tokens

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        found = self.backend.request_tokens.get(token)
        expected = found.verifier if found is not None else None
        if expected is None or not secrets.compare_digest(expected.encode(), verifier.encode()):
            return self.fail(TOKEN_REJECTED)
        return True

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        self.backend.request_tokens.pop(request_token, None)

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        found = self.backend.access_tokens.get(token)
        if found is None or found.consumer_key != client_key:
            return self.fail(TOKEN_REJECTED)
        if self.backend.access_token_expired(found):
            return self.fail(TOKEN_EXPIRED)
        return True


# -- oauthlib's endpoints, answering in the plugin's formats ------------------------------------


class _RequestTokenEndpoint(RequestTokenEndpoint):  # type: ignore[misc]
    """Issues the token through the backend; the body as ``RequestTokenServlet`` writes it."""

    def create_request_token(self, request: Any, credentials: Any) -> str:
        validator: SimulatorValidator = self.request_validator
        backend = validator.backend
        link = backend.link_by_consumer_key(request.client_key)
        assert link is not None  # validated before
        callback = None if request.redirect_uri == "oob" else request.redirect_uri
        token = backend.issue_request_token(link, callback)
        return form_encode(
            [
                ("oauth_token", token.token),
                ("oauth_token_secret", token.secret),
                ("oauth_callback_confirmed", "true"),
            ]
        )


class _AccessTokenEndpoint(AccessTokenEndpoint):  # type: ignore[misc]
    """Exchanges the request token through the backend; ``AccessTokenServlet``'s body."""

    def create_access_token(self, request: Any, credentials: Any) -> str:
        validator: SimulatorValidator = self.request_validator
        found = validator.backend.request_tokens[request.resource_owner_key]
        return access_token_body(validator.backend.exchange(found))


def access_token_body(token: AccessToken) -> str:
    """``oauth_token``, secret, lifetimes (from the token's creation) and session handle."""
    return form_encode(
        [
            ("oauth_token", token.token),
            ("oauth_token_secret", token.secret),
            ("oauth_expires_in", str(round(token.expires - token.created))),
            ("oauth_session_handle", token.session_handle),
            ("oauth_authorization_expires_in", str(round(token.session_expires - token.created))),
        ]
    )


def _failure(validator: SimulatorValidator, signed: SignedRequest) -> OAuth1ProblemError:
    """The problem of a failed oauthlib validation: the validator's, else a bad signature
    reported as net.oauth reports it (signature, base string and method)."""
    if validator.problem is not None:
        return validator.problem
    return OAuth1ProblemError(
        SIGNATURE_INVALID,
        oauth_signature=signed.get("oauth_signature") or "",
        oauth_signature_base_string=signed.base_string(),
        oauth_signature_method=signed.get("oauth_signature_method") or "",
    )


def _answer(
    validator: SimulatorValidator, signed: SignedRequest, result: tuple[Any, Any, int]
) -> str:
    _, body, status = result
    if status == 200 and isinstance(body, str):
        return body
    if status == 400 and validator.problem is None:
        # An oauthlib refusal the checks above did not foresee: pass on its description.
        advice = dict(parse_qsl(body or "")).get("error_description", "")
        raise parameter_rejected([], advice or None)
    raise _failure(validator, signed)


def _link(backend: OAuth1Backend, consumer_key: str | None) -> OAuth1Link:
    link = backend.link_by_consumer_key(consumer_key)
    if link is None:
        raise OAuth1ProblemError(CONSUMER_KEY_UNKNOWN)
    return link


def check_callback(callback: str) -> None:
    """``oauth_callback`` must be ``oob`` or an absolute http(s) URI (``parameter_rejected``)."""
    if callback != "oob" and not is_http_url(callback):
        raise parameter_rejected(["oauth_callback"], INVALID_CALLBACK_ADVICE.format(callback))


def request_token(backend: OAuth1Backend, signed: SignedRequest) -> str:
    """``POST request-token``: the form-encoded new request token, or raise the problem.

    ``RequestTokenServlet``'s order: consumer key present and known, callback acceptable, then
    the message (repeats, version, parameters, method, timestamp, nonce, signature).
    """
    require(signed, ["oauth_consumer_key"])
    _link(backend, signed.get("oauth_consumer_key"))
    require(signed, ["oauth_callback"])  # 1.0a only (see the module docstring of endpoints)
    check_callback(signed.get("oauth_callback") or "")
    check_message(signed, backend, ["oauth_callback"])
    validator = SimulatorValidator(backend)
    endpoint = _RequestTokenEndpoint(validator)
    try:
        result = endpoint.create_request_token_response(
            signed.uri, signed.method, signed.body, dict(signed.headers)
        )
    except (OAuth1Error, ValueError):
        raise _failure(validator, signed) from None
    return _answer(validator, signed, result)


def _checked_request_token(
    backend: OAuth1Backend, signed: SignedRequest, token: RequestToken
) -> None:
    """``AccessTokenServlet.checkRequestToken``."""
    if backend.request_token_expired(token):
        raise OAuth1ProblemError(TOKEN_EXPIRED)
    if token.authorization is Authorization.NONE:
        raise OAuth1ProblemError(PERMISSION_UNKNOWN)
    if token.authorization is Authorization.DENIED:
        raise OAuth1ProblemError(PERMISSION_DENIED)
    if token.consumer_key != signed.get("oauth_consumer_key"):
        raise OAuth1ProblemError(TOKEN_REJECTED)
    require(signed, ["oauth_verifier"])
    verifier = signed.get("oauth_verifier") or ""
    if token.verifier is None or not secrets.compare_digest(
        token.verifier.encode(), verifier.encode()
    ):
        raise OAuth1ProblemError(TOKEN_REJECTED)


def access_token(backend: OAuth1Backend, signed: SignedRequest) -> str:
    """``POST access-token``: exchange an authorized request token, or renew an access token
    in its session (``oauth_session_handle``); the form-encoded answer, or raise the problem."""
    require(signed, ["oauth_token"])
    key = signed.get("oauth_token") or ""
    if key in backend.request_tokens:
        _checked_request_token(backend, signed, backend.request_tokens[key])
        check_message(signed, backend, ["oauth_token", "oauth_verifier"])
        validator = SimulatorValidator(backend)
        endpoint = _AccessTokenEndpoint(validator)
        try:
            result = endpoint.create_access_token_response(
                signed.uri, signed.method, signed.body, dict(signed.headers)
            )
        except (OAuth1Error, ValueError):
            raise _failure(validator, signed) from None
        return _answer(validator, signed, result)
    if key in backend.access_tokens:
        return _renew(backend, signed, backend.access_tokens[key])
    raise OAuth1ProblemError(TOKEN_REJECTED)


def _renew(backend: OAuth1Backend, signed: SignedRequest, token: AccessToken) -> str:
    """``AccessTokenServlet.checkAccessToken``, then the signature, then a fresh token."""
    require(signed, ["oauth_session_handle"])
    handle = signed.get("oauth_session_handle") or ""
    if not secrets.compare_digest(token.session_handle.encode(), handle.encode()):
        raise OAuth1ProblemError(TOKEN_REJECTED)
    if backend.session_expired(token):
        raise OAuth1ProblemError(PERMISSION_DENIED)
    if token.consumer_key != signed.get("oauth_consumer_key"):
        raise OAuth1ProblemError(TOKEN_REJECTED)
    verify_signature_only(backend, signed, ["oauth_token", "oauth_session_handle"])
    return access_token_body(backend.renew(token))


def verify_signature_only(
    backend: OAuth1Backend, signed: SignedRequest, required: list[str]
) -> OAuth1Link:
    """A request signed by a known consumer (no token checks): two-legged calls, renewals."""
    require(signed, ["oauth_consumer_key"])
    link = _link(backend, signed.get("oauth_consumer_key"))
    check_message(signed, backend, required)
    validator = SimulatorValidator(backend)
    try:
        valid, _ = SignatureOnlyEndpoint(validator).validate_request(
            signed.uri, signed.method, signed.body, dict(signed.headers)
        )
    except (OAuth1Error, ValueError):
        valid = False
    if not valid:
        raise _failure(validator, signed)
    return link


def verify_access(backend: OAuth1Backend, signed: SignedRequest) -> AccessToken:
    """A REST call signed with an access token (``AuthenticatorImpl.authenticate3LORequest``):
    the token, then the message and signature, then the consumer."""
    token = backend.access_tokens.get(signed.get("oauth_token") or "")
    if token is None or token.consumer_key != signed.get("oauth_consumer_key"):
        raise OAuth1ProblemError(TOKEN_REJECTED)
    if backend.access_token_expired(token):
        raise OAuth1ProblemError(TOKEN_EXPIRED)
    check_message(signed, backend, ["oauth_token"])
    validator = SimulatorValidator(backend)
    try:
        valid, _ = ResourceEndpoint(validator).validate_protected_resource_request(
            signed.uri, signed.method, signed.body, dict(signed.headers)
        )
    except (OAuth1Error, ValueError):
        valid = False
    if not valid:
        raise _failure(validator, signed)
    _link(backend, token.consumer_key)
    return token
