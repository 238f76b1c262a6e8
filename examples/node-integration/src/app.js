// The web application: the application context, the routes of the driver protocol and of
// the human pages, and one place that turns refusals and failures into answers.

import { bitbucketClient } from './bitbucket.js';
import { escape, page } from './html.js';
import { sendHtml, sendJson } from './http.js';
import * as pages from './pages.js';
import * as protocol from './protocol.js';
import { Refusal } from './rules.js';
import { Store } from './store.js';

/** "/integrations/:id/submit" -> a matcher answering {id} or null. */
function compile(pattern) {
  const names = [];
  const source = pattern.replace(/:([a-z]+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(`^${source}$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return null;
    try {
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    } catch {
      return null; // a malformed percent-encoding matches nothing
    }
  };
}

const ROUTES = [...protocol.routes, ...pages.routes].map(([method, pattern, handler]) => ({
  method,
  match: compile(pattern),
  handler,
}));

const isDriverPath = (path) => path === protocol.DRIVER_PREFIX || path.startsWith(`${protocol.DRIVER_PREFIX}/`);

/** An error answer: JSON {"error"} on the driver protocol, a page elsewhere. */
function sendError(response, path, status, message) {
  if (response.headersSent) return response.destroy();
  if (isDriverPath(path)) return sendJson(response, status, { error: message });
  return sendHtml(response, status, page('Error', `<p class="error">${escape(message)}</p><p><a href="/">Home</a></p>`));
}

/**
 * The application. `publicUrl` is where browsers reach it (set once the port is known);
 * `bitbucket(baseUrl)` makes the client of a Bitbucket server (tests pass a fake);
 * `log` writes diagnostics (stderr).
 */
export function createApp({ publicUrl = 'http://127.0.0.1', bitbucket = bitbucketClient, log = () => {} } = {}) {
  const app = {
    store: new Store(),
    publicUrl: () => app.url,
    url: publicUrl.replace(/\/+$/, ''),
    secureCookies: publicUrl.startsWith('https:'),
    bitbucket,
    log,
    setPublicUrl(url) {
      app.url = url.replace(/\/+$/, '');
      app.secureCookies = app.url.startsWith('https:');
    },
  };

  async function handle(request, response) {
    const started = Date.now();
    const url = new URL(request.url, 'http://localhost');
    const path = url.pathname;
    try {
      let allowed = false;
      for (const route of ROUTES) {
        const params = route.match(path);
        if (!params) continue;
        allowed = true;
        if (route.method !== request.method) continue;
        await route.handler(app, request, response, params, url);
        return;
      }
      if (allowed) sendError(response, path, 405, `${request.method} is not allowed on ${path}.`);
      else sendError(response, path, 404, `Nothing is served at ${path}.`);
    } catch (error) {
      if (error instanceof Refusal) {
        sendError(response, path, error.status, error.message);
      } else {
        log(`failure on ${request.method} ${path}: ${error?.stack ?? error}`);
        sendError(response, path, 500, `The integration failed: ${error?.message ?? error}`);
      }
    } finally {
      // The path only: a callback's query holds an authorization code or a request token.
      log(`${request.method} ${path} -> ${response.statusCode} (${Date.now() - started} ms)`);
    }
  }

  return { app, handle };
}
