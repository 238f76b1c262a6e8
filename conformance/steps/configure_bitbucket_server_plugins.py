"""Guide section "Configure Bitbucket Server plugins": when the "U2F & TOTP" two-factor plugin
is installed, its OAuth whitelist must be enabled, otherwise the integration cannot
authenticate with Bitbucket.

The plugin's state is set through the simulator's control API (``tfa`` in its config). It
forces two-factor authentication on every user, so a user's Bitbucket login enrols a TOTP
app (:func:`conformance.steps.common.pass_login_pages`).
"""

from __future__ import annotations

import re

from conformance.context import FeatureFileError, ScenarioContext
from conformance.steps import expect, given_or_when, then
from conformance.steps.share_the_login_link import attempt_of, describe_session, session_of

#: The plugins the simulator emulates, by the name the guide uses.
PLUGINS = {"U2F & TOTP": "tfa"}


def install_plugin(ctx: ScenarioContext, plugin: str, oauth_whitelist: bool) -> None:
    """Install the plugin (forcing two-factor authentication on everyone), whitelist on/off."""
    if plugin not in PLUGINS:
        known = ", ".join(f'"{name}"' for name in PLUGINS)
        raise FeatureFileError(f'unknown plugin "{plugin}"; the simulator emulates {known}')
    ctx.sim.patch_config(
        {PLUGINS[plugin]: {"installed": True, "enforce": "all", "oauth_whitelist": oauth_whitelist}}
    )


@given_or_when('the "{plugin}" plugin is installed without the OAuth whitelist')
def plugin_without_whitelist(ctx: ScenarioContext, plugin: str) -> None:
    """Installs the two-factor plugin on Bitbucket with its OAuth whitelist disabled."""
    install_plugin(ctx, plugin, oauth_whitelist=False)


@given_or_when('the "{plugin}" plugin is installed with the OAuth whitelist enabled')
def plugin_with_whitelist(ctx: ScenarioContext, plugin: str) -> None:
    """Installs the two-factor plugin on Bitbucket with its OAuth whitelist enabled."""
    install_plugin(ctx, plugin, oauth_whitelist=True)


#: The plugin's setting by its name or the newer words for it ("allowlist", "allow list").
WHITELIST = re.compile(r"white[\s_-]?list|allow[\s_-]?list", re.IGNORECASE)


@then("the integration's error names the OAuth whitelist")
def error_names_the_whitelist(ctx: ScenarioContext) -> None:
    """Asserts the integration's error for the user names the OAuth whitelist (so that the
    admin knows what to enable)."""
    attempt = attempt_of(ctx)
    state = session_of(ctx, attempt)
    error = state.error or ""
    expect(
        "oauth" in error.lower() and WHITELIST.search(error) is not None,
        "an error that names the OAuth whitelist of the two-factor plugin",
        f"the integration answers {describe_session(state)}",
    )
