@oauth2 @packages @section:after-login
Feature: After the login: the user's packages
  The guide ends at the login; the integration's work starts there. A Packagist-like
  integration lists every tag and branch of the repositories the user can read, reads the
  composer.json at each of them and serves a version per ref (Private Packagist's
  documentation). The guide says none of this, so each scenario is a @should. A tag v1.0.0 may
  be served as v1.0.0 or 1.0.0, a branch main as dev-main.

  Background:
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes
    And the user "alice" has logged in to the integration through the login link

  @should
  Scenario: The packages match the composer.json at each tag the user can read
    When the integration synchronises the packages of "alice"
    Then the integration offers "alice" a version of each tag they can read

  @should
  Scenario: Each branch is a dev version
    When the integration synchronises the packages of "alice"
    Then the integration offers "alice" a dev version of each branch they can read

  @should
  Scenario: A tag pushed later appears after the next synchronisation
    Given the integration has synchronised the packages of "alice"
    When a tag "v9.9.0" is pushed to a repository "alice" can read that has a composer.json
    And the integration synchronises the packages of "alice"
    Then the integration offers "alice" the new tag's version

  @should
  Scenario: A tag deleted on Bitbucket disappears after the next synchronisation
    Given the integration has synchronised the packages of "alice"
    When a tag of a repository "alice" can read is deleted on Bitbucket
    And the integration synchronises the packages of "alice"
    Then the integration no longer offers "alice" the deleted tag's version

  @should
  Scenario: A repository the user can no longer read disappears
    Given the user "bob" has logged in to the integration through the login link
    And the integration has synchronised the packages of "bob"
    When "bob" can no longer read a repository with a composer.json
    And the integration synchronises the packages of "bob"
    Then the integration offers "bob" nothing from that repository
