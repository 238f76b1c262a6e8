// The user's repositories as the integration sees them through Bitbucket's REST API, and
// which of them carry a composer.json at the root of their default branch: what a
// Packagist-like service would offer to mirror.

import { allValues } from './paging.js';
import { authorized, LoginProblem } from './session.js';
import * as messages from './messages.js';

/** How many composer.json files are asked for at once. */
export const COMPOSER_CONCURRENCY = 8;

/** [{project, slug, has_composer_json}] (the driver's repositories.json); a LoginProblem otherwise. */
export async function listRepositories(app, session) {
  const repos = await allValues(async (start) => {
    const answer = await authorized(app, session, (client, auth) => client.repos(auth, start));
    if (answer.status !== 200) throw new LoginProblem(messages.bitbucketFailed('the repository list', answer.status), 502);
    return answer.json() ?? {};
  });
  const listed = repos
    .filter((repo) => repo?.project?.key && repo.slug)
    .map((repo) => ({ project: String(repo.project.key), slug: String(repo.slug) }));
  return mapLimited(listed, COMPOSER_CONCURRENCY, async ({ project, slug }) => ({
    project,
    slug,
    has_composer_json: await hasComposerJson(app, session, project, slug),
  }));
}

async function hasComposerJson(app, session, project, slug) {
  const answer = await authorized(app, session, (client, auth) => client.raw(auth, project, slug, 'composer.json'));
  if (answer.status === 200) return true;
  if (answer.status === 404) return false;
  throw new LoginProblem(messages.bitbucketFailed(`${project}/${slug} composer.json`, answer.status), 502);
}

/** `items.map(fn)` with at most `limit` calls of `fn` running at once, results in order. */
export async function mapLimited(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
