// The web application over HTTP: the driver protocol's answers and the browser-facing rules
// (cookie attributes, no open redirect, clean URLs after the callback, reset), with the fake
// Bitbucket; and server.js as a process (one stdout line, exit 0 on SIGTERM).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { createApp } from '../src/app.js';
import { FakeBitbucket } from './support/fake-bitbucket.js';

let server;
let base;
let bitbucket;

before(async () => {
  bitbucket = new FakeBitbucket();
  const { app, handle } = createApp({ bitbucket: bitbucket.factory });
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${server.address().port}`;
  app.setPublicUrl(base);
});

after(() => server.close());

const driver = (path, init = {}) =>
  fetch(`${base}/_conformance${path}`, { redirect: 'manual', ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });
const post = (path, body) => driver(path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
const cookieOf = (response) => response.headers.get('set-cookie')?.split(';')[0];

async function oauth2Integration() {
  const form = await (await post('/integrations', { platform: 'bitbucket-server', base_url: 'http://bb.test', oauth_version: 2 })).json();
  bitbucket.clients.set('client-1', 'secret-1');
  const submitted = await post(`/integrations/${form.id}/submit`, { client_id: 'client-1', client_secret: 'secret-1' });
  assert.deepEqual(await submitted.json(), { redirect_to: '/integrations' });
  const rows = await (await driver('/integrations')).json();
  return rows.find((row) => row.id === form.id);
}

/** The browser: login link, then the callback with Bitbucket's code; its session cookie. */
async function browserLogin(row, extraQuery = '') {
  const start = await fetch(`${row.login_link}${extraQuery}`, { redirect: 'manual' });
  const authorize = new URL(start.headers.get('location'));
  const callback = new URL(authorize.searchParams.get('redirect_uri'));
  callback.searchParams.set('state', authorize.searchParams.get('state'));
  callback.searchParams.set('code', bitbucket.issueCode());
  const back = await fetch(callback, { redirect: 'manual', headers: { Cookie: cookieOf(start) } });
  return { start, authorize, back, cookie: cookieOf(back) };
}

test('capabilities: protocol 1, OAuth 2 and 1, repositories', async () => {
  const response = await driver('/capabilities');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const body = await response.json();
  assert.deepEqual(Object.keys(body).sort(), ['name', 'oauth_versions', 'protocol', 'repositories']);
  assert.deepEqual(body.oauth_versions, [2, 1]);
});

test('errors are JSON {"error"} with the documented statuses', async () => {
  assert.equal((await driver('/nothing')).status, 404);
  assert.deepEqual(Object.keys(await (await driver('/nothing')).json()), ['error']);
  assert.equal((await driver('/capabilities', { method: 'DELETE' })).status, 405);
  assert.equal((await post('/integrations', 'not an object')).status, 400);
  assert.equal((await post('/integrations/unknown/submit', { client_id: '', client_secret: '' })).status, 404);
  const nobody = await driver('/repositories');
  assert.equal(nobody.status, 401);
  assert.ok((await nobody.json()).error);
});

test('the login: cookie attributes, rotation, a clean redirect, no open redirect', async () => {
  const row = await oauth2Integration();
  const { start, authorize, back, cookie } = await browserLogin(row, '?next=https://evil.example/&redirect=https://evil.example/');
  assert.equal(start.status, 302);
  assert.equal(authorize.origin, 'http://bb.test', 'the login link goes to Bitbucket whatever next= says');
  assert.match(start.headers.get('set-cookie'), /; Path=\/; HttpOnly; SameSite=Lax/);
  assert.equal(back.headers.get('location'), `${base}/`, 'home, without code or state');
  assert.match(back.headers.get('set-cookie'), /; Path=\/; HttpOnly; SameSite=Lax/);
  assert.notEqual(cookie, cookieOf(start), 'the session id changes at login');
  const state = await (await driver('/session', { headers: { Cookie: cookie } })).json();
  assert.deepEqual(state, { authenticated: true, username: 'alice', error: null });
  const old = await (await driver('/session', { headers: { Cookie: cookieOf(start) } })).json();
  assert.equal(old.authenticated, false, 'the pre-login session id no longer logs anyone in');
  const repositories = await driver('/repositories', { headers: { Cookie: cookie } });
  assert.equal(repositories.status, 200);
});

test('reset forgets integrations and sessions', async () => {
  const row = await oauth2Integration();
  const { cookie } = await browserLogin(row);
  assert.equal((await post('/reset')).status, 204);
  assert.deepEqual(await (await driver('/integrations')).json(), []);
  const state = await (await driver('/session', { headers: { Cookie: cookie } })).json();
  assert.deepEqual(state, { authenticated: false, username: null, error: null });
});

test('server.js prints exactly one line and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, ['server.js', '--port', '0'], { cwd: new URL('..', import.meta.url) });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  while (!stdout.includes('\n')) await once(child.stdout, 'data');
  assert.match(stdout, /^driver protocol at http:\/\/127\.0\.0\.1:\d+\/_conformance\n$/);
  const url = stdout.trim().replace('driver protocol at ', '');
  assert.equal((await fetch(`${url}/capabilities`)).status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.equal(stdout.split('\n').length, 2, 'nothing else on stdout');
});
