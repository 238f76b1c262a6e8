@oauth2 @section:open-the-add-integration-form
Feature: Open the Add Integration form
  From the organization settings page, the admin selects the "Integrations" subtab, hits
  "Add Integration", selects "Bitbucket Data Center / Server" as the platform, enters the URL
  of the Bitbucket server into the base URL field and selects OAuth 2 as the OAuth version.
  A link to create a new OAuth application on the Bitbucket instance is displayed.

  @must
  Scenario: The form shows the setup link and the callback URL
    Given a Bitbucket Data Center server at version "8.19.1"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed
    And the link opens the server's application links page
    And a "Callback URL / Redirect URL" is displayed
    And the Client ID and Client Secret fields are empty

  @must
  Scenario: A base URL with a context path is kept in the setup link
    Given a Bitbucket Data Center server at version "9.4.16" under the context path "/bitbucket"
    When the admin opens the Add Integration form
    And selects "Bitbucket Data Center / Server" with the server's base URL and OAuth 2
    Then a link to create an OAuth application on that server is displayed
    And the link opens the server's application links page

  # One callback URL shared by every integration, which tells them apart by state, is a
  # legal choice; a URL of its own per integration also defends against mix-up attacks
  # (RFC 9700 4.4), so it is preferred.
  @should
  Scenario: Each integration gets its own callback URLs
    Given a Bitbucket Data Center server at version "8.19.1"
    When the admin opens the Add Integration form twice for that server with OAuth 2
    Then the two forms display different callback URLs
