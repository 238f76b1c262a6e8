// Small helpers over node:http: read a body, answer JSON, HTML or a redirect, and the
// session cookie.

import { Refusal } from './rules.js';

export const SESSION_COOKIE = 'acme_session';
const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal('The request body is too large.', 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON object in the request body; a 400 refusal otherwise. */
export async function readJsonObject(request) {
  let body;
  try {
    body = JSON.parse(await readBody(request));
  } catch {
    throw new Refusal('The body must be a JSON object.', 400);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new Refusal('The body must be a JSON object.', 400);
  }
  return body;
}

/** The fields of an HTML form post (application/x-www-form-urlencoded). */
export async function readForm(request) {
  return Object.fromEntries(new URLSearchParams(await readBody(request)));
}

export function sendJson(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

export function sendNoContent(response) {
  response.writeHead(204);
  response.end();
}

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
};

export function sendHtml(response, status, html) {
  response.writeHead(status, { ...PAGE_HEADERS, 'Content-Length': Buffer.byteLength(html) });
  response.end(html);
}

/**
 * A redirect. `headers` may add a Set-Cookie. Never put a token, a code or a user-supplied
 * URL in `location`: it ends up in the browser's history and in logs.
 */
export function redirect(response, location, status = 302, headers = {}) {
  response.writeHead(status, { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', ...headers });
  response.end();
}

/** The request's cookies by name (the first of each name wins). */
export function cookies(request) {
  const jar = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const name = part.slice(0, index).trim();
    if (name && !(name in jar)) jar[name] = part.slice(index + 1).trim();
  }
  return jar;
}

/**
 * The session cookie: HttpOnly (no script reads it), Path=/ (every page and the driver
 * endpoints get it), SameSite=Lax (sent on the top-level navigation back from Bitbucket to
 * the callback, not on cross-site subrequests). Add `Secure` when served over https.
 */
export function sessionCookie(sessionId, secure = false) {
  return `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
