/**
 * Presence and the stats' `caller` for users signed in with an identity
 * provider: a user counts as the highest of its roles (admin > operator >
 * viewer), in the presence counts, in `connectionsByRole` and as the
 * caller of `/api/stats`; and a `refresh` that changes a user's roles does
 * not leave a wrong count behind when the socket then watches another order.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CreatedOrder, PresenceAnswer, PresenceCounts } from '../src/protocol.ts';
import { AUDIENCE, ISSUER, JwksServer, KEYCLOAK_ROLE_MAP, keycloakRoles, makeKey, sign, type SigningKey } from './jwks-server.ts';
import { TestClient, orderBody, request, startServer, type TestServer } from './helpers.ts';

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

const jwks = new JwksServer();
let key: SigningKey;
let srv: TestServer;
/** A token of an operator, for the HTTP calls that set things up. */
let operatorToken: string;

before(async () => {
  key = await makeKey('rsa-presence', 'RS256');
  jwks.keys = [key.jwk];
  await jwks.start();
  srv = await startServer({ jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'realm_access.roles', roleMap: KEYCLOAK_ROLE_MAP } });
  operatorToken = await sign({ key, claims: keycloakRoles('orders-staff'), sub: 'setup' });
});
after(async () => {
  await srv.close();
  await jwks.stop();
});

/** A token of `sub` with these Keycloak roles. */
const tokenOf = (sub: string, ...roles: string[]): Promise<string> => sign({ key, claims: keycloakRoles(...roles), sub });

async function newOrder(): Promise<CreatedOrder> {
  const res = await request(srv.base, 'POST', '/api/orders', orderBody('Watched by users'), bearer(operatorToken));
  assert.equal(res.status, 201);
  return res.body as CreatedOrder;
}

async function board(token: string): Promise<TestClient> {
  const client = new TestClient(`${srv.wsBase}/ws`, { headers: bearer(token) });
  after(() => client.ws.terminate());
  await client.opened();
  await client.next('snapshot');
  return client;
}

async function presence(orderId: string): Promise<PresenceCounts> {
  const res = await request(srv.base, 'GET', `/api/orders/${orderId}/presence`, undefined, bearer(operatorToken));
  assert.equal(res.status, 200);
  return (res.body as PresenceAnswer).watching;
}

describe('presence and stats for identity provider users', () => {
  test('a user counts as the highest of its roles: in presence, in connectionsByRole, and as the stats caller', async () => {
    const order = await newOrder();
    const cases: [string[], 'admin' | 'operator' | 'viewer'][] = [
      [['orders-view', 'orders-admin'], 'admin'],
      [['orders-view', 'orders-staff'], 'operator'],
      [['orders-view'], 'viewer'],
    ];
    for (const [roles, kind] of cases) {
      const token = await tokenOf(`user-${kind}`, ...roles);
      const stats = await request(srv.base, 'GET', '/api/stats', undefined, bearer(token));
      assert.equal(stats.status, 200);
      assert.equal((stats.body as { caller: string }).caller, kind, `roles ${roles.join(', ')}`);
      const before = (stats.body as { connectionsByRole: PresenceCounts }).connectionsByRole;
      const socket = await board(token);
      await socket.sendAndSettle({ type: 'watch', orderId: order.id });
      assert.equal((await presence(order.id))[kind], 1, `a ${roles.join(', ')} user watches as ${kind}`);
      const byRole = ((await request(srv.base, 'GET', '/api/stats', undefined, bearer(token))).body as { connectionsByRole: PresenceCounts }).connectionsByRole;
      assert.equal(byRole[kind], before[kind] + 1, `the socket counts as ${kind} in connectionsByRole`);
      await socket.sendAndSettle({ type: 'watch' });
    }
    assert.deepEqual(await presence(order.id), { admin: 0, operator: 0, viewer: 0, customer: 0 });
  });

  test('after a refresh that changes the roles, watching another order takes the count off the kind it was put on', async () => {
    const [first, second] = [await newOrder(), await newOrder()];
    const changing = await board(await tokenOf('changing', 'orders-staff'));
    const viewer = await board(await tokenOf('steady', 'orders-view'));
    await changing.sendAndSettle({ type: 'watch', orderId: first.id });
    await viewer.sendAndSettle({ type: 'watch', orderId: first.id });
    assert.deepEqual(await presence(first.id), { admin: 0, operator: 1, viewer: 1, customer: 0 });
    // The same user, now an admin.
    changing.send({ type: 'refresh', requestId: 'promoted', token: await tokenOf('changing', 'orders-admin') });
    assert.equal((await changing.next('refreshed')).requestId, 'promoted');
    await changing.sendAndSettle({ type: 'watch', orderId: second.id });
    assert.deepEqual(await presence(first.id), { admin: 0, operator: 0, viewer: 1, customer: 0 });
    assert.deepEqual(await presence(second.id), { admin: 1, operator: 0, viewer: 0, customer: 0 });
  });
});
