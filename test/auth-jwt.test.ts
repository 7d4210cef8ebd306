/**
 * Sign-in with an identity provider: JWTs checked against a local JWKS
 * server (node:http on an ephemeral port) whose keys are made here with
 * jose. Refused tokens (expired, not yet valid, wrong issuer or audience,
 * `alg: none`, HMAC made with the public key), roles from Keycloak's and
 * Auth0's claims, key rotation, an outage with cached keys, sockets that
 * close at the token's expiry unless refreshed, and a reconnect that resumes.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { exportSPKI } from 'jose';
import { CLOSE_CODES } from '../src/protocol.ts';
import { claimAt, parseRoleMap, rolesFromClaims } from '../src/security/claims.ts';
import { jwtFromEnv } from '../src/config.ts';
import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_BYTES, fetchUntrusted, parseJwks } from '../src/security/jwks.ts';
import { createServer } from '../src/server.ts';
import { createLogger } from '../src/support/logger.ts';
import { Cli } from './cli-process.ts';
import { AUDIENCE, ISSUER, JwksServer, KEYCLOAK_ROLE_MAP, keycloakRoles, makeKey, now, sign, type SigningKey } from './jwks-server.ts';
import { TestClient, orderBody, request, startServer, type TestServer } from './helpers.ts';

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A token with `alg: none`: no signature at all. */
function unsignedToken(kid: string): string {
  const header = base64url(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, exp: now() + 300, realm_access: { roles: ['orders-admin'] } }));
  return `${header}.${payload}.`;
}

