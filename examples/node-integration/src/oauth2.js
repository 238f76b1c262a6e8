// OAuth 2 as Bitbucket's application links speak it: the authorization code grant with
// `state` and PKCE (RFC 7636, S256), and the refresh token grant.
//
// Bitbucket reads the client credentials from the token request's form body only (it
// ignores HTTP Basic), so every grant below carries client_id and client_secret.

import { createHash, randomBytes } from 'node:crypto';

/** The least the integration needs: read the user's repositories. */
export const SCOPE = 'REPO_READ';
export const PKCE_METHOD = 'S256';

/** An unguessable `state`, bound to one browser's session and one integration. */
export const newState = () => randomBytes(32).toString('base64url');

/** A PKCE code verifier: 64 characters of [A-Za-z0-9-_] (RFC 7636 allows 43 to 128). */
export const newCodeVerifier = () => randomBytes(48).toString('base64url');

/** RFC 7636 4.2, S256: BASE64URL(SHA-256(ASCII(code_verifier))), without padding. */
export const codeChallenge = (verifier) =>
  createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** Where the login link sends the browser: Bitbucket's consent page for this client. */
export function authorizeUrl(baseUrl, { clientId, redirectUri, state, codeVerifier }) {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    code_challenge: codeChallenge(codeVerifier),
    code_challenge_method: PKCE_METHOD,
  });
  return `${baseUrl}/rest/oauth2/latest/authorize?${query}`;
}

/**
 * The token request for an authorization code: the same redirect_uri as the authorization
 * request (RFC 6749 4.1.3), the client credentials and the PKCE verifier.
 */
export const codeGrant = ({ code, redirectUri, clientId, clientSecret, codeVerifier }) => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: redirectUri,
  client_id: clientId,
  client_secret: clientSecret,
  code_verifier: codeVerifier,
});

/** The token request that renews a login with its refresh token. */
export const refreshGrant = ({ refreshToken, clientId, clientSecret }) => ({
  grant_type: 'refresh_token',
  refresh_token: refreshToken,
  client_id: clientId,
  client_secret: clientSecret,
});

/**
 * The token pair of a successful token answer, or null. `expires_in` is deliberately not
 * read: this integration refreshes when Bitbucket rejects the token (choice 5 of the README).
 */
export function parseTokens(answer) {
  const body = answer.json();
  if (answer.status !== 200 || !body || typeof body.access_token !== 'string' || !body.access_token) {
    return null;
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : '',
  };
}
