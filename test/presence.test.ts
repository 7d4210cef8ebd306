/**
 * Presence: who watches an order now, by role. A tracking socket watches
 * its order; a board socket watches the order it named in its last
 * `watch`. `GET /api/orders/ID/presence` counts them (this instance's
 * sockets); customers may neither read it nor announce. Bad `watch`
 * messages get a clear error and change nothing.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { CreatedOrder, ErrorMessage, PresenceAnswer, PresenceCounts, Role } from '../src/protocol.ts';
import { TestClient, orderBody, request, startServer } from './helpers.ts';

const TOKENS = { admin: 'admin-token-0123456789abcdefghij', operator: 'operator-token-0123456789abcdefgh', viewer: 'viewer-token-0123456789abcdefghij' } as const;
const auth = (role: Role): Record<string, string> => ({ Authorization: `Bearer ${TOKENS[role]}` });
const NOBODY: PresenceCounts = { admin: 0, operator: 0, viewer: 0, customer: 0 };

const srv = await startServer({ tokens: Object.entries(TOKENS) as [Role, string][] });
after(srv.close);

async function newOrder(): Promise<CreatedOrder> {
  const res = await request(srv.base, 'POST', '/api/orders', orderBody('Watched'), auth('operator'));
  assert.equal(res.status, 201);
  return res.body as CreatedOrder;
}

async function open(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const client = new TestClient(url, { headers });
  after(() => client.ws.terminate());
  await client.opened();
  await client.next('snapshot');
  return client;
}

const board = (role: Role): Promise<TestClient> => open(`${srv.wsBase}/ws`, auth(role));
const tracking = (order: CreatedOrder): Promise<TestClient> => open(`${srv.wsBase}/ws?track=${order.trackingToken}`);

async function presence(orderId: string, role: Role = 'viewer'): Promise<PresenceCounts> {
  const res = await request(srv.base, 'GET', `/api/orders/${orderId}/presence`, undefined, auth(role));
  assert.equal(res.status, 200);
  const answer = res.body as PresenceAnswer;
  assert.equal(answer.orderId, orderId);
  assert.equal(answer.scope, 'instance');
  return answer.watching;
}

/** Poll until the counts are `expected` (a socket's close reaches the server a little after the client's). */
async function presenceBecomes(orderId: string, expected: PresenceCounts): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = await presence(orderId);
    if (isDeepStrictEqual(now, expected)) return;
    if (Date.now() > deadline) assert.deepEqual(now, expected, 'the counts in time');
    await delay(25);
  }
}