/** The classic confusion: HS256 "signed" with the RSA public key's PEM as the shared secret. */
async function hmacWithPublicKey(key: SigningKey): Promise<string> {
  const secret = await exportSPKI(key.publicKey);
  const header = base64url(JSON.stringify({ alg: 'HS256', kid: key.kid, typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, exp: now() + 300, realm_access: { roles: ['orders-admin'] } }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** The fields of a problem+json answer the tests read. */
interface ProblemDetails {
  readonly code: string;
  readonly detail: string;
}

/** How long the test servers wait between two fetches of the keys, in milliseconds. */
const REFETCH_INTERVAL_MS = 2000;

function assertInvalidToken(res: { status: number; headers: Headers; body: unknown }, detail: RegExp): void {
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = res.body as ProblemDetails;
  assert.equal(problem.code, 'LO_ERR_UNAUTHORIZED');
  assert.match(problem.detail, detail);
}

const jwks = new JwksServer();
let rsa: SigningKey;
let ec: SigningKey;
let ed: SigningKey;
let srv: TestServer;

before(async () => {
  [rsa, ec, ed] = await Promise.all([makeKey('rsa-1', 'RS256'), makeKey('ec-1', 'ES256'), makeKey('ed-1', 'EdDSA')]);
  jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
  await jwks.start();
  srv = await startServer({
    jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'realm_access.roles', roleMap: KEYCLOAK_ROLE_MAP, clockToleranceSeconds: 0, jwksRefetchIntervalMs: REFETCH_INTERVAL_MS },
  });
});
after(async () => {
  await srv.close();
  await jwks.stop();
});

describe('HTTP with identity provider tokens', () => {
  test('RS256, ES256 and EdDSA tokens are accepted, with the roles their claim maps to', async () => {
    for (const key of [rsa, ec, ed]) {
      const token = await sign({ key, claims: keycloakRoles('orders-staff', 'offline_access') });
      const created = await request(srv.base, 'POST', '/api/orders', orderBody(`by ${key.alg}`), bearer(token));
      assert.equal(created.status, 201, `${key.alg}: ${created.text}`);
      // operator, not admin: deleting is refused by the access table.
      const id = (created.body as { id: string }).id;
      const deleted = await request(srv.base, 'DELETE', `/api/orders/${id}`, undefined, bearer(token));
      assert.equal(deleted.status, 403, deleted.text);
      assert.match((deleted.body as ProblemDetails).detail, /operator role may not delete orders/);
    }
  });

  test('an idempotency key is the user\'s: the same subject gets its order again with a later token, another subject its own', async () => {
    const key = { 'idempotency-key': 'checkout-7' };
    const first = await request(srv.base, 'POST', '/api/orders', orderBody('Keyed'), { ...bearer(await sign({ key: rsa, sub: 'alice', claims: keycloakRoles('orders-staff') })), ...key });
    assert.equal(first.status, 201);
    const again = await request(srv.base, 'POST', '/api/orders', orderBody('Keyed'), { ...bearer(await sign({ key: ec, sub: 'alice', claims: keycloakRoles('orders-staff') })), ...key });
    assert.equal((again.body as { id: string }).id, (first.body as { id: string }).id);
    const other = await request(srv.base, 'POST', '/api/orders', orderBody('Keyed'), { ...bearer(await sign({ key: rsa, sub: 'bob', claims: keycloakRoles('orders-staff') })), ...key });
    assert.equal(other.status, 201);
    assert.notEqual((other.body as { id: string }).id, (first.body as { id: string }).id);
  });

  test('no token at all: 401 without an error attribute', async () => {
    const res = await request(srv.base, 'GET', '/api/orders');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="liveorders"');
  });

  test('expired, not yet valid, wrong issuer, wrong audience, alg none, HMAC confusion and forged tokens get 401 invalid_token', async () => {
    const before = srv.server.orders.size;
    const impostor = await makeKey('rsa-1', 'RS256'); // the published kid, another key
    const cases: [string, string, RegExp][] = [
      ['expired', await sign({ key: rsa, claims: keycloakRoles('orders-admin'), expiresIn: -5 }), /expired/],
      ['not yet valid', await sign({ key: rsa, claims: keycloakRoles('orders-admin'), notBefore: 120 }), /not valid yet/],
      ['wrong issuer', await sign({ key: rsa, claims: keycloakRoles('orders-admin'), iss: 'https://evil.test/realms/shop' }), /another issuer/],
      ['wrong audience', await sign({ key: rsa, claims: keycloakRoles('orders-admin'), aud: 'another-app' }), /another audience/],
      ['alg none', unsignedToken(rsa.kid), /algorithm is not accepted/],
      ['HMAC with the public key', await hmacWithPublicKey(rsa), /algorithm is not accepted/],
      ['signed by another key under a published kid', await sign({ key: impostor, claims: keycloakRoles('orders-admin') }), /signature does not verify/],
      ['not a JWT at all', 'x'.repeat(40), /not valid/],
    ];
    for (const [what, token, detail] of cases) {
      const res = await request(srv.base, 'POST', '/api/orders', orderBody(what), bearer(token));
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assertInvalidToken(res, detail);
    }
    assert.equal(srv.server.orders.size, before, 'nothing was created');
  });

  test('a valid token without any of the roles gets 403; a viewer may read but not write', async () => {
    const none = await sign({ key: rsa, claims: keycloakRoles('offline_access', 'uma_authorization') });
    const listed = await request(srv.base, 'GET', '/api/orders', undefined, bearer(none));
    assert.equal(listed.status, 403, listed.text);
    assert.match((listed.body as ProblemDetails).detail, /none of this service's roles/);
    const viewer = await sign({ key: ec, claims: keycloakRoles('orders-view') });
    assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, bearer(viewer))).status, 200);
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(), bearer(viewer))).status, 403);
  });

  test('a new kid is picked up by fetching the JWKS again, at most once per interval', async () => {
    const rotated = await makeKey('rsa-2', 'RS256');
    const token = await sign({ key: rotated, claims: keycloakRoles('orders-admin') });
    // Not published yet: refused, and once the interval since the last fetch has passed, fetched for.
    const fetchesBefore = jwks.fetches;
    const deadline = Date.now() + 15_000;
    while (jwks.fetches === fetchesBefore) {
      assert.ok(Date.now() < deadline, 'an unknown kid makes a fetch once the interval has passed');
      assertInvalidToken(await request(srv.base, 'GET', '/api/orders', undefined, bearer(token)), /key the identity provider does not publish/);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const missAt = Date.now();
    const fetchesAfterMiss = jwks.fetches;
    // More tries within the interval fetch nothing.
    let tries = 0;
    while (Date.now() - missAt < REFETCH_INTERVAL_MS / 2) {
      assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, bearer(token))).status, 401);
      tries++;
    }
    assert.ok(tries > 0);
    assert.equal(jwks.fetches, fetchesAfterMiss, 'an unknown kid within the interval makes no fetch');
    // The provider rotates: the new key is published (the old one stays a while, as providers do).
    jwks.keys = [rotated.jwk, rsa.jwk, ec.jwk, ed.jwk];
    const started = Date.now();
    let status = 0;
    while (status !== 200) {
      status = (await request(srv.base, 'GET', '/api/orders', undefined, bearer(token))).status;
      assert.ok(Date.now() - started < 15_000, 'the rotated key is taken within the refetch interval');
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(jwks.fetches, fetchesAfterMiss + 1, 'one more fetch brought the new key');
  });

  test('while the JWKS is unreachable the cached keys keep working, and the log says so', async () => {
    const known = await sign({ key: ed, claims: keycloakRoles('orders-view') });
    assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, bearer(known))).status, 200);
    jwks.down = true;
    try {
      const stranger = await makeKey('ed-9', 'EdDSA');
      const unknown = await sign({ key: stranger, claims: keycloakRoles('orders-view') });
      // Once the refetch interval has passed, the unknown kid makes a fetch, which fails.
      const deadline = Date.now() + 15_000;
      while (!srv.logLines.some((l) => String(l.msg).startsWith('JWKS unreachable'))) {
        assert.ok(Date.now() < deadline, 'a fetch was tried and failed');
        assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, bearer(unknown))).status, 401);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const line = srv.logLines.find((l) => String(l.msg).startsWith('JWKS unreachable'))!;
      assert.equal(line.level, 'warn');
      assert.match(String(line.msg), /cached key\(s\) keep working/);
      assert.equal(line.url, jwks.url);
      // The keys held still open the door.
      assert.equal((await request(srv.base, 'GET', '/api/orders', undefined, bearer(known))).status, 200);
      const again = await request(srv.base, 'GET', '/api/orders', undefined, bearer(unknown));
      assertInvalidToken(again, /cannot be fetched now|does not publish/);
    } finally {
      jwks.down = false;
    }
  });
});

