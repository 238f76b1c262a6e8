"""The guide's version note: Application Links using OAuth 2 exist from Bitbucket 7.21; with
an older version the admin must follow the OAuth 1 setup guide."""

from __future__ import annotations

import re

from conformance.context import ScenarioContext
from conformance.steps import expect, then
from conformance.steps.open_the_add_integration_form import describe_form

_OAUTH1 = re.compile(r"\boauth[\s_-]*(?:v(?:ersion)?\s*)?1(?!\d)", re.IGNORECASE)
_MINIMUM = re.compile(r"(?<![\d.])(?:v|version\s*)?7\.21(?![\d])", re.IGNORECASE)


@then("the admin is told that OAuth 2 needs Bitbucket 7.21 and pointed to OAuth 1")
def told_oauth2_needs_7_21(ctx: ScenarioContext) -> None:
    """Asserts one of the form's messages names version 7.21 and points to OAuth 1."""
    form = ctx.form
    expect(
        any(_MINIMUM.search(m) and _OAUTH1.search(m) for m in form.messages),
        "a message on the form saying OAuth 2 needs Bitbucket 7.21 and pointing to OAuth 1 "
        "(naming both '7.21' and 'OAuth 1')",
        f"the form shows {describe_form(form)}",
    )
