@oauth2 @section:configure-bitbucket-server-plugins
Feature: Configure Bitbucket Server plugins
  In case the U2F & TOTP plugin is installed on the Bitbucket Data Center / Server, the OAuth
  whitelist must be enabled, otherwise the integration won't be able to authenticate with
  Bitbucket.

  Background:
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes

  # Installed before the login, the plugin would stop the user on Bitbucket's own page at
  # the consent step, out of the integration's sight; installed after it, the integration's
  # next call to Bitbucket is refused, and it must say why.
  @should
  Scenario: Without the OAuth whitelist the integration cannot authenticate and names the whitelist
    Given the user "alice" has logged in through the login link
    When the "U2F & TOTP" plugin is installed without the OAuth whitelist
    Then the user is not logged in to the integration
    And the integration's error names the OAuth whitelist

  @must
  Scenario: With the OAuth whitelist enabled the login succeeds
    Given the "U2F & TOTP" plugin is installed with the OAuth whitelist enabled
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
