"""The one stylesheet of every page: Bitbucket Data Center's look (AUI), self-contained.

AUI is the Atlassian User Interface library Bitbucket's pages are built with. This is not AUI
(no AUI code, fonts or icons): it is a small stylesheet of the simulator's own that styles
the AUI class names the templates use (``aui-header``, ``aui-page-panel``, ``aui-button``,
``aui-button-primary``, ``form.aui``, ``field-group``, ``aui-message-error``, ``table.aui``,
``aui-navgroup-vertical``, ``aui-dialog2``, ...) with the Atlassian Design colours AUI uses, so
that a person who knows Bitbucket, or follows the setup guide's screenshots, recognises the
pages. It references nothing outside itself: no ``url()``, no web fonts (the system font
stack, as AUI's), no images (icons are CSS shapes or inline SVG in the markup).

It is served at :data:`STYLESHEET_PATH`, a Bitbucket-like static resource path
(``/s/<content hash>/_/download/...``, as Bitbucket's web resources are) that no REST or
servlet route can collide with, as ``text/css`` with a year-long immutable cache: the hash in
the path changes whenever the content does.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

CSS_CONTENT_TYPE = "text/css;charset=UTF-8"

STYLESHEET = """\
/* bbdc-sim: the look of Bitbucket Data Center's AUI pages, self-contained (no external
   resources). Colours are the Atlassian Design palette that AUI uses. */
:root {
  --b500: #0747a6; --b400: #0052cc; --b300: #0065ff; --b200: #2684ff; --b100: #4c9aff;
  --b75: #b3d4ff; --b50: #deebff;
  --n0: #ffffff; --n10: #fafbfc; --n20: #f4f5f7; --n30: #ebecf0; --n40: #dfe1e6;
  --n70: #a5adba; --n200: #6b778c; --n300: #5e6c84; --n500: #42526e; --n800: #172b4d;
  --r400: #de350b; --r50: #ffebe6; --y500: #ff8b00; --y50: #fffae6;
  --g500: #006644; --g400: #00875a; --g50: #e3fcef;
  --font: -apple-system, BlinkMacSystemFont, "Segoe UI", "Roboto", "Oxygen", "Ubuntu",
    "Fira Sans", "Droid Sans", "Helvetica Neue", sans-serif;
  --mono: "SFMono-Medium", "SF Mono", "Segoe UI Mono", "Roboto Mono", "Ubuntu Mono", Menlo,
    Consolas, Courier, monospace;
}
*, *::before, *::after { box-sizing: border-box; }
html { background: var(--n0); }
body {
  margin: 0; min-height: 100vh; display: flex; flex-direction: column;
  font-family: var(--font); font-size: 14px; line-height: 20px; color: var(--n800);
  background: var(--n0); -webkit-font-smoothing: antialiased;
}
a { color: var(--b400); text-decoration: none; }
a:hover, a:focus { color: var(--b300); text-decoration: underline; }
h1, h2, h3, h4 { color: var(--n800); margin: 0; }
h1 { font-size: 24px; font-weight: 500; line-height: 28px; letter-spacing: -0.01em; }
h2 { font-size: 20px; font-weight: 500; line-height: 24px; margin-top: 30px; }
h3 { font-size: 16px; font-weight: 600; line-height: 20px; margin-top: 24px; }
p, ul, ol, dl, pre, table { margin: 10px 0 0; }
code, pre { font-family: var(--mono); font-size: 12px; }
code {
  padding: 2px 4px; border-radius: 3px; background: var(--n20); color: var(--n800);
  overflow-wrap: anywhere;
}
strong { font-weight: 600; }

