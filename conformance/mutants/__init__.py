"""Mutants: the reference implementation with one realistic integration bug each.

A conformance suite is worth what it catches. Each :class:`Mutant` is the bundled reference
(:mod:`conformance.reference`) with exactly one thing changed (one rule of
:mod:`conformance.reference.rules`, or one method of the flow), the scenarios meant to catch
it, and their level. Run the suite against one::

    bbdc-sim conform --sut conformance.mutants:create_no_state

``make mutants`` (:mod:`conformance.mutants.table`) runs the suite against every mutant and
prints who caught what; ``tests/conformance/test_mutants.py`` asserts that the scenarios
named for each mutant fail on it and pass on the reference. ``docs/mutants.md`` lists them
and says how to add one.

Mutants never patch a module: a rule change is a new rules object
(:func:`~conformance.mutants.rulebook.variant`) handed to that mutant's
:class:`~conformance.reference.service.Reference`, a flow change a subclass of it, so the
reference and any mutant can run in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from conformance.mutants import bugs
from conformance.mutants.rulebook import variant
from conformance.reference import integrator
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.models import ReferenceState
from conformance.reference.server import ReferenceFactory
from conformance.reference.service import Reference

Level = Literal["must", "should"]

VERSION_NOTE: Final = "features/oauth2/00-version-note.feature"
OPEN_THE_FORM: Final = "features/oauth2/01-open-the-add-integration-form.feature"
FINISH_THE_SETUP: Final = "features/oauth2/03-finish-the-setup.feature"
SHARE_THE_LOGIN_LINK: Final = "features/oauth2/04-share-the-login-link.feature"
PLUGINS: Final = "features/oauth2/05-configure-bitbucket-server-plugins.feature"
OAUTH1_FINISH_THE_SETUP: Final = "features/oauth1/03-finish-the-setup.feature"
OAUTH1_LOG_IN: Final = "features/oauth1/04-log-in.feature"
OAUTH1_BITBUCKET_8: Final = "features/oauth1/05-bitbucket-8-and-later.feature"
PACKAGES: Final = "features/after-login/01-packages.feature"
WEBHOOKS: Final = "features/after-login/02-webhooks.feature"

#: The scenarios an OAuth 2 mutant runs on (the OAuth 1 ones take most of a run's time).
OAUTH2_TAGS: Final = "not oauth1"
#: The scenarios an OAuth 1 mutant runs on.
OAUTH1_TAGS: Final = "oauth1"


@dataclass(frozen=True, slots=True)
class Catch:
    """A scenario meant to catch a mutant: its feature file (relative to the repository), its
    name, its level there, and for a Scenario Outline the example (``"version: 7.6.0"``, as
    the report names it) when only that row is meant; otherwise every row."""

    feature: str
    scenario: str
    level: Level
    example: str | None = None

    def matches(self, feature: str, name: str) -> bool:
        """Whether a scenario of the report (feature file, name with its example) is this one."""
        if feature != self.feature:
            return False
        if self.example is not None:
            return name == f"{self.scenario} ({self.example})"
        return name == self.scenario or name.startswith(f"{self.scenario} (")

    def __str__(self) -> str:
        suffix = f" ({self.example})" if self.example else ""
        return f"{self.feature}: {self.scenario}{suffix} @{self.level}"


@dataclass(frozen=True, slots=True)
class Mutant:
    """The reference with one bug."""

    name: str
    #: The bug, in one line.
    bug: str
    #: The scenarios meant to catch it (each must fail on the mutant).
    catches: tuple[Catch, ...]
    #: Builds the mutant's logic on the reference server's state.
    build: ReferenceFactory
    #: What changed: ``rules.<name>`` or ``Reference.<method>``.
    changed: str

    @property
    def sut(self) -> str:
        """The ``--sut`` value that runs the suite against it."""
        return f"conformance.mutants:create_{self.name}"

    @property
    def levels(self) -> tuple[Level, ...]:
        """The levels of the scenarios meant to catch it (each once, ``must`` first)."""
        found = {catch.level for catch in self.catches}
        return tuple(level for level in ("must", "should") if level in found)

    @property
    def tags(self) -> str | None:
        """The ``--tags`` of its runs: the OAuth 1 scenarios when every scenario named for it
        is one (``features/oauth1/``), the OAuth 2 ones when none is, else every scenario."""
        oauth1 = {catch.feature.startswith("features/oauth1/") for catch in self.catches}
        if oauth1 == {True}:
            return OAUTH1_TAGS
        if oauth1 == {False}:
            return OAUTH2_TAGS
        return None

    def create(self) -> ReferenceIntegrator:
        """The ``--sut`` factory: a reference server running this mutant, driven in process."""
        return integrator.create(self.build)


def with_rule(name: str, value: object) -> tuple[ReferenceFactory, str]:
    """A factory of the reference whose rule ``name`` is ``value``, and what changed."""
    rules = variant(**{name: value})

    def build(state: ReferenceState) -> Reference:
        return Reference(state, rules)

    return build, f"rules.{name}"


def with_rules(**changes: object) -> tuple[ReferenceFactory, str]:
    """A factory of the reference whose rules ``changes`` names are replaced together (one
    bug that shows in several rules), and what changed."""
    rules = variant(**changes)

    def build(state: ReferenceState) -> Reference:
        return Reference(state, rules)

    return build, "rules." + ", rules.".join(sorted(changes))


def with_flow(
    subclass: type[Reference], *methods: str, **rule_changes: object
) -> tuple[ReferenceFactory, str]:
    """A factory of a subclass of the reference overriding ``methods`` (one bug may need two
    places of the flow; and, for a bug that shows in the flow and in rules, with those rules
    replaced), and what changed."""
    overridden = {
        name for cls in subclass.__mro__[: subclass.__mro__.index(Reference)] for name in vars(cls)
    }
    missing = [method for method in methods if method not in overridden]
    if not methods or missing:
        raise ValueError(f"{subclass.__name__} does not override {', '.join(missing) or '?'}")
    changed = ", ".join(f"Reference.{method}" for method in methods)
    if not rule_changes:
        return subclass, changed
    rules = variant(**rule_changes)

    def build(state: ReferenceState) -> Reference:
        return subclass(state, rules)

    return build, changed + ", rules." + ", rules.".join(sorted(rule_changes))


def mutant(name: str, bug: str, change: tuple[ReferenceFactory, str], *catches: Catch) -> Mutant:
    """One entry of :data:`MUTANTS`."""
    build, changed = change
    return Mutant(name=name, bug=bug, catches=catches, build=build, changed=changed)


def must(feature: str, scenario: str, example: str | None = None) -> Catch:
    """A ``@must`` scenario meant to catch a mutant."""
    return Catch(feature, scenario, "must", example)


def should(feature: str, scenario: str, example: str | None = None) -> Catch:
    """A ``@should`` scenario meant to catch a mutant (its failure is a warning)."""
    return Catch(feature, scenario, "should", example)


#: Every mutant, roughly in the order of the guide.
MUTANTS: Final[tuple[Mutant, ...]] = (
    mutant(
        "offers_oauth2_below_7_21",
        "offers OAuth 2 on Bitbucket 7.17 and 7.20 without a word about 7.21 or OAuth 1",
        with_rule("offers_oauth2", bugs.offers_oauth2_everywhere),
        should(
            VERSION_NOTE,
            "Below 7.21 the integration says OAuth 2 is unavailable and points to OAuth 1",
        ),
    ),
    mutant(
        "version_compared_as_decimal",
        "compares versions as decimal numbers, so 7.6 (an LTS) looks newer than 7.21",
        with_rule("offers_oauth2", bugs.offers_oauth2_by_decimal),
        should(
            VERSION_NOTE,
            "Below 7.21 the integration says OAuth 2 is unavailable and points to OAuth 1",
            "version: 7.6.0",
        ),
    ),
    mutant(
        "setup_link_to_wrong_page",
        "the setup link opens Bitbucket's administration home, not Application links",
        with_rule("setup_link", bugs.setup_link_to_admin_home),
        must(OPEN_THE_FORM, "The form shows the setup link and the callback URL"),
    ),
    mutant(
        "setup_link_without_context_path",
        "builds the setup link from the host, dropping the base URL's context path",
        with_rule("setup_link", bugs.setup_link_at_host_root),
        must(OPEN_THE_FORM, "A base URL with a context path is kept in the setup link"),
    ),
    mutant(
        "base_url_without_context_path",
        "cuts the base URL to scheme, host and port (https://host/bitbucket -> https://host)",
        with_rule("normalise_base_url", bugs.normalise_base_url_to_host),
        must(OPEN_THE_FORM, "A base URL with a context path is kept in the setup link"),
    ),
    mutant(
        "shared_login_link",
        "one slug for every integration: one login link and callback URLs shared by all",
        with_rule("integration_slug", bugs.shared_slug),
        should(OPEN_THE_FORM, "Each integration gets its own callback URLs"),
        must(SHARE_THE_LOGIN_LINK, "The login link is specific to its integration"),
    ),
    mutant(
        "drops_second_callback_url",
        "the form shows only the first of its two callback URLs; the login uses the second",
        with_rule("callback_urls", bugs.callback_urls_showing_one),
        must(SHARE_THE_LOGIN_LINK, "A user logs in through the login link"),
    ),
    mutant(
        "submit_without_checking_credentials",
        '"Create Integration" keeps the Client ID and Secret without asking Bitbucket (the '
        "first login reports them)",
        with_flow(bugs.SubmitWithoutCheck, "_check_credentials"),
        should(FINISH_THE_SETUP, 'A wrong client secret is reported at "Create Integration"'),
    ),
    mutant(
        "wrong_secret_swallowed",
        '"Create Integration" keeps a wrong secret unchecked, and the refused login says '
        "nothing of the client credentials",
        with_flow(
            bugs.SubmitWithoutCheck, "_check_credentials", token_error=bugs.generic_token_error
        ),
        must(FINISH_THE_SETUP, "A wrong client secret is reported to the admin, not swallowed"),
    ),
    mutant(
        "no_state",
        "sends no state in the authorization request and relies on PKCE alone",
        with_rules(
            authorize_url=bugs.authorize_url_without_state, state_matches=bugs.any_state_matches
        ),
        should(SHARE_THE_LOGIN_LINK, "The authorization request carries state"),
    ),
    mutant(
        "no_csrf_protection",
        "sends neither state nor PKCE: any browser can be logged in with another's code",
        with_rules(
            authorize_url=bugs.authorize_url_without_state,
            state_matches=bugs.any_state_matches,
            PKCE_METHOD=None,
        ),
        must(SHARE_THE_LOGIN_LINK, "The login is protected against cross-site request forgery"),
        must(
            SHARE_THE_LOGIN_LINK,
            "A callback carrying another browser's state and code is rejected while the user "
            "logs in",
        ),
    ),
    mutant(
        "one_state_for_every_browser",
        "sends the same state to every browser",
        with_rule("new_state", bugs.one_state),
        must(SHARE_THE_LOGIN_LINK, "Two browsers starting a login get different state values"),
    ),
    mutant(
        "pending_login_per_integration",
        "keeps the pending login (state, verifier) per integration, not per browser: any "
        "browser's callback completes the latest login",
        with_flow(bugs.PendingLoginPerIntegration, "start_login", "finish_login"),
        must(
            SHARE_THE_LOGIN_LINK, "A callback carrying another browser's state and code is rejected"
        ),
        must(
            SHARE_THE_LOGIN_LINK,
            "A callback carrying another browser's state and code is rejected while the user "
            "logs in",
        ),
    ),
    mutant(
        "open_redirect_after_login",
        "sends the browser after the login to any ?next= address, another site included",
        with_rule("after_login_page", bugs.any_return_page),
        must(
            SHARE_THE_LOGIN_LINK,
            "Neither the login link nor its callback sends the browser to another site",
        ),
    ),
    mutant(
        "callback_page_keeps_code",
        "answers the callback with the page itself: the code and state stay in its address",
        with_rule("REDIRECT_AFTER_CALLBACK", False),
        should(SHARE_THE_LOGIN_LINK, "The login ends on an address without the code or state"),
    ),
    mutant(
        "state_not_checked",
        "sends state but never checks the one the callback brings back",
        with_rule("state_matches", bugs.any_state_matches),
        must(SHARE_THE_LOGIN_LINK, "A callback with a wrong state is rejected"),
        must(SHARE_THE_LOGIN_LINK, "A callback without state is rejected"),
    ),
    mutant(
        "asks_for_repo_write",
        "asks for the scope REPO_WRITE where REPO_READ is all it needs",
        with_rule("SCOPE", "REPO_WRITE"),
        must(SHARE_THE_LOGIN_LINK, "The integration asks for no more than Repositories Read"),
    ),
    mutant(
        "no_pkce",
        "uses no PKCE: no code_challenge, no code_verifier",
        with_rule("PKCE_METHOD", None),
        should(SHARE_THE_LOGIN_LINK, "PKCE is used"),
        should(
            SHARE_THE_LOGIN_LINK,
            "A stolen authorization code injected into another browser's login is rejected",
        ),
    ),
    mutant(
        "pkce_plain",
        "uses PKCE with the method plain (the verifier travels as the challenge)",
        with_rule("PKCE_METHOD", "plain"),
        should(SHARE_THE_LOGIN_LINK, "PKCE is used"),
    ),
    mutant(
        "token_redirect_uri_differs",
        "the token request's redirect_uri gains a trailing slash: not the URL displayed",
        with_rule("code_grant", bugs.code_grant_with_slash),
        must(SHARE_THE_LOGIN_LINK, "The token exchange uses a callback URL the form displayed"),
    ),
    mutant(
        "client_credentials_in_basic",
        "sends client_id and client_secret in HTTP Basic only (Bitbucket reads the body)",
        with_flow(bugs.ClientCredentialsInBasic, "bitbucket"),
        must(SHARE_THE_LOGIN_LINK, "The token exchange uses a callback URL the form displayed"),
    ),
    mutant(
        "error_callback_trusted",
        "takes Bitbucket's ?error= callback (Deny) as an ordinary return and says nothing",
        with_rule("callback_error", bugs.silent_callback_error),
        must(
            SHARE_THE_LOGIN_LINK,
            "Denying consent leaves the user logged out with an error shown",
        ),
    ),
    mutant(
        "username_from_unauthenticated_call",
        "asks who the user is without the access token (Bitbucket answers for nobody)",
        with_flow(bugs.WhoamiWithoutToken, "_whoami"),
        must(SHARE_THE_LOGIN_LINK, "A user logs in through the login link"),
    ),
    mutant(
        "user_looked_up_by_name",
        "reads the user at users/{X-AUSERNAME}, taking the name for the slug",
        with_flow(bugs.UserBySlugFromName, "_find_account"),
        must(SHARE_THE_LOGIN_LINK, "A user whose name differs from their slug logs in"),
    ),
    mutant(
        "never_refreshes",
        "ignores expires_in and never refreshes: an expired token ends the login",
        with_flow(bugs.NeverRefreshes, "_refresh"),
        must(SHARE_THE_LOGIN_LINK, "An expired access token is refreshed"),
    ),
    mutant(
        "refresh_without_client_secret",
        "leaves the client secret out of the refresh request",
        with_rule("refresh_grant", bugs.refresh_grant_without_secret),
        must(SHARE_THE_LOGIN_LINK, "An expired access token is refreshed"),
    ),
    mutant(
        "reuses_rotated_refresh_token",
        "keeps the first refresh token: the second refresh sends one Bitbucket revoked",
        with_rule("next_refresh_token", bugs.keep_first_refresh_token),
        must(SHARE_THE_LOGIN_LINK, "Each refresh keeps the new refresh token Bitbucket issued"),
    ),
    mutant(
        "dead_token_taken_as_logged_in",
        "takes an answer for nobody (no X-AUSERNAME) as the user's: a deleted link's dead "
        "token still counts as logged in",
        with_rule("token_rejected", bugs.token_taken_unless_401),
        must(SHARE_THE_LOGIN_LINK, "A deleted application link forces a new login"),
        must(SHARE_THE_LOGIN_LINK, "An expired access token is refreshed"),
    ),
    mutant(
        "paging_by_start_plus_limit",
        "follows start + limit instead of nextPageStart (the server capped the limit)",
        with_rule("next_page_start", bugs.start_plus_limit),
        must(
            SHARE_THE_LOGIN_LINK,
            "The listing follows Bitbucket's pages when the server caps the page size",
        ),
    ),
    mutant(
        "first_page_only",
        "reads the first page of repositories and ignores the rest",
        with_rule("next_page_start", bugs.first_page_only),
        must(
            SHARE_THE_LOGIN_LINK,
            "The listing follows Bitbucket's pages when the server caps the page size",
        ),
    ),
    mutant(
        "lists_writable_repositories",
        "lists the repositories with permission=REPO_WRITE instead of REPO_READ",
        with_flow(bugs.ListsWritableRepositories, "bitbucket"),
        must(
            SHARE_THE_LOGIN_LINK,
            "The integration lists the user's repositories that carry a composer.json",
        ),
    ),
    mutant(
        "two_factor_error_swallowed",
        "does not tell the 2FA plugin's refusal from others: no word of the OAuth whitelist",
        with_rule("two_factor_blocked", bugs.never_two_factor),
        should(
            PLUGINS,
            "Without the OAuth whitelist the integration cannot authenticate and names the "
            "whitelist",
        ),
    ),
    mutant(
        "oauth1_request_token_not_checked",
        "OAuth 1: accepts a callback whose oauth_token is not the request token it sent the "
        "user to authorize",
        with_rule("request_token_matches", bugs.any_request_token_matches),
        must(OAUTH1_LOG_IN, "A callback with another oauth_token is rejected"),
    ),
    mutant(
        "oauth1_no_synchronisation_warning",
        "OAuth 1: no warning that from Bitbucket 8 the link cannot set up synchronizations",
        with_rule("warns_oauth1_synchronisation", bugs.never_warns_oauth1_synchronisation),
        *(
            should(
                OAUTH1_BITBUCKET_8,
                "The OAuth 1 form warns about synchronizations from Bitbucket 8 only",
                f"version: {version}, warning: shown",
            )
            for version in ("8.0.0", "8.19.1", "9.4.16")
        ),
    ),
    mutant(
        "oauth1_submit_without_checking_link",
        'OAuth 1: "Create Integration" creates the integration without asking Bitbucket '
        "whether the link exists with its key (the first login reports it)",
        with_flow(bugs.SubmitOAuth1WithoutProbe, "_submit_oauth1"),
        should(
            OAUTH1_FINISH_THE_SETUP,
            'A missing application link is reported at "Create Integration"',
        ),
        should(
            OAUTH1_FINISH_THE_SETUP,
            'A link with another Public Key is reported at "Create Integration"',
        ),
    ),
    mutant(
        "oauth1_link_problem_swallowed",
        'OAuth 1: "Create Integration" does not check the link, and the refused login says '
        "nothing of the Consumer Key or the Public Key",
        with_flow(
            bugs.SubmitOAuth1WithoutProbe,
            "_submit_oauth1",
            oauth1_login_problem=bugs.generic_oauth1_login_problem,
        ),
        must(OAUTH1_FINISH_THE_SETUP, "A missing application link is reported to the admin"),
        must(OAUTH1_FINISH_THE_SETUP, "A link with another Public Key is reported to the admin"),
    ),
    mutant(
        "oauth1_pending_login_per_integration",
        "OAuth 1: keeps the request token per integration, not per browser: any browser's "
        "callback completes the latest login",
        with_flow(bugs.OAuth1PendingLoginPerIntegration, "start_login", "finish_oauth1_login"),
        must(
            OAUTH1_LOG_IN,
            "A callback carrying another browser's oauth_token and verifier is rejected",
        ),
        must(
            OAUTH1_LOG_IN,
            "A callback carrying another browser's oauth_token is rejected while the user logs in",
        ),
    ),
    mutant(
        "packages_tags_as_branches",
        "serves each tag as a dev version (dev-v1.0.0), as if it were a branch",
        with_rule("tag_version", bugs.tag_as_branch),
        should(PACKAGES, "The packages match the composer.json at each tag the user can read"),
    ),
    mutant(
        "packages_deletions_ignored",
        "a synchronisation only adds: a tag deleted on Bitbucket keeps its version",
        with_rule("kept_versions", bugs.versions_never_removed),
        should(PACKAGES, "A tag deleted on Bitbucket disappears after the next synchronisation"),
        should(WEBHOOKS, "A tag deleted on Bitbucket is removed through the webhook"),
    ),
    mutant(
        "packages_keep_unreadable",
        "keeps the packages of repositories the user can no longer read",
        with_rule("still_readable", bugs.every_repository_still_readable),
        should(PACKAGES, "A repository the user can no longer read disappears"),
    ),
    mutant(
        "webhook_signature_not_checked",
        "acts on every webhook delivery without checking its X-Hub-Signature",
        with_rule("signature_valid", bugs.any_signature_valid),
        should(WEBHOOKS, "A delivery with a wrong signature is ignored"),
        should(WEBHOOKS, "A delivery without a signature is ignored"),
    ),
    mutant(
        "webhook_date_misread",
        "reads the delivery's date without its offset, as UTC: west of UTC every push looks "
        "hours old and is ignored as stale",
        with_rule("parse_webhook_date", bugs.webhook_date_as_utc),
        should(WEBHOOKS, "A push reaches the integration when Bitbucket's time zone is not UTC"),
    ),
)

_BY_NAME: Final = {m.name: m for m in MUTANTS}
assert len(_BY_NAME) == len(MUTANTS), "mutant names are unique"


def by_name(name: str) -> Mutant:
    """The mutant called ``name``; :class:`KeyError` naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise KeyError(f"no mutant {name!r} (known: {known})") from None


def _factory(entry: Mutant) -> Callable[[], ReferenceIntegrator]:
    def create() -> ReferenceIntegrator:
        return entry.create()

    create.__name__ = create.__qualname__ = f"create_{entry.name}"
    create.__doc__ = f"``--sut`` factory of the mutant {entry.name}: {entry.bug}."
    return create


# ``--sut conformance.mutants:create_<name>`` for every mutant.
for _entry in MUTANTS:
    globals()[f"create_{_entry.name}"] = _factory(_entry)
