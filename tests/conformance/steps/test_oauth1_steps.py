"""The OAuth 1 steps: their helpers directly, then through the pytest plugin on feature files
written for each test (pytester), against the reference and against variants of it with one
OAuth 1 bug each."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# The reference's server (its app keys included) is imported before pytester snapshots
# ``sys.modules``: re-imported inside an in-process run, its aiohttp AppKey objects would no
# longer be the ones its pages look up.
import conformance.reference.server  # noqa: F401
from conformance.context import FeatureFileError, ScenarioContext
from conformance.reference import rules
from conformance.steps.oauth1_bitbucket_8 import is_synchronisation_warning, synchronisation_warning
from conformance.steps.oauth1_create_the_application_link import another_public_key
from conformance.steps.oauth1_finish_the_setup import _CONSUMER_KEY, _PUBLIC_KEY
from conformance.steps.oauth1_log_in import replace_oauth_token
from conformance.steps.oauth1_open_the_add_integration_form import (
    _LEAVE_EMPTY,
    rsa_public_key,
    same_public_key,
)

BINDING = "from pytest_bdd import scenarios\n\nscenarios('.')\n"
ARGS = (
    "-p",
    "conformance.plugin",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:asyncio",
    "-p",
    "no:aiohttp",
)


# -- helpers, directly -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    """An RSA key pair (small: these tests only parse it)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


def certificate_of(key: rsa.RSAPrivateKey) -> str:
    """A self-signed PEM certificate of the key, as Packagist supplies it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def public_pem_of(key: rsa.RSAPrivateKey) -> str:
    """The PEM public key."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def test_a_certificate_and_a_pem_public_key_both_give_the_rsa_key(key: rsa.RSAPrivateKey) -> None:
    numbers = key.public_key().public_numbers()
    for text in (certificate_of(key), public_pem_of(key)):
        parsed = rsa_public_key(text)
        assert parsed is not None
        assert parsed.public_numbers() == numbers


def test_a_key_pasted_from_a_textarea_with_crlf_still_parses(key: rsa.RSAPrivateKey) -> None:
    assert rsa_public_key(certificate_of(key).replace("\n", "\r\n")) is not None


def test_a_private_key_an_ec_key_or_text_are_not_public_keys(key: rsa.RSAPrivateKey) -> None:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    elliptic = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    for text in (private, elliptic, "not a key", "", None):
        assert rsa_public_key(text) is None


def test_same_public_key_compares_the_key_not_the_text(key: rsa.RSAPrivateKey) -> None:
    assert same_public_key(certificate_of(key), public_pem_of(key))
    assert not same_public_key(certificate_of(key), another_public_key())
    assert not same_public_key(None, public_pem_of(key))


def test_another_public_key_is_a_2048_bit_rsa_key() -> None:
    parsed = rsa_public_key(another_public_key())
    assert parsed is not None
    assert parsed.key_size == 2048


def test_the_synchronisation_warning_is_recognised_by_packagists_words() -> None:
    assert is_synchronisation_warning(rules.OAUTH1_NO_SYNCHRONISATION)
    assert is_synchronisation_warning(
        "OAuth 1 links cannot be used for synchronisations on Bitbucket 8.0 and later."
    )


def test_other_messages_are_not_the_synchronisation_warning() -> None:
    assert not is_synchronisation_warning(rules.OAUTH1_CALLBACK_LEAVE_EMPTY)
    assert not is_synchronisation_warning(rules.oauth2_unavailable("7.20.0"))
    assert not is_synchronisation_warning("Synchronizations need OAuth 1.")


def test_the_leave_empty_message_of_the_reference_is_recognised() -> None:
    assert _LEAVE_EMPTY.search(rules.OAUTH1_CALLBACK_LEAVE_EMPTY)
    assert _LEAVE_EMPTY.search("Consumer Callback URL: leave empty")
    assert not _LEAVE_EMPTY.search(rules.OAUTH1_NO_SYNCHRONISATION)


