@oauth1 @section:oauth1-log-in
Feature: OAuth 1: Log in
  Users log in through the organization-specific login link. The integration gets a request
  token signed with its private key (RSA-SHA1), Bitbucket asks the user to allow access, sends
  the browser back with a verifier, and the integration exchanges it for an access token.

  Background:
    Given a Bitbucket Data Center server at version "7.20.0"
    And an OAuth 1 integration set up as the guide describes

  @must
  Scenario: A user logs in through the OAuth 1 login link
    When the user "alice" opens the OAuth 1 login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
    And the integration got a request token signed with RSA-SHA1 as its consumer
    And Bitbucket sent the user back to the integration with the verifier
    And the integration exchanged the verifier for an access token signed with RSA-SHA1

  @must
  Scenario: A user whose name differs from their slug logs in with OAuth 1
    When the user "jane@example.com" opens the OAuth 1 login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "jane@example.com"

  @must
  Scenario: Denying access on Bitbucket leaves the user logged out with an error shown
    When the user "alice" opens the OAuth 1 login link, logs in to Bitbucket and denies access
    Then the user is not logged in to the integration
    And the integration shows the user an error

  @must
  Scenario: A callback with another oauth_token is rejected
    When the user "alice" opens the OAuth 1 login link and allows access, but the callback's oauth_token is replaced
    Then the user is not logged in to the integration

  @must
  Scenario: A callback carrying another browser's oauth_token and verifier is rejected
    Given the user "bob" allows access on Bitbucket but keeps the callback
    When the browser of "alice" is sent to the callback kept by "bob"
    Then the user "alice" is not logged in to the integration

  @must
  Scenario: A callback carrying another browser's oauth_token is rejected while the user logs in
    Given the user "alice" opens the login link
    And the user "bob" allows access on Bitbucket but keeps the callback
    When the browser of "alice" is sent to the callback kept by "bob"
    Then the user "alice" is not logged in to the integration

  @must
  Scenario: Two browsers starting an OAuth 1 login get different request tokens
    When the user "alice" opens the login link
    And the user "bob" opens the login link
    Then the two authorization requests carry different request tokens

  @must
  Scenario: Neither the OAuth 1 login link nor its callback sends the browser to another site
    When the user "alice" opens the login link with an address on another site to return to, logs in to Bitbucket and allows access
    Then the browser was never sent to the other site

  @must @repositories
  Scenario: The integration lists the repositories of a user logged in with OAuth 1
    Given the user "bob" has logged in through the OAuth 1 login link
    Then the integration lists the repositories "bob" can read, each with whether it has a composer.json

  @must
  Scenario: A deleted OAuth 1 application link forces a new login
    Given the user "alice" has logged in through the OAuth 1 login link
    When the admin deletes the application link in Bitbucket
    Then the user is not logged in to the integration
