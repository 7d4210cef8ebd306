/**
 * One access policy for both transports: each role gets the same answer to
 * the same action over HTTP and over WebSocket, and a client's idempotency
 * key means the same order (and the same tracking token) whichever
 * transport it comes through, while another client's same key does not.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { CreatedOrder, Role } from '../src/protocol.ts';
import { ACCESS_POLICY } from '../src/security/policy.ts';
import { TestClient, orderBody, request, startServer } from './helpers.ts';

const TOKENS = {
  admin: 'admin-token-0123456789abcdefghij',
  operator: 'operator-token-0123456789abcdefgh',
  viewer: 'viewer-token-0123456789abcdefghij',
} as const satisfies Record<Role, string>;
const SECOND_OPERATOR = 'operator-token-second-0123456789ab';

const srv = await startServer({ tokens: [...Object.entries(TOKENS), ['operator', SECOND_OPERATOR]] as [Role, string][] });
after(srv.close);

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A socket authenticated with `token`, past its snapshot. */
async function socketAs(token: string): Promise<TestClient> {
  const client = new TestClient(`${srv.wsBase}/ws`, { headers: auth(token) });
  after(() => client.ws.terminate());
  await client.opened();
  await client.next('snapshot');
  return client;
}

/** The answer to a WebSocket command: `ack`, or the error's code. */
async function answer(client: TestClient, requestId: string): Promise<string> {
  await client.until(() => client.received.some((m) => (m.type === 'ack' || m.type === 'error') && m.requestId === requestId), `the answer to ${requestId}`);
  const message = client.received.find((m) => (m.type === 'ack' || m.type === 'error') && m.requestId === requestId)!;
  return message.type === 'ack' ? 'ack' : message.type === 'error' ? message.code : message.type;
}

test('each role gets the same answer over HTTP and over WebSocket, the one the access table gives', async () => {
  const { body } = await request(srv.base, 'POST', '/api/orders', orderBody('Target'), auth(TOKENS.admin));
  const target = body as CreatedOrder;
  for (const role of Object.keys(TOKENS) as Role[]) {
    const token = TOKENS[role];
    const client = await socketAs(token);
    const mayCreate = (ACCESS_POLICY.createOrder.roles as readonly Role[]).includes(role);
    const mayMove = (ACCESS_POLICY.changeStatus.roles as readonly Role[]).includes(role);

    const overHttp = await request(srv.base, 'POST', '/api/orders', orderBody(`HTTP ${role}`), auth(token));
    client.send({ type: 'createOrder', requestId: `c-${role}`, order: orderBody(`WS ${role}`) });
    assert.equal(overHttp.status, mayCreate ? 201 : 403, `${role} creating over HTTP`);
    assert.equal(await answer(client, `c-${role}`), mayCreate ? 'ack' : 'LO_ERR_FORBIDDEN', `${role} creating over WebSocket`);

    // A move the status machine refuses: only a role that may move gets that far.
    const moveHttp = await request(srv.base, 'PUT', `/api/orders/${target.id}/status`, { status: 'pending' }, auth(token));
    client.send({ type: 'updateStatus', requestId: `u-${role}`, orderId: target.id, status: 'pending' });
    assert.equal(moveHttp.status, mayMove ? 409 : 403, `${role} moving over HTTP`);
    assert.equal(await answer(client, `u-${role}`), mayMove ? 'LO_ERR_BAD_TRANSITION' : 'LO_ERR_FORBIDDEN', `${role} moving over WebSocket`);
  }
});

test('an idempotency key is the caller\'s over either transport: the same order and token again, never another caller\'s', async () => {
  const key = 'shared-key-1';
  const body = orderBody('Keyed');
  const first = await request(srv.base, 'POST', '/api/orders', body, { ...auth(TOKENS.operator), 'idempotency-key': key });
  assert.equal(first.status, 201);
  const created = first.body as CreatedOrder;

  const same = await socketAs(TOKENS.operator);
  same.send({ type: 'createOrder', requestId: 'again', idempotencyKey: key, order: body });
  const replayed = await same.next('ack');
  assert.equal(replayed.order.id, created.id, 'the same caller gets the first answer again');
  assert.equal(replayed.trackingToken, created.trackingToken);

  const other = await socketAs(SECOND_OPERATOR);
  other.send({ type: 'createOrder', requestId: 'other', idempotencyKey: key, order: body });
  const fresh = await other.next('ack');
  assert.notEqual(fresh.order.id, created.id, 'another caller\'s same key makes its own order');
  assert.notEqual(fresh.trackingToken, created.trackingToken);
});
