// The admin's part of the guide: "Open the Add Integration form" (choose the platform, the
// base URL and the OAuth version; see what to paste into Bitbucket), "Finish the Setup"
// ("Create Integration") and the integrations list with each login link.
//
// `app` is the application context: { store, publicUrl(), bitbucket(baseUrl) }.

import { BitbucketUnreachable } from './bitbucket.js';
import * as messages from './messages.js';
import { generateConsumer } from './oauth1.js';
import * as rules from './rules.js';

/**
 * The form once platform, base URL and OAuth version are chosen. Bitbucket is asked its
 * version (the form's notes depend on it); nothing is listed until "Create Integration".
 */
export async function createIntegration(app, { platform, base_url: baseUrl, oauth_version: oauthVersion }) {
  const integration = {
    id: rules.newIntegrationId(),
    platform: rules.checkPlatform(platform),
    baseUrl: rules.normaliseBaseUrl(baseUrl),
    oauthVersion: rules.checkOAuthVersion(oauthVersion),
    bitbucketVersion: null,
    submitted: false,
    clientId: '',
    clientSecret: '',
    consumer: null,
  };
  integration.bitbucketVersion = await bitbucketVersion(app, integration.baseUrl);
  if (integration.oauthVersion === 1) {
    // One consumer per integration: its own Consumer Key and its own RSA key pair.
    integration.consumer = await generateConsumer(rules.consumerKeyFor(integration.id));
  }
  app.store.addIntegration(integration);
  return integration;
}

/** The version Bitbucket reports (anonymous application-properties); a refusal if none. */
async function bitbucketVersion(app, baseUrl) {
  let answer;
  try {
    answer = await app.bitbucket(baseUrl).applicationProperties();
  } catch (error) {
    if (error instanceof BitbucketUnreachable) throw new rules.Refusal(messages.unreachable(baseUrl, error.reason));
    throw error;
  }
  const version = answer.json()?.version;
  if (answer.status !== 200 || rules.parseVersion(version) === null) {
    throw new rules.Refusal(
      messages.notBitbucket(baseUrl, `application-properties answered HTTP ${answer.status} without a version`),
    );
  }
  return version;
}

/** Why OAuth 2 cannot be set up on this integration's Bitbucket, or null. */
function oauth2Unavailable(integration) {
  const version = rules.parseVersion(integration.bitbucketVersion);
  return rules.offersOAuth2(version) ? null : messages.oauth2Unavailable(integration.bitbucketVersion);
}

/**
 * What the form displays (the driver protocol's created-integration.json). OAuth 2: the
 * setup link and one callback URL, the Client ID and Secret fields empty. OAuth 1: the
 * generated Consumer Key and Public Key and the Application URL, to paste into Bitbucket.
 */
export function form(app, integration) {
  const publicUrl = app.publicUrl();
  if (integration.oauthVersion === 2) {
    const unavailable = oauth2Unavailable(integration);
    return {
      id: integration.id,
      setup_link: unavailable ? null : rules.setupLink(integration.baseUrl),
      callback_urls: [rules.oauth2CallbackUrl(publicUrl, integration.id)],
      client_id: '',
      client_secret: '',
      messages: unavailable ? [unavailable] : [],
    };
  }
  const version = rules.parseVersion(integration.bitbucketVersion);
  return {
    id: integration.id,
    setup_link: rules.setupLink(integration.baseUrl),
    // Informational: Bitbucket's Consumer Callback URL stays empty, the integration sends
    // this URL as oauth_callback with every request token.
    callback_urls: [rules.oauth1CallbackUrl(publicUrl, integration.id)],
    client_id: '',
    client_secret: '',
    messages: [
      ...(rules.warnsOAuth1Sync(version) ? [messages.OAUTH1_NO_SYNCHRONIZATIONS] : []),
      messages.OAUTH1_LEAVE_CALLBACK_EMPTY,
    ],
    consumer_key: integration.consumer.consumerKey,
    public_key: integration.consumer.publicKey,
    application_url: rules.applicationUrl(publicUrl),
  };
}

export function integrationById(app, id) {
  const integration = app.store.integration(id);
  if (!integration) throw new rules.Refusal(`No integration has the id ${JSON.stringify(id)}.`, 404);
  return integration;
}

/**
 * "Create Integration". Answers {redirect_to} (a path, choice 3) or {error}.
 *
 * Nothing is checked with Bitbucket here (choices 1 and 2): OAuth 2 keeps the Client ID and
 * Secret as entered; OAuth 1 has nothing to enter. A wrong secret, a missing link or another
 * Public Key are reported at the first login, where Bitbucket's answer says which.
 */
export function submit(app, integration, { client_id: clientId, client_secret: clientSecret }) {
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
    throw new rules.Refusal('client_id and client_secret must be strings.', 400);
  }
  if (integration.oauthVersion === 2) {
    const unavailable = oauth2Unavailable(integration);
    if (unavailable) return { error: unavailable };
    if (!clientId.trim() || !clientSecret.trim()) return { error: messages.MISSING_CLIENT_CREDENTIALS };
    integration.clientId = clientId.trim();
    integration.clientSecret = clientSecret.trim();
  }
  integration.submitted = true;
  return { redirect_to: rules.INTEGRATIONS_PATH };
}

/** The integrations list (the driver protocol's integrations.json). */
export function listIntegrations(app) {
  return app.store.submittedIntegrations().map((integration) => ({
    id: integration.id,
    platform: integration.platform,
    base_url: integration.baseUrl,
    oauth_version: integration.oauthVersion,
    login_link: rules.loginLink(app.publicUrl(), integration.id),
  }));
}
