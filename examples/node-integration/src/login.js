// The user's login through an integration's login link, with OAuth 2 or OAuth 1.0a.
//
// OAuth 2 (authorization code, state, PKCE):
//   login link  -> remember {state, code_verifier} in this browser's session, redirect to
//                  Bitbucket's authorize endpoint (scope REPO_READ, redirect_uri = the one
//                  callback URL the form displayed, state, code_challenge S256)
//   callback    -> the state must be the one this browser's session holds for this
//                  integration; exchange the code (client credentials and code_verifier in
//                  the form body); find out who the token belongs to.
//
// OAuth 1.0a (request token, authorize, verifier, access token):
//   login link  -> POST request-token signed as the consumer with oauth_callback; remember
//                  the request token in this browser's session; redirect to Bitbucket's
//                  authorize page with oauth_token
//   callback    -> oauth_token must be the request token this browser's session holds;
//                  oauth_verifier "denied" means Deny; POST access-token signed with the
//                  request token and the verifier; find out who the token belongs to.
//
// Either way a pending login is used once, and a completed login gets a new session id.
// A failed login leaves the session logged out with the reason, which the home page and
// GET /session show.

import { timingSafeEqual } from 'node:crypto';

import * as bb from './bitbucket.js';
import * as messages from './messages.js';
import { DENIED_VERIFIER } from './oauth1.js';
import * as oauth2 from './oauth2.js';
import { allValues } from './paging.js';
import * as rules from './rules.js';
import { logOut } from './store.js';

/** The login did not complete; `message` is shown to the user. */
export class LoginFailed extends Error {}

/** Constant-time comparison of two secrets (a state, a request token); false when either is missing. */
export function sameSecret(expected, given) {
  if (typeof expected !== 'string' || typeof given !== 'string' || !expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Calls Bitbucket; an unreachable server fails the login with the reason. */
async function ask(integration, call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof bb.BitbucketUnreachable) {
      throw new LoginFailed(messages.unreachable(integration.baseUrl, error.reason));
    }
    throw error;
  }
}

/** The signing material of an integration's consumer, with a token when given. */
export const signing = (integration, extra = {}) => ({ consumer: integration.consumer, ...extra });

// -- the login link -------------------------------------------------------------------------

/** The login link: where to send the browser (Bitbucket, or home when the login cannot start). */
export async function startLogin(app, session, integration) {
  session.pending = null;
  if (integration.oauthVersion === 1) return startOAuth1Login(app, session, integration);
  const pending = {
    oauthVersion: 2,
    integrationId: integration.id,
    state: oauth2.newState(),
    codeVerifier: oauth2.newCodeVerifier(),
    redirectUri: rules.oauth2CallbackUrl(app.publicUrl(), integration.id),
  };
  session.pending = pending;
  return oauth2.authorizeUrl(integration.baseUrl, { clientId: integration.clientId, ...pending });
}

async function startOAuth1Login(app, session, integration) {
  try {
    const token = await requestToken(app, integration);
    session.pending = { oauthVersion: 1, integrationId: integration.id, ...token };
    const query = bb.queryString({ oauth_token: token.requestToken });
    return `${integration.baseUrl}/plugins/servlet/oauth/authorize?${query}`;
  } catch (error) {
    if (!(error instanceof LoginFailed)) throw error;
    logOut(session, error.message);
    return rules.HOME_PATH;
  }
}

/**
 * A request token for this integration's OAuth 1 callback. This is the first time Bitbucket
 * sees the consumer's signature (choice 2), so a missing link or another Public Key is told
 * here, naming what the admin must fix.
 */
async function requestToken(app, integration) {
  const callback = rules.oauth1CallbackUrl(app.publicUrl(), integration.id);
  const client = app.bitbucket(integration.baseUrl);
  const answer = await ask(integration, () => client.requestToken(bb.oauth1(signing(integration, { callback }))));
  const pairs = answer.form();
  if (answer.status === 200 && pairs.oauth_token) {
    // OAuth 1.0a: without the confirmation the provider ignored our callback (OAuth 1.0).
    if (pairs.oauth_callback_confirmed !== 'true') throw new LoginFailed(messages.CALLBACK_NOT_CONFIRMED);
    return { requestToken: pairs.oauth_token, requestTokenSecret: pairs.oauth_token_secret ?? '' };
  }
  throw new LoginFailed(oauth1Failure(integration, answer));
}

/** What the user is told when an OAuth 1 servlet refuses the integration. */
function oauth1Failure(integration, answer) {
  if (bb.twoFactorBlocked(answer)) return messages.TWO_FACTOR_BLOCKED;
  const { problem, advice } = answer.oauth1Problem;
  if (problem === 'consumer_key_unknown') return messages.consumerKeyUnknown(integration.consumer.consumerKey);
  if (problem === 'signature_invalid') return messages.SIGNATURE_INVALID;
  return messages.oauth1Refused(problem || `HTTP ${answer.status}`, advice);
}

// -- the callbacks ----------------------------------------------------------------------------

/**
 * Take the session's pending login, if it is one of this integration and OAuth version:
 * a callback only completes a login this browser started through this integration.
 */