describe('presence', () => {
  test('counts tracking sockets as customers and board sockets by role, for the order they watch', async () => {
    const order = await newOrder();
    const other = await newOrder();
    assert.deepEqual(await presence(order.id), NOBODY);
    await tracking(order);
    await tracking(order);
    await tracking(other);
    const operator = await board('operator');
    const admin = await board('admin');
    const viewer = await board('viewer');
    await operator.sendAndSettle({ type: 'watch', orderId: order.id });
    await admin.sendAndSettle({ type: 'watch', orderId: order.id });
    await viewer.sendAndSettle({ type: 'watch', orderId: other.id });
    assert.deepEqual(await presence(order.id), { admin: 1, operator: 1, viewer: 0, customer: 2 });
    assert.deepEqual(await presence(other.id, 'operator'), { admin: 0, operator: 0, viewer: 1, customer: 1 });
    // Watching the same order again counts once; another order moves the count; none clears it.
    await operator.sendAndSettle({ type: 'watch', orderId: order.id });
    assert.equal((await presence(order.id)).operator, 1);
    await operator.sendAndSettle({ type: 'watch', orderId: other.id });
    assert.deepEqual(await presence(order.id), { admin: 1, operator: 0, viewer: 0, customer: 2 });
    assert.equal((await presence(other.id)).operator, 1);
    await admin.sendAndSettle({ type: 'watch' });
    assert.equal((await presence(order.id)).admin, 0);
  });

  test('a closed socket stops counting', async () => {
    const order = await newOrder();
    const customer = await tracking(order);
    const operator = await board('operator');
    await operator.sendAndSettle({ type: 'watch', orderId: order.id });
    assert.deepEqual(await presence(order.id), { admin: 0, operator: 1, viewer: 0, customer: 1 });
    customer.ws.close();
    operator.ws.terminate();
    await presenceBecomes(order.id, NOBODY);
  });

  test('bad watch messages get a clear error and change nothing', async () => {
    const order = await newOrder();
    const operator = await board('operator');
    await operator.sendAndSettle({ type: 'watch', orderId: order.id });
    const cases: [unknown, string][] = [
      [{ type: 'watch', orderId: 'nope' }, 'LO_ERR_INVALID_FIELD'],
      [{ type: 'watch', orderId: 42 }, 'LO_ERR_INVALID_FIELD'],
      [{ type: 'watch', orderId: order.id, extra: true }, 'LO_ERR_INVALID_FIELD'],
      [{ type: 'watch', orderId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' }, 'LO_ERR_NOT_FOUND'],
    ];
    for (const [message, code] of cases) {
      const errorsBefore = operator.received.filter((m) => m.type === 'error').length;
      await operator.sendAndSettle(message);
      const errors = operator.received.filter((m): m is ErrorMessage => m.type === 'error');
      assert.equal(errors.length, errorsBefore + 1, JSON.stringify(message));
      assert.equal(errors.at(-1)!.code, code, JSON.stringify(message));
    }
    assert.equal((await presence(order.id)).operator, 1, 'still watching the order it named last');
  });

  test('customers learn nothing of others: a tracking socket may not announce, a tracking token may not read', async () => {
    const order = await newOrder();
    const customer = await tracking(order);
    await customer.sendAndSettle({ type: 'watch', orderId: order.id });
    const refused = customer.received.find((m): m is ErrorMessage => m.type === 'error');
    assert.equal(refused?.code, 'LO_ERR_FORBIDDEN');
    assert.equal((await presence(order.id)).customer, 1, 'the refused watch changed nothing');
    const withToken = await request(srv.base, 'GET', `/api/orders/${order.id}/presence`, undefined, { Authorization: `Bearer ${order.trackingToken}` });
    assert.equal(withToken.status, 401);
    assert.equal((await request(srv.base, 'GET', `/api/orders/${order.id}/presence`)).status, 401);
    assert.equal((await request(srv.base, 'GET', `/api/track/${order.trackingToken}/presence`)).status, 404);
    assert.equal((await request(srv.base, 'GET', '/api/orders/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/presence', undefined, auth('viewer'))).status, 404);
  });

  test('stats count connections by role, and say which role the caller is', async () => {
    const order = await newOrder();
    const before = ((await request(srv.base, 'GET', '/api/stats', undefined, auth('admin'))).body as { connectionsByRole: PresenceCounts }).connectionsByRole;
    await board('viewer');
    await tracking(order);
    const now = ((await request(srv.base, 'GET', '/api/stats', undefined, auth('admin'))).body as { connectionsByRole: PresenceCounts }).connectionsByRole;
    assert.equal(now.viewer, before.viewer + 1);
    assert.equal(now.customer, before.customer + 1);
    // Each caller is told the role it is seen as: the page shows its admin panel to admins only.
    for (const role of ['admin', 'operator', 'viewer'] as const) {
      assert.equal(((await request(srv.base, 'GET', '/api/stats', undefined, auth(role))).body as { caller: string }).caller, role);
    }
  });
});

describe('presence in open mode', () => {
  test('a board socket counts as an admin, and stats call the caller one', async (t) => {
    const open = await startServer();
    t.after(open.close);
    const created = (await request(open.base, 'POST', '/api/orders', orderBody('Open'))).body as CreatedOrder;
    const client = new TestClient(`${open.wsBase}/ws`);
    t.after(() => client.ws.terminate());
    await client.opened();
    await client.next('snapshot');
    await client.sendAndSettle({ type: 'watch', orderId: created.id });
    const answer = (await request(open.base, 'GET', `/api/orders/${created.id}/presence`)).body as PresenceAnswer;
    assert.deepEqual(answer.watching, { admin: 1, operator: 0, viewer: 0, customer: 0 });
    assert.equal(((await request(open.base, 'GET', '/api/stats')).body as { caller: string }).caller, 'admin');
  });
});
