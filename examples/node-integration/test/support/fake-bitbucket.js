// A fake Bitbucket for unit tests: the client interface of src/bitbucket.js over an
// in-memory model, with Bitbucket's behaviours that matter to the flows: rotating refresh
// tokens, expired Bearer tokens counting as anonymous, capped pages, the two-factor plugin,
// and OAuth 1 problems. The conformance suite runs the real thing against the simulator.

import { verify } from 'node:crypto';

import { Answer } from '../../src/bitbucket.js';
import { parseOAuthHeader, signatureBaseString } from '../../src/oauth1.js';

const TWO_FACTOR = 'Two-factor authentication is required for this user. Requests authenticated with OAuth are blocked unless an administrator enables the OAuth whitelist.';

const json = (status, body, headers = {}) =>
  new Answer(status, new Headers({ 'content-type': 'application/json', ...headers }), JSON.stringify(body));
const form = (status, pairs, headers = {}) =>
  new Answer(status, new Headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers }), new URLSearchParams(pairs).toString());
const problem = (name) =>
  form(401, { oauth_problem: name }, { 'www-authenticate': `OAuth realm="x", oauth_problem="${name}"` });

export class FakeBitbucket {
  constructor({ version = '8.19.1', pageCap = 1000 } = {}) {
    this.version = version;
    this.pageCap = pageCap;
    this.users = [
      { name: 'alice', slug: 'alice', displayName: 'Alice' },
      { name: 'jane@example.com', slug: 'jane_example.com', displayName: 'Jane' },
    ];
    this.repos = Array.from({ length: 7 }, (_, i) => ({ project: { key: i % 2 ? 'PKG' : '~ALICE' }, slug: `repo-${i}` }));
    this.composer = new Set(['PKG/repo-1', '~ALICE/repo-2']);
    this.clients = new Map(); // clientId -> secret
    this.codes = new Map(); // code -> user
    this.access = new Map(); // access token -> user
    this.refresh = new Map(); // refresh token -> user
    this.consumers = new Map(); // OAuth 1 consumer key -> public key
    this.oauth1Access = new Map(); // OAuth 1 access token -> user
    this.twoFactorBlocks = false;
    this.calls = [];
    this.serial = 0;
  }

  /** The factory the app takes as `bitbucket`. */
  factory = () => this.client();

  next(prefix) {
    this.serial += 1;
    return `${prefix}-${this.serial}`;
  }

  /** An authorization code for `user`, as Bitbucket's consent page would issue. */
  issueCode(user = 'alice') {
    const code = this.next('code');
    this.codes.set(code, user);
    return code;
  }

  /** An hour passes: every access token is now unknown (expired). */
  expireAccessTokens() {
    this.access.clear();
  }

  /** The user behind a credential, or null; a 2FA block throws its answer. */
  caller(auth, method, url) {
    const header = auth(method, url).Authorization ?? '';
    let user = null;
    let oauth = false;
    if (header.startsWith('Bearer ')) {
      oauth = true;
      user = this.access.get(header.slice(7)) ?? null;
    } else if (header.startsWith('OAuth ')) {
      oauth = true;
      user = this.oauth1Access.get(parseOAuthHeader(header).oauth_token) ?? null;
    }
    if (oauth && user && this.twoFactorBlocks) throw json(401, { errors: [{ message: TWO_FACTOR }] });
    return user;
  }

  rest(auth, path, query, respond) {
    const url = `http://bb.test${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
    this.calls.push(path);
    try {
      const user = this.caller(auth, 'GET', url);
      const headers = user ? { 'x-ausername': encodeURIComponent(user) } : {};
      return respond(user, headers);
    } catch (answer) {
      if (answer instanceof Answer) return answer;
      throw answer;
    }
  }

  page(values, start) {
    const limit = Math.min(100, this.pageCap);
    const slice = values.slice(start, start + limit);
    const isLastPage = start + limit >= values.length;
    return { values: slice, start, limit, isLastPage, ...(isLastPage ? {} : { nextPageStart: start + limit }) };
  }

  /** The OAuth 1 consumer's signature checked with the public key the "link" holds. */
  checkSignature(method, url, header) {
    const params = parseOAuthHeader(header);
    const publicKey = this.consumers.get(params.oauth_consumer_key);
    if (!publicKey) return 'consumer_key_unknown';
    const { oauth_signature: signature, ...signed } = params;
    const base = signatureBaseString(method, url, signed);
    return verify('sha1', Buffer.from(base), publicKey, Buffer.from(signature, 'base64')) ? null : 'signature_invalid';
  }

  client() {
    return {
      applicationProperties: async (auth = () => ({})) =>
        this.rest(auth, '/rest/api/1.0/application-properties', null, (user, headers) => json(200, { version: this.version }, headers)),
      token: async (grant) => {
        this.calls.push(`token:${grant.grant_type}`);
        if (this.clients.get(grant.client_id) !== grant.client_secret) {
          return json(401, { error: 'invalid_client', error_description: 'The client secret is invalid' });
        }
        let user;
        if (grant.grant_type === 'authorization_code') {
          user = this.codes.get(grant.code);
          this.codes.delete(grant.code);
        } else {
          user = this.refresh.get(grant.refresh_token);
          this.refresh.delete(grant.refresh_token); // rotation: the used one is revoked
        }
        if (!user) return json(400, { error: 'invalid_grant' });
        const access = this.next('access');
        const refresh = this.next('refresh');
        this.access.set(access, user);
        this.refresh.set(refresh, user);
        return json(200, { access_token: access, refresh_token: refresh, expires_in: 3600, token_type: 'bearer' });
      },
      users: async (auth, filter, start) =>
        this.rest(auth, '/rest/api/1.0/users', { filter }, (user, headers) =>
          json(200, this.page(this.users.filter((u) => u.name.includes(filter.toLowerCase()) || u.slug.includes(filter)), start), headers)),
      repos: async (auth, start) =>
        this.rest(auth, '/rest/api/1.0/repos', { start }, (user, headers) =>
          (user ? json(200, this.page(this.repos, start), headers) : json(401, { errors: [{ message: 'Authentication required' }] }))),
      raw: async (auth, project, slug) =>
        this.rest(auth, `/rest/api/1.0/projects/${project}/repos/${slug}/raw/composer.json`, null, (user, headers) => {
          if (!user) return json(401, { errors: [{ message: 'Authentication required' }] });
          return this.composer.has(`${project}/${slug}`) ? json(200, { name: `acme/${slug}` }, headers) : json(404, { errors: [{ message: 'not found' }] }, headers);
        }),
      requestToken: async (auth) => {
        const url = 'http://bb.test/plugins/servlet/oauth/request-token';
        const header = auth('POST', url).Authorization;
        const refused = this.checkSignature('POST', url, header);
        if (refused) return problem(refused);
        return form(200, { oauth_token: this.next('request'), oauth_token_secret: 's', oauth_callback_confirmed: 'true' });
      },
      accessToken: async (auth) => {
        const url = 'http://bb.test/plugins/servlet/oauth/access-token';
        const header = auth('POST', url).Authorization;
        const refused = this.checkSignature('POST', url, header);
        if (refused) return problem(refused);
        const token = this.next('oauth1-access');
        this.oauth1Access.set(token, 'alice');
        return form(200, { oauth_token: token, oauth_token_secret: 's' });
      },
    };
  }
}