/* -- the application header -------------------------------------------------------------- */
#header { flex: none; }
.aui-header {
  display: flex; align-items: center; height: 48px; padding: 0 12px;
  background: var(--b500); color: var(--n0);
}
.aui-header-inner {
  display: flex; align-items: center; justify-content: space-between; width: 100%;
  height: 100%;
}
.aui-header-primary, .aui-header-secondary { display: flex; align-items: center; height: 100%; }
.aui-header .aui-nav {
  display: flex; align-items: center; height: 100%; margin: 0; padding: 0; list-style: none;
}
.aui-header .aui-nav > li { position: relative; margin: 0 0 0 4px; }
.aui-header-logo { margin-right: 8px; }
.aui-header-logo a {
  display: inline-flex; align-items: center; height: 40px; padding: 0 8px 0 4px;
  color: var(--n0); border-radius: 3px;
}
.aui-header-logo svg { width: 26px; height: 26px; margin-right: 6px; flex: none; }
.aui-header-logo-text { font-size: 19px; font-weight: 600; letter-spacing: 0.01em; }
.aui-header .aui-nav-item, .aui-header .aui-nav > li > a {
  display: inline-flex; align-items: center; height: 32px; padding: 0 10px;
  border-radius: 3px; color: var(--b50); font-weight: 500; cursor: default;
}
.aui-header .aui-nav > li > a { cursor: pointer; }
.aui-header a:hover, .aui-header a:focus, .aui-header .aui-nav-item:hover {
  background: rgba(255, 255, 255, 0.16); color: var(--n0); text-decoration: none;
}
.aui-header .aui-nav-imagelink svg { width: 20px; height: 20px; }
.aui-header .assistive, .assistive {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap;
}
.aui-avatar {
  display: inline-flex; align-items: center; justify-content: center; width: 28px;
  height: 28px; border-radius: 50%; background: var(--b100); color: var(--n0);
  font-size: 13px; font-weight: 600; box-shadow: 0 0 0 2px var(--b500); cursor: pointer;
}
.aui-avatar::before { content: attr(data-initial); }
.user-menu { display: flex; align-items: center; height: 48px; padding: 0 6px; }
.user-menu .aui-dropdown2 {
  display: none; position: absolute; top: 44px; right: 0; z-index: 3000; min-width: 200px;
  padding: 4px 0; background: var(--n0); color: var(--n800); border-radius: 3px;
  box-shadow: 0 4px 8px -2px rgba(9, 30, 66, 0.25), 0 0 1px rgba(9, 30, 66, 0.31);
}
.user-menu:hover .aui-dropdown2, .user-menu:focus-within .aui-dropdown2 { display: block; }
.aui-dropdown2 ul { margin: 0; padding: 0; list-style: none; }
.aui-dropdown2 .aui-dropdown2-heading {
  display: block; padding: 6px 16px; color: var(--n800); font-weight: 600;
  overflow-wrap: anywhere;
}
.aui-dropdown2 .aui-dropdown2-sub { display: block; padding: 0 16px 6px; color: var(--n200);
  font-size: 12px; }
.aui-dropdown2 a {
  display: block; padding: 6px 16px; color: var(--n800); border-radius: 0;
}
.aui-dropdown2 a:hover, .aui-dropdown2 a:focus {
  background: var(--n20); color: var(--n800); text-decoration: none;
}

/* -- page layout ------------------------------------------------------------------------- */
#content { flex: 1 0 auto; display: flex; flex-direction: column; }
.aui-page-panel { flex: 1 0 auto; display: flex; flex-direction: column; background: var(--n0); }
.aui-page-panel-inner { flex: 1 0 auto; display: flex; align-items: stretch; }
.aui-page-panel-nav {
  flex: 0 0 240px; padding: 16px 12px 40px 16px; border-right: 1px solid var(--n40);
  background: var(--n10);
}
.aui-page-panel-content { flex: 1 1 auto; min-width: 0; padding: 24px 32px 48px; }
.aui-page-header {
  display: flex; align-items: center; justify-content: space-between; flex-wrap: wrap;
  gap: 12px 20px; margin: 0 0 8px; min-height: 32px;
}
.aui-page-header-main { flex: 1 1 auto; min-width: 0; }
.aui-page-header-main p { margin-top: 4px; color: var(--n200); }
.aui-page-header-actions { display: flex; gap: 8px; }
.aui-page-focused { background: var(--n20); }
.aui-page-focused .aui-page-panel { background: transparent; padding: 40px 20px; }
.aui-page-focused .aui-page-panel-inner {
  flex: none; display: block; width: 100%; max-width: 600px; margin: 0 auto; background: var(--n0);
  border-radius: 3px; box-shadow: 0 1px 1px rgba(9, 30, 66, 0.25), 0 0 1px rgba(9, 30, 66, 0.31);
}
.aui-page-focused.aui-page-size-small .aui-page-panel-inner { max-width: 400px; }
.aui-page-focused.aui-page-size-large .aui-page-panel-inner { max-width: 800px; }
.aui-page-focused .aui-page-panel-content { padding: 32px 40px 40px; }
.aui-page-focused .aui-page-header { justify-content: center; text-align: center; }
.aui-page-focused.login-page .aui-page-header { margin-bottom: 16px; }
.focused-logo { display: flex; justify-content: center; margin: 0 0 16px; color: var(--b400); }
.focused-logo svg { width: 40px; height: 40px; }

