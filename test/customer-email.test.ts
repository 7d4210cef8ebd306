/**
 * The customer's email address: one bare address, refused clearly otherwise;
 * operators and admins see it, viewers and tracking links never do, on every
 * path (REST list, get, CSV, tracking, WebSocket snapshots, events, resumes).
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CreatedOrder, ServerMessage } from '../src/protocol.ts';
import { TestClient, request, startServer, type TestServer } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const OPERATOR = 'operator-token-0123456789abcdefgh';
const VIEWER = 'viewer-token-0123456789abcdefghij';
const TOKENS = [['admin', ADMIN], ['operator', OPERATOR], ['viewer', VIEWER]] as const;
const EMAIL = 'grace.hopper@example.com';

const srv: TestServer = await startServer({ tokens: TOKENS });
after(srv.close);

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function createWithEmail(name = 'Grace'): Promise<CreatedOrder> {
  const res = await request(srv.base, 'POST', '/api/orders', { customerName: name, customerEmail: EMAIL, items: [{ name: 'compiler', quantity: 1, price: 10 }] }, auth(OPERATOR));
  assert.equal(res.status, 201, res.text);
  return res.body as CreatedOrder;
}

async function socket(query: string, token?: string): Promise<TestClient> {
  const client = new TestClient(`${srv.wsBase}/ws${query}`, {}, token === undefined ? undefined : ['liveorders', `liveorders.bearer.${token}`]);
  await client.opened();
  return client;
}

describe('validation: one bare address', () => {
  const refused: readonly (readonly [string, RegExp])[] = [
    ['Ada <ada@example.com>', /without a display name/],
    ['<ada@example.com>', /without a display name/],
    ['"Ada"@example.com', /without a display name/],
    ['ada@example.com,eve@example.com', /one address, not a list/],
    ['ada@example.com;eve@example.com', /one address, not a list/],
    ['ada@example.com\r\nBcc: eve@example.com', /control characters/],
    ['ada@example.com\nBcc:eve@example.com', /control characters/],
    ['ada(comment)@example.com', /must be an email address/],
    [`${'a'.repeat(243)}@example.com`, /at most 254 characters/],
  ];
  for (const [email, message] of refused) {
    test(`refused over HTTP with problem+json, store unchanged: ${JSON.stringify(email).slice(0, 60)}`, async () => {
      const before = srv.server.orders.position.seq;
      const res = await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada', customerEmail: email, items: ['x'] }, auth(OPERATOR));
      assert.equal(res.status, 400, res.text);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const problem = res.body as { errors: { field: string; message: string }[] };
      assert.equal(problem.errors[0]!.field, 'customerEmail');
      assert.match(problem.errors[0]!.message, message);
      assert.equal(srv.server.orders.position.seq, before);
    });
  }
  test('an address of exactly 254 characters is taken', async () => {
    const email = `${'a'.repeat(242)}@example.com`;
    assert.equal(email.length, 254);
    const res = await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada', customerEmail: email, items: ['x'] }, auth(OPERATOR));
    assert.equal(res.status, 201, res.text);
  });
  test('refused over WebSocket with an error naming the field', async () => {
    const client = await socket('', OPERATOR);
    await client.next('snapshot');
    client.send({ type: 'createOrder', requestId: 'r1', order: { customerName: 'Ada', customerEmail: 'Ada <a@example.com>', items: ['x'] } });
    const error = await client.next('error');
    assert.equal(error.requestId, 'r1');
    assert.equal(error.errors?.[0]?.field, 'order.customerEmail');
    assert.match(error.errors?.[0]?.message ?? '', /display name/);
    client.close();
  });
});

describe('who sees it', () => {
  test('REST: operators and admins see it in get, list and CSV; viewers never do', async () => {
    const created = await createWithEmail();
    assert.equal(created.customerEmail, EMAIL, 'the creator (a writer) sees it in the answer');
    for (const token of [ADMIN, OPERATOR]) {
      const got = await request(srv.base, 'GET', `/api/orders/${created.id}`, undefined, auth(token));
      assert.equal((got.body as { customerEmail?: string }).customerEmail, EMAIL);
      const list = await request(srv.base, 'GET', '/api/orders?limit=500', undefined, auth(token));
      assert.ok(list.text.includes(EMAIL));
      const csv = await request(srv.base, 'GET', '/api/orders.csv', undefined, auth(token));
      assert.ok(csv.text.includes(EMAIL));
    }
    const got = await request(srv.base, 'GET', `/api/orders/${created.id}`, undefined, auth(VIEWER));
    assert.equal(got.status, 200);
    assert.equal((got.body as { customerName: string }).customerName, 'Grace');
    assert.ok(!got.text.includes('@'), got.text);
    const list = await request(srv.base, 'GET', '/api/orders?limit=500', undefined, auth(VIEWER));
    assert.equal(list.status, 200);
    assert.ok(list.text.includes(created.id) && !list.text.includes(EMAIL));
    const csv = await request(srv.base, 'GET', '/api/orders.csv', undefined, auth(VIEWER));
    assert.equal(csv.status, 200);
    assert.ok(csv.text.includes(created.id) && !csv.text.includes(EMAIL));
    assert.match(csv.text.split('\r\n')[0]!, /customerEmail/, 'the columns stay the same');
  });

  test('GET /api/track/TOKEN shows the order without the address', async () => {
    const created = await createWithEmail();
    const tracked = await request(srv.base, 'GET', `/api/track/${created.trackingToken}`);
    assert.equal(tracked.status, 200);
    assert.equal((tracked.body as { id: string }).id, created.id);
    assert.ok(!tracked.text.includes(EMAIL) && !('customerEmail' in (tracked.body as object)), tracked.text);
  });

  test('WebSocket snapshots and events: operators see it, viewers and tracking sockets in the same turn do not', async () => {
    const first = await createWithEmail();
    const operator = await socket('', OPERATOR);
    const viewer = await socket('', VIEWER);
    const tracker = await socket(`?track=${first.trackingToken}`);
    const snapshots = await Promise.all([operator.next('snapshot'), viewer.next('snapshot'), tracker.next('snapshot')]);
    assert.ok(snapshots[0].orders.some((o) => o.customerEmail === EMAIL));
    assert.ok(snapshots[1].orders.some((o) => o.id === first.id));
    assert.ok(snapshots[1].orders.every((o) => o.customerEmail === undefined));
    assert.equal(snapshots[2].orders[0]?.id, first.id);
    assert.equal(snapshots[2].orders[0]?.customerEmail, undefined);
    const second = await createWithEmail('Second');
    const moved = await request(srv.base, 'PATCH', `/api/orders/${first.id}/status`, { status: 'processing' }, auth(OPERATOR));
    assert.equal(moved.status, 200, moved.text);
    await operator.until(() => operator.events.some((e) => e.order.id === first.id && e.order.status === 'processing'), 'operator event');
    await viewer.until(() => viewer.events.some((e) => e.order.id === first.id && e.order.status === 'processing'), 'viewer event');
    await tracker.until(() => tracker.events.some((e) => e.order.status === 'processing'), 'tracking event');
    assert.ok(operator.events.some((e) => e.order.id === second.id && e.order.customerEmail === EMAIL));
    assert.ok(viewer.events.some((e) => e.order.id === second.id));
    for (const client of [viewer, tracker]) assert.ok(client.frames.every((frame) => !frame.includes(EMAIL)), 'no frame to a viewer or a tracking socket holds the address');
    for (const client of [operator, viewer, tracker]) client.close();
  });

  test('a resumed viewer socket gets the missed events without the address', async () => {
    const viewer = await socket('', VIEWER);
    const snapshot = await viewer.next('snapshot');
    viewer.close();
    await viewer.closed;
    await createWithEmail('Missed');
    const resumed = await socket(`?since=${snapshot.seq}&epoch=${snapshot.epoch}`, VIEWER);
    const message: ServerMessage = await resumed.next();
    assert.equal(message.type, 'resumed');
    await resumed.until(() => resumed.events.some((e) => e.order.customerName === 'Missed'), 'missed event');
    assert.ok(resumed.frames.every((frame) => !frame.includes(EMAIL)));
    const operator = await socket(`?since=${snapshot.seq}&epoch=${snapshot.epoch}`, OPERATOR);
    await operator.until(() => operator.events.some((e) => e.order.customerName === 'Missed' && e.order.customerEmail === EMAIL), 'operator replay with the address');
    resumed.close();
    operator.close();
  });
});
