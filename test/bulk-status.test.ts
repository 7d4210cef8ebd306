/**
 * `POST /api/orders/status`: one status for many orders, each its own
 * command and its own event; one result per id in the order given (200,
 * 404, 409, 412); bad input changes nothing; an Idempotency-Key replays the
 * first answer without a second round of changes.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { BulkStatusResult, Order, Role } from '../src/protocol.ts';
import { BULK_REPLAY_MAX_BYTES, BULK_REPLAY_MAX_KEYS, BulkReplays } from '../src/transport/http/bulk-replays.ts';
import { TestClient, orderBody, request, startServer } from './helpers.ts';

const TOKENS = { admin: 'admin-token-0123456789abcdefghij', operator: 'operator-token-0123456789abcdefgh', viewer: 'viewer-token-0123456789abcdefghij' } as const;
const auth = (role: Role): Record<string, string> => ({ Authorization: `Bearer ${TOKENS[role]}` });
const UNKNOWN = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

// A high write allowance: these tests send many writes from loopback with tokens on.
const srv = await startServer({ tokens: Object.entries(TOKENS) as [Role, string][], writeRatePerMinute: 100_000 });
after(srv.close);

interface BulkAnswer {
  readonly status: string;
  readonly changed: number;
  readonly failed: number;
  readonly results: readonly BulkStatusResult[];
}

async function newOrders(count: number): Promise<Order[]> {
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) {
    const created = await srv.server.commands.create({ customerName: `Bulk ${i}`, items: [{ name: 'box', quantity: 1 }] });
    assert.ok(created.ok);
    orders.push(created.value.order);
  }
  return orders;
}

async function seq(): Promise<number> {
  return ((await request(srv.base, 'GET', '/api/stats', undefined, auth('admin'))).body as { seq: number }).seq;
}

async function watcher(): Promise<TestClient> {
  const client = new TestClient(`${srv.wsBase}/ws`, { headers: auth('viewer') });
  after(() => client.ws.terminate());
  await client.opened();
  await client.next('snapshot');
  return client;
}

describe('bulk status', () => {
  test('one result per id, in order: 200, 404, 409, 412; each change is its own event', async () => {
    const [a, b, c, d] = await newOrders(4);
    assert.equal((await request(srv.base, 'PUT', `/api/orders/${c!.id}/status`, { status: 'delivered' }, auth('operator'))).status, 200);
    const client = await watcher();
    const before = await seq();
    const res = await request(srv.base, 'POST', '/api/orders/status', { orderIds: [a!.id, UNKNOWN, c!.id, b!.id, d!.id], status: 'shipped', expectedVersions: { [d!.id]: 7 } }, auth('operator'));
    assert.equal(res.status, 200);
    const answer = res.body as BulkAnswer;
    assert.deepEqual(answer.results.map((r) => [r.id, r.status]), [[a!.id, 200], [UNKNOWN, 404], [c!.id, 409], [b!.id, 200], [d!.id, 412]]);
    assert.equal(answer.changed, 2);
    assert.equal(answer.failed, 3);
    assert.equal(answer.results[0]!.order!.status, 'shipped');
    assert.equal(answer.results[0]!.order!.version, 2);
    assert.equal(answer.results[2]!.error!.code, 'LO_ERR_BAD_TRANSITION');
    assert.equal(answer.results[4]!.error!.code, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(answer.results[1]!.order, undefined);
    // Two changes, two events, each with its own seq, to a watching socket as to any other.
    assert.equal(await seq(), before + 2);
    await client.until(() => client.events.length === 2, 'two events');
    assert.deepEqual(client.events.map((e) => [e.type, e.order.id, e.seq]).sort(), [['order.updated', a!.id, before + 1], ['order.updated', b!.id, before + 2]].sort());
    assert.equal((await request(srv.base, 'GET', `/api/orders/${d!.id}`, undefined, auth('viewer'))).headers.get('etag'), '"1"', 'the 412 changed nothing');
  });

  test('the right expected versions let the changes through', async () => {
    const [a, b] = await newOrders(2);
    const res = await request(srv.base, 'POST', '/api/orders/status', { orderIds: [a!.id, b!.id], status: 'cancelled', expectedVersions: { [a!.id]: 1, [b!.id]: 1 } }, auth('admin'));
    assert.deepEqual((res.body as BulkAnswer).results.map((r) => r.status), [200, 200]);
  });

  test('500 ids at most, each checked; a bad request changes nothing', async () => {
    const [a] = await newOrders(1);
    const before = await seq();
    const tooMany = Array.from({ length: 501 }, (_, i) => `0190a1b2-c3d4-7e5f-8a9b-${i.toString(16).padStart(12, '0')}`);
    const cases: [unknown, string][] = [
      [{ orderIds: tooMany, status: 'shipped' }, 'orderIds'],
      [{ orderIds: [], status: 'shipped' }, 'orderIds'],
      [{ orderIds: 'all', status: 'shipped' }, 'orderIds'],
      [{ orderIds: [a!.id, 'nope'], status: 'shipped' }, 'orderIds[1]'],
      [{ orderIds: [a!.id, a!.id], status: 'shipped' }, 'orderIds[1]'],
      [{ orderIds: [a!.id], status: 'lost' }, 'status'],
      [{ orderIds: [a!.id], status: 'shipped', extra: 1 }, 'extra'],
      [{ orderIds: [a!.id], status: 'shipped', expectedVersions: { [UNKNOWN]: 1 } }, `expectedVersions.${UNKNOWN.slice(0, 40)}`],
      [{ orderIds: [a!.id], status: 'shipped', expectedVersions: { [a!.id]: 0 } }, `expectedVersions.${a!.id}`],
      [[a!.id], ''],
    ];
    for (const [body, field] of cases) {
      const res = await request(srv.base, 'POST', '/api/orders/status', body, auth('operator'));
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      const errors = (res.body as { errors: { field: string }[] }).errors;
      assert.ok(errors.some((e) => e.field === field), `${field} is named: ${JSON.stringify(errors)}`);
    }
    const notJson = await request(srv.base, 'POST', '/api/orders/status', 'orderIds=x', { ...auth('operator'), 'content-type': 'text/plain' });
    assert.equal(notJson.status, 415);
    assert.equal(await seq(), before, 'nothing changed');
    // Many bad ids: the answer names the first ten, it does not grow with the list.
    const allBad = await request(srv.base, 'POST', '/api/orders/status', { orderIds: Array.from({ length: 500 }, (_, i) => `bad-${i}`), status: 'shipped' }, auth('operator'));
    assert.equal((allBad.body as { errors: unknown[] }).errors.length, 10);
  });

  test('only writers may: a viewer gets 403, no token 401', async () => {
    const [a] = await newOrders(1);
    assert.equal((await request(srv.base, 'POST', '/api/orders/status', { orderIds: [a!.id], status: 'shipped' }, auth('viewer'))).status, 403);
    assert.equal((await request(srv.base, 'POST', '/api/orders/status', { orderIds: [a!.id], status: 'shipped' })).status, 401);
    assert.equal((await request(srv.base, 'GET', `/api/orders/${a!.id}`, undefined, auth('viewer'))).headers.get('etag'), '"1"');
  });

  test('500 orders at once: every one moved, 500 events', async () => {
    const orders = await newOrders(500);
    const before = await seq();
    const res = await request(srv.base, 'POST', '/api/orders/status', { orderIds: orders.map((o) => o.id), status: 'processing' }, auth('operator'));
    assert.equal(res.status, 200);
    const answer = res.body as BulkAnswer;
    assert.equal(answer.changed, 500);
    assert.deepEqual(answer.results.map((r) => r.id), orders.map((o) => o.id), 'results in the order asked');
    assert.equal(await seq(), before + 500);
  });

  test('Idempotency-Key: a retry gets the first answer again and changes nothing; another body with the key is refused', async () => {
    const [a, b] = await newOrders(2);
    const body = { orderIds: [a!.id, b!.id], status: 'shipped' };
    const key = { ...auth('operator'), 'Idempotency-Key': 'bulk-retry-1' };
    // Two at once: the second waits for the first and gets its answer.
    const [first, concurrent] = await Promise.all([
      request(srv.base, 'POST', '/api/orders/status', body, key),
      request(srv.base, 'POST', '/api/orders/status', body, key),
    ]);
    const afterFirst = await seq();
    const retry = await request(srv.base, 'POST', '/api/orders/status', body, key);
    assert.equal(first.status, 200);
    assert.deepEqual((first.body as BulkAnswer).results.map((r) => r.status), [200, 200]);
    for (const again of [concurrent, retry]) {
      assert.equal(again.status, 200);
      assert.equal(again.text, first.text, 'the same answer, byte for byte');
    }
    assert.equal([first, concurrent].filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 1);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(await seq(), afterFirst, 'no second change');
    const other = await request(srv.base, 'POST', '/api/orders/status', { ...body, status: 'delivered' }, key);
    assert.equal(other.status, 422);
    // Another caller's same key is its own request.
    const theirs = await request(srv.base, 'POST', '/api/orders/status', { ...body, status: 'delivered' }, { ...auth('admin'), 'Idempotency-Key': 'bulk-retry-1' });
    assert.deepEqual((theirs.body as BulkAnswer).results.map((r) => r.status), [200, 200]);
    const badKey = await request(srv.base, 'POST', '/api/orders/status', body, { ...auth('operator'), 'Idempotency-Key': 'x'.repeat(300) });
    assert.equal(badKey.status, 400);
  });

  test('the same orders through a create key: bulk keys and create keys do not mix', async () => {
    const created = await request(srv.base, 'POST', '/api/orders', orderBody('Keyed'), { ...auth('operator'), 'Idempotency-Key': 'shared-7' });
    assert.equal(created.status, 201);
    const id = (created.body as Order).id;
    const bulk = await request(srv.base, 'POST', '/api/orders/status', { orderIds: [id], status: 'shipped' }, { ...auth('operator'), 'Idempotency-Key': 'shared-7' });
    assert.equal(bulk.status, 200);
    assert.equal((bulk.body as BulkAnswer).results[0]!.status, 200);
  });
});

describe('bulk replays: bounded', () => {
  test('past the key bound the oldest answers go; a failed run is not replayed; another body with a key is refused', async () => {
    const replays = new BulkReplays();
    let runs = 0;
    const run = (json: string) => () => {
      runs++;
      return Promise.resolve(json);
    };
    assert.equal(await replays.answer('k0', 'f', run('first'))!.json, 'first');
    const again = replays.answer('k0', 'f', run('second'))!;
    assert.equal(again.replayed, true);
    assert.equal(await again.json, 'first');
    assert.equal(replays.answer('k0', 'other', run('x')), undefined, 'the same key for another request');
    for (let i = 1; i <= BULK_REPLAY_MAX_KEYS; i++) await replays.answer(`k${i}`, 'f', run(`answer ${i}`))!.json;
    assert.equal(runs, BULK_REPLAY_MAX_KEYS + 1);
    const evicted = replays.answer('k0', 'f', run('rerun'))!;
    assert.equal(evicted.replayed, false, 'the oldest key was forgotten');
    assert.equal(await evicted.json, 'rerun');
    const newest = replays.answer(`k${BULK_REPLAY_MAX_KEYS}`, 'f', run('nope'))!;
    assert.equal(newest.replayed, true, 'a recent key is still remembered');

    const failing = replays.answer('broken', 'f', () => Promise.reject(new Error('bug')))!;
    await assert.rejects(failing.json);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(replays.answer('broken', 'f', run('fine'))!.replayed, false, 'a failed run is not an answer');
  });

  test('past the byte bound the oldest answers go', async () => {
    const replays = new BulkReplays();
    const big = 'x'.repeat(BULK_REPLAY_MAX_BYTES / 4 + 1);
    for (let i = 0; i < 4; i++) await replays.answer(`big${i}`, 'f', () => Promise.resolve(big))!.json;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(replays.answer('big0', 'f', () => Promise.resolve('rerun'))!.replayed, false, 'the oldest went');
    assert.equal(replays.answer('big3', 'f', () => Promise.resolve('rerun'))!.replayed, true, 'the newest stayed');
  });
});
