// The integration's client of one Bitbucket Data Center server (REST API 1.0, the OAuth 2
// token endpoint, the OAuth 1 servlets), over the global fetch.
//
// It only speaks HTTP: every call answers an Answer (status, the user Bitbucket
// authenticated, the body) and the caller decides what it means. A server that cannot be
// reached throws BitbucketUnreachable. Paths are appended to the base URL, so a context
// path (https://host/bitbucket) is kept.
//
// Redirects are followed (fetch's default; choice 6 of the README): a Bitbucket behind a
// proxy that redirects http to https, or the two-factor plugin sending a blocked request to
// its explanation page, still ends in an answer this client can read.

import { parseOAuthHeader, percentEncode, signRequest } from './oauth1.js';

/** Each call to Bitbucket gives up after this long (the harness waits 10 s per answer). */
export const TIMEOUT_MS = 8000;
export const PAGE_LIMIT = 100;

export class BitbucketUnreachable extends Error {
  constructor(baseUrl, reason) {
    super(`${baseUrl}: ${reason}`);
    this.baseUrl = baseUrl;
    this.reason = reason;
  }
}

/** How a call authenticates: nothing, an OAuth 2 access token, or an OAuth 1 signature. */
export const anonymous = () => ({});
export const bearer = (accessToken) => () => ({ Authorization: `Bearer ${accessToken}` });
export const oauth1 = (signing) => (method, url) => ({
  Authorization: signRequest(method, url, signing),
});

/** What Bitbucket answered. */
export class Answer {
  constructor(status, headers, body, redirected = false) {
    this.status = status;
    this.headers = headers; // a fetch Headers object
    this.body = body; // the body as text
    this.redirected = redirected;
  }

  /** X-AUSERNAME, URL-decoded: the user the call was authenticated as (null: anonymous). */
  get username() {
    const raw = this.headers.get('x-ausername');
    if (!raw) return null;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }

  get contentType() {
    return (this.headers.get('content-type') ?? '').toLowerCase();
  }

  /** The body as JSON, or null. */
  json() {
    try {
      return JSON.parse(this.body);
    } catch {
      return null;
    }
  }

  /** The body as form-encoded pairs (the OAuth 1 servlets answer that way), or {}. */
  form() {
    if (!/^[^=&\s<{]+=/.test(this.body)) return {};
    return Object.fromEntries(new URLSearchParams(this.body.trim()));
  }

  /** An OAuth 2 error answer's {error, description} ('' when absent). */
  get oauthError() {
    const body = this.json();
    return {
      error: typeof body?.error === 'string' ? body.error : '',
      description: typeof body?.error_description === 'string' ? body.error_description : '',
    };
  }

  /** An OAuth 1 problem's {problem, advice}, from the form body or WWW-Authenticate. */
  get oauth1Problem() {
    let pairs = this.form();
    if (!pairs.oauth_problem) pairs = parseOAuthHeader(this.headers.get('www-authenticate'));
    return { problem: pairs.oauth_problem ?? '', advice: pairs.oauth_problem_advice ?? '' };
  }

  /**
   * Every error text in the answer: OAuth 2 error and description, OAuth 1 problem and
   * advice, the messages of Bitbucket's {"errors": [{"message"}]} envelope, and the text of
   * an HTML page (where a followed redirect may end).
   */
  get errorText() {
    const texts = [Object.values(this.oauth1Problem).join(' ')];
    const body = this.json();
    if (body && typeof body === 'object') {
      texts.push(Object.values(this.oauthError).join(' '));
      if (Array.isArray(body.errors)) texts.push(...body.errors.map((e) => String(e?.message ?? '')));
      if (typeof body.message === 'string') texts.push(body.message);
    } else if (this.contentType.includes('html')) {
      texts.push(this.body.replace(/<[^>]*>/g, ' '));
    }
    return texts.join(' ').replace(/\s+/g, ' ').trim();
  }
}

/** A query string with RFC 3986 encoding (what gets signed is exactly what gets sent). */
export const queryString = (params) =>
  Object.entries(params)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');

const segment = (value) => percentEncode(value);

/** A short, human reason for a failed fetch. */
function describe(error) {
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') {
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  }
  const cause = error?.cause;
  if (cause?.code) return `cannot connect (${cause.code})`;
  if (cause?.message) return cause.message;
  return error?.message || String(error);
}

/** A client of the Bitbucket at `baseUrl`. `fetchImpl` is for tests. */
export function bitbucketClient(baseUrl, { fetchImpl = fetch } = {}) {
  async function send(method, path, { auth = anonymous, query, form } = {}) {
    const url = baseUrl + path + (query ? `?${queryString(query)}` : '');
    const headers = { Accept: 'application/json', ...auth(method, url) };
    let body;
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    try {
      const response = await fetchImpl(url, {
        method,
        headers,
        body,
        redirect: 'follow',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await response.text();
      return new Answer(response.status, response.headers, text, response.redirected);
    } catch (error) {
      throw new BitbucketUnreachable(baseUrl, describe(error));
    }
  }

  return {
    baseUrl,
    /** GET application-properties: the version, and (with a credential) X-AUSERNAME. */
    applicationProperties: (auth) => send('GET', '/rest/api/1.0/application-properties', { auth }),
    /** POST the OAuth 2 token endpoint with a grant (client credentials in the body). */
    token: (form) => send('POST', '/rest/oauth2/latest/token', { form }),
    /** POST request-token, signed by the consumer with oauth_callback. */
    requestToken: (auth) => send('POST', '/plugins/servlet/oauth/request-token', { auth }),
    /** POST access-token, signed with the authorized request token and oauth_verifier. */
    accessToken: (auth) => send('POST', '/plugins/servlet/oauth/access-token', { auth }),
    /** One page of users whose name, e-mail or display name matches `filter`. */
    users: (auth, filter, start) =>
      send('GET', '/rest/api/1.0/users', { auth, query: { filter, start, limit: PAGE_LIMIT } }),
    /** One page of the repositories the user may read. */
    repos: (auth, start) =>
      send('GET', '/rest/api/1.0/repos', {
        auth,
        query: { permission: 'REPO_READ', start, limit: PAGE_LIMIT },
      }),
    /** A file at the root of a repository's default branch. */
    raw: (auth, project, slug, file) =>
      send('GET', `/rest/api/1.0/projects/${segment(project)}/repos/${segment(slug)}/raw/${segment(file)}`, {
        auth,
      }),
  };
}

/** Whether Bitbucket's two-factor plugin refused the call (its text names two-factor authentication). */
export function twoFactorBlocked(answer) {
  const refused = answer.status === 401 || answer.status === 403 || answer.redirected;
  return refused && /two[- ]factor|\b2fa\b/i.test(answer.errorText);
}

/**
 * Whether Bitbucket did not take the credential: a 401, or an answer that names no user
 * (Bitbucket treats an unknown or expired Bearer token as anonymous on some endpoints).
 */
export const credentialRejected = (answer) => answer.status === 401 || answer.username === null;
