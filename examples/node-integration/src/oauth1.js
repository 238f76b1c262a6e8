// OAuth 1.0a as Bitbucket's application links speak it (RFC 5849, RSA-SHA1 only).
//
// An OAuth 1 integration generates a consumer: a Consumer Key and an RSA key pair. The admin
// pastes the key and the public half into the link's Incoming Authentication; every request
// to Bitbucket is then signed with the private half:
//
//   1. collect the parameters: the URL's query, the oauth_* protocol parameters (and a
//      form body, which this integration never sends);
//   2. build the signature base string: METHOD & encode(base URI) & encode(sorted parameters);
//   3. sign it with RSASSA-PKCS1-v1_5 over SHA-1 and send everything in
//      `Authorization: OAuth ...`.
//
// RSA-SHA1 does not use the token secret (only HMAC-SHA1 does); it is kept nevertheless.

import { generateKeyPair, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';

export const SIGNATURE_METHOD = 'RSA-SHA1';
export const RSA_KEY_BITS = 2048;
/** Bitbucket's `oauth_verifier` when the user pressed Deny. */
export const DENIED_VERIFIER = 'denied';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A new consumer: the key and a 2048-bit RSA key pair (PEM: SPKI public, PKCS#8 private). */
export async function generateConsumer(consumerKey) {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { consumerKey, publicKey, privateKey };
}

/**
 * RFC 5849 3.6: percent-encode everything but the unreserved characters
 * (ALPHA, DIGIT, "-", ".", "_", "~"). encodeURIComponent also spares !'()*, so those are
 * encoded by hand.
 */
export function percentEncode(value) {
  return encodeURIComponent(String(value)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * RFC 5849 3.4.1.2: the base string URI. Scheme and host in lower case, the port only when
 * it is not the scheme's default, the path as sent; no query (its parameters are signed
 * separately), no fragment.
 */
export function baseStringUri(url) {
  const parsed = new URL(url);
  const port = parsed.port ? `:${parsed.port}` : ''; // URL drops default ports already
  return `${parsed.protocol.toLowerCase()}//${parsed.hostname.toLowerCase()}${port}${parsed.pathname}`;
}

/**
 * RFC 5849 3.4.1.3.2: every parameter name and value percent-encoded, sorted by name then
 * value, `name=value` joined by `&`. `pairs` are decoded [name, value] pairs.
 */
export function normalizeParameters(pairs) {
  const encoded = pairs.map(([name, value]) => [percentEncode(name), percentEncode(value)]);
  encoded.sort(([n1, v1], [n2, v2]) => (n1 === n2 ? compare(v1, v2) : compare(n1, n2)));
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * RFC 5849 3.4.1: the signature base string of a request. The URL's query enters the
 * signature (so the exact URL sent must be the one signed); `oauthParams` are the protocol
 * parameters without `oauth_signature`; `bodyParams` those of a form-encoded body, if any.
 */
export function signatureBaseString(method, url, oauthParams, bodyParams = []) {
  // The query is decoded as application/x-www-form-urlencoded ("+" is a space), as 3.4.1.3.1 says.
  const queryParams = [...new URL(url).searchParams];
  const params = [...queryParams, ...Object.entries(oauthParams), ...bodyParams];
  return [method.toUpperCase(), baseStringUri(url), normalizeParameters(params)]
    .map(percentEncode)
    .join('&');
}

/** RFC 5849 3.4.3: RSASSA-PKCS1-v1_5 with SHA-1 over the base string, base64. */
export function rsaSha1(baseString, privateKeyPem) {
  return sign('sha1', Buffer.from(baseString, 'utf8'), privateKeyPem).toString('base64');
}

/** RFC 5849 3.5.1: `OAuth name="value", ...`, names and values percent-encoded. */
export function authorizationHeader(params) {
  const fields = Object.entries(params).map(
    ([name, value]) => `${percentEncode(name)}="${percentEncode(value)}"`,
  );
  return `OAuth ${fields.join(', ')}`;
}

/**
 * The `Authorization` header for one request, signed as `consumer`:
 * - `token`: the request token (with `verifier`, at access-token) or the access token;
 * - `callback`: `oauth_callback`, only when asking for a request token.
 * `nonce` and `timestamp` are for tests; by default a random nonce and the current time.
 */
export function signRequest(method, url, { consumer, token, callback, verifier, nonce, timestamp }) {
  const oauthParams = {
    oauth_consumer_key: consumer.consumerKey,
    oauth_nonce: nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: SIGNATURE_METHOD,
    oauth_timestamp: String(timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
  };
  if (token) oauthParams.oauth_token = token;
  if (callback) oauthParams.oauth_callback = callback;
  if (verifier) oauthParams.oauth_verifier = verifier;
  const baseString = signatureBaseString(method, url, oauthParams);
  const signature = rsaSha1(baseString, consumer.privateKey);
  return authorizationHeader({ ...oauthParams, oauth_signature: signature });
}

/**
 * The parameters of a `WWW-Authenticate: OAuth realm="...", oauth_problem="..."` header
 * (Bitbucket names OAuth 1 problems there, and in a form-encoded body). {} for other headers.
 */
export function parseOAuthHeader(header) {
  const text = String(header ?? '').trim();
  if (!/^oauth\s/i.test(text)) return {};
  const params = {};
  for (const match of text.slice(6).matchAll(/([^\s=,]+)\s*=\s*"([^"]*)"/g)) {
    try {
      params[decodeURIComponent(match[1])] = decodeURIComponent(match[2]);
    } catch {
      params[match[1]] = match[2];
    }
  }
  return params;
}
