// The login flows and a logged-in session against the fake Bitbucket of test/support: state
// binding, the wrong secret at the first login, refresh on rejection with rotating refresh
// tokens, the two-factor plugin, OAuth 1's missing link / other Public Key / forged token.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { createApp } from '../src/app.js';
import * as integrations from '../src/integrations.js';
import { finishOAuth1Login, finishOAuth2Login, startLogin } from '../src/login.js';
import * as messages from '../src/messages.js';
import { listRepositories } from '../src/repositories.js';
import { sessionState } from '../src/session.js';
import { FakeBitbucket } from './support/fake-bitbucket.js';

const BASE = 'http://bb.test';

async function setUp({ oauthVersion = 2, secret, link = true, pageCap } = {}) {
  const bitbucket = new FakeBitbucket({ pageCap });
  const { app } = createApp({ publicUrl: 'http://127.0.0.1:5000', bitbucket: bitbucket.factory });
  const integration = await integrations.createIntegration(app, { platform: 'bitbucket-server', base_url: BASE, oauth_version: oauthVersion });
  if (oauthVersion === 2) {
    bitbucket.clients.set('client-1', 'secret-1');
    const result = integrations.submit(app, integration, { client_id: 'client-1', client_secret: secret ?? 'secret-1' });
    assert.deepEqual(result, { redirect_to: '/integrations' }, 'submit checks nothing with Bitbucket');
  } else {
    if (link === true) bitbucket.consumers.set(integration.consumer.consumerKey, integration.consumer.publicKey);
    if (link === 'other key') bitbucket.consumers.set(integration.consumer.consumerKey, readFileSync(new URL('fixtures/rsa-public-key.pem', import.meta.url), 'utf8'));
    integrations.submit(app, integration, { client_id: '', client_secret: '' });
  }
  return { app, bitbucket, integration };
}

/** The login link then the callback, as the browser would go; the session afterwards. */
async function logIn(app, bitbucket, integration, { user = 'alice', change = (q) => q, session = app.store.newSession() } = {}) {
  const location = new URL(await startLogin(app, session, integration), 'http://127.0.0.1:5000');
  const query = { state: location.searchParams.get('state'), code: bitbucket.issueCode(user) };
  return { session: await finishOAuth2Login(app, session, integration, change(query)), location };
}

test('the OAuth 2 form shows one callback URL and the setup link', async () => {
  const { app, integration } = await setUp();
  const shown = integrations.form(app, integration);
  assert.deepEqual(shown.callback_urls, [`http://127.0.0.1:5000/oauth2/callback/${integration.id}`]);
  assert.equal(shown.setup_link, `${BASE}/plugins/servlet/applinks/listApplicationLinks`);
  assert.equal('consumer_key' in shown, false);
});

test('below 7.21 the OAuth 2 form offers no setup link and points to OAuth 1', async () => {
  const bitbucket = new FakeBitbucket({ version: '7.20.0' });
  const { app } = createApp({ bitbucket: bitbucket.factory });
  const integration = await integrations.createIntegration(app, { platform: 'bitbucket-server', base_url: BASE, oauth_version: 2 });
  const shown = integrations.form(app, integration);
  assert.equal(shown.setup_link, null);
  assert.match(shown.messages[0], /7\.21/);
  assert.match(shown.messages[0], /OAuth 1/);
});

test('a user logs in: state, PKCE, REPO_READ; the session id rotates', async () => {
  const { app, bitbucket, integration } = await setUp();
  const session = app.store.newSession();
  const before = session.id;
  const { location, session: loggedIn } = await logIn(app, bitbucket, integration, { session });
  assert.equal(location.searchParams.get('scope'), 'REPO_READ');
  assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(location.searchParams.get('state').length >= 43);
  assert.equal(loggedIn, session);
  assert.notEqual(loggedIn.id, before);
  assert.equal(app.store.session(before), null, 'the old session id no longer works');
  assert.deepEqual(await sessionState(app, loggedIn), { authenticated: true, username: 'alice', error: null });
});

test('the login name is answered, not the slug', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration, { user: 'jane@example.com' });
  assert.equal((await sessionState(app, session)).username, 'jane@example.com');
  assert.equal(session.login.account.slug, 'jane_example.com');
});

test('a callback with a wrong, missing or reused state is rejected', async () => {
  const { app, bitbucket, integration } = await setUp();
  for (const change of [(q) => ({ ...q, state: 'forged' }), (q) => ({ ...q, state: undefined })]) {
    const { session } = await logIn(app, bitbucket, integration, { change });
    assert.deepEqual(await sessionState(app, session), { authenticated: false, username: null, error: messages.STATE_MISMATCH });
  }
  // Another browser's state and code: this browser never started that login.
  const first = app.store.newSession();
  const state = new URL(await startLogin(app, first, integration)).searchParams.get('state');
  const other = app.store.newSession();
  const result = await finishOAuth2Login(app, other, integration, { state, code: bitbucket.issueCode() });
  assert.equal(result.login, null);
  assert.equal(result.error, messages.STATE_MISMATCH);
  // A pending login is used once: the same callback again does not log in.
  const again = app.store.newSession();
  const againState = new URL(await startLogin(app, again, integration)).searchParams.get('state');
  await finishOAuth2Login(app, again, integration, { state: againState, code: bitbucket.issueCode() });
  const replay = await finishOAuth2Login(app, again, integration, { state: againState, code: bitbucket.issueCode() });
  assert.equal(replay.login, null);
});

