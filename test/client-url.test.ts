/**
 * The address bar's new parts, as pure functions: the compact layout in the
 * query, the export link of a filter, what a `#/orders/...` link names, and
 * the sentence for empty item rows.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMPACT_LAYOUT, csvExportHref, detailHashTarget, formatFilter, parseFilter, toggleStatus } from '../client/url-state.ts';
import { emptyRowsSentence } from '../client/ui/form.ts';

describe('url state: layout, export link, order links', () => {
  test('the compact layout round-trips through ?view=compact and survives filter changes; cards are the default and leave no trace', () => {
    const compact = parseFilter('?status=pending&view=compact');
    assert.deepEqual(compact, { statuses: ['pending'], q: '', layout: COMPACT_LAYOUT });
    assert.equal(formatFilter(compact), '?status=pending&view=compact');
    assert.equal(formatFilter(toggleStatus(compact, 'shipped')), '?status=pending,shipped&view=compact');
    assert.deepEqual(parseFilter('?view=cards'), { statuses: [], q: '' });
    assert.deepEqual(parseFilter('?view=bogus'), { statuses: [], q: '' });
    assert.equal(formatFilter(parseFilter('?view=cards&q=ada')), '?q=ada');
  });

  test('the export link carries the board\'s statuses (in status order) and search, and nothing else', () => {
    assert.equal(csvExportHref({ statuses: [], q: '' }), '/api/orders.csv');
    assert.equal(csvExportHref({ statuses: ['shipped', 'pending'], q: '' }), '/api/orders.csv?status=pending,shipped');
    assert.equal(csvExportHref({ statuses: ['pending'], q: 'Ada Lovelace&x=1', layout: COMPACT_LAYOUT }), '/api/orders.csv?status=pending&q=Ada+Lovelace%26x%3D1');
  });

  test('a #/orders/ link names whatever follows, decoded; other hashes name nothing', () => {
    assert.equal(detailHashTarget('#/orders/1a2b3c4d'), '1a2b3c4d');
    assert.equal(detailHashTarget('#/orders/no%20such'), 'no such');
    assert.equal(detailHashTarget('#/orders/100%'), '100%', 'a stray % is kept as written');
    assert.equal(detailHashTarget('#/orders/'), undefined);
    assert.equal(detailHashTarget('#/other'), undefined);
    assert.equal(detailHashTarget(''), undefined);
  });
});

describe('the form\'s empty item rows', () => {
  test('name the rows', () => {
    assert.equal(emptyRowsSentence(1), 'Item row 1 is empty: enter what was ordered.');
    assert.equal(emptyRowsSentence(2), 'Item rows 1 and 2 are both empty: enter what was ordered in row 1.');
    assert.equal(emptyRowsSentence(4), 'Item rows 1 to 4 are all empty: enter what was ordered in row 1.');
  });
});