/* -- the administration sidebar ---------------------------------------------------------- */
.aui-navgroup-vertical .aui-nav-heading {
  display: block; margin: 16px 0 4px; padding: 0 10px; color: var(--n200); font-size: 11px;
  font-weight: 600; line-height: 16px; text-transform: uppercase; letter-spacing: 0.02em;
}
.aui-navgroup-vertical .aui-nav-heading:first-child { margin-top: 4px; }
.aui-navgroup-vertical .aui-nav { margin: 0; padding: 0; list-style: none; }
.aui-navgroup-vertical .aui-nav > li > a, .aui-navgroup-vertical .aui-nav > li > span {
  display: block; padding: 6px 10px; border-radius: 3px; color: var(--n500);
  line-height: 20px; overflow-wrap: anywhere;
}
.aui-navgroup-vertical .aui-nav > li > span { cursor: default; }
.aui-navgroup-vertical .aui-nav > li > a:hover {
  background: var(--n30); color: var(--n800); text-decoration: none;
}
.aui-navgroup-vertical .aui-nav > li.aui-nav-selected > a {
  background: var(--n30); color: var(--b400); font-weight: 600;
}
.aui-page-panel-nav .admin-title {
  display: block; margin: 4px 10px 8px; font-size: 16px; font-weight: 600;
}

/* -- buttons ----------------------------------------------------------------------------- */
.aui-button {
  display: inline-flex; align-items: center; justify-content: center; height: 32px;
  margin: 0; padding: 0 12px; border: 0; border-radius: 3px; background: var(--n20);
  color: var(--n500); font-family: inherit; font-size: 14px; font-weight: 500;
  line-height: 32px; text-decoration: none; white-space: nowrap; vertical-align: middle;
  cursor: pointer; transition: background 0.1s ease-out;
}
.aui-button:hover, .aui-button:focus {
  background: var(--n30); color: var(--n800); text-decoration: none;
}
.aui-button:focus-visible { outline: 2px solid var(--b100); outline-offset: 1px; }
.aui-button:active { background: var(--b50); color: var(--b400); }
.aui-button.aui-button-primary { background: var(--b400); color: var(--n0); }
.aui-button.aui-button-primary:hover, .aui-button.aui-button-primary:focus {
  background: var(--b300); color: var(--n0);
}
.aui-button.aui-button-primary:active { background: var(--b500); color: var(--n0); }
.aui-button.aui-button-link { background: transparent; color: var(--b400); }
.aui-button.aui-button-link:hover, .aui-button.aui-button-link:focus {
  background: transparent; color: var(--b300); text-decoration: underline;
}
.buttons-container { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; }
.buttons-container .buttons { display: flex; gap: 8px; }

/* -- forms ------------------------------------------------------------------------------- */
form.aui { margin: 16px 0 0; }
form.aui fieldset { min-width: 0; margin: 0; padding: 0; border: 0; }
form.aui .field-group, form.aui fieldset.group, form.aui .buttons-container,
form.aui > .checkbox {
  position: relative; margin: 0; padding: 6px 0 6px 190px;
}
form.aui .field-group::after, form.aui fieldset.group::after { content: ""; display: table;
  clear: both; }
