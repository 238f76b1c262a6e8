@oauth2 @section:share-the-login-link
Feature: Share the login link
  The final step is sharing the organization-specific login link with the users. The link
  presents the option to authenticate with a Bitbucket Data Center / Server account and can be
  used to log in.

  Background:
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes

  @must
  Scenario: A user logs in through the login link
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"

  @must
  Scenario: A user whose name differs from their slug logs in
    When the user "jane@example.com" opens the login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "jane@example.com"

  @must
  Scenario: The integration asks for no more than Repositories Read
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the authorization request asked for no scope beyond "REPO_READ"

  # Login CSRF (RFC 6749 10.12, RFC 9700 4.7): state bound to the browser, or PKCE, which
  # RFC 9700 4.7.1 lets a client rely on instead. Either passes; state is preferred.
  @must
  Scenario: The login is protected against cross-site request forgery
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the authorization request carried a state or a PKCE code challenge

  @should
  Scenario: The authorization request carries state
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the authorization request carried a state

  @must
  Scenario: Two browsers starting a login get different state values
    When the user "alice" opens the login link
    And the user "bob" opens the login link
    Then the two authorization requests carry different state values

  @must
  Scenario: A callback carrying another browser's state and code is rejected
    Given the user "bob" allows access on Bitbucket but keeps the callback
    When the browser of "alice" is sent to the callback kept by "bob"
    Then the user "alice" is not logged in to the integration

  @must
  Scenario: A callback carrying another browser's state and code is rejected while the user logs in
    Given the user "alice" opens the login link
    And the user "bob" allows access on Bitbucket but keeps the callback
    When the browser of "alice" is sent to the callback kept by "bob"
    Then the user "alice" is not logged in to the integration

  # Code injection (RFC 9700 4.5): a stolen code replayed with the thief's own state. Only
  # PKCE (or a nonce, which Bitbucket has not) stops it; RFC 9700 recommends PKCE to
  # confidential clients, so this is a @should.
  @should
  Scenario: A stolen authorization code injected into another browser's login is rejected
    Given the user "alice" allows access on Bitbucket but keeps the callback
    And the user "bob" opens the login link
    When the browser of "bob" is sent to the callback kept by "alice", with its own state
    Then the user "bob" is not logged in to the integration

  # Open redirect (RFC 9700 4.11): a return address on another site given to the login link
  # or the callback.
  @must
  Scenario: Neither the login link nor its callback sends the browser to another site
    When the user "alice" opens the login link with an address on another site to return to, logs in to Bitbucket and allows access
    Then the browser was never sent to the other site

  # The code and state in the callback's address leak through Referer to any resource of
  # another site the page loads (RFC 9700 4.2.4).
  @should
  Scenario: The login ends on an address without the code or state
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the address the login ends on carries no code, state or token

  @must
  Scenario: A callback with a wrong state is rejected
    When the user "alice" opens the login link and allows access, but the callback's state is replaced
    Then the user is not logged in to the integration

  @must
  Scenario: A callback without state is rejected
    When the user "alice" opens the login link and allows access, but the callback's state is removed
    Then the user is not logged in to the integration

  @must
  Scenario: The token exchange uses a callback URL the form displayed
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the token request's redirect_uri is one of the callback URLs the form displayed
    And the client credentials were sent in the request body

  @must
  Scenario: The login link is specific to its integration
    Given a second integration set up with OAuth 2 as the guide describes
    Then the two integrations have different login links
    And each login link asks Bitbucket for its own Client ID

  @must
  Scenario: Denying consent leaves the user logged out with an error shown
    When the user "alice" opens the login link, logs in to Bitbucket and denies access
    Then the user is not logged in to the integration
    And the integration shows the user an error

  @must
  Scenario: An expired access token is refreshed
    Given the user "alice" has logged in through the login link
    When an hour passes on the Bitbucket server
    Then the user is logged in to the integration as "alice"
    And the integration refreshed its access token

  @must
  Scenario: Each refresh keeps the new refresh token Bitbucket issued
    Given the user "alice" has logged in through the login link
    When an hour passes on the Bitbucket server
    Then the user is logged in to the integration as "alice"
    When an hour passes on the Bitbucket server
    Then the user is logged in to the integration as "alice"
    And the integration refreshed its access token

  @must
  Scenario: A deleted application link forces a new login
    Given the user "alice" has logged in through the login link
    When the admin deletes the application link in Bitbucket
    Then the user is not logged in to the integration

  @should
  Scenario: PKCE is used
    When the user "alice" opens the login link, logs in to Bitbucket and allows access
    Then the authorization request used PKCE with the method "S256"
    And the token request carried a code verifier

  @must @repositories
  Scenario: The integration lists the user's repositories that carry a composer.json
    Given the user "alice" has logged in through the login link
    Then the integration lists the repositories "alice" can read, each with whether it has a composer.json

  @must @repositories
  Scenario: The listing follows Bitbucket's pages when the server caps the page size
    Given Bitbucket serves at most 5 items per page
    And the user "alice" has logged in through the login link
    Then the integration lists the repositories "alice" can read, each with whether it has a composer.json
