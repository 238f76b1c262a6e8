import assert from 'node:assert/strict';
import { test } from 'node:test';

import { allValues, nextPageStart } from '../src/paging.js';

test('the next page starts at nextPageStart, not at start + limit', () => {
  assert.equal(nextPageStart({ isLastPage: false, nextPageStart: 5, limit: 100 }, 0), 5);
  assert.equal(nextPageStart({ isLastPage: true, nextPageStart: 5 }, 0), null);
  assert.equal(nextPageStart({ nextPageStart: 5 }, 0), null, 'no isLastPage: treat as the last');
  assert.equal(nextPageStart({ isLastPage: false }, 0), null, 'no nextPageStart');
  assert.equal(nextPageStart({ isLastPage: false, nextPageStart: 3 }, 3), null, 'not moving on');
});

test('every value is read when the server caps the page size', async () => {
  const items = Array.from({ length: 12 }, (_, i) => i);
  const asked = [];
  const values = await allValues(async (start) => {
    asked.push(start);
    const values = items.slice(start, start + 5); // asked for 100, the server gives 5
    const isLastPage = start + 5 >= items.length;
    return { values, isLastPage, limit: 5, ...(isLastPage ? {} : { nextPageStart: start + 5 }) };
  });
  assert.deepEqual(values, items);
  assert.deepEqual(asked, [0, 5, 10]);
});