describe('WebSocket with identity provider tokens', () => {
  const open = async (token: string, query = ''): Promise<TestClient> => {
    const client = new TestClient(`${srv.wsBase}/ws${query}`, { headers: bearer(token) });
    await client.opened();
    return client;
  };

  test('a bad token is refused at the upgrade (401), a valid one gets its snapshot', async () => {
    const expired = await sign({ key: rsa, claims: keycloakRoles('orders-view'), expiresIn: -5 });
    await assert.rejects(open(expired), /upgrade refused: 401/);
    const viewer = await open(await sign({ key: rsa, claims: keycloakRoles('orders-view') }));
    await viewer.next('snapshot');
    viewer.close();
    // Browsers carry the token in the subprotocol.
    const token = await sign({ key: ec, claims: keycloakRoles('orders-view') });
    const browser = new TestClient(`${srv.wsBase}/ws`, {}, ['liveorders', `liveorders.bearer.${token}`]);
    await browser.opened();
    await browser.next('snapshot');
    browser.close();
  });

  test('at the token expiry the socket is closed with 4001 "token expired"', async () => {
    const lifetime = 3;
    const token = await sign({ key: rsa, claims: keycloakRoles('orders-view'), expiresIn: lifetime });
    const exp = now() + lifetime;
    const client = await open(token);
    await client.next('snapshot');
    const code = await client.closed;
    assert.equal(code, CLOSE_CODES.tokenExpired);
    assert.equal(client.closeReason, 'token expired');
    assert.ok(Date.now() >= (exp - 1) * 1000, 'not closed long before exp');
  });

  test('a refresh with a later token of the same user keeps the socket open past the first expiry', async () => {
    const lifetime = 3;
    const first = await sign({ key: rsa, claims: keycloakRoles('orders-view'), expiresIn: lifetime });
    const firstExp = now() + lifetime;
    const client = await open(first);
    await client.next('snapshot');
    const later = await sign({ key: ec, claims: keycloakRoles('orders-view'), expiresIn: 120 });
    client.send({ type: 'refresh', requestId: 'r1', token: later });
    const refreshed = await client.next('refreshed');
    assert.equal(refreshed.requestId, 'r1');
    assert.ok(refreshed.expiresAt >= now() + 100);
    // Past the first token's expiry the socket still answers.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (firstExp + 1) * 1000 - Date.now())));
    client.send({ type: 'ping', id: 'still-here' });
    assert.equal((await client.next('pong')).id, 'still-here');
    assert.equal(client.closeCode, undefined);
    client.close();
  });

  test('a refresh with another user, a bad token or malformed input is refused and changes nothing', async () => {
    const client = await open(await sign({ key: rsa, claims: keycloakRoles('orders-view'), sub: 'alice' }));
    await client.next('snapshot');
    client.send({ type: 'refresh', requestId: 'other', token: await sign({ key: rsa, claims: keycloakRoles('orders-admin'), sub: 'mallory' }) });
    const other = await client.next('error');
    assert.equal(other.code, 'LO_ERR_FORBIDDEN');
    assert.equal(other.requestId, 'other');
    assert.match(other.message, /same user/);
    client.send({ type: 'refresh', requestId: 'expired', token: await sign({ key: rsa, claims: keycloakRoles('orders-view'), sub: 'alice', expiresIn: -5 }) });
    const expired = await client.next('error');
    assert.equal(expired.code, 'LO_ERR_UNAUTHORIZED');
    assert.match(expired.message, /expired/);
    client.send({ type: 'refresh', token: 42 });
    const malformed = await client.next('error');
    assert.equal(malformed.code, 'LO_ERR_INVALID_FIELD');
    assert.deepEqual(malformed.errors?.map((e) => e.field), ['token']);
    client.send({ type: 'refresh', token: 'a b' });
    assert.equal((await client.next('error')).code, 'LO_ERR_INVALID_FIELD');
    // Still the viewer it was: a write is refused by the access table.
    client.send({ type: 'createOrder', requestId: 'w', order: orderBody() });
    const write = await client.next('error');
    assert.equal(write.code, 'LO_ERR_FORBIDDEN');
    client.close();
  });

  test('a socket opened with a role token cannot be refreshed', async () => {
    const withRole = await startServer({ tokens: [['viewer', 'viewer-token-0123456789abcdefghij']], jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE } });
    try {
      const client = new TestClient(`${withRole.wsBase}/ws`, { headers: bearer('viewer-token-0123456789abcdefghij') });
      await client.opened();
      await client.next('snapshot');
      client.send({ type: 'refresh', token: await sign({ key: rsa, claims: { role: 'viewer' } }) });
      const refused = await client.next('error');
      assert.equal(refused.code, 'LO_ERR_FORBIDDEN');
      assert.match(refused.message, /does not expire/);
      client.close();
    } finally {
      await withRole.close();
    }
  });

  test('after a 4001, a reconnect with a fresh token resumes with no gap', async () => {
    const admin = await sign({ key: rsa, claims: keycloakRoles('orders-admin') });
    const client = await open(await sign({ key: rsa, claims: keycloakRoles('orders-view'), expiresIn: 2 }));
    const snapshot = await client.next('snapshot');
    let seq = snapshot.seq;
    const early = await request(srv.base, 'POST', '/api/orders', orderBody('before expiry'), bearer(admin));
    assert.equal(early.status, 201);
    await client.until(() => client.events.some((e) => e.order.customerName === 'before expiry'), 'the first event');
    seq = client.events.at(-1)!.seq;
    assert.equal(await client.closed, CLOSE_CODES.tokenExpired);
    // Written while the client holds no socket.
    for (const name of ['gap 1', 'gap 2']) assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(name), bearer(admin))).status, 201);
    const again = await open(await sign({ key: rsa, claims: keycloakRoles('orders-view') }), `?since=${seq}&epoch=${snapshot.epoch}`);
    const resumed = await again.next('resumed');
    assert.equal(resumed.since, seq);
    await again.until(() => again.events.filter((e) => e.type === 'order.created').length >= 2, 'the missed events');
    assert.deepEqual(again.events.map((e) => e.order.customerName), ['gap 1', 'gap 2']);
    assert.deepEqual(again.events.map((e) => e.seq), [seq + 1, seq + 2]);
    again.close();
  });
});