form.aui .field-group > label, form.aui .field-group > .field-label,
form.aui fieldset.group > legend {
  float: left; width: 175px; margin-left: -190px; padding: 6px 0 0; color: var(--n300);
  text-align: right; overflow-wrap: anywhere;
}
form.aui .field-group > .field-label + span, form.aui .field-group > .field-label ~ span {
  display: inline-block; padding-top: 6px; overflow-wrap: anywhere;
}
form.aui .buttons-container { padding-top: 16px; }
/* A fieldset of field groups is a section: its legend a heading, its fields as usual. */
form.aui fieldset.group:has(.field-group) { padding-left: 0; margin-top: 16px; }
form.aui fieldset.group:has(.field-group) > legend {
  float: none; width: auto; margin: 0 0 4px; padding: 0 0 6px; font-size: 16px;
  font-weight: 600; color: var(--n800); text-align: left;
}
form.aui fieldset.group:has(.field-group) > .radio,
form.aui fieldset.group:has(.field-group) > .checkbox { margin-left: 190px; }
form.aui .text, form.aui .password, form.aui .textarea, form.aui .select {
  display: block; width: 100%; max-width: 250px; margin: 0; padding: 4px 6px;
  border: 2px solid var(--n40); border-radius: 3px; background: var(--n10);
  color: var(--n800); font-family: inherit; font-size: 14px; line-height: 20px;
  transition: background 0.2s ease-in-out, border-color 0.2s ease-in-out;
}
form.aui .text, form.aui .password, form.aui .select { height: 32px; }
form.aui .textarea { max-width: 500px; min-height: 60px; resize: vertical; }
form.aui .select { width: auto; min-width: 250px; max-width: 500px; }
form.aui #public_key { font-family: var(--mono); font-size: 12px; }
form.aui .long-field { max-width: 500px; }
form.aui .text:hover, form.aui .password:hover, form.aui .textarea:hover,
form.aui .select:hover { background: var(--n20); }
form.aui .text:focus, form.aui .password:focus, form.aui .textarea:focus,
form.aui .select:focus {
  outline: none; border-color: var(--b100); background: var(--n0);
}
form.aui .checkbox, form.aui .radio { position: relative; padding: 5px 0 5px 24px; }
form.aui .checkbox > input, form.aui .radio > input {
  position: absolute; top: 8px; left: 0; width: 14px; height: 14px; margin: 0;
  accent-color: var(--b400);
}
form.aui .checkbox > label, form.aui .radio > label { cursor: pointer; color: var(--n800); }
form.aui > .checkbox { padding-left: 214px; }
form.aui > .checkbox > input { left: 190px; }
.description {
  max-width: 500px; margin-top: 4px; color: var(--n200); font-size: 12px; line-height: 16px;
}
form.aui .error {
  margin-top: 4px; color: var(--r400); font-size: 12px; line-height: 16px;
}
.icon-required { margin-left: 2px; color: var(--r400); }
/* Labels above the fields, as Bitbucket's login form and its OAuth 2 link pages have them. */
form.aui.top-label .field-group, form.aui.top-label fieldset.group,
form.aui.top-label .buttons-container, form.aui.top-label > .checkbox { padding-left: 0; }
form.aui.top-label > .checkbox { padding-left: 24px; }
form.aui.top-label > .checkbox > input { left: 0; }
form.aui.top-label .field-group > label, form.aui.top-label .field-group > .field-label,
form.aui.top-label fieldset.group > legend {
  float: none; display: block; width: auto; margin: 0 0 4px; padding: 0; color: var(--n200);
  font-size: 12px; font-weight: 600; line-height: 16px; text-align: left;
}
form.aui.top-label .field-group { padding-top: 8px; padding-bottom: 8px; }
form.aui.top-label .text, form.aui.top-label .password { max-width: 100%; }
form.aui.top-label .long-field { max-width: 100%; }
form.aui.top-label fieldset.group { margin-top: 8px; }

