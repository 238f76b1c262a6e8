// The pages people use: the home page, the integrations list, the Add Integration form, the
// repositories page, and the login link and OAuth callbacks the browser goes through.
//
// The harness's browser visits the login link and the callbacks exactly as a person's
// browser would; the other pages are for people trying the example by hand.

import { errorParagraph, html, page } from './html.js';
import { cookies, readForm, redirect, SESSION_COOKIE, sendHtml, sessionCookie } from './http.js';
import * as integrations from './integrations.js';
import { finishOAuth1Login, finishOAuth2Login, startLogin } from './login.js';
import { PLATFORM_LABEL } from './messages.js';
import { listRepositories } from './repositories.js';
import * as rules from './rules.js';
import { LoginProblem, sessionState } from './session.js';

const sessionOf = (app, request) => app.store.session(cookies(request)[SESSION_COOKIE]);

function messagePage(response, status, title, message) {
  sendHtml(response, status, page(title, html`<p id="message">${message}</p><p><a href="/">Back</a></p>`));
}

function loginLinks(app) {
  const rows = integrations.listIntegrations(app).map(
    (i) => html`<li><a class="login-link" href="${i.login_link}">Log in with ${PLATFORM_LABEL} at ${i.base_url}</a> (OAuth ${i.oauth_version})</li>\n`,
  );
  return rows.length ? html`<ul id="login-links">${rows}</ul>` : html`<p>No integration yet: <a href="/integrations/new">add one</a>.</p>`;
}

// -- home, repositories --------------------------------------------------------------------------

/** GET /: who is logged in (checked live), or why not, and the login links. */
async function home(app, request, response) {
  const session = sessionOf(app, request);
  const state = await sessionState(app, session);
  const who = state.authenticated
    ? html`<p id="current-user">Logged in as <strong id="username">${state.username}</strong>
(${session.login.account.displayName}). <a href="/repositories">Your repositories</a></p>`
    : html`<p id="not-logged-in">You are not logged in.</p>${errorParagraph(state.error)}`;
  sendHtml(response, 200, page('Home', html`${who}<h2>Log in with</h2>${loginLinks(app)}`));
}

/** GET /repositories (HTML): the user's repositories and which carry a composer.json. */
async function repositoriesPage(app, request, response) {
  let content;
  try {
    const rows = (await listRepositories(app, sessionOf(app, request))).map(
      (r) => html`<tr><td>${r.project}/${r.slug}</td><td>${r.has_composer_json ? 'composer.json' : '-'}</td></tr>\n`,
    );
    content = html`<table id="repositories"><tr><th>Repository</th><th>Package</th></tr>${rows}</table>`;
  } catch (error) {
    if (!(error instanceof LoginProblem)) throw error;
    content = html`${errorParagraph(error.message)}${loginLinks(app)}`;
  }
  sendHtml(response, 200, page('Your repositories', content));
}

// -- integrations --------------------------------------------------------------------------------

/** GET /integrations (HTML): every integration with its login link to share. */
function integrationsPage(app, request, response) {
  const rows = integrations.listIntegrations(app).map(
    (i) => html`<tr class="integration"><td>${PLATFORM_LABEL}</td><td>${i.base_url}</td><td>OAuth ${i.oauth_version}</td>
<td><input readonly size="60" value="${i.login_link}"> <a class="login-link" href="${i.login_link}">Login link</a></td></tr>\n`,
  );
  sendHtml(response, 200, page('Integrations', html`<p><a id="add-integration" href="/integrations/new">Add Integration</a></p>
<table id="integrations"><tr><th>Platform</th><th>Base URL</th><th>OAuth</th><th>Login link</th></tr>${rows}</table>`));
}

function newIntegrationForm(response, status = 200, { baseUrl = '', error = null } = {}) {
  sendHtml(response, status, page('Add Integration', html`${errorParagraph(error)}
<form method="post" action="/integrations/new">
<p><label>Platform <select name="platform"><option value="${rules.PLATFORM}" selected>${PLATFORM_LABEL}</option></select></label></p>
<p><label>Base URL <input type="url" name="base_url" value="${baseUrl}" placeholder="https://bitbucket.example.com" required size="50"></label></p>
<p>OAuth version: <label><input type="radio" name="oauth_version" value="2" checked> OAuth 2</label>
<label><input type="radio" name="oauth_version" value="1"> OAuth 1</label></p>
<p><button type="submit">Continue</button></p>
</form>`));
}

/** GET /integrations/new: choose platform, base URL and OAuth version. */
function getNewIntegration(app, request, response) {
  newIntegrationForm(response);
}

/** POST /integrations/new: the same as the driver's POST /integrations. */
async function postNewIntegration(app, request, response) {
  const form = await readForm(request);
  try {
    const integration = await integrations.createIntegration(app, {
      platform: form.platform,
      base_url: form.base_url,
      oauth_version: Number(form.oauth_version),
    });
    redirect(response, `/integrations/${integration.id}`, 303);
  } catch (error) {
    if (!(error instanceof rules.Refusal)) throw error;
    newIntegrationForm(response, error.status, { baseUrl: form.base_url, error: error.message });
  }
}

