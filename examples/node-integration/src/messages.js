// Every sentence the integration shows a person, in one place.
//
// The conformance suite reads some of them (GET /session's `error`, the form's `messages`),
// and checks for words a person needs: "OAuth whitelist", "Consumer Key", "Public Key",
// "Client ID / Client Secret", "7.21" and "OAuth 1", "leave ... empty". Keep those words when
// you reword a message.

export const PRODUCT_NAME = 'Acme Packagist (Node.js example)';
export const PLATFORM_LABEL = 'Bitbucket Data Center / Server';

// -- the Add Integration form ---------------------------------------------------------------

export const oauth2Unavailable = (version) =>
  `Bitbucket ${version} does not offer OAuth 2 application links (they need Bitbucket 7.21 ` +
  'or later): choose OAuth 1 as the OAuth version and follow the Bitbucket Data Center / ' +
  'Server OAuth 1 setup guide instead.';

export const OAUTH1_LEAVE_CALLBACK_EMPTY =
  "In the application link's Incoming Authentication, paste the Consumer Key and the Public " +
  'Key shown here and leave the Consumer Callback URL empty: the integration sends its ' +
  'callback URL with every login.';

export const OAUTH1_NO_SYNCHRONIZATIONS =
  'From Bitbucket v8 on, OAuth 1 links can no longer be used to set up synchronizations. ' +
  'Create an OAuth 2 link instead and edit the integration to use OAuth 2.';

export const MISSING_CLIENT_CREDENTIALS =
  'Enter the Client ID and the Client Secret that Bitbucket showed for the application link.';

export const unreachable = (baseUrl, reason) =>
  `Bitbucket at ${baseUrl} did not answer: ${reason}.`;

export const notBitbucket = (baseUrl, detail) =>
  `${baseUrl} does not look like Bitbucket Data Center / Server (${detail}); check the base URL.`;

// -- the login ------------------------------------------------------------------------------

export const NOT_LOGGED_IN = 'You are not logged in.';

export const STATE_MISMATCH =
  'The login could not be verified: the callback does not belong to the login this browser ' +
  'started (state mismatch). You are not logged in; please log in again.';

export const OAUTH1_TOKEN_MISMATCH =
  'The login could not be verified: the callback does not carry the request token this ' +
  'browser was given. You are not logged in; please log in again.';

export const ACCESS_DENIED = 'You denied access to your Bitbucket account; you are not logged in.';

export const NO_AUTHORIZATION_CODE =
  'Bitbucket sent no authorization code; you are not logged in. Please log in again.';

export const NO_VERIFIER = 'Bitbucket sent no verifier; you are not logged in. Please log in again.';

export const callbackError = (error, description) =>
  `Bitbucket refused the login (${description ? `${error}: ${description}` : error}); ` +
  'you are not logged in.';

// Choice 1 of the README: the Client ID / Secret are not checked at "Create Integration", so a
// wrong secret shows up here, at the first login, and must say what the admin has to fix.
export const CLIENT_CREDENTIALS_REJECTED =
  "Bitbucket rejected this integration's client credentials (invalid_client): the Client ID " +
  'or the Client Secret entered at "Create Integration" is wrong, or the application link was ' +
  'deleted. An administrator must copy the Client ID and Client Secret again from the ' +
  'application link in Bitbucket. You are not logged in.';

export const tokenExchangeFailed = (error, description) =>
  `Bitbucket refused the token exchange (${description ? `${error}: ${description}` : error}); ` +
  'you are not logged in. Please log in again.';

export const TWO_FACTOR_BLOCKED =
  "Bitbucket's U2F & TOTP two-factor plugin blocks OAuth: an administrator must enable its " +
  'OAuth whitelist. You are not logged in.';

export const userNotFound = (name) =>
  `Bitbucket named the user ${JSON.stringify(name)} but does not list them; you are not logged in.`;

export const TOKEN_NOT_ACCEPTED =
  'Bitbucket did not accept the new access token; you are not logged in. Please log in again.';

// Choice 2 of the README: the OAuth 1 link is not probed at "Create Integration"; a missing
// link or a wrong Public Key shows up here, at the first login.
export const consumerKeyUnknown = (consumerKey) =>
  `Bitbucket does not know this integration's Consumer Key ${JSON.stringify(consumerKey)} ` +
  '(consumer_key_unknown): an administrator must create the application link and paste the ' +
  "Consumer Key into its Incoming Authentication. You are not logged in.";

export const SIGNATURE_INVALID =
  "Bitbucket could not verify this integration's signature (signature_invalid): the " +
  'application link holds another Public Key. An administrator must paste the Public Key ' +
  "shown on the integration's form into the link's Incoming Authentication. You are not " +
  'logged in.';

export const oauth1Refused = (problem, advice) =>
  `Bitbucket refused the OAuth 1 login (${advice ? `${problem}: ${advice}` : problem}); ` +
  'you are not logged in.';

export const CALLBACK_NOT_CONFIRMED =
  'Bitbucket did not confirm the callback URL of the OAuth 1 login ' +
  '(oauth_callback_confirmed missing); you are not logged in.';

// -- a logged-in session --------------------------------------------------------------------

export const LOGIN_ENDED =
  'Your Bitbucket login is no longer valid (Bitbucket refused to renew it: the token was ' +
  'revoked or the application link deleted); please log in again.';

export const bitbucketFailed = (what, status) =>
  `Bitbucket answered HTTP ${status} to ${what}; try again later.`;
