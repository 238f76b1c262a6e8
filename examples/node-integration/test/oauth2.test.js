import assert from 'node:assert/strict';
import { test } from 'node:test';

import { authorizeUrl, codeChallenge, codeGrant, newCodeVerifier, newState, parseTokens, refreshGrant } from '../src/oauth2.js';

test("the S256 challenge of RFC 7636's Appendix B", () => {
  assert.equal(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('verifiers and states are long, URL-safe and never repeat', () => {
  const verifier = newCodeVerifier();
  assert.match(verifier, /^[A-Za-z0-9_-]{43,128}$/);
  assert.notEqual(newState(), newState());
  assert.notEqual(newCodeVerifier(), verifier);
});

test('the authorization request: code flow, REPO_READ only, state and PKCE S256', () => {
  const url = new URL(authorizeUrl('https://bb.example.com/bitbucket', {
    clientId: 'cid', redirectUri: 'http://127.0.0.1:5000/oauth2/callback/x', state: 'st', codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  }));
  assert.equal(url.origin + url.pathname, 'https://bb.example.com/bitbucket/rest/oauth2/latest/authorize');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    response_type: 'code',
    client_id: 'cid',
    redirect_uri: 'http://127.0.0.1:5000/oauth2/callback/x',
    scope: 'REPO_READ',
    state: 'st',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
});

test('token requests carry the client credentials in the form body', () => {
  const code = codeGrant({ code: 'c', redirectUri: 'r', clientId: 'id', clientSecret: 's', codeVerifier: 'v' });
  assert.deepEqual(code, { grant_type: 'authorization_code', code: 'c', redirect_uri: 'r', client_id: 'id', client_secret: 's', code_verifier: 'v' });
  const refresh = refreshGrant({ refreshToken: 'rt', clientId: 'id', clientSecret: 's' });
  assert.deepEqual(refresh, { grant_type: 'refresh_token', refresh_token: 'rt', client_id: 'id', client_secret: 's' });
});

test('a token answer gives the pair; an error answer gives null', () => {
  const answer = (status, body) => ({ status, json: () => body });
  assert.deepEqual(parseTokens(answer(200, { access_token: 'a', refresh_token: 'r', expires_in: 3600 })), { accessToken: 'a', refreshToken: 'r' });
  assert.equal(parseTokens(answer(401, { error: 'invalid_client' })), null);
  assert.equal(parseTokens(answer(200, null)), null);
});
