@oauth1 @section:oauth1-bitbucket-8-and-later
Feature: OAuth 1: Bitbucket 8 and later
  From Bitbucket v8 on, OAuth1 links can no longer be used to set up synchronizations. Users
  should migrate by creating an OAuth2 link and editing the integration.

  @should
  Scenario Outline: The OAuth 1 form warns about synchronizations from Bitbucket 8 only
    Given a Bitbucket Data Center server at version "<version>"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 1
    Then the warning that OAuth 1 links cannot set up synchronizations is "<warning>"

    Examples:
      | version | warning |
      | 7.17.0  | absent  |
      | 7.20.0  | absent  |
      | 8.0.0   | shown   |
      | 8.19.1  | shown   |
      | 9.4.16  | shown   |

  @must
  Scenario: From Bitbucket 8 the OAuth 1 login still works
    Given a Bitbucket Data Center server at version "9.4.16"
    And an OAuth 1 integration set up as the guide describes
    When the user "alice" opens the OAuth 1 login link, logs in to Bitbucket and allows access
    Then the user is logged in to the integration as "alice"
