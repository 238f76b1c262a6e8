@oauth2 @section:configure-application-link
Feature: Configure Application link
  The admin copies the "Callback URL / Redirect URL" from the form and follows the setup link
  to Bitbucket, clicks "Create link", selects "External application" as type and "Incoming" as
  direction, enters a name and the callback URL, selects Repositories "Read" as application
  permission and saves the form. Bitbucket then shows the Client ID and secret.

  Background:
    Given a Bitbucket Data Center server at version "8.19.1"
    And the admin has opened the Add Integration form for that server with OAuth 2

  @must
  Scenario: The admin creates an incoming link with the callback URL from the form
    When the admin follows the setup link and logs in to Bitbucket as an administrator
    And creates a link of type "External application" and direction "Incoming"
    And enters a name and the "Callback URL / Redirect URL" from the form
    And selects Repositories "Read" as application permission and saves the form
    Then Bitbucket shows the Client ID and secret
    And the application link is registered with every callback URL the form displayed
    And the application link's permission is Repositories Read only