/* -- the OAuth 2 incoming-link form (permissions and their summary) ---------------------- */
.link-form-layout { display: flex; flex-wrap: wrap; gap: 8px 48px; align-items: flex-start; }
.link-form-layout .link-form-fields { flex: 1 1 420px; max-width: 560px; }
.link-form-layout .link-form-summary {
  flex: 0 1 300px; margin-top: 16px; padding: 16px 20px; border-radius: 3px;
  background: var(--n20);
}
#permission-summary-section p { margin: 0; font-weight: 600; }
#permission-summary { margin: 8px 0 0; padding-left: 20px; color: var(--n500); }
#permission-summary li { margin: 2px 0; }
#application-permissions .checkbox { padding-top: 4px; padding-bottom: 4px; }

/* -- messages ---------------------------------------------------------------------------- */
.aui-message {
  position: relative; margin: 16px 0 0; padding: 16px 16px 16px 48px; border-radius: 3px;
  background: var(--n20); color: var(--n800); overflow-wrap: anywhere;
}
.aui-message::before {
  content: "i"; position: absolute; top: 16px; left: 16px; width: 20px; height: 20px;
  border-radius: 50%; background: var(--n500); color: var(--n0); font-size: 13px;
  font-weight: 700; line-height: 20px; text-align: center;
}
.aui-message > p:first-child { margin-top: 0; }
.aui-message-error { background: var(--r50); }
.aui-message-error::before { content: "!"; background: var(--r400); }
.aui-message-warning { background: var(--y50); }
.aui-message-warning::before { content: "!"; background: var(--y500); }
.aui-message-info { background: var(--b50); }
.aui-message-info::before { background: var(--b400); }
.aui-message-success { background: var(--g50); }
.aui-message-success::before { content: "\\2713"; background: var(--g400); }

/* -- tables and lozenges ----------------------------------------------------------------- */
table.aui { width: 100%; margin-top: 16px; border-collapse: collapse; }
table.aui th {
  padding: 8px 10px; border-bottom: 2px solid var(--n40); color: var(--n200);
  font-size: 12px; font-weight: 600; line-height: 16px; text-align: left;
}
table.aui td {
  padding: 10px; border-bottom: 1px solid var(--n40); vertical-align: top;
  overflow-wrap: anywhere;
}
table.aui tbody tr:hover { background: var(--n10); }
table.aui .application-name { display: block; font-weight: 600; }
table.aui .application-type, table.aui .application-url {
  display: block; color: var(--n200); font-size: 12px; line-height: 16px;
}
table.aui td.actions { white-space: nowrap; }
table.aui td.actions a + a { margin-left: 12px; }
.aui-lozenge {
  display: inline-block; padding: 2px 4px 3px; border-radius: 3px; background: var(--n40);
  color: var(--n500); font-size: 11px; font-weight: 700; line-height: 1;
  text-transform: uppercase; vertical-align: text-bottom; white-space: nowrap;
}
#no-links { margin-top: 24px; color: var(--n200); }

/* -- definition lists (credentials, link details) ---------------------------------------- */
dl.aui { display: grid; grid-template-columns: 175px minmax(0, 1fr); gap: 10px 15px;
  margin-top: 16px; }
dl.aui dt { color: var(--n300); text-align: right; }
dl.aui dd { margin: 0; overflow-wrap: anywhere; }
dl.aui dd code { font-size: 13px; }
#credentials dd code { display: inline-block; padding: 4px 8px; }
.credentials-actions { margin-top: 24px; }
form.aui.inline { display: inline-flex; margin: 0; }

/* -- dialogs ----------------------------------------------------------------------------- */
.aui-blanket {
  position: fixed; inset: 0; z-index: 2000; background: rgba(9, 30, 66, 0.54);
}
.aui-dialog2 {
  position: absolute; top: 96px; right: 0; left: 0; z-index: 2100; width: 600px;
  max-width: calc(100% - 40px); margin: 0 auto; background: var(--n0);
  border-radius: 3px; box-shadow: 0 0 0 1px rgba(9, 30, 66, 0.08),
    0 2px 1px rgba(9, 30, 66, 0.08), 0 0 20px -6px rgba(9, 30, 66, 0.31);
}
.aui-dialog2-small { width: 400px; }
.aui-dialog2-header { padding: 20px 24px 4px; }
.aui-dialog2-header h1 { font-size: 20px; line-height: 24px; }
.aui-dialog2-content { padding: 4px 24px 8px; }
.aui-dialog2-content > .aui-message { margin-top: 8px; }
.aui-dialog2-content form.aui { margin-top: 0; }
.aui-dialog2-footer { padding: 12px 24px 20px; }
.aui-dialog2-footer .buttons-container,
form.aui .aui-dialog2-footer .buttons-container { justify-content: flex-end; padding: 0; }
.aui-dialog2 form.aui .radio .description { margin-top: 0; }

