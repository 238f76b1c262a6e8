@oauth2 @packages @webhooks @section:after-login
Feature: After the login: webhooks keep the packages current
  Given a credential that may, Private Packagist "will automatically set up a webhook" for
  each repository and updates the package on every push; without one it polls every 12 hours.
  Here the integration holds a personal access token of "alice" with repository admin
  permission (its "code credential"; the guide's OAuth token is REPO_READ and cannot create
  webhooks). Bitbucket signs each delivery with the webhook's secret (X-Hub-Signature:
  sha256=HMAC of the body); a delivery that fails the check must change nothing.

  Background:
    Given a Bitbucket Data Center server at version "8.19.1"
    And an integration set up with OAuth 2 as the guide describes
    And the integration holds a code credential of "alice" with repository admin permission
    And the user "alice" has logged in to the integration through the login link
    And the integration has synchronised the packages of "alice"

  @should
  Scenario: The integration sets up a webhook for each repository it synchronises
    Then the integration has a webhook on each repository "alice" administers with packages

  @should
  Scenario: The webhook asks for no more than it needs
    Then the integration has a webhook on each repository "alice" administers with packages
    And each of its webhooks is the repository's, on repository events only

  @should
  Scenario: A tag pushed to Bitbucket reaches the integration through its webhook
    When a tag "v9.9.0" is pushed to a repository "alice" administers that has a composer.json
    And Bitbucket has delivered its webhooks
    Then Bitbucket's delivery to the integration succeeded
    And the integration offers "alice" the new tag's version

  @should
  Scenario: A tag deleted on Bitbucket is removed through the webhook
    When a tag "v9.9.0" is pushed to a repository "alice" administers that has a composer.json
    And Bitbucket has delivered its webhooks
    And the tag is deleted on Bitbucket
    And Bitbucket has delivered its webhooks
    Then the integration no longer offers "alice" the deleted tag's version

  @should
  Scenario: A push reaches the integration when Bitbucket's time zone is not UTC
    Given Bitbucket's time zone is "-08:00"
    When a tag "v9.9.0" is pushed to a repository "alice" administers that has a composer.json
    And Bitbucket has delivered its webhooks
    Then the integration offers "alice" the new tag's version

  @should
  Scenario: A delivery with a wrong signature is ignored
    Given Bitbucket's deliveries to the integration fail
    When a tag "v9.9.0" is pushed to a repository "alice" administers that has a composer.json
    And Bitbucket has delivered its webhooks
    And a delivery of that push reaches the integration with a wrong signature
    Then the integration does not offer "alice" the new tag's version

  @should
  Scenario: A delivery without a signature is ignored
    Given Bitbucket's deliveries to the integration fail
    When a tag "v9.9.0" is pushed to a repository "alice" administers that has a composer.json
    And Bitbucket has delivered its webhooks
    And a delivery of that push reaches the integration without a signature
    Then the integration does not offer "alice" the new tag's version
