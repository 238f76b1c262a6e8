"""Where the Application Links area lives: its servlets and its client REST prefixes (kept
apart from the handlers so the route table can name them without importing the pages)."""

from __future__ import annotations

SERVLET = "/plugins/servlet/applinks"
LIST_PATH = SERVLET + "/listApplicationLinks"
CREATE_PATH = SERVLET + "/createLink"
NEW_INCOMING_PATH = SERVLET + "/oauth2/incoming/new"
#: The first OAuth 1 page ("Atlassian product"): the Application URL.
NEW_OAUTH1_PATH = SERVLET + "/oauth1/new"
#: The second OAuth 1 page: the link's details and its Incoming Authentication.
LINK_APPLICATIONS_PATH = NEW_OAUTH1_PATH + "/link"
#: The OAuth 2 client resource, at both REST versions.
CLIENT_PREFIXES = ("/rest/oauth2/1.0", "/rest/oauth2/latest")
