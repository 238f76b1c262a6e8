"""A signed OAuth request as the provider sees it, and the checks net.oauth makes on every one.

:func:`signed_request` reads an aiohttp request into a :class:`SignedRequest`: the URL the
client addressed (scheme and ``Host`` as received, the way a servlet's ``getRequestURL``
sees them), the ``Authorization: OAuth`` header, and the body when it is a form (a JSON body,
or none, never carries OAuth parameters or enters the signature). Parameters are collected
with oauthlib's own helpers.

:func:`check_message` makes the checks of net.oauth's ``SimpleOAuthValidator`` that come
before the timestamp, nonce and signature (those are oauthlib's, driven by
:mod:`simulator.oauth1.validator`): one place for the OAuth parameters, no repeats,
``oauth_version`` 1.0, the required parameters present, a numeric timestamp, and an accepted
signature method.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from simulator.config import OAuth1Config
from simulator.oauth1.backend import OAuth1Backend
from simulator.oauth1.paths import is_oauth_header
from simulator.oauth1.problems import (
    SIGNATURE_METHOD_REJECTED,
    TIMESTAMP_REFUSED,
    VERSION_REJECTED,
    OAuth1ProblemError,
    form_encode,
    join_names,
    parameter_absent,
    parameter_rejected,
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
RSA_SHA1 = "RSA-SHA1"
RSA_SHA2 = ("RSA-SHA256", "RSA-SHA512")
#: What every signed request carries, in the order net.oauth reports them absent.
SIGNED_PARAMETERS = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)
SPLIT_ADVICE = (
    "Send every OAuth protocol parameter in one place: the Authorization header, the form "
    "body or the query string."
)


def canonical_url(url: str) -> str:
    """``url`` with its query re-encoded strictly (neutral to the signature base string, which
    decodes and re-encodes every parameter anyway), so oauthlib can always parse it."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return urlunsplit(parts._replace(query=urlencode(pairs, quote_via=quote)))


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """An OAuth-signed request: method, URL, headers and body for oauthlib, and its
    parameters by source."""

    method: str
    uri: str
    #: Only what oauthlib should see: Content-Type, and Authorization when it is OAuth.
    headers: Mapping[str, str]
    #: The form body ('' when the body is not a form).
    body: str
    header_params: list[tuple[str, str]] = field(default_factory=list)
    body_params: list[tuple[str, str]] = field(default_factory=list)
    query_params: list[tuple[str, str]] = field(default_factory=list)
    #: The Authorization header uses the OAuth scheme but could not be parsed.
    header_malformed: bool = False

    @classmethod
    def build(
        cls, method: str, uri: str, headers: Mapping[str, str], body: str = ""
    ) -> SignedRequest:
        """Collect the parameters of a request (``body`` only when it is a form)."""
        uri = canonical_url(uri)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        is_form = FORM_CONTENT_TYPE in content_type.lower()
        kept: dict[str, str] = {"Content-Type": content_type} if content_type else {}
        header_params: list[tuple[str, str]] = []
        malformed = False
        if is_oauth_header(authorization):
            try:
                header_params = oauth_signature.collect_parameters(
                    headers={"Authorization": authorization},
                    exclude_oauth_signature=False,
                    with_realm=True,
                )
                kept["Authorization"] = authorization
            except ValueError:
                malformed = True
        body = body if is_form else ""
        return cls(
            method=method.upper(),
            uri=uri,
            headers=kept,
            body=body,
            header_params=header_params,
            body_params=oauth_signature.collect_parameters(body=body, exclude_oauth_signature=False)
            if body
            else [],
            query_params=oauth_signature.collect_parameters(
                uri_query=urlsplit(uri).query, exclude_oauth_signature=False
            ),
            header_malformed=malformed,
        )

    @property
    def params(self) -> list[tuple[str, str]]:
        """Every parameter (header, body, query), ``realm`` included."""
        return [*self.header_params, *self.body_params, *self.query_params]

    @property
    def oauth_pairs(self) -> list[tuple[str, str]]:
        """The ``oauth_*`` parameters from every source, repeats kept."""
        return [(name, value) for name, value in self.params if name.startswith("oauth_")]

    def get(self, name: str) -> str | None:
        """The first value of a parameter (from any source), or None."""
        return next((value for key, value in self.params if key == name), None)

    def present(self, name: str) -> bool:
        """A parameter given with a non-empty value."""
        return bool(self.get(name))

    def base_string(self) -> str:
        """The signature base string of this request, computed by oauthlib (for reports)."""
        try:
            params = oauth_signature.collect_parameters(
                uri_query=urlsplit(self.uri).query,
                body=self.body or None,
                headers=dict(self.headers),
                exclude_oauth_signature=True,
                with_realm=False,
            )
            return str(
                oauth_signature.signature_base_string(
                    self.method,
                    oauth_signature.base_string_uri(self.uri),
                    oauth_signature.normalize_parameters(params),
                )
            )
        except ValueError:
            return ""


