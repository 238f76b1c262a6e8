// OAuth 1.0a signing (src/oauth1.js) against RFC 5849's example and against signatures
// computed independently by Python's oauthlib for the fixed key in fixtures/.
//
// The expected signatures were made with oauthlib 3 (what the simulator verifies with):
//   Client("acme-packagist-test", resource_owner_key="access-token-1",
//          signature_method=SIGNATURE_RSA, signature_type=SIGNATURE_TYPE_AUTH_HEADER,
//          rsa_key=<fixtures/rsa-private-key.pem>, timestamp="1700000000",
//          nonce="0123456789abcdef").sign(url, http_method="GET")
// RSASSA-PKCS1-v1_5 is deterministic, so the same key and base string give the same bytes.

import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  authorizationHeader,
  baseStringUri,
  generateConsumer,
  normalizeParameters,
  parseOAuthHeader,
  percentEncode,
  rsaSha1,
  signatureBaseString,
  signRequest,
} from '../src/oauth1.js';

const fixture = (name) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const consumer = {
  consumerKey: 'acme-packagist-test',
  privateKey: fixture('rsa-private-key.pem'),
  publicKey: fixture('rsa-public-key.pem'),
};

const headerParams = (header) => parseOAuthHeader(header);

test('percent-encoding spares only the unreserved characters (RFC 5849 3.6)', () => {
  assert.equal(percentEncode('abcXYZ019-._~'), 'abcXYZ019-._~');
  assert.equal(percentEncode("a b!*'()+/=&@"), 'a%20b%21%2A%27%28%29%2B%2F%3D%26%40');
  assert.equal(percentEncode('é'), '%C3%A9');
});

test('the base string URI drops the query, default ports and upper case (RFC 5849 3.4.1.2)', () => {
  assert.equal(baseStringUri('HTTP://EXAMPLE.COM:80/r%20v/X?id=123'), 'http://example.com/r%20v/X');
  assert.equal(baseStringUri('https://www.example.net:8080/?q=1'), 'https://www.example.net:8080/');
  assert.equal(baseStringUri('https://example.net:443/a'), 'https://example.net/a');
});

test('parameters are encoded, then sorted by name and value (RFC 5849 3.4.1.3.2)', () => {
  assert.equal(normalizeParameters([['b', '2'], ['a', 'z'], ['a', ' y'], ['c@', '']]), 'a=%20y&a=z&b=2&c%40=');
});

test("the signature base string of RFC 5849 3.4.1.1's example", () => {
  const url = 'http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b';
  const oauthParams = {
    oauth_consumer_key: '9djdj82h48djs9d2',
    oauth_token: 'kkk9d7dh3k39sjv7',
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: '137131201',
    oauth_nonce: '7d8f3e4a',
  };
  const body = [['c2', ''], ['a3', '2 q']]; // the form body "c2&a3=2+q"
  assert.equal(
    signatureBaseString('POST', url, oauthParams, body),
    'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D' +
      '%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce' +
      '%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26' +
      'oauth_token%3Dkkk9d7dh3k39sjv7',
  );
});

test('a REST call signed with the access token matches oauthlib, query included', () => {
  const url = 'http://127.0.0.1:7990/rest/api/1.0/users?filter=jane%40example.com&start=0&limit=100';
  const header = signRequest('GET', url, { consumer, token: 'access-token-1', nonce: '0123456789abcdef', timestamp: 1700000000 });
  assert.match(header, /^OAuth /);
  const params = headerParams(header);
  assert.equal(params.oauth_signature_method, 'RSA-SHA1');
  assert.equal(params.oauth_token, 'access-token-1');
  assert.equal(
    params.oauth_signature,
    'PBuAND0JDqfjr/O/BZITzddkypyjSVUUW/MuQ3PK9yZIdnD0eQ5CVqOhd92gVp/chaPX0Tk7oB9xVGObmU92gYQu' +
      'lGFYcsltdhCZSE354V54NdfZ0fEA/uMltdyrI1JzPITOPSkX57oKbzPDkX52uYiSKCn02j84xG+9n/BVPzefRuxIW' +
      '1QaCRVzBXZA8aMJ2cbUfOr7FVUIN1KT2sDcKjc5NlW4CROJzldfecFLXQs1Gmw9a0/JFTZgCcd81871NLLIAQ2QHn' +
      'V1oVba2yfQr5Xd1q+qQT9irknhkZxK0EX2nJKY5/jbHDb+BAQlTNdtVUO6oeCZ4KhzCNagLRMh9Q==',
  );
});

