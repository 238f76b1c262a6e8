// Logs a user in with Backstage's own Bitbucket Server authenticator
// (@backstage/plugin-auth-backend-module-bitbucket-server-provider), which builds every URL
// as https://{host} itself. Prints {"authorize": URL}, reads the callback URL the browser
// was sent to on stdin, then prints the profile Backstage made of the user.
"use strict";

const readline = require("node:readline");
const { ConfigReader } = require("@backstage/config");
const {
  bitbucketServerAuthenticator: authenticator,
} = require("@backstage/plugin-auth-backend-module-bitbucket-server-provider");

async function main() {
  const config = new ConfigReader({
    clientId: process.env.CLIENT_ID,
    clientSecret: process.env.CLIENT_SECRET,
    host: process.env.BITBUCKET_HOST,
  });
  const context = authenticator.initialize({ callbackUrl: process.env.CALLBACK_URL, config });
  const started = await authenticator.start(
    { req: { query: {}, headers: {} }, scope: "REPO_READ", state: process.env.STATE },
    context,
  );
  console.log(JSON.stringify({ authorize: started.url }));
  const lines = readline.createInterface({ input: process.stdin });
  const line = await new Promise((resolve) => lines.once("line", resolve));
  lines.close();
  const callback = new URL(line.trim());
  const req = {
    query: Object.fromEntries(callback.searchParams),
    url: callback.pathname + callback.search,
    headers: { host: callback.host },
  };
  const result = await authenticator.authenticate({ req }, context);
  console.log(
    JSON.stringify({
      username: result.fullProfile.username,
      displayName: result.fullProfile.displayName,
      email: result.fullProfile.emails?.[0]?.value ?? null,
      scope: result.session.scope,
      hasRefreshToken: Boolean(result.session.refreshToken),
    }),
  );
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
