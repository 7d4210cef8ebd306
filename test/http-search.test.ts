/**
 * REST search on a real server: `q` (a customer name part in any case, an
 * order id, or its last 8+ hex digits), `createdAfter`/`createdBefore`
 * (ISO 8601, a half-open range), combined with `status`, `limit` and the
 * cursor; unknown query parameters are refused with 400 problem+json.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Order } from '../src/protocol.ts';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';

/** The ids of a list answer, after checking it is a 200 list. */
async function listIds(base: string, query: string): Promise<{ ids: string[]; total: number; link: string | null }> {
  const res = await request(base, 'GET', `/api/orders?${query}`);
  assert.equal(res.status, 200, res.text);
  return { ids: (res.body as Order[]).map((o) => o.id), total: Number(res.headers.get('x-total-count')), link: res.headers.get('link') };
}

describe('GET /api/orders search', () => {
  let srv: TestServer;
  let ada: Order;
  let adam: Order;
  let grace: Order;
  let zoe: Order;
  before(async () => {
    srv = await startServer();
    ada = await postOrder(srv.base, 'Ada Lovelace');
    adam = await postOrder(srv.base, 'ADAM Smith');
    grace = await postOrder(srv.base, 'Grace Hopper');
    // A name from outside ASCII, to show case-insensitivity is not only for A-Z.
    zoe = await postOrder(srv.base, 'ZOË Ångström');
    const moved = await request(srv.base, 'PUT', `/api/orders/${adam.id}/status`, { status: 'processing' });
    assert.equal(moved.status, 200);
  });
  after(() => srv.close());

  test('q matches a part of the customer name, ignoring case', async () => {
    const found = await listIds(srv.base, 'q=ada');
    assert.deepEqual(found.ids, [adam.id, ada.id]);
    assert.equal(found.total, 2);
    assert.deepEqual((await listIds(srv.base, 'q=HOPP')).ids, [grace.id]);
    assert.deepEqual((await listIds(srv.base, `q=${encodeURIComponent('ångSTRÖM')}`)).ids, [zoe.id]);
    assert.deepEqual((await listIds(srv.base, 'q=nobody')).ids, []);
    // Regular-expression characters are plain text.
    assert.deepEqual((await listIds(srv.base, `q=${encodeURIComponent('.*')}`)).ids, []);
  });

  test('q matches a whole id, and the last 8+ hex digits of one', async () => {
    assert.deepEqual((await listIds(srv.base, `q=${grace.id}`)).ids, [grace.id]);
    assert.deepEqual((await listIds(srv.base, `q=${grace.id.toUpperCase()}`)).ids, [grace.id]);
    assert.deepEqual((await listIds(srv.base, `q=${grace.id.slice(-8)}`)).ids, [grace.id]);
    assert.deepEqual((await listIds(srv.base, `q=${grace.id.slice(-17)}`)).ids, [grace.id], 'a suffix with its dash');
    // Seven digits are not an id suffix (and no name holds them).
    assert.deepEqual((await listIds(srv.base, `q=${grace.id.slice(-7)}`)).ids, []);
  });

  test('q with status, limit and the cursor: pages of the matches, with their total', async () => {
    assert.deepEqual((await listIds(srv.base, 'q=ada&status=pending')).ids, [ada.id]);
    // Ada, ADAM and Grace (an Å is not an a).
    const first = await listIds(srv.base, 'q=a&limit=2');
    assert.equal(first.total, 3);
    assert.equal(first.ids.length, 2);
    assert.ok(first.link !== null);
    const next = /<([^>]+)>; rel="next"/.exec(first.link)![1]!;
    assert.match(next, /[?&]q=a(&|$)/, 'the next link keeps the search');
    const second = await request(srv.base, 'GET', next);
    const secondIds = (second.body as Order[]).map((o) => o.id);
    assert.equal(Number(second.headers.get('x-total-count')), 3);
    assert.equal(second.headers.get('link'), null);
    assert.deepEqual([...first.ids, ...secondIds], [grace.id, adam.id, ada.id]);
  });

  test('createdAfter (inclusive) and createdBefore (exclusive) bound the creation time', async () => {
    const late = await (async () => {
      // A later millisecond than every order so far, so the bound falls between them.
      const last = Date.parse(zoe.createdAt);
      while (Date.now() <= last + 1) await new Promise((resolve) => setTimeout(resolve, 2));
      return postOrder(srv.base, 'Late Larry');
    })();
    const after = await listIds(srv.base, `createdAfter=${late.createdAt}`);
    assert.deepEqual(after.ids, [late.id]);
    assert.equal(after.total, 1);
    const beforeIt = await listIds(srv.base, `createdBefore=${encodeURIComponent(late.createdAt)}`);
    assert.deepEqual(beforeIt.ids, [zoe.id, grace.id, adam.id, ada.id]);
    // An offset is understood: the same instant written in another zone.
    const shifted = new Date(Date.parse(late.createdAt) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual((await listIds(srv.base, `createdAfter=${encodeURIComponent(shifted)}`)).ids, [late.id]);
    assert.deepEqual((await listIds(srv.base, 'createdAfter=2999-01-01')).ids, []);
    assert.deepEqual((await listIds(srv.base, 'createdBefore=2000-01-01')).ids, []);
    assert.deepEqual((await listIds(srv.base, 'q=larry&createdAfter=2000-01-01&createdBefore=2999-12-31')).ids, [late.id]);
  });

  test('unknown or bad parameters: 400 problem+json naming each, nothing listed', async () => {
    const res = await request(srv.base, 'GET', '/api/orders?q=Ada&name=x&sort=asc');
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = res.body as { code: string; errors: { field: string }[] };
    assert.equal(problem.code, 'LO_ERR_INVALID_FIELD');
    assert.deepEqual(problem.errors.map((e) => e.field), ['query.name', 'query.sort']);
    for (const bad of ['createdAfter=yesterday', 'createdBefore=2026-12-01T10:00:00', 'createdAfter=2026-13-45', `q=${'x'.repeat(201)}`, 'q=a&q=b']) {
      const refused = await request(srv.base, 'GET', `/api/orders?${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.equal((refused.body as { code: string }).code, 'LO_ERR_INVALID_FIELD', bad);
    }
  });

  test('an empty q is no filter', async () => {
    assert.equal((await listIds(srv.base, 'q=')).total, (await listIds(srv.base, '')).total);
  });
});
