@oauth1 @section:oauth1-finish-the-setup
Feature: OAuth 1: Finish the setup
  With OAuth 1 there is nothing to copy back into the form: the admin submits it with
  "Create Integration" and is redirected back to the list of integrations. A link that is
  missing, or that holds another Public Key, is reported to the admin (at "Create
  Integration", or at the latest when the first login fails).

  Background:
    Given a Bitbucket Data Center server at version "7.20.0"
    And the admin has opened the Add Integration form for that server with OAuth 1

  @must
  Scenario: The OAuth 1 integration is created once the link exists
    Given the admin has created the OAuth 1 application link in Bitbucket as the guide describes
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the admin is redirected back to the list of integrations
    And the integration is listed with a login link

  # Whether the link is checked at "Create Integration" or at the first login is left open:
  # either passes the @must; checking at once is preferred.
  @must
  Scenario: A missing application link is reported to the admin
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the missing application link is reported at "Create Integration" or at the first login

  @should
  Scenario: A missing application link is reported at "Create Integration"
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the admin is told that Bitbucket does not know the Consumer Key

  @must
  Scenario: A link with another Public Key is reported to the admin
    Given the admin has created the OAuth 1 application link in Bitbucket with another Public Key
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the refused Public Key is reported at "Create Integration" or at the first login

  @should
  Scenario: A link with another Public Key is reported at "Create Integration"
    Given the admin has created the OAuth 1 application link in Bitbucket with another Public Key
    When the admin submits the OAuth 1 form with "Create Integration"
    Then the admin is told that Bitbucket does not accept the integration's Public Key
