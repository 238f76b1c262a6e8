@oauth1 @section:oauth1-open-the-add-integration-form
Feature: OAuth 1: Open the Add Integration form
  The admin selects "Bitbucket Data Center / Server" as the platform, enters the URL of the
  Bitbucket server and selects OAuth 1 as the OAuth version. The integration generates the
  Client ID / Key and a key pair, and shows what to enter in Bitbucket: the Application URL
  for the link, the Consumer Key, the Public Key, and that the Consumer Callback URL is to be
  left empty.

  @must
  Scenario: The OAuth 1 form shows the generated Consumer Key, Public Key and Application URL
    Given a Bitbucket Data Center server at version "7.17.0"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 1
    Then a link to create an OAuth application on that server is displayed
    And the link opens the server's application links page
    And the integration displays a generated Consumer Key
    And the integration displays its Public Key as an RSA certificate or public key
    And the integration displays the Application URL to link Bitbucket to

  @should
  Scenario: The OAuth 1 form says to leave the Consumer Callback URL empty
    Given a Bitbucket Data Center server at version "7.17.0"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 1
    Then the admin is told to leave the Consumer Callback URL empty

  @must
  Scenario: Each OAuth 1 integration generates its own Consumer Key and key pair
    Given a Bitbucket Data Center server at version "8.19.1"
    When the admin opens the Add Integration form twice for that server with OAuth 1
    Then the two forms display different Consumer Keys and Public Keys
