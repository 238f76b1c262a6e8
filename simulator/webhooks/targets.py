"""Where deliveries may go: loopback only, unless ``--webhook-remote-targets`` allows more.

The simulator must never become a way to send requests anywhere: anyone who can reach it
(a test, a fuzzer, a page that cross-posts to it) can create a webhook and push, and a
delivery is a POST of the caller's choosing from the simulator's machine. So by default a
target's host must be a loopback address (``127.0.0.0/8``, ``::1``) or ``localhost`` (and
``*.localhost``, RFC 6761), which :class:`LoopbackResolver` maps to loopback without any
lookup: another name is refused without asking DNS, since a DNS query is itself a request
off the machine. The simulator's own address is refused too (a webhook to ``/_sim/reset``
would reset it on every push). A refused target is a delivery recorded as an error, never a
connection; creating the webhook is not refused, as Bitbucket accepts any URL.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_LOOPBACK = (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6))


def is_local_name(host: str) -> bool:
    """``localhost`` and its subdomains, which always mean this machine (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def is_loopback(host: str) -> bool:
    """A loopback address literal (an IPv4-mapped IPv6 one counts as IPv4)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def refusal(url: str, *, remote_allowed: bool, own: tuple[str, int] | None) -> str | None:
    """Why a delivery to ``url`` is refused, or ``None`` when it may go. ``own`` is the
    simulator's (host, port)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "the URL cannot be parsed"
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    local = is_loopback(host) or is_local_name(host)
    if own is not None and port == own[1] and (local or host.lower() == own[0].lower()):
        return "the URL is the simulator's own address"
    if remote_allowed or local:
        return None
    return (
        f"{host} is not a loopback address: webhooks may only target 127.0.0.1, ::1 or "
        "localhost unless the simulator runs with --webhook-remote-targets "
        "(BBDC_SIM_WEBHOOK_REMOTE_TARGETS=1)"
    )


class LoopbackResolver(AbstractResolver):
    """Resolves ``localhost`` names to loopback and refuses every other name, unasked.

    aiohttp connects to address literals without a resolver; :func:`refusal` has checked
    those already.
    """

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Loopback for a local name (IPv4 first); an ``OSError`` for any other."""
        if not is_local_name(host) and not is_loopback(host):
            raise OSError(f"{host} is not a loopback address")
        chosen = [
            (address, kind)
            for address, kind in _LOOPBACK
            if family in (socket.AF_UNSPEC, kind) or is_loopback(host)
        ]
        if is_loopback(host):
            chosen = [(host, socket.AF_INET6 if ":" in host else socket.AF_INET)]
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=kind, proto=0, flags=_NUMERIC
            )
            for address, kind in chosen
        ]

    async def close(self) -> None:
        """Nothing to release."""
