"""Per-user TOTP secrets and the logins waiting for their second factor.

The state lives in one :class:`TfaState` held by the store (``store.tfa``) and emptied by
``Store.reset``. A password login of a user to whom 2FA applies does not open a session: it
starts a :class:`PendingLogin`, named by the ``TFAPENDINGID`` cookie, which the enrolment or
verification page completes once the user types a valid code.

Codes are RFC 6238 TOTP codes (pyotp: SHA-1, 6 digits, 30-second steps) checked on the
simulator's clock with one step of tolerance either side (``valid_window=1``), so a code is
accepted from about 30 s before to 60 s after the step it was made for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from simulator.model import User

#: The cookie naming a pending login (the plugin's real mechanism is UNCONFIRMED).
PENDING_COOKIE = "TFAPENDINGID"
#: How long a password login may wait for its second factor, in seconds.
PENDING_SECONDS = 600
#: At most this many pending logins are kept (the oldest go first), as sessions are bounded.
MAX_PENDING = 10_000
#: What the authenticator app shows next to the account.
ISSUER = "Bitbucket"
DIGITS = 6


@dataclass(slots=True)
class PendingLogin:
    """A password login that still needs its second factor."""

    id: str
    user_id: int
    #: Where the login goes afterwards (already checked by ``safe_next``), or None.
    next: str | None
    created: float
    #: The secret offered at enrolment, kept until a code confirms it.
    offered_secret: str | None = None


class TfaState:
    """Confirmed TOTP secrets by user id, and the pending logins by id."""

    def __init__(self) -> None:
        self.secrets: dict[int, str] = {}
        self.pending: dict[str, PendingLogin] = {}

    def reset(self) -> None:
        """Forget every enrolment and every pending login."""
        self.secrets.clear()
        self.pending.clear()

    def enrolled(self, user_id: int) -> bool:
        """Whether the user has confirmed a TOTP secret."""
        return user_id in self.secrets

    def begin(self, user_id: int, next_path: str | None, now: float) -> PendingLogin:
        """Start a pending login (dropping the expired ones)."""
        for key in [k for k, p in self.pending.items() if now - p.created >= PENDING_SECONDS]:
            del self.pending[key]
        while len(self.pending) >= MAX_PENDING:
            del self.pending[next(iter(self.pending))]
        login = PendingLogin(id=secrets.token_hex(16), user_id=user_id, next=next_path, created=now)
        self.pending[login.id] = login
        return login

    def find(self, pending_id: str, now: float) -> PendingLogin | None:
        """The live pending login with this id (an expired one is dropped)."""
        login = self.pending.get(pending_id)
        if login is None:
            return None
        if now - login.created >= PENDING_SECONDS:
            del self.pending[pending_id]
            return None
        return login

    def offer_secret(self, login: PendingLogin) -> str:
        """The secret to enrol with (made once per pending login)."""
        if login.offered_secret is None:
            import pyotp  # the plugin's TOTP: loaded on the first enrolment

            login.offered_secret = pyotp.random_base32()
        return login.offered_secret

    def confirm(self, login: PendingLogin, secret: str) -> None:
        """Enrol the login's user with ``secret`` and end the pending login."""
        self.secrets[login.user_id] = secret
        self.finish(login)

    def finish(self, login: PendingLogin) -> None:
        """End a pending login."""
        self.pending.pop(login.id, None)


def normalise_code(raw: str) -> str | None:
    """The code as six digits (spaces removed), or None when it cannot be a code."""
    code = "".join(raw.split())
    return code if len(code) == DIGITS and code.isascii() and code.isdigit() else None


def verify_code(secret: str, raw: str, now: float) -> bool:
    """Whether ``raw`` is a current TOTP code for ``secret`` at simulated time ``now``."""
    code = normalise_code(raw)
    if code is None:
        return False
    try:
        import pyotp

        return pyotp.TOTP(secret).verify(code, for_time=int(now), valid_window=1)
    except ValueError:  # a clock advanced beyond year 9999
        return False


def provisioning_uri(secret: str, user: User) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=ISSUER)
