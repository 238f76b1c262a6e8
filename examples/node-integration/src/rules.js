// The product's small decisions, without I/O: which URLs it shows, which Bitbucket versions
// offer what, how a base URL is cleaned up. The flows (integrations.js, login.js, session.js)
// only sequence these.

import { randomBytes } from 'node:crypto';

export const PLATFORM = 'bitbucket-server';
export const OAUTH_VERSIONS = [2, 1];

/** Bitbucket's first version with OAuth 2 application links (the guide's note). */
export const OAUTH2_SINCE = [7, 21, 0];
/** From this version on, OAuth 1 links no longer serve synchronizations (the guide's note). */
export const OAUTH1_SYNC_UNTIL = [8, 0, 0];

/** Where "Create Integration" sends the admin: a path (choice 3 of the README). */
export const INTEGRATIONS_PATH = '/integrations';
export const HOME_PATH = '/';

export class Refusal extends Error {
  /** A request the product refuses; `status` is what the driver protocol answers. */
  constructor(message, status = 422) {
    super(message);
    this.status = status;
  }
}

// -- the Add Integration form ---------------------------------------------------------------

/**
 * The Bitbucket base URL as the admin typed it, cleaned: absolute http(s), no query or
 * fragment, no trailing slash; a context path (`https://host/bitbucket`) is kept.
 */
export function normaliseBaseUrl(raw) {
  if (typeof raw !== 'string') throw new Refusal('base_url must be a string.', 400);
  const text = raw.trim();
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Refusal(`The base URL must be an absolute http(s) URL: ${JSON.stringify(text)}.`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || !url.hostname) {
    throw new Refusal(`The base URL must be an absolute http(s) URL: ${JSON.stringify(text)}.`);
  }
  if (url.search || url.hash || text.includes('#') || text.includes('?')) {
    throw new Refusal(`The base URL must not carry a query or a fragment: ${JSON.stringify(text)}.`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function checkPlatform(platform) {
  if (platform !== PLATFORM) {
    throw new Refusal(`Unknown platform ${JSON.stringify(platform)}; this integration offers "${PLATFORM}".`);
  }
  return platform;
}

export function checkOAuthVersion(version) {
  if (!OAUTH_VERSIONS.includes(version)) {
    throw new Refusal(`oauth_version must be one of ${OAUTH_VERSIONS.join(', ')}.`, 400);
  }
  return version;
}

/** "9.4.16" -> [9, 4, 16]; the leading numbers of a longer version; null when none. */
export function parseVersion(text) {
  const match = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(String(text ?? ''));
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

/** Whether version `a` is at least `b` (both [major, minor, patch]). */
export function atLeast(a, b) {
  for (let i = 0; i < 3; i += 1) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return true;
}

export const offersOAuth2 = (version) => version !== null && atLeast(version, OAUTH2_SINCE);
export const warnsOAuth1Sync = (version) => version !== null && atLeast(version, OAUTH1_SYNC_UNTIL);

/** A short, unguessable id; it also names the integration's login link and callbacks. */
export const newIntegrationId = () => randomBytes(5).toString('hex');

/** The generated OAuth 1 Consumer Key (Packagist's "Client ID / Key"). */
export const consumerKeyFor = (integrationId) => `acme-packagist-${integrationId}`;

// -- the URLs an integration shows ----------------------------------------------------------

/** Bitbucket's Application links page, where the admin clicks "Create link". */
export const setupLink = (baseUrl) => `${baseUrl}/plugins/servlet/applinks/listApplicationLinks`;

/** The login link shared with users: one per integration. */
export const loginLink = (publicUrl, id) => `${publicUrl}/login/${id}`;

/** The one "Callback URL / Redirect URL" an OAuth 2 integration shows (choice 4). */
export const oauth2CallbackUrl = (publicUrl, id) => `${publicUrl}/oauth2/callback/${id}`;

/** The OAuth 1 `oauth_callback`, sent with every request token (not pasted into Bitbucket). */
export const oauth1CallbackUrl = (publicUrl, id) => `${publicUrl}/oauth1/callback/${id}`;

/** The "Application URL" of an OAuth 1 link: this product's home. */
export const applicationUrl = (publicUrl) => `${publicUrl}/`;