function setupForm(app, response, integration, status = 200, error = null) {
  const shown = integrations.form(app, integration);
  const notes = shown.messages.map((m) => html`<p class="message">${m}</p>\n`);
  const setup = shown.setup_link
    ? html`<p>Create the application link on your Bitbucket: <a id="setup-link" href="${shown.setup_link}">${shown.setup_link}</a></p>`
    : '';
  const fields = integration.oauthVersion === 2
    ? html`<p><label>Callback URL / Redirect URL <input readonly size="80" id="callback-url" value="${shown.callback_urls[0]}"></label></p>
<p><label>Client ID <input name="client_id" autocomplete="off" size="40"></label></p>
<p><label>Client Secret <input type="password" name="client_secret" autocomplete="off" size="40"></label></p>`
    : html`<p>In Bitbucket, create an "Atlassian product" link to the Application URL, choose Generic Application, then edit the link's Incoming Authentication with these values.</p>
<p><label>Application URL <input readonly size="80" value="${shown.application_url}"></label></p>
<p><label>Client ID / Key (Consumer Key) <input readonly size="60" value="${shown.consumer_key}"></label></p>
<p>Consumer Callback URL: leave it empty (the integration sends <code>${shown.callback_urls[0]}</code> with every login).</p>
<p><label>Public Key<br><textarea readonly rows="9" cols="66">${shown.public_key}</textarea></label></p>`;
  sendHtml(response, status, page('Add Integration', html`<p>${PLATFORM_LABEL} at ${integration.baseUrl}, OAuth ${integration.oauthVersion}.</p>
${notes}${setup}${errorParagraph(error)}
<form method="post" action="/integrations/${integration.id}">
${fields}
<p><button type="submit">Create Integration</button></p>
</form>`));
}

/** GET /integrations/{id}: the form after choosing: what to paste into Bitbucket. */
function getIntegration(app, request, response, { id }) {
  setupForm(app, response, integrations.integrationById(app, id));
}

/** POST /integrations/{id}: "Create Integration", as the driver's submit. */
async function postIntegration(app, request, response, { id }) {
  const integration = integrations.integrationById(app, id);
  const form = await readForm(request);
  const result = integrations.submit(app, integration, { client_id: form.client_id ?? '', client_secret: form.client_secret ?? '' });
  if (result.error) setupForm(app, response, integration, 422, result.error);
  else redirect(response, result.redirect_to, 303);
}

// -- the login -----------------------------------------------------------------------------------

/** An integration that "Create Integration" completed, with this OAuth version; else null. */
function loginIntegration(app, id, oauthVersion) {
  const integration = app.store.integration(id);
  const usable = integration?.submitted && (oauthVersion === undefined || integration.oauthVersion === oauthVersion);
  return usable ? integration : null;
}

/**
 * GET /login/{id}: the login link. Any other query parameter (next, redirect, return_to...)
 * is ignored: the browser always comes back to the callback, then to the home page, so the
 * link cannot be used to send anyone elsewhere.
 */
async function login(app, request, response, { id }) {
  const integration = loginIntegration(app, id);
  if (!integration) return messagePage(response, 404, 'Log in', 'No integration has this login link.');
  const session = sessionOf(app, request) ?? app.store.newSession();
  const location = await startLogin(app, session, integration);
  redirect(response, location, 302, { 'Set-Cookie': sessionCookie(session.id, app.secureCookies) });
}

/**
 * The callbacks: finish the login with what Bitbucket sent, then send the browser to the
 * home page, a clean URL (the code, state and tokens stay out of its history).
 */
function callback(oauthVersion, finish, names) {
  return async (app, request, response, { id }, url) => {
    const integration = loginIntegration(app, id, oauthVersion);
    if (!integration) return messagePage(response, 404, 'Log in', 'No integration has this callback URL.');
    const query = Object.fromEntries(names.map((name) => [name, url.searchParams.get(name) ?? undefined]));
    let session = sessionOf(app, request) ?? app.store.newSession();
    session = await finish(app, session, integration, query);
    redirect(response, `${app.publicUrl()}${rules.HOME_PATH}`, 302, { 'Set-Cookie': sessionCookie(session.id, app.secureCookies) });
  };
}

/** [method, path pattern, handler] of the human pages. */
export const routes = [
  ['GET', '/', home],
  ['GET', '/repositories', repositoriesPage],
  ['GET', '/integrations', integrationsPage],
  ['GET', '/integrations/new', getNewIntegration],
  ['POST', '/integrations/new', postNewIntegration],
  ['GET', '/integrations/:id', getIntegration],
  ['POST', '/integrations/:id', postIntegration],
  ['GET', '/login/:id', login],
  ['GET', '/oauth2/callback/:id', callback(2, finishOAuth2Login, ['state', 'code', 'error', 'error_description'])],
  ['GET', '/oauth1/callback/:id', callback(1, finishOAuth1Login, ['oauth_token', 'oauth_verifier'])],
];
