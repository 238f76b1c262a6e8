Feature: The guide at the version under test
  These scenarios take their Bitbucket version from the run: --bitbucket-version, or each
  column of "bbdc-sim conform --matrix" (without either, the simulator's default version).
  Each one skips itself where the guide does not apply to that version. Every other feature
  names the version it needs and keeps it, whatever the run's version.

  @must @oauth2 @section:version-note
  Scenario: OAuth 2 is offered at the version under test from 7.21
    Given the version under test is "7.21" or later
    And a Bitbucket Data Center server at the version under test
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed

  @should @oauth2 @section:version-note
  Scenario: Below 7.21 the integration says OAuth 2 is unavailable at the version under test
    Given the version under test is older than "7.21"
    And a Bitbucket Data Center server at the version under test
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then the admin is told that OAuth 2 needs Bitbucket 7.21 and pointed to OAuth 1

  @must @oauth2 @section:share-the-login-link
  Scenario: A user logs in with OAuth 2 at the version under test
    Given the version under test is "7.21" or later
    And a Bitbucket Data Center server at the version under test
    And an integration set up with OAuth 2 as the guide describes
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"

  @must @oauth2 @section:share-the-login-link
  Scenario: An expired access token is refreshed at the version under test
    Given the version under test is "7.21" or later
    And a Bitbucket Data Center server at the version under test
    And an integration set up with OAuth 2 as the guide describes
    And the user "alice" has logged in through the login link
    When an hour passes on the Bitbucket server
    Then the user is logged in to the integration as "alice"
    And the integration refreshed its access token

  @must @oauth2 @repositories @section:share-the-login-link
  Scenario: The user's repositories are listed at the version under test
    Given the version under test is "7.21" or later
    And a Bitbucket Data Center server at the version under test
    And an integration set up with OAuth 2 as the guide describes
    And the user "bob" has logged in through the login link
    Then the integration lists the repositories "bob" can read, each with whether it has a composer.json

  @must @oauth1 @section:oauth1-log-in
  Scenario: A user logs in with OAuth 1 at the version under test
    Given a Bitbucket Data Center server at the version under test
    And an OAuth 1 integration set up as the guide describes
    When the user "alice" opens the OAuth 1 login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
