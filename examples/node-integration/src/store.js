// Everything the integration remembers, in memory: integrations and browser sessions.
//
// A real product keeps integrations in its database and sessions in its session store; the
// shapes below are what it would keep. Tokens and the OAuth 1 private key never leave the
// server (only the session id goes to the browser, in an HttpOnly cookie).
//
// Integration: { id, platform, baseUrl, oauthVersion, bitbucketVersion, submitted,
//                clientId, clientSecret,            (OAuth 2)
//                consumer: {consumerKey, publicKey, privateKey} | null }   (OAuth 1)
//
// Session:     { id, error,
//                pending: a login started by the login link and not yet back from Bitbucket:
//                  {oauthVersion: 2, integrationId, state, codeVerifier, redirectUri} or
//                  {oauthVersion: 1, integrationId, requestToken, requestTokenSecret},
//                login: a completed login:
//                  {integrationId, account: {username, slug, displayName}, credential}
//                  credential = {oauthVersion: 2, accessToken, refreshToken}
//                            or {oauthVersion: 1, token, secret},
//                refreshing: the refresh in flight (see session.js) }

import { randomBytes } from 'node:crypto';

const newSessionId = () => randomBytes(32).toString('base64url');

export class Store {
  constructor() {
    this.reset();
  }

  /** Forget every integration and every session (old session cookies stop working). */
  reset() {
    this.integrations = new Map();
    this.sessions = new Map();
  }

  addIntegration(integration) {
    this.integrations.set(integration.id, integration);
    return integration;
  }

  integration(id) {
    return this.integrations.get(id) ?? null;
  }

  /** The integrations "Create Integration" completed, in creation order. */
  submittedIntegrations() {
    return [...this.integrations.values()].filter((i) => i.submitted);
  }

  session(id) {
    return (id && this.sessions.get(id)) || null;
  }

  newSession() {
    const session = { id: newSessionId(), error: null, pending: null, login: null, refreshing: null };
    this.sessions.set(session.id, session);
    return session;
  }

  /** Give a session a new id: done at every login, against session fixation. */
  rotate(session) {
    this.sessions.delete(session.id);
    session.id = newSessionId();
    this.sessions.set(session.id, session);
    return session;
  }
}

/** End a session's login (if any) and remember why, to show it to the user. */
export function logOut(session, error) {
  session.login = null;
  session.refreshing = null;
  session.error = error;
}