test('two browsers get different states', async () => {
  const { app, integration } = await setUp();
  const states = await Promise.all([1, 2].map(async () => new URL(await startLogin(app, app.store.newSession(), integration)).searchParams.get('state')));
  assert.notEqual(states[0], states[1]);
});

test('denied consent leaves the user logged out with an error', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration, { change: (q) => ({ state: q.state, error: 'access_denied' }) });
  assert.equal((await sessionState(app, session)).error, messages.ACCESS_DENIED);
});

test('a wrong Client Secret is reported at the first login, naming the client credentials', async () => {
  const { app, bitbucket, integration } = await setUp({ secret: 'mistyped' });
  const { session } = await logIn(app, bitbucket, integration);
  const state = await sessionState(app, session);
  assert.equal(state.authenticated, false);
  assert.match(state.error, /client credentials/);
  assert.match(state.error, /Client ID/);
  assert.match(state.error, /Client Secret/);
});

test('a rejected access token is refreshed once, and the new refresh token kept each time', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration);
  for (let hour = 1; hour <= 3; hour += 1) {
    bitbucket.expireAccessTokens();
    assert.equal((await sessionState(app, session)).authenticated, true, `hour ${hour}`);
  }
  assert.equal(bitbucket.calls.filter((c) => c === 'token:refresh_token').length, 3);
});

test('calls rejected at the same time share one refresh', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration);
  bitbucket.expireAccessTokens();
  const states = await Promise.all([1, 2, 3, 4].map(() => sessionState(app, session)));
  assert.ok(states.every((s) => s.authenticated));
  assert.equal(bitbucket.calls.filter((c) => c === 'token:refresh_token').length, 1);
});

test('a refused refresh ends the login', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration);
  bitbucket.expireAccessTokens();
  bitbucket.clients.clear(); // the application link was deleted
  assert.deepEqual(await sessionState(app, session), { authenticated: false, username: null, error: messages.LOGIN_ENDED });
  assert.equal(session.login, null);
});

test('the two-factor plugin without the OAuth whitelist is named', async () => {
  const { app, bitbucket, integration } = await setUp();
  const { session } = await logIn(app, bitbucket, integration);
  bitbucket.twoFactorBlocks = true;
  const state = await sessionState(app, session);
  assert.equal(state.authenticated, false);
  assert.match(state.error, /OAuth whitelist/);
  bitbucket.twoFactorBlocks = false; // the whitelist enabled: the login works again
  assert.equal((await sessionState(app, session)).authenticated, true);
});

test('the repositories are listed across capped pages, with their composer.json', async () => {
  const { app, bitbucket, integration } = await setUp({ pageCap: 3 });
  const { session } = await logIn(app, bitbucket, integration);
  const rows = await listRepositories(app, session);
  assert.equal(rows.length, 7);
  assert.deepEqual(rows.filter((r) => r.has_composer_json).map((r) => `${r.project}/${r.slug}`), ['PKG/repo-1', '~ALICE/repo-2']);
  assert.deepEqual(Object.keys(rows[0]), ['project', 'slug', 'has_composer_json']);
});

// -- OAuth 1 --------------------------------------------------------------------------------------

async function logInOAuth1(app, integration, change = (q) => q) {
  const session = app.store.newSession();
  const location = await startLogin(app, session, integration);
  if (location === '/') return session;
  const token = new URL(location).searchParams.get('oauth_token');
  return finishOAuth1Login(app, session, integration, change({ oauth_token: token, oauth_verifier: 'v1' }));
}

test('the OAuth 1 form: Consumer Key, PEM Public Key, Application URL, leave the callback empty', async () => {
  const { app, integration } = await setUp({ oauthVersion: 1 });
  const shown = integrations.form(app, integration);
  assert.match(shown.public_key, /^-----BEGIN PUBLIC KEY-----/);
  assert.equal(shown.application_url, 'http://127.0.0.1:5000/');
  assert.ok(shown.messages.some((m) => /callback.*empty/i.test(m)));
  assert.ok(shown.messages.some((m) => /synchronizations/.test(m)), 'Bitbucket 8.19 gets the v8 warning');
});

test('an OAuth 1 user logs in and the session checks live', async () => {
  const { app, integration } = await setUp({ oauthVersion: 1 });
  const session = await logInOAuth1(app, integration);
  assert.deepEqual(await sessionState(app, session), { authenticated: true, username: 'alice', error: null });
});

test('a missing application link is reported at the first login, naming the Consumer Key', async () => {
  const { app, integration } = await setUp({ oauthVersion: 1, link: false });
  const session = await logInOAuth1(app, integration);
  assert.match((await sessionState(app, session)).error, /Consumer Key/);
});

test('a link with another Public Key is reported at the first login, naming the Public Key', async () => {
  const { app, integration } = await setUp({ oauthVersion: 1, link: 'other key' });
  const session = await logInOAuth1(app, integration);
  assert.match((await sessionState(app, session)).error, /Public Key/);
});

test("an OAuth 1 callback with another oauth_token, or Deny, is rejected", async () => {
  const { app, integration } = await setUp({ oauthVersion: 1 });
  const forged = await logInOAuth1(app, integration, (q) => ({ ...q, oauth_token: 'forged' }));
  assert.equal((await sessionState(app, forged)).error, messages.OAUTH1_TOKEN_MISMATCH);
  const denied = await logInOAuth1(app, integration, (q) => ({ ...q, oauth_verifier: 'denied' }));
  assert.equal((await sessionState(app, denied)).error, messages.ACCESS_DENIED);
});
