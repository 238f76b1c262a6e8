#!/usr/bin/env node
// Starts the example integration:
//
//   node server.js [--host 127.0.0.1] [--port 0]      (or HOST=... PORT=... node server.js)
//
// Port 0 picks a free port. Once listening it prints exactly one line to stdout,
//
//   driver protocol at http://127.0.0.1:<port>/_conformance
//
// and nothing else there (logs go to stderr), so that `bbdc-sim conform --sut-command
// "node server.js"` (or a script) can read the URL and use it as the driver protocol's
// base. PUBLIC_URL overrides the URL browsers are sent to (behind a proxy). SIGTERM or
// SIGINT stop it with exit code 0.

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { createApp } from './src/app.js';
import { DRIVER_PREFIX } from './src/protocol.js';

function options() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: process.env.HOST || '127.0.0.1' },
      port: { type: 'string', default: process.env.PORT || '0' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a number from 0 to 65535, not ${JSON.stringify(values.port)}`);
  }
  return { host: values.host, port };
}

/** The URL browsers use: the bound address, with a wildcard host replaced by loopback. */
function publicUrlOf(host, port) {
  if (process.env.PUBLIC_URL) return process.env.PUBLIC_URL;
  const shown = ['0.0.0.0', '::', ''].includes(host) ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

let settings;
try {
  settings = options();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}

const { app, handle } = createApp({ log });
const server = createServer(handle);
// The harness's browser and driver open a connection per request; keep-alive is not needed
// to be correct, but short timeouts keep a stopped run from holding the port.
server.keepAliveTimeout = 5000;

server.on('error', (error) => {
  log(`cannot listen on ${settings.host}:${settings.port}: ${error.message}`);
  process.exit(1);
});

server.listen(settings.port, settings.host, () => {
  const url = publicUrlOf(settings.host, server.address().port);
  app.setPublicUrl(url);
  process.stdout.write(`driver protocol at ${url}${DRIVER_PREFIX}\n`);
  log(`listening on ${url} (the home page is ${url}/)`);
});

function stop(signal) {
  log(`${signal}: stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.(); // Node 18.2+: do not wait for idle keep-alive connections
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