def test_the_submit_errors_of_the_reference_name_what_went_wrong() -> None:
    unknown = rules.link_problem("consumer_key_unknown", "packagist-1")
    bad_signature = rules.link_problem("signature_invalid", "packagist-1")
    assert _CONSUMER_KEY.search(unknown)
    assert _PUBLIC_KEY.search(bad_signature)
    assert not _PUBLIC_KEY.search(unknown)


def test_replace_oauth_token_changes_the_token_and_keeps_the_verifier() -> None:
    url = "http://ref.test/oauth1/callback/x?oauth_token=abc&oauth_verifier=v123"
    query = parse_qs(urlsplit(replace_oauth_token(url)).query)
    assert query["oauth_token"] == ["forged-oauth-token-0000"]
    assert query["oauth_verifier"] == ["v123"]


def test_an_unknown_presence_of_the_warning_is_a_feature_file_problem() -> None:
    with pytest.raises(FeatureFileError, match='unknown presence "maybe"; write "shown", "absent"'):
        synchronisation_warning(cast(ScenarioContext, cast(Any, None)), "maybe")


# -- through the plugin (pytester) -------------------------------------------------------------


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A directory with the binding module (features and SUT variants are added per test)."""
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_features=BINDING)
    pytester.syspathinsert()
    return pytester


def feature(pytester: pytest.Pytester, name: str, text: str) -> None:
    """Write ``<name>.feature``."""
    (pytester.path / f"{name}.feature").write_text(text, encoding="utf-8")


FORM_AND_SUBMIT = """\
@oauth1 @section:oauth1-finish-the-setup
Feature: OAuth 1 written by QA from the catalogue

  @must
  Scenario: The form shows the keys and a missing link is reported
    Given a Bitbucket Data Center server at version "7.20.0"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 1
    Then the integration displays a generated Consumer Key
    And the integration displays its Public Key as an RSA certificate or public key
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the admin is told that Bitbucket does not know the Consumer Key
"""

#: A SUT module: the reference with one change, made on its own server (nothing global).
VARIANTS = '''\
import dataclasses

from conformance.reference import rules
from conformance.reference.integrator import ReferenceIntegrator
from conformance.reference.server import ReferenceServer
from conformance.sut import SubmitResult


class OAuth2Only(ReferenceIntegrator):
    def capabilities(self):
        return dataclasses.replace(super().capabilities(), oauth_versions=(2,))


class NoSynchronisationWarning(ReferenceIntegrator):
    def create_integration(self, platform, base_url, oauth_version):
        form = super().create_integration(platform, base_url, oauth_version)
        kept = tuple(m for m in form.messages if "synchroniz" not in m)
        return dataclasses.replace(form, messages=kept)


def oauth2_only():
    return OAuth2Only(ReferenceServer().start(), owns_server=True)


def no_synchronisation_warning():
    return NoSynchronisationWarning(ReferenceServer().start(), owns_server=True)


def unchecked_submit():
    """Creates the OAuth 1 integration without asking Bitbucket whether the link exists."""
    server = ReferenceServer().start()
    reference = server.reference

    async def submit(integration):
        integration.submitted = True
        return SubmitResult(redirect_to=rules.integrations_page(reference.public_url))

    reference._submit_oauth1 = submit
    return ReferenceIntegrator(server, owns_server=True)


def trusting_callback():
    """Takes any oauth_token on the callback (and goes on with this browser's own)."""
    server = ReferenceServer().start()
    reference = server.reference
    finish = reference.finish_oauth1_login

    async def trusting(session, slug, query):
        mine = getattr(session.pending, "request_token", "")
        return await finish(session, slug, {**query, "oauth_token": mine})

    reference.finish_oauth1_login = trusting
    return ReferenceIntegrator(server, owns_server=True)
'''


def test_an_oauth1_feature_of_library_steps_runs_with_no_python(suite: pytest.Pytester) -> None:
    feature(suite, "oauth1", FORM_AND_SUBMIT)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def test_oauth1_scenarios_are_skipped_when_the_sut_offers_only_oauth2(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(variants=VARIANTS)
    feature(suite, "oauth1", FORM_AND_SUBMIT)
    result = suite.runpytest(*ARGS, "--sut", "variants:oauth2_only", "-rs")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*the SUT does not offer OAuth 1 (capabilities)*"])


WARNING_OUTLINE = """\
@oauth1 @section:oauth1-bitbucket-8-and-later
Feature: The 8.0 warning

  @should
  Scenario Outline: The form warns from Bitbucket 8 only
    Given a Bitbucket Data Center server at version "<version>"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 1
    Then the warning that OAuth 1 links cannot set up synchronizations is "<warning>"

    Examples:
      | version | warning |
      | 7.20.0  | absent  |
      | 8.0.0   | shown   |
"""


def test_the_8_0_warning_passes_against_the_reference(suite: pytest.Pytester) -> None:
    feature(suite, "warning", WARNING_OUTLINE)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=2)


def test_a_missing_8_0_warning_is_a_warning_and_the_run_passes(suite: pytest.Pytester) -> None:
    suite.makepyfile(variants=VARIANTS)
    feature(suite, "warning", WARNING_OUTLINE)
    result = suite.runpytest(*ARGS, "--sut", "variants:no_synchronisation_warning")
    result.assert_outcomes(passed=1, xfailed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "warning @should warning.feature:5: *(version: 8.0.0, warning: shown)",
            "*expected: a message saying that from Bitbucket 8 OAuth 1 links can no longer*",
        ]
    )


def test_an_integration_created_without_checking_the_link_fails_the_run(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(variants=VARIANTS)
    feature(suite, "oauth1", FORM_AND_SUBMIT)
    result = suite.runpytest(*ARGS, "--sut", "variants:unchecked_submit")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*expected: the form to report that Bitbucket has no application link with the "
            "Consumer Key",
            "*actual:   the integration was created (redirect_to *) without checking the link*",
        ]
    )


TAMPERED_TOKEN = """\
@oauth1 @section:oauth1-log-in
Feature: A tampered callback

  @must
  Scenario: A callback with another oauth_token is rejected
    Given a Bitbucket Data Center server at version "8.19.1"
    And an OAuth 1 integration set up as the guide describes
    When the user "alice" opens the OAuth 1 login link and allows access, \
but the callback's oauth_token is replaced
    Then the user is not logged in to the integration
"""


def test_a_callback_whose_oauth_token_is_not_checked_fails_the_run(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(variants=VARIANTS)
    feature(suite, "tampered", TAMPERED_TOKEN)
    result = suite.runpytest(*ARGS, "--sut", "variants:trusting_callback")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected: the integration to report 'alice' not logged in",
            "*actual:   it answers authenticated=True, username='alice'*",
        ]
    )


def test_the_same_tampered_callback_is_rejected_by_the_reference(suite: pytest.Pytester) -> None:
    feature(suite, "tampered", TAMPERED_TOKEN)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=1)


def test_a_misused_oauth1_step_fails_the_run_even_in_a_should_scenario(
    suite: pytest.Pytester,
) -> None:
    feature(
        suite,
        "misuse",
        "@oauth1 @section:oauth1-create-the-application-link\nFeature: Misuse\n\n"
        "  @should\n  Scenario: Link applications before the Application URL\n"
        '    Given a Bitbucket Data Center server at version "8.19.1"\n'
        "    And the admin has opened the Add Integration form for that server with OAuth 1\n"
        "    When picks Generic Application as the Application Type, enters the Application "
        "Name and continues\n",
    )
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*feature file problem: *needs the admin on Bitbucket*"])


def test_the_oauth1_example_of_writing_features_passes_against_the_reference(
    suite: pytest.Pytester,
) -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "writing-features.md"
    blocks = re.findall(r"```gherkin\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    (example,) = [block for block in blocks if "@oauth1" in block]
    feature(suite, "example", example)
    result = suite.runpytest(*ARGS)
    result.assert_outcomes(passed=1)
