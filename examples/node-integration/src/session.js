// A logged-in session's calls to Bitbucket, and "who is logged in right now".
//
// OAuth 2 (choice 5 of the README): the integration does not track expires_in. It makes the
// call with its access token; when Bitbucket answers 401, or answers without X-AUSERNAME
// (an expired or unknown Bearer token counts as anonymous on some endpoints), it refreshes
// once and repeats the call once. Bitbucket rotates refresh tokens (the used one is revoked),
// so the new refresh token always replaces the old one, and two calls never refresh at
// once. A refused refresh ends the login.
//
// OAuth 1: calls are signed with the access token; there is nothing to refresh, so a
// rejected call ends the login.
//
// Whatever the version, an answer naming two-factor authentication means the U2F & TOTP
// plugin blocks OAuth: the user is told to have the OAuth whitelist enabled (the login is
// kept: it works again once the whitelist is on).

import * as bb from './bitbucket.js';
import { signing } from './login.js';
import * as messages from './messages.js';
import * as oauth2 from './oauth2.js';
import { logOut } from './store.js';

/** A logged-in session cannot use Bitbucket now. `status` is what GET /repositories answers. */
export class LoginProblem extends Error {
  constructor(message, status = 401) {
    super(message);
    this.status = status;
  }
}

/** The session's integration and login; ends the login when the integration is gone. */
function loginOf(app, session) {
  const login = session?.login;
  if (!login) throw new LoginProblem(session?.error ?? messages.NOT_LOGGED_IN);
  const integration = app.store.integration(login.integrationId);
  if (!integration) {
    logOut(session, messages.LOGIN_ENDED);
    throw new LoginProblem(messages.LOGIN_ENDED);
  }
  return { login, integration };
}

/** Calls Bitbucket; an unreachable server or a 2FA block is a LoginProblem. */
async function attempt(integration, call, auth) {
  let answer;
  try {
    answer = await call(auth);
  } catch (error) {
    if (error instanceof bb.BitbucketUnreachable) {
      throw new LoginProblem(messages.unreachable(integration.baseUrl, error.reason), 502);
    }
    throw error;
  }
  if (bb.twoFactorBlocked(answer)) throw new LoginProblem(messages.TWO_FACTOR_BLOCKED);
  return answer;
}

/**
 * Make `call(client, auth)` as the session's user and answer Bitbucket's answer; refresh
 * and retry once (OAuth 2) or end the login (OAuth 1) when Bitbucket rejects the credential.
 */
export async function authorized(app, session, call) {
  const { login, integration } = loginOf(app, session);
  const client = app.bitbucket(integration.baseUrl);
  const send = (auth) => call(client, auth);
  const { credential } = login;
  if (credential.oauthVersion === 1) {
    const answer = await attempt(integration, send, bb.oauth1(signing(integration, { token: credential.token })));
    if (bb.credentialRejected(answer)) endLogin(session);
    return answer;
  }
  let answer = await attempt(integration, send, bb.bearer(credential.accessToken));
  if (!bb.credentialRejected(answer)) return answer;
  const renewed = await refreshed(app, session, integration, credential);
  answer = await attempt(integration, send, bb.bearer(renewed.accessToken));
  if (bb.credentialRejected(answer)) endLogin(session);
  return answer;
}

function endLogin(session) {
  logOut(session, messages.LOGIN_ENDED);
  throw new LoginProblem(messages.LOGIN_ENDED);
}

/**
 * The session's credential after a refresh of `used`. Calls that find `used` rejected at
 * the same time share one refresh (a second refresh with the same, now revoked, refresh
 * token would end the login); a call that comes after it was replaced uses the new one.
 */
function refreshed(app, session, integration, used) {
  const current = session.login?.credential;
  if (!current) return Promise.reject(new LoginProblem(session.error ?? messages.LOGIN_ENDED));
  if (current !== used) return Promise.resolve(current);
  if (!session.refreshing) {
    session.refreshing = refresh(app, session, integration, used).finally(() => {
      session.refreshing = null;
    });
  }
  return session.refreshing;
}

async function refresh(app, session, integration, used) {
  const grant = oauth2.refreshGrant({
    refreshToken: used.refreshToken,
    clientId: integration.clientId,
    clientSecret: integration.clientSecret,
  });
  const answer = await attempt(integration, () => app.bitbucket(integration.baseUrl).token(grant));
  const tokens = oauth2.parseTokens(answer);
  if (!tokens) {
    // 4xx: the refresh token was revoked, or the link deleted: the login is over.
    // Anything else (5xx) is Bitbucket's trouble: keep the login for a later try.
    if (answer.status >= 400 && answer.status < 500) endLogin(session);
    throw new LoginProblem(messages.bitbucketFailed('the token refresh', answer.status), 502);
  }
  // Keep the NEW refresh token: Bitbucket has revoked the one just used.
  const credential = {
    oauthVersion: 2,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken || used.refreshToken,
  };
  if (session.login) session.login.credential = credential;
  return credential;
}

/**
 * GET /session: who is logged in, checked live with Bitbucket (a deleted link, a revoked
 * token or a 2FA block shows now, not at the next login). The driver's session.json.
 */
export async function sessionState(app, session) {
  if (!session) return { authenticated: false, username: null, error: null };
  if (!session.login) return { authenticated: false, username: null, error: session.error };
  try {
    const answer = await authorized(app, session, (client, auth) => client.applicationProperties(auth));
    if (answer.status !== 200) throw new LoginProblem(messages.bitbucketFailed('application-properties', answer.status), 502);
  } catch (error) {
    if (error instanceof LoginProblem) return { authenticated: false, username: null, error: error.message };
    throw error;
  }
  return { authenticated: true, username: session.login.account.username, error: null };
}
