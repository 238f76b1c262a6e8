"""OAuth 1 guide, "Bitbucket 8 and later": from Bitbucket v8 on, OAuth 1 links can no longer
be used to set up synchronizations (Private Packagist's note); an integration offering OAuth 1
warns the admin on such a server, and only there.

The server's version is set with the common step; the form is opened with the common steps.
"""

from __future__ import annotations

import re

from conformance.context import FeatureFileError, ScenarioContext
from conformance.steps import expect, then
from conformance.steps.oauth1_open_the_add_integration_form import describe_oauth1_form

#: How a feature says whether the warning is expected.
PRESENCE = {"shown": True, "absent": False}
_SYNCHRONISATION = re.compile(r"synchroni[sz]", re.IGNORECASE)
_OAUTH1 = re.compile(r"\boauth[\s_-]*(?:v(?:ersion)?\s*)?1(?!\d)", re.IGNORECASE)
_VERSION_8 = re.compile(r"\b(?:v|version\s*)?8(?:\.0)?\b", re.IGNORECASE)


def is_synchronisation_warning(message: str) -> bool:
    """Whether a message says OAuth 1 links cannot serve synchronisations from version 8."""
    return bool(
        _SYNCHRONISATION.search(message) and _OAUTH1.search(message) and _VERSION_8.search(message)
    )


@then('the warning that OAuth 1 links cannot set up synchronizations is "{presence}"')
def synchronisation_warning(ctx: ScenarioContext, presence: str) -> None:
    """Asserts the form warns that OAuth 1 links cannot set up synchronizations from
    Bitbucket 8 ("shown"), or does not ("absent")."""
    if presence not in PRESENCE:
        known = ", ".join(f'"{name}"' for name in PRESENCE)
        raise FeatureFileError(f'unknown presence "{presence}"; write {known}')
    form = ctx.form
    warned = [m for m in ctx.form.messages if is_synchronisation_warning(m)]
    if PRESENCE[presence]:
        expect(
            warned,
            "a message saying that from Bitbucket 8 OAuth 1 links can no longer be used to set "
            "up synchronizations (naming 'OAuth 1', 'synchronization' and version 8)",
            f"the form shows {describe_oauth1_form(form)}",
        )
    else:
        expect(
            not warned,
            "no warning about synchronizations on a server older than Bitbucket 8",
            f"the form warns: {'; '.join(warned)}",
        )
