// The driver protocol (docs/driver-protocol.md of bbdc-sim), version 1: the JSON endpoints
// the conformance harness calls, under /_conformance.
//
// Each handler does what the admin or the user would do on the human pages, by calling the
// same functions (integrations.js, session.js, repositories.js), and answers exactly the
// documented fields: the harness refuses any other field.
//
// These are test hooks: a real product would mount them only in its test configuration.

import { cookies, readJsonObject, SESSION_COOKIE, sendJson, sendNoContent } from './http.js';
import * as integrations from './integrations.js';
import { PRODUCT_NAME } from './messages.js';
import { listRepositories } from './repositories.js';
import { OAUTH_VERSIONS } from './rules.js';
import { LoginProblem, sessionState } from './session.js';

export const DRIVER_PREFIX = '/_conformance';

/** The browser's session, from the cookies the harness replays (see "The cookie contract"). */
const sessionOf = (app, request) => app.store.session(cookies(request)[SESSION_COOKIE]);

/** GET /capabilities -> 200 */
function capabilities(app, request, response) {
  sendJson(response, 200, { protocol: 1, name: PRODUCT_NAME, oauth_versions: OAUTH_VERSIONS, repositories: true });
}

/** POST /reset -> 204: forget every integration and session. */
function reset(app, request, response) {
  app.store.reset();
  sendNoContent(response);
}

/** POST /integrations -> 201: open the Add Integration form with these choices. */
async function createIntegration(app, request, response) {
  const integration = await integrations.createIntegration(app, await readJsonObject(request));
  sendJson(response, 201, integrations.form(app, integration));
}

/** POST /integrations/{id}/submit -> 200 {redirect_to} or 422 {error}: "Create Integration". */
async function submit(app, request, response, { id }) {
  const integration = integrations.integrationById(app, id);
  const result = integrations.submit(app, integration, await readJsonObject(request));
  if (result.error) sendJson(response, 422, { error: result.error });
  else sendJson(response, 200, { redirect_to: result.redirect_to });
}

/** GET /integrations -> 200: the list with each login link. */
function listIntegrations(app, request, response) {
  sendJson(response, 200, integrations.listIntegrations(app));
}

/** GET /session -> 200: who this browser is logged in as, checked live with Bitbucket. */
async function session(app, request, response) {
  sendJson(response, 200, await sessionState(app, sessionOf(app, request)));
}

/** GET /repositories -> 200, or 401 {error} when nobody is logged in. */
async function repositories(app, request, response) {
  try {
    sendJson(response, 200, await listRepositories(app, sessionOf(app, request)));
  } catch (error) {
    if (!(error instanceof LoginProblem)) throw error;
    sendJson(response, error.status, { error: error.message });
  }
}

/** [method, path pattern, handler] under DRIVER_PREFIX. */
export const routes = [
  ['GET', '/capabilities', capabilities],
  ['POST', '/reset', reset],
  ['POST', '/integrations', createIntegration],
  ['POST', '/integrations/:id/submit', submit],
  ['GET', '/integrations', listIntegrations],
  ['GET', '/session', session],
  ['GET', '/repositories', repositories],
].map(([method, path, handler]) => [method, DRIVER_PREFIX + path, handler]);
