"""Integrations that refresh OAuth 2 tokens ahead of ``expires_in`` by their own clock, and
never on Bitbucket's rejection: a legal choice the suite must accept once the integration
declares ``clock`` (the harness then moves its clock with Bitbucket's)."""

from __future__ import annotations

from conformance.mutants.rulebook import variant
from conformance.reference.bitbucket import Answer
from conformance.reference.integrator import ReferenceIntegrator, create
from conformance.reference.models import BrowserSession, OAuth1Token, ReferenceState
from conformance.reference.server import ReferenceFactory
from conformance.reference.service import Call, LoginProblemError, Reference


class RefreshesAheadOnly(Reference):
    """Refreshes when its own clock says the access token expired; a token Bitbucket does
    not take ends the login (no refresh on rejection)."""

    async def _authorized(self, session: BrowserSession, call: Call) -> Answer:
        tokens = session.tokens
        integration = self.state.integrations.get(session.integration_id or "")
        if integration is None or tokens is None or isinstance(tokens, OAuth1Token):
            return await super()._authorized(session, call)
        if self.rules.token_expired(tokens.expires_at, self.state.clock.now()):
            tokens = await self._refresh(session, integration, tokens)
        client = self.bitbucket(integration.base_url)
        answer = await self._call(integration, client, call, tokens.access_token)
        if self.rules.token_rejected(answer.status, answer.username):
            session.log_out(self.rules.LOGIN_NO_LONGER_VALID)
            raise LoginProblemError(self.rules.LOGIN_NO_LONGER_VALID)
        return answer


def _factory(declares_clock: bool) -> ReferenceFactory:
    rules = variant(OFFERS_CLOCK=declares_clock)

    def build(state: ReferenceState) -> Reference:
        return RefreshesAheadOnly(state, rules)

    return build


def refreshes_ahead_with_clock() -> ReferenceIntegrator:
    """Declares ``clock``: the harness moves its clock, and every @must passes."""
    return create(_factory(True))


def refreshes_ahead_without_clock() -> ReferenceIntegrator:
    """Does not declare ``clock``: its clock never moves, so it never refreshes."""
    return create(_factory(False))