describe('fetching the JWKS, which is untrusted', () => {
  /** A server answering every request with `answer`. */
  async function serving(answer: (res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createHttpServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
    return {
      url,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  test('a redirect is not followed', async (t) => {
    const target = await serving((res) => res.end(JSON.stringify({ keys: [] })));
    t.after(target.close);
    const redirecting = await serving((res) => res.writeHead(302, { location: target.url }).end());
    t.after(redirecting.close);
    await assert.rejects(fetchUntrusted(redirecting.url), /302, a redirect, which is not followed/);
  });

  test('an answer larger than the cap is refused, declared or not', async (t) => {
    const big = JSON.stringify({ keys: [], padding: 'x'.repeat(JWKS_MAX_BYTES) });
    const declared = await serving((res) => res.writeHead(200, { 'content-length': Buffer.byteLength(big) }).end(big));
    t.after(declared.close);
    await assert.rejects(fetchUntrusted(declared.url), /more than the \d+ accepted/);
    const chunked = await serving((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 16_384) res.write(big.slice(i, i + 16_384));
      res.end();
    });
    t.after(chunked.close);
    await assert.rejects(fetchUntrusted(chunked.url), /more than the \d+ bytes accepted/);
  });

  test('a server that never answers is given up on after the timeout', async (t) => {
    const silent = await serving(() => undefined);
    t.after(silent.close);
    const started = Date.now();
    await assert.rejects(fetchUntrusted(silent.url));
    assert.ok(Date.now() - started < JWKS_FETCH_TIMEOUT_MS + 5000, 'within the timeout (and some slack)');
  });

  test('only public signing keys with a kid are taken', () => {
    const keys = parseJwks({ keys: [{ kty: 'RSA', kid: 'a', n: 'x', e: 'AQAB' }, { kty: 'RSA', kid: 'enc', use: 'enc' }, { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }, { kty: 'EC', kid: 'private', d: 'x' }, { kty: 'RSA' }, 'junk'] });
    assert.deepEqual(keys.map((k) => k.kid), ['a']);
    assert.throws(() => parseJwks({ nokeys: true }), /not a JWKS/);
  });
});

describe('roles from claims', () => {
  test('Keycloak realm roles, an Auth0 namespaced claim, a plain role claim', () => {
    assert.deepEqual(rolesFromClaims({ realm_access: { roles: ['orders-view', 'orders-admin', 'other'] } }, 'realm_access.roles', KEYCLOAK_ROLE_MAP), ['admin', 'viewer']);
    const auth0 = parseRoleMap('Order Manager:operator, Order Viewer:viewer');
    assert.ok(auth0.ok);
    const claims = { 'https://orders.example.com/roles': ['Order Manager'], sub: 'auth0|1' };
    assert.deepEqual(rolesFromClaims(claims, 'https://orders.example.com/roles', auth0.value), ['operator']);
    assert.deepEqual(rolesFromClaims({ role: 'admin' }, 'role', new Map()), ['admin']);
    assert.deepEqual(rolesFromClaims({ role: 'superuser' }, 'role', new Map()), []);
    assert.deepEqual(rolesFromClaims({ role: ['viewer', 7, null] }, 'role', new Map()), ['viewer']);
    assert.equal(claimAt({ a: { b: { c: 1 } } }, 'a.b.c'), 1);
    assert.equal(claimAt({ a: [{ b: 1 }] }, 'a.b'), undefined);
    assert.equal(claimAt({ a: {} }, 'a.__proto__'), undefined);
  });

  test('an Auth0 server: the namespaced claim grants the mapped role over HTTP', async () => {
    const map = parseRoleMap('Order Manager:operator');
    assert.ok(map.ok);
    const auth0 = await startServer({ jwt: { jwksUrl: jwks.url, issuer: 'https://shop.eu.auth0.com/', audience: 'https://orders.example.com/api', roleClaim: 'https://orders.example.com/roles', roleMap: map.value } });
    try {
      const token = await sign({ key: rsa, iss: 'https://shop.eu.auth0.com/', aud: 'https://orders.example.com/api', sub: 'auth0|42', claims: { 'https://orders.example.com/roles': ['Order Manager'] } });
      assert.equal((await request(auth0.base, 'POST', '/api/orders', orderBody('auth0'), bearer(token))).status, 201);
      // The Keycloak-issued token is for another issuer there.
      const keycloak = await sign({ key: rsa, claims: keycloakRoles('orders-admin') });
      assertInvalidToken(await request(auth0.base, 'GET', '/api/orders', undefined, bearer(keycloak)), /another issuer/);
    } finally {
      await auth0.close();
    }
  });

  test('AUTH_ROLE_MAP and the AUTH_ variables are checked at start', () => {
    assert.ok(!parseRoleMap('orders-admin:root').ok);
    assert.ok(!parseRoleMap('a:admin,a:viewer').ok);
    const config = jwtFromEnv({ AUTH_JWKS_URL: 'https://sso.example.com/certs', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_ROLE_CLAIM: 'realm_access.roles', AUTH_ROLE_MAP: 'orders-admin:admin' });
    assert.ok(config.ok && config.value !== undefined);
    assert.equal(config.value.roleMap?.get('orders-admin'), 'admin');
    assert.match(String((jwtFromEnv({ AUTH_JWKS_URL: 'http://sso.example.com/certs', AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }) as { error: string }).error), /https/);
    assert.match(String((jwtFromEnv({ AUTH_JWKS_URL: 'https://sso.example.com/certs', AUTH_AUDIENCE: AUDIENCE }) as { error: string }).error), /AUTH_ISSUER is required/);
    assert.match(String((jwtFromEnv({ AUTH_ISSUER: ISSUER }) as { error: string }).error), /AUTH_JWKS_URL is not/);
    assert.deepEqual(jwtFromEnv({}), { ok: true, value: undefined });
  });

  test('an identity provider alone is enough to listen on a network address (no open mode)', async () => {
    const jwt = { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE };
    assert.throws(() => createServer({ host: '0.0.0.0', port: 0, logger: createLogger({ level: 'silent' }) }), /without tokens/);
    const server = createServer({ host: '0.0.0.0', port: 0, jwt, logger: createLogger({ level: 'silent' }) });
    await server.close();
  });
});

describe('jose loading', () => {
  /** Run a server in a child process, send it a bearer token shaped like a JWT, and list the jose modules it loaded. */
  function joseModulesLoaded(serverOptions: string): string[] {
    const script = `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const resolved = [];
      port1.on('message', (url) => resolved.push(url));
      port1.unref();
      const hooks = 'let port; export function initialize(data) { port = data.port; } ' +
        'export async function resolve(specifier, context, next) { const found = await next(specifier, context); port.postMessage(found.url); return found; }';
      register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
      const { createServer } = await import('./src/server.ts');
      const { createLogger } = await import('./src/support/logger.ts');
      const server = createServer({ port: 0, logger: createLogger({ level: 'silent' }), ${serverOptions} });
      const address = await server.listen();
      const jwt = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2ln';
      await fetch('http://127.0.0.1:' + address.port + '/api/orders', { headers: { authorization: 'Bearer ' + jwt } }).then((r) => r.text());
      await server.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.log(JSON.stringify(resolved.filter((url) => /node_modules\\/jose\\//.test(url))));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[];
  }

  test('without a JWKS configured, jose is never loaded; with one, it is', () => {
    assert.deepEqual(joseModulesLoaded(`tokens: [['admin', 'admin-token-0123456789abcdefghij']]`), []);
    // The check sees jose when it is loaded (the JWKS URL answers nothing: the token is refused, after loading jose).
    assert.ok(joseModulesLoaded(`jwt: { jwksUrl: 'http://127.0.0.1:9/certs', issuer: 'i', audience: 'a' }`).length > 0);
  });
});

describe('the CLI with an identity provider', () => {
  test('--token-command gets the first token, and a fresh one when the server closes at expiry; the stream resumes with no gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lo-token-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const short = await sign({ key: rsa, claims: keycloakRoles('orders-view'), sub: 'cli-user', expiresIn: 4 });
    const long = await sign({ key: ec, claims: keycloakRoles('orders-view'), sub: 'cli-user', expiresIn: 300 });
    // 1: at start; 2: before the expiry (no later token: not sent, the server closes at expiry); 3: after the 4001.
    for (const [n, token] of [[1, short], [2, short], [3, long], [4, long]] as const) writeFileSync(join(dir, `token-${n}`), token);
    const command = `n=$(cat '${dir}/count' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${dir}/count'; cat '${dir}/token-'$n`;
    const admin = bearer(await sign({ key: rsa, claims: keycloakRoles('orders-admin') }));
    const tag = Math.random().toString(36).slice(2, 8);
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--json', '--token-command', command]);
    await cli.until((out) => out.includes('"type":"snapshot"'), 'the first snapshot');
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(`before-${tag}`), admin)).status, 201);
    await cli.until((out) => out.includes(`before-${tag}`), 'the event before the expiry');
    await cli.until((_out, err) => err.includes('the token expired; getting a fresh one with --token-command'), 'the 4001 and a fresh token', 30_000);
    await cli.until((_out, err) => err.includes('reconnected; resuming after seq'), 'the resume');
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(`after-${tag}`), admin)).status, 201);
    await cli.until((out) => out.includes(`after-${tag}`), 'the event after the reconnect');
    assert.equal(cli.stdout.split(`before-${tag}`).length - 1, 1, 'the event before the expiry is printed once');
    assert.equal(cli.stdout.split(`after-${tag}`).length - 1, 1);
    assert.equal(readFileSync(join(dir, 'count'), 'utf8').trim(), '3', 'the command ran at start, before the expiry, and after it');
    assert.equal(cli.child.exitCode, null, 'still watching');
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  test('--token-command refreshes the open socket before the token expires: no close, no reconnect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lo-token-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const lifetime = 4;
    const short = await sign({ key: rsa, claims: keycloakRoles('orders-view'), sub: 'cli-refresh', expiresIn: lifetime });
    const firstExp = now() + lifetime;
    const long = await sign({ key: ed, claims: keycloakRoles('orders-view'), sub: 'cli-refresh', expiresIn: 300 });
    for (const [n, token] of [[1, short], [2, long], [3, long]] as const) writeFileSync(join(dir, `token-${n}`), token);
    const command = `n=$(cat '${dir}/count' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${dir}/count'; cat '${dir}/token-'$n`;
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--json', '--token-command', command]);
    await cli.until((out) => out.includes('"type":"snapshot"'), 'the first snapshot');
    // Past the first token's expiry, the same socket still delivers.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (firstExp + 1) * 1000 - Date.now())));
    const tag = Math.random().toString(36).slice(2, 8);
    const admin = bearer(await sign({ key: rsa, claims: keycloakRoles('orders-admin') }));
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(`refreshed-${tag}`), admin)).status, 201);
    await cli.until((out) => out.includes(`refreshed-${tag}`), 'the event after the first expiry');
    assert.equal(readFileSync(join(dir, 'count'), 'utf8').trim(), '2', 'the command ran at start and once before the expiry');
    assert.doesNotMatch(cli.stderr, /expired|reconnect|could not refresh/);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });

  test('without --token-command, an expired token ends the watch with exit 5 and says why', async () => {
    const cli = new Cli(['--url', `${srv.wsBase}/ws`, '--token', await sign({ key: rsa, claims: keycloakRoles('orders-view'), expiresIn: 2 })]);
    assert.equal(await cli.exited, 5);
    assert.match(cli.stderr, /the token expired \(pass --token-command/);
  });
});
