// HTML for the human pages: escaping and the page layout. Every value that comes from a
// person or from Bitbucket goes through escape(); `html` tagged templates do that for you.

import { PRODUCT_NAME } from './messages.js';

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]);

/** Markup that is already safe (built by `html`), as opposed to text. */
class Markup {
  constructor(text) {
    this.text = text;
  }

  toString() {
    return this.text;
  }
}

const render = (value) => {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escape(value);
};

/** A tagged template: interpolated values are escaped, nested `html` and arrays of it are not. */
export function html(strings, ...values) {
  return new Markup(strings.reduce((out, string, i) => out + render(values[i - 1]) + string));
}

/** A whole page. */
export function page(title, content) {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title} - ${PRODUCT_NAME}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}.error{color:#b00}.message{background:#ffd;padding:.5em}code,textarea{font-size:.9em}</style>
</head>
<body>
<header><a href="/">${PRODUCT_NAME}</a> · <a href="/integrations">Integrations</a></header>
<main>
<h1>${title}</h1>
${content}
</main>
</body>
</html>
`.text;
}

export const errorParagraph = (error) => (error ? html`<p class="error" id="error">${error}</p>` : '');