test('the request-token call carries oauth_callback and matches oauthlib', () => {
  const url = 'http://127.0.0.1:7990/plugins/servlet/oauth/request-token';
  const header = signRequest('POST', url, {
    consumer,
    callback: 'http://127.0.0.1:5000/oauth1/callback/abc',
    nonce: 'fedcba9876543210',
    timestamp: 1700000000,
  });
  const params = headerParams(header);
  assert.equal(params.oauth_callback, 'http://127.0.0.1:5000/oauth1/callback/abc');
  assert.equal(params.oauth_token, undefined);
  assert.equal(
    params.oauth_signature,
    'BxbU8/BvgLffMFtM30qUncLhmyKu8yJRtj/47OVkpa6JtYaYOATV5DZhSMLk0gVXb11aGhMNYH2AD1VwnjIn38zHD' +
      'jNqG/AhGv4lJQunYVaRiwZaMdm/L3ncQUiCl/lQwbRkbhmhUr+haHlm1vDrCT9FscpcXk6/CSMiQfcBv8kq7KlHx' +
      'R2IzinISdBV+lJCOR1ioO2M/5SViz1pfuN0pKsmKhUkQYJu2Gfw7j6ugEs9IWulFXebyi7nc5OGI2b/BqoNSUg1t' +
      'cFpM7RADUi+/0Z0I8pjE9L72GvRzqikKS2CXj18b2dxm2SthN1x8pp5ls8UU5S4XD0G3IzkOo45CA==',
  );
});

test('an RSA-SHA1 signature verifies with the public key', () => {
  const signature = rsaSha1('GET&http%3A%2F%2Fexample.com%2F&a%3D1', consumer.privateKey);
  const ok = verify('sha1', Buffer.from('GET&http%3A%2F%2Fexample.com%2F&a%3D1'), consumer.publicKey, Buffer.from(signature, 'base64'));
  assert.ok(ok);
});

test('the Authorization header percent-encodes names and values', () => {
  assert.equal(authorizationHeader({ oauth_token: 'a b', oauth_signature: 'x+/=' }), 'OAuth oauth_token="a%20b", oauth_signature="x%2B%2F%3D"');
});

test("Bitbucket's WWW-Authenticate problem header is read", () => {
  const header = 'OAuth realm="http%3A%2F%2F127.0.0.1%3A7990", oauth_problem="consumer_key_unknown", oauth_problem_advice="Ask%20the%20admin"';
  assert.deepEqual(parseOAuthHeader(header), {
    realm: 'http://127.0.0.1:7990',
    oauth_problem: 'consumer_key_unknown',
    oauth_problem_advice: 'Ask the admin',
  });
  assert.deepEqual(parseOAuthHeader('Bearer realm="x"'), {});
  assert.deepEqual(parseOAuthHeader(null), {});
});

test('each generated consumer has its own 2048-bit RSA key pair, public key as SPKI PEM', async () => {
  const [one, two] = await Promise.all([generateConsumer('k1'), generateConsumer('k2')]);
  assert.match(one.publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.match(one.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.notEqual(one.publicKey, two.publicKey);
  assert.equal(createPublicKey(one.publicKey).asymmetricKeyDetails.modulusLength, 2048);
});
