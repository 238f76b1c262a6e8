@oauth1 @section:oauth1-create-the-application-link
Feature: OAuth 1: Create the application link
  The admin follows the link to Bitbucket's Application links and creates an "Atlassian
  product" link to the integration's Application URL (on Bitbucket 7.21 and later, choose
  "Atlassian product", not "External application"). Bitbucket may warn that no response was
  received from the URL; the admin continues. The admin picks Generic Application, enters the
  Application Name, then edits the link (pen icon): in Incoming Authentication, pastes the
  Client ID / Key into Consumer Key and the Public Key, leaves the Consumer Callback URL empty,
  and saves.

  @must
  Scenario Outline: The admin creates an Atlassian product link on Bitbucket <version>
    Given a Bitbucket Data Center server at version "<version>"
    And the admin has opened the Add Integration form for that server with OAuth 1
    When the admin follows the setup link and logs in to Bitbucket as an administrator
    And creates an "Atlassian product" link to the integration's Application URL
    And continues past the "No response was received" warning
    And picks Generic Application as the Application Type, enters the Application Name and continues
    And edits the link's Incoming Authentication with the Consumer Key and the Public Key from the form and saves it
    Then the application link has the Consumer Key and the Public Key the form displayed

    Examples:
      | version |
      | 7.17.0  |
      | 8.19.1  |
