@oauth1 @section:oauth1-configure-bitbucket-server-plugins
Feature: OAuth 1: Configure Bitbucket Server plugins
  In case the U2F & TOTP plugin is installed on the Bitbucket Data Center / Server, the OAuth
  whitelist must be enabled, otherwise the integration won't be able to authenticate with
  Bitbucket. This holds for OAuth 1 links as for OAuth 2 ones.

  Background:
    Given a Bitbucket Data Center server at version "7.20.0"
    And an OAuth 1 integration set up as the guide describes

  # Installed after the login, the plugin refuses the integration's next signed call to
  # Bitbucket, and the integration must say why.
  @should
  Scenario: Without the OAuth whitelist the OAuth 1 integration cannot authenticate and names the whitelist
    Given the user "alice" has logged in through the OAuth 1 login link
    When the "U2F & TOTP" plugin is installed without the OAuth whitelist
    Then the user is not logged in to the integration
    And the integration's error names the OAuth whitelist

  @must
  Scenario: With the OAuth whitelist enabled the OAuth 1 login succeeds
    Given the "U2F & TOTP" plugin is installed with the OAuth whitelist enabled
    When the user "alice" opens the OAuth 1 login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
