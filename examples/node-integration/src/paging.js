// Bitbucket's paged REST resources: {"values": [...], "isLastPage": false, "nextPageStart": 25}.
//
// The next page starts at `nextPageStart`, never at start + limit: the server may cap the
// page size below the limit asked for (an admin setting), and start + limit would then skip
// items.

/** Where the next page starts, or null after the last (or a nextPageStart that does not move on). */
export function nextPageStart(page, start) {
  const next = page?.nextPageStart;
  if (page?.isLastPage !== false || !Number.isInteger(next) || next <= start) return null;
  return next;
}

/**
 * Every value of a paged resource. `fetchPage(start)` answers the parsed page (an object
 * with `values`); a page that is not one ends with an error from `fetchPage` itself.
 */
export async function allValues(fetchPage) {
  const values = [];
  let start = 0;
  while (start !== null) {
    const page = await fetchPage(start);
    values.push(...(Array.isArray(page.values) ? page.values : []));
    start = nextPageStart(page, start);
  }
  return values;
}
