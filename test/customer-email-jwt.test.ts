/**
 * Customers' addresses and users signed in with the identity provider: a
 * user with an operator or admin role sees them, one with only the viewer
 * role does not (REST and WebSocket), and a refresh that takes the role
 * away sends the view again without them.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CreatedOrder } from '../src/protocol.ts';
import { AUDIENCE, ISSUER, JwksServer, KEYCLOAK_ROLE_MAP, keycloakRoles, makeKey, sign, type SigningKey } from './jwks-server.ts';
import { TestClient, request, startServer, type TestServer } from './helpers.ts';

const EMAIL = 'jwt.customer@example.com';
const jwks = new JwksServer();
let key: SigningKey;
let srv: TestServer;

before(async () => {
  key = await makeKey('rsa-1', 'RS256');
  jwks.keys = [key.jwk];
  await jwks.start();
  srv = await startServer({ jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'realm_access.roles', roleMap: KEYCLOAK_ROLE_MAP, clockToleranceSeconds: 0, jwksRefetchIntervalMs: 2000 } });
});
after(async () => {
  await srv?.close();
  await jwks.stop();
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

test('signed-in staff see the address, signed-in viewers do not; a refresh down to viewer sends the view again without it', async () => {
  const staff = await sign({ key, claims: keycloakRoles('orders-staff') });
  const viewer = await sign({ key, claims: keycloakRoles('orders-view') });
  const created = await request(srv.base, 'POST', '/api/orders', { customerName: 'Jwt', customerEmail: EMAIL, items: ['x'] }, bearer(staff));
  assert.equal(created.status, 201, created.text);
  const id = (created.body as CreatedOrder).id;
  assert.ok((await request(srv.base, 'GET', `/api/orders/${id}`, undefined, bearer(staff))).text.includes(EMAIL));
  const seen = await request(srv.base, 'GET', `/api/orders/${id}`, undefined, bearer(viewer));
  assert.equal(seen.status, 200);
  assert.ok(!seen.text.includes(EMAIL), seen.text);

  const client = new TestClient(`${srv.wsBase}/ws`, { headers: bearer(staff) });
  await client.opened();
  const snapshot = await client.next('snapshot');
  assert.ok(snapshot.orders.some((o) => o.customerEmail === EMAIL));
  client.send({ type: 'refresh', requestId: 'down', token: viewer });
  await client.next('refreshed');
  const again = await client.next('snapshot');
  assert.equal(again.reset, true);
  assert.ok(again.orders.some((o) => o.id === id) && again.orders.every((o) => o.customerEmail === undefined));
  const framesBefore = client.frames.length;
  assert.equal((await request(srv.base, 'PATCH', `/api/orders/${id}/status`, { status: 'processing' }, bearer(staff))).status, 200);
  await client.until(() => client.events.some((e) => e.order.id === id && e.order.status === 'processing'), 'the event');
  assert.ok(client.frames.slice(framesBefore).every((frame) => !frame.includes(EMAIL)), 'events after the refresh leave the address out');
  client.close();
});