function takePending(session, integration) {
  const pending = session.pending;
  session.pending = null; // used once, whatever happens next
  const ours = pending?.integrationId === integration.id && pending.oauthVersion === integration.oauthVersion;
  return ours ? pending : null;
}

/** Run a callback's steps; on success the session is logged in under a new id. */
async function complete(app, session, steps) {
  try {
    const { account, credential, integrationId } = await steps();
    session.login = { integrationId, account, credential };
    session.error = null;
    return app.store.rotate(session);
  } catch (error) {
    if (!(error instanceof LoginFailed)) throw error;
    logOut(session, error.message);
    return session;
  }
}

/** The OAuth 2 callback: `?code=...&state=...`, or `?error=access_denied&state=...`. */
export function finishOAuth2Login(app, session, integration, query) {
  const pending = takePending(session, integration);
  return complete(app, session, async () => {
    if (!pending || !sameSecret(pending.state, query.state)) throw new LoginFailed(messages.STATE_MISMATCH);
    if (query.error) {
      const text = query.error === 'access_denied'
        ? messages.ACCESS_DENIED
        : messages.callbackError(query.error, query.error_description);
      throw new LoginFailed(text);
    }
    if (!query.code) throw new LoginFailed(messages.NO_AUTHORIZATION_CODE);
    const client = app.bitbucket(integration.baseUrl);
    const grant = oauth2.codeGrant({
      code: query.code,
      redirectUri: pending.redirectUri,
      clientId: integration.clientId,
      clientSecret: integration.clientSecret,
      codeVerifier: pending.codeVerifier,
    });
    const answer = await ask(integration, () => client.token(grant));
    const tokens = oauth2.parseTokens(answer);
    if (!tokens) throw new LoginFailed(tokenFailure(answer));
    const account = await identify(integration, client, bb.bearer(tokens.accessToken));
    return { integrationId: integration.id, account, credential: { oauthVersion: 2, ...tokens } };
  });
}

/** What the user is told when the code exchange fails (choice 1: a wrong secret shows here). */
function tokenFailure(answer) {
  if (bb.twoFactorBlocked(answer)) return messages.TWO_FACTOR_BLOCKED;
  const { error, description } = answer.oauthError;
  if (error === 'invalid_client') return messages.CLIENT_CREDENTIALS_REJECTED;
  return messages.tokenExchangeFailed(error || `HTTP ${answer.status}`, description);
}

/** The OAuth 1 callback: `?oauth_token=...&oauth_verifier=...` (verifier "denied" on Deny). */
export function finishOAuth1Login(app, session, integration, query) {
  const pending = takePending(session, integration);
  return complete(app, session, async () => {
    if (!pending || !sameSecret(pending.requestToken, query.oauth_token)) {
      throw new LoginFailed(messages.OAUTH1_TOKEN_MISMATCH);
    }
    if (query.oauth_verifier === DENIED_VERIFIER) throw new LoginFailed(messages.ACCESS_DENIED);
    if (!query.oauth_verifier) throw new LoginFailed(messages.NO_VERIFIER);
    const client = app.bitbucket(integration.baseUrl);
    const exchange = signing(integration, { token: pending.requestToken, verifier: query.oauth_verifier });
    const answer = await ask(integration, () => client.accessToken(bb.oauth1(exchange)));
    const pairs = answer.form();
    if (answer.status !== 200 || !pairs.oauth_token) throw new LoginFailed(oauth1Failure(integration, answer));
    const credential = { oauthVersion: 1, token: pairs.oauth_token, secret: pairs.oauth_token_secret ?? '' };
    const account = await identify(integration, client, bb.oauth1(signing(integration, { token: credential.token })));
    return { integrationId: integration.id, account, credential };
  });
}

// -- who is logged in -----------------------------------------------------------------------

/**
 * Who the new credential belongs to. application-properties names the caller in
 * X-AUSERNAME: the login name (e.g. jane@example.com), which may differ from the slug
 * (jane_example.com) that user URLs need, so the user is then looked up by name.
 */
export async function identify(integration, client, auth) {
  const answer = await ask(integration, () => client.applicationProperties(auth));
  if (bb.twoFactorBlocked(answer)) throw new LoginFailed(messages.TWO_FACTOR_BLOCKED);
  const name = answer.username;
  if (answer.status !== 200 || !name) throw new LoginFailed(messages.TOKEN_NOT_ACCEPTED);
  const users = await ask(integration, () =>
    allValues(async (start) => {
      const page = await client.users(auth, name, start);
      if (bb.twoFactorBlocked(page)) throw new LoginFailed(messages.TWO_FACTOR_BLOCKED);
      if (page.status !== 200) throw new LoginFailed(messages.userNotFound(name));
      return page.json() ?? {};
    }),
  );
  const user = users.find((u) => String(u?.name ?? '').toLowerCase() === name.toLowerCase());
  if (!user) throw new LoginFailed(messages.userNotFound(name));
  return { username: user.name, slug: user.slug, displayName: user.displayName ?? user.name };
}