/* -- focused pages (login, consent, two-factor) ------------------------------------------ */
.consent-app {
  display: flex; align-items: center; justify-content: center; gap: 12px; margin: 0 0 20px;
}
.app-icon {
  display: inline-flex; align-items: center; justify-content: center; width: 48px;
  height: 48px; border-radius: 6px; background: var(--n20); color: var(--b400);
}
.app-icon svg { width: 32px; height: 32px; }
.consent-arrow { color: var(--n70); font-size: 20px; }
#consent-scopes, #tfa-steps { padding-left: 20px; }
#consent-scopes li { margin: 6px 0; }
.scope-label { font-weight: 600; }
.aui-page-focused .buttons-container { margin-top: 8px; }
.aui-page-focused form.aui.top-label .buttons-container { justify-content: flex-start; }
#tfa-qr svg { display: block; width: 180px; height: 180px; margin: 10px 0; }
#tfa-steps li { margin: 8px 0; }

/* -- footer ------------------------------------------------------------------------------ */
#footer {
  flex: none; padding: 20px; border-top: 1px solid var(--n40); background: var(--n0);
  color: var(--n200); font-size: 12px; line-height: 16px; text-align: center;
}
.aui-page-focused #footer { background: transparent; border-top: 0; }
#footer ul { display: flex; justify-content: center; flex-wrap: wrap; margin: 0; padding: 0;
  list-style: none; }
#footer li + li::before { content: "\\00B7"; margin: 0 8px; }
#footer .footer-logo { margin-top: 10px; font-weight: 600; letter-spacing: 0.03em;
  color: var(--n300); }
"""

#: The stylesheet's bytes, as served.
STYLESHEET_BYTES = STYLESHEET.encode("utf-8")
#: A hash of the content: part of the path, so that a changed stylesheet has a new URL.
STYLESHEET_DIGEST = hashlib.sha256(STYLESHEET_BYTES).hexdigest()[:16]
#: Where it is served, relative to the base URL (the context path goes in front).
STYLESHEET_PATH = f"/s/{STYLESHEET_DIGEST}/_/download/resources/bbdc-sim:aui/bbdc-sim.css"
#: A year, the longest cache lifetime worth asking for; the URL changes with the content.
CACHE_CONTROL = "public, max-age=31536000, immutable"
_ETAG = f'"{STYLESHEET_DIGEST}"'


def stylesheet_url(context_path: str) -> str:
    """The stylesheet's URL on a page: the context path and :data:`STYLESHEET_PATH`."""
    return context_path.rstrip("/") + STYLESHEET_PATH


def not_modified(if_none_match: str) -> bool:
    """Whether ``If-None-Match`` matches the stylesheet: ``*``, or its tag by the weak
    comparison RFC 9110 §13.1.2 asks for (``W/"x"`` matches ``"x"``)."""
    for given in if_none_match.split(","):
        tag = given.strip()
        if tag == "*" or tag.removeprefix("W/") == _ETAG:
            return True
    return False


async def get_stylesheet(request: web.Request) -> web.Response:
    """``GET /s/<hash>/_/download/resources/bbdc-sim:aui/bbdc-sim.css``: the pages' stylesheet."""
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": _ETAG}
    if not_modified(request.headers.get("If-None-Match", "")):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=STYLESHEET_BYTES, headers={**headers, "Content-Type": CSS_CONTENT_TYPE}
    )


def routes() -> list[web.RouteDef]:
    """The stylesheet's route."""
    return [web.get(STYLESHEET_PATH, get_stylesheet)]