async def signed_request(request: web.Request) -> SignedRequest:
    """Read an aiohttp request (its body only when it is a form; aiohttp keeps it for later)."""
    body = ""
    if request.content_type == FORM_CONTENT_TYPE and request.body_exists:
        body = (await request.read()).decode("utf-8", "replace")
    headers = {
        name: value
        for name in ("Authorization", "Content-Type")
        if (value := request.headers.get(name)) is not None
    }
    return SignedRequest.build(request.method, str(request.url), headers, body)


def accepted_methods(config: OAuth1Config) -> tuple[str, ...]:
    """The signature methods accepted under the current settings."""
    return (RSA_SHA1, *RSA_SHA2) if config.accept_rsa_sha2 else (RSA_SHA1,)


def require(signed: SignedRequest, names: Sequence[str]) -> None:
    """``parameter_absent`` naming every one of ``names`` the request lacks."""
    if signed.header_malformed:
        names = list(dict.fromkeys([*SIGNED_PARAMETERS, *names]))
    absent = [name for name in names if not signed.present(name)]
    if absent:
        raise parameter_absent(absent)


def check_message(signed: SignedRequest, backend: OAuth1Backend, required: Sequence[str]) -> None:
    """net.oauth's checks before timestamp, nonce and signature; raise the problem."""
    sources = [
        [name for name, _ in params if name.startswith("oauth_")]
        for params in (signed.header_params, signed.body_params, signed.query_params)
    ]
    used = [names for names in sources if names]
    if len(used) > 1:
        raise parameter_rejected(
            dict.fromkeys(name for names in used[1:] for name in names), SPLIT_ADVICE
        )
    counts = Counter(name for name, _ in signed.oauth_pairs)
    repeated = [(n, v) for n, v in signed.oauth_pairs if counts[n] > 1]
    if repeated:
        raise OAuth1ProblemError(
            "parameter_rejected", oauth_parameters_rejected=form_encode(repeated)
        )
    version = signed.get("oauth_version")
    if version is not None and version != "1.0":
        raise OAuth1ProblemError(VERSION_REJECTED, oauth_acceptable_versions="1.0-1.0")
    require(signed, list(dict.fromkeys([*SIGNED_PARAMETERS, *required])))
    timestamp = signed.get("oauth_timestamp") or ""
    if not timestamp.isascii() or not timestamp.isdigit():
        raise parameter_rejected(["oauth_timestamp"])
    if len(timestamp) != 10:  # oauthlib's rule; such a time is decades away from now
        refused = backend.check_timestamp(int(timestamp))
        low, high = backend.acceptable_timestamps()
        raise refused or OAuth1ProblemError(
            TIMESTAMP_REFUSED, oauth_acceptable_timestamps=f"{low}-{high}"
        )
    methods = accepted_methods(backend.config)
    if signed.get("oauth_signature_method") not in methods:
        raise OAuth1ProblemError(
            SIGNATURE_METHOD_REJECTED, oauth_acceptable_signature_methods=join_names(methods)
        )
