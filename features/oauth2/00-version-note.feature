@oauth2 @section:version-note
Feature: Application Links using OAuth 2 are available since Bitbucket 7.21
  If you are using an older Bitbucket Data Center / Server version, consult the OAuth 1
  setup guide.

  @must
  Scenario Outline: OAuth 2 is offered from Bitbucket 7.21
    Given a Bitbucket Data Center server at version "<version>"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed

    Examples:
      | version |
      | 7.21.0  |
      | 8.19.1  |
      | 9.4.16  |

  @should
  Scenario Outline: Below 7.21 the integration says OAuth 2 is unavailable and points to OAuth 1
    Given a Bitbucket Data Center server at version "<version>"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then the admin is told that OAuth 2 needs Bitbucket 7.21 and pointed to OAuth 1

    Examples:
      | version |
      | 7.6.0   |
      | 7.17.0  |
      | 7.20.0  |
