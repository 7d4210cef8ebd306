/**
 * Who may do what: tokens and roles, tracking links, the browser edge and
 * abuse limits, plus a table-driven battery of hostile inputs over HTTP and
 * WebSocket, each with the exact status or close code it must get and proof
 * that the store did not change.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { RateLimiter } from '../src/security/rate-limit.ts';
import { TokenRegistry, parseTokenList } from '../src/security/auth.ts';
import { permits } from '../src/security/policy.ts';
import { corsHeaders, isAllowedOrigin, isLoopback } from '../src/security/edge.ts';
import { createServer } from '../src/server.ts';
import type { Order, ServerMessage, CreatedOrder } from '../src/protocol.ts';
import { TestClient, captureLogger, orderBody, startServer, waitFor, type TestServer } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const OPERATOR = 'operator-token-0123456789abcdefgh';
const VIEWER = 'viewer-token-0123456789abcdefghij';
const TOKENS = [['admin', ADMIN], ['operator', OPERATOR], ['viewer', VIEWER]] as const;

const srv: TestServer = await startServer({ tokens: TOKENS });
after(srv.close);
const port = Number(new URL(srv.base).port);

/** A raw HTTP request: the path goes out exactly as written (no URL normalisation). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

async function createAs(token: string, name = 'Ada'): Promise<CreatedOrder> {
  const res = await raw('POST', '/api/orders', { ...auth(token), ...json }, JSON.stringify(orderBody(name)));
  assert.equal(res.status, 201, res.text);
  return JSON.parse(res.text) as CreatedOrder;
}

/** What must not change when a hostile request is refused. */
function fingerprint(): string {
  return `${srv.server.orders.position.seq}/${srv.server.orders.size}`;
}

/** Open a socket and report how the upgrade ended: 'open' or the HTTP status. */
function upgrade(path: string, options: { headers?: Record<string, string> } = {}): Promise<{ outcome: number | 'open'; client: TestClient }> {
  return settle(new TestClient(`${srv.wsBase}${path}`, { headers: options.headers ?? {} }));
}

async function settle(client: TestClient): Promise<{ outcome: number | 'open'; client: TestClient }> {
  try {
    await client.opened();
    after(() => client.ws.terminate());
    return { outcome: 'open', client };
  } catch (error) {
    const status = /upgrade refused: (\d+)/.exec((error as Error).message)?.[1];
    return { outcome: status === undefined ? -1 : Number(status), client };
  }
}

describe('configuration and policy', () => {
  test('token lists: roles, minimum length, no duplicates, comments allowed', () => {
    assert.deepEqual(parseTokenList(`# ops\nadmin:${ADMIN}, viewer:${VIEWER}`), { ok: true, value: [['admin', ADMIN], ['viewer', VIEWER]] });
    for (const bad of ['root:' + ADMIN, 'admin:short', `admin:${ADMIN},viewer:${ADMIN}`, ADMIN, `admin:${ADMIN} x`]) {
      assert.equal(parseTokenList(bad).ok, false, bad);
    }
  });

  test('the access table grants each role exactly its actions; lookup is by exact token', () => {
    const registry = new TokenRegistry(TOKENS);
    assert.equal(registry.lookup(VIEWER)?.role, 'viewer');
    assert.equal(registry.lookup(VIEWER + 'x'), undefined);
    assert.equal(registry.lookup(VIEWER.slice(0, -1)), undefined);
    const actions = ['listOrders', 'readOrder', 'readStats', 'watchOrders', 'createOrder', 'changeStatus', 'reissueTrackingToken', 'deleteOrder'] as const;
    const matrix = (['admin', 'operator', 'viewer'] as const).map((role) => actions.map((action) => permits({ kind: 'role', role, name: role, digest: Buffer.alloc(32) }, action)));
    assert.deepEqual(matrix, [
      [true, true, true, true, true, true, true, true],
      [true, true, true, true, true, true, true, false],
      [true, true, true, true, false, false, false, false],
    ]);
    const tracking = { kind: 'tracking', orderId: 'x' } as const;
    assert.deepEqual(actions.map((action) => permits(tracking, action, 'x')), [false, false, false, true, false, false, false, false], 'a tracking token watches its own order, nothing else');
    assert.equal(permits(tracking, 'watchOrders', 'y'), false);
    assert.equal(permits(tracking, 'trackOrder', 'x'), true);
    assert.equal(permits({ kind: 'open' }, 'deleteOrder'), true);
  });

  test('origins: loopback and configured ones only; the Host header is never taken as our origin', () => {
    assert.equal(isAllowedOrigin(undefined, []), true, 'non-browser clients send no Origin');
    // Under DNS rebinding the attacker's page and its Host header name the same host: that proves nothing.
    assert.equal(isAllowedOrigin('https://orders.example.com', []), false);
    assert.equal(isAllowedOrigin('https://orders.example.com', [], ['orders.example.com']), true, 'a configured host name');
    assert.equal(isAllowedOrigin('http://localhost:5173', []), true);
    assert.equal(isAllowedOrigin('https://evil.example', [], ['orders.example.com']), false);
    assert.equal(isAllowedOrigin('https://orders.example.com.evil.example', [], ['orders.example.com']), false);
    assert.equal(isAllowedOrigin('null', []), false);
    assert.equal(isAllowedOrigin('https://board.example.com', ['https://board.example.com']), true);
    assert.equal(isLoopback('::ffff:127.0.0.1'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    assert.deepEqual(corsHeaders('https://a.example', []), {}, 'CORS is off by default');
  });

  test('rate limiter: a burst, then Retry-After until the bucket refills', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2, now: () => now });
    assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, true);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 1 });
    assert.equal(limiter.take('b').ok, true, 'other clients are not affected');
    now += 1000;
    assert.equal(limiter.take('a').ok, true);
  });

  test('safe by default: no tokens on a network address refuses to start, unless open mode is asked for', () => {
    const { logger, lines } = captureLogger();
    assert.throws(() => createServer({ host: '0.0.0.0', logger }), /refusing to listen on 0\.0\.0\.0 without tokens: set LIVEORDERS_TOKENS/);
    assert.doesNotThrow(() => createServer({ host: '0.0.0.0', tokens: TOKENS, logger }));
    assert.doesNotThrow(() => createServer({ host: '0.0.0.0', allowOpenNetwork: true, logger }));
    assert.ok(lines.some((l) => l.level === 'warn' && String(l.msg).startsWith('open mode on a network address')));
    assert.doesNotThrow(() => createServer({ host: '127.0.0.1', logger }), 'loopback needs no tokens');
  });
});

describe('roles over HTTP', () => {
  test('401 without a token (with WWW-Authenticate), 403 without the permission, health is public', async () => {
    const none = await raw('GET', '/api/orders');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="liveorders"');
    assert.equal(JSON.parse(none.text).code, 'LO_ERR_UNAUTHORIZED');
    assert.equal((await raw('GET', '/healthz')).status, 200);
    assert.equal((await raw('GET', '/api/orders', auth(VIEWER))).status, 200);
    const forbidden = await raw('POST', '/api/orders', { ...auth(VIEWER), ...json }, JSON.stringify(orderBody()));
    assert.equal(forbidden.status, 403);
    assert.equal(JSON.parse(forbidden.text).code, 'LO_ERR_FORBIDDEN');
  });

  test('operator creates and moves, admin deletes, operator may not delete', async () => {
    const order = await createAs(OPERATOR);
    assert.equal((await raw('PUT', `/api/orders/${order.id}/status`, { ...auth(OPERATOR), ...json }, '{"status":"shipped"}')).status, 200);
    assert.equal((await raw('DELETE', `/api/orders/${order.id}`, auth(OPERATOR))).status, 403);
    assert.equal((await raw('DELETE', `/api/orders/${order.id}`, auth(ADMIN))).status, 204);
  });
});

describe('customer tracking links', () => {
  test('the token reads that one order over HTTP; the id alone reveals nothing', async () => {
    const mine = await createAs(OPERATOR, 'Tracked');
    const tracked = await raw('GET', `/api/track/${mine.trackingToken}`);
    assert.equal(tracked.status, 200);
    assert.equal((JSON.parse(tracked.text) as Order).id, mine.id);
    assert.equal('trackingToken' in JSON.parse(tracked.text), false, 'the token is never echoed back');
    assert.equal((await raw('GET', `/api/orders/${mine.id}`)).status, 401);
    assert.equal((await raw('GET', '/api/orders', auth(mine.trackingToken))).status, 401, 'not a bearer token');
    const listed = await raw('GET', '/api/orders', auth(VIEWER));
    assert.doesNotMatch(listed.text, new RegExp(mine.trackingToken), 'tokens never appear in lists');
  });

  test('a tracking socket gets its order only, cannot widen or write, and its counts are its own', async () => {
    const mine = await createAs(OPERATOR, 'Socket tracked');
    await createAs(OPERATOR, 'Someone else');
    const { outcome, client } = await upgrade(`/ws?track=${mine.trackingToken}&status=pending,shipped`);
    assert.equal(outcome, 'open');
    const snapshot = await client.next('snapshot');
    assert.deepEqual(snapshot.orders.map((o) => o.id), [mine.id]);
    assert.deepEqual(snapshot.counts, { pending: 1, processing: 0, shipped: 0, delivered: 0, cancelled: 0 });
    const before = fingerprint();
    for (const message of [{ type: 'subscribe' }, { type: 'subscribe', statuses: ['pending'] }, { type: 'createOrder', order: orderBody() }, { type: 'updateStatus', orderId: mine.id, status: 'cancelled' }]) {
      client.send(message);
      assert.equal((await client.next('error')).code, 'LO_ERR_FORBIDDEN', JSON.stringify(message));
    }
    assert.equal(fingerprint(), before);
    await createAs(OPERATOR, 'Not yours');
    await raw('PUT', `/api/orders/${mine.id}/status`, { ...auth(OPERATOR), ...json }, '{"status":"processing"}');
    await client.until(() => client.events.length >= 1, 'my update');
    assert.deepEqual(client.events.map((e) => e.order.id), [mine.id]);
  });

  test('whoever may create orders can fetch an order\'s token again; viewers and customers cannot', async () => {
    const mine = await createAs(OPERATOR, 'Lost the link');
    for (const token of [OPERATOR, ADMIN]) {
      const again = await raw('GET', `/api/orders/${mine.id}/tracking-token`, auth(token));
      assert.equal(again.status, 200);
      assert.equal(again.headers['cache-control'], 'no-store');
      assert.deepEqual(JSON.parse(again.text), { orderId: mine.id, trackingToken: mine.trackingToken });
    }
    assert.equal((await raw('GET', `/api/orders/${mine.id}/tracking-token`, auth(VIEWER))).status, 403);
    assert.equal((await raw('GET', `/api/orders/${mine.id}/tracking-token`)).status, 401);
    assert.equal((await raw('GET', `/api/orders/${mine.id}/tracking-token`, auth(mine.trackingToken))).status, 401);
    assert.equal((await raw('GET', '/api/orders/01890a5d-ac96-774b-bcce-b302099a8057/tracking-token', auth(OPERATOR))).status, 404);
    assert.equal((await raw('GET', '/api/orders/not-an-id/tracking-token', auth(OPERATOR))).status, 404);
    assert.equal((await raw('POST', `/api/orders/${mine.id}/tracking-token`, auth(ADMIN))).status, 405);
    assert.equal((await raw('DELETE', `/api/orders/${mine.id}`, auth(ADMIN))).status, 204);
    assert.equal((await raw('GET', `/api/orders/${mine.id}/tracking-token`, auth(ADMIN))).status, 404, 'deleted');
  });

  test('a deleted order\'s token opens nothing', async () => {
    const mine = await createAs(OPERATOR, 'Short lived');
    assert.equal((await raw('DELETE', `/api/orders/${mine.id}`, auth(ADMIN))).status, 204);
    assert.equal((await raw('GET', `/api/track/${mine.trackingToken}`)).status, 404);
    assert.equal((await upgrade(`/ws?track=${mine.trackingToken}`)).outcome, 404);
  });

  test('the page is served at /track/TOKEN with the same security headers', async () => {
    const mine = await createAs(OPERATOR, 'Page tracked');
    const res = await raw('GET', `/track/${mine.trackingToken}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });
});

describe('the socket obeys the same rules', () => {
  test('a browser can authenticate with the subprotocol; the server answers "liveorders" and never echoes the token', async () => {
    const client = new TestClient(`${srv.wsBase}/ws`, {}, ['liveorders', `liveorders.bearer.${VIEWER}`]);
    const { outcome } = await settle(client);
    assert.equal(outcome, 'open');
    assert.equal(client.ws.protocol, 'liveorders');
    await client.next('snapshot');
  });

  test('a viewer socket cannot write', async () => {
    const { client } = await upgrade('/ws', { headers: auth(VIEWER) });
    await client.next('snapshot');
    const before = fingerprint();
    client.send({ type: 'createOrder', requestId: 'v', order: orderBody() });
    const error = await client.next('error');
    assert.deepEqual([error.code, error.requestId], ['LO_ERR_FORBIDDEN', 'v']);
    assert.equal(fingerprint(), before);
  });

  test('an operator socket can write, and its ack carries the tracking token', async () => {
    const { client } = await upgrade('/ws', { headers: auth(OPERATOR) });
    await client.next('snapshot');
    client.send({ type: 'createOrder', order: orderBody('Via socket') });
    const ack = await client.next('ack');
    assert.match(ack.trackingToken ?? '', /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('replacing role tokens without a restart', () => {
  const NEW_VIEWER = 'viewer-token-rotated-0123456789abc';
  const status = (base: string, token: string): Promise<number> => fetch(`${base}/api/stats`, { headers: auth(token) }).then((r) => r.status);

  test('removed tokens stop working at once, kept ones go on, and their sockets are closed with 1008', async (t) => {
    const rotating = await startServer({ tokens: TOKENS });
    t.after(rotating.close);
    const order = await (await fetch(`${rotating.base}/api/orders`, { method: 'POST', headers: { ...auth(OPERATOR), ...json }, body: JSON.stringify(orderBody('Kept')) })).json() as CreatedOrder;
    const viewerSocket = new TestClient(`${rotating.wsBase}/ws`, { headers: auth(VIEWER) });
    const adminSocket = new TestClient(`${rotating.wsBase}/ws`, { headers: auth(ADMIN) });
    const operatorSocket = new TestClient(`${rotating.wsBase}/ws`, { headers: auth(OPERATOR) });
    const trackingSocket = new TestClient(`${rotating.wsBase}/ws?track=${order.trackingToken}`);
    await Promise.all([viewerSocket, adminSocket, operatorSocket, trackingSocket].map((c) => c.next('snapshot')));

    // The viewer token is replaced, the operator token now grants viewer, the admin token stays.
    const result = rotating.server.replaceTokens([['admin', ADMIN], ['viewer', OPERATOR], ['viewer', NEW_VIEWER]]);
    assert.deepEqual(result, { ok: true, value: { closedSockets: 2 } });
    assert.equal(await viewerSocket.closed, 1008);
    assert.equal(await operatorSocket.closed, 1008);
    assert.equal(await status(rotating.base, VIEWER), 401);
    assert.equal(await status(rotating.base, NEW_VIEWER), 200);
    assert.equal(await status(rotating.base, ADMIN), 200);
    const write = await fetch(`${rotating.base}/api/orders`, { method: 'POST', headers: { ...auth(OPERATOR), ...json }, body: JSON.stringify(orderBody()) });
    assert.equal(write.status, 403, 'the operator token now only reads');
    assert.equal(((await new TestClient(`${rotating.wsBase}/ws`, { headers: auth(VIEWER) }).opened().catch((e: Error) => e.message)) as string).includes('401'), true);

    // Sockets whose credential still holds are untouched and still get events.
    await fetch(`${rotating.base}/api/orders/${order.id}/status`, { method: 'PUT', headers: { ...auth(ADMIN), ...json }, body: '{"status":"processing"}' });
    await adminSocket.until(() => adminSocket.events.length >= 1, 'admin socket event');
    await trackingSocket.until(() => trackingSocket.events.length >= 1, 'tracking socket event');
  });

  test('npm start re-reads LIVEORDERS_TOKENS_FILE on SIGHUP, and keeps the old tokens when the file is bad', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'liveorders-tokens-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `admin:${ADMIN}\nviewer:${VIEWER}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../src/main.ts', import.meta.url).pathname], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', LIVEORDERS_TOKENS: '', LIVEORDERS_TOKENS_FILE: file, DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    t.after(() => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const logged = async (pattern: RegExp): Promise<void> => {
      await waitFor(() => pattern.test(stderr) || child.exitCode !== null, String(pattern), 10_000);
      assert.match(stderr, pattern, 'the server exited first');
    };
    await logged(/liveorders: http:\/\/127\.0\.0\.1:\d+/);
    const base = `http://127.0.0.1:${/liveorders: http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1]}`;
    const created = await fetch(`${base}/api/orders`, { method: 'POST', headers: { ...auth(ADMIN), ...json }, body: JSON.stringify(orderBody('Survives the reload')) });
    assert.equal(created.status, 201);
    assert.equal(await status(base, VIEWER), 200);

    writeFileSync(file, `admin:${ADMIN}\nviewer:${NEW_VIEWER}\n`);
    child.kill('SIGHUP');
    await logged(/"msg":"role tokens replaced"/);
    assert.equal(await status(base, VIEWER), 401);
    assert.equal(await status(base, NEW_VIEWER), 200);
    const orders = await (await fetch(`${base}/api/orders`, { headers: auth(NEW_VIEWER) })).json() as Order[];
    assert.deepEqual(orders.map((o) => o.customerName), ['Survives the reload'], 'the orders are still there');

    writeFileSync(file, 'viewer:too-short\n');
    child.kill('SIGHUP');
    await logged(/"msg":"role tokens not reloaded; the previous ones stay"/);
    assert.equal(await status(base, NEW_VIEWER), 200);
    assert.equal(child.exitCode, null, 'still running');
  });

  test('turning tokens off or on is refused and changes nothing', async (t) => {
    const rotating = await startServer({ tokens: TOKENS });
    t.after(rotating.close);
    const socket = new TestClient(`${rotating.wsBase}/ws`, { headers: auth(VIEWER) });
    await socket.next('snapshot');
    const off = rotating.server.replaceTokens([]);
    assert.equal(off.ok, false);
    assert.match(off.ok ? '' : off.error, /open the service/);
    assert.equal(await status(rotating.base, VIEWER), 200);
    assert.equal(rotating.server.webSockets.size, 1);

    const open = await startServer();
    t.after(open.close);
    const on = open.server.replaceTokens([['admin', ADMIN]]);
    assert.equal(on.ok, false);
    assert.equal((await fetch(`${open.base}/api/stats`)).status, 200, 'still open, as started');
  });
});

describe('abuse limits (only with tokens on; loopback exempt unless configured)', () => {
  test('writes past the rate get 429 with Retry-After; reads are not limited', async (t) => {
    const limited = await startServer({ tokens: TOKENS, limitLoopback: true, writeRatePerMinute: 6 });
    t.after(limited.close);
    const post = (): Promise<Response> => fetch(`${limited.base}/api/orders`, { method: 'POST', headers: { ...auth(OPERATOR), ...json }, body: JSON.stringify(orderBody()) });
    assert.equal((await post()).status, 201);
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '10');
    assert.equal(((await refused.json()) as { code: string }).code, 'LO_ERR_RATE_LIMITED');
    assert.equal((await fetch(`${limited.base}/api/orders`, { headers: auth(VIEWER) })).status, 200);
  });

  test('loopback is exempt by default: a burst of writes all pass', async () => {
    const results = await Promise.all(Array.from({ length: 150 }, () => raw('POST', '/api/orders', { ...auth(OPERATOR), ...json }, JSON.stringify(orderBody('burst')))));
    assert.ok(results.every((r) => r.status === 201));
  });

  test('connections per address past the limit get 429 at the upgrade', async (t) => {
    const limited = await startServer({ tokens: TOKENS, limitLoopback: true, connectionsPerAddress: 2 });
    t.after(limited.close);
    const open = async (): Promise<number | 'open'> => {
      const client = new TestClient(`${limited.wsBase}/ws`, { headers: auth(VIEWER) });
      t.after(() => client.ws.terminate());
      return (await settle(client)).outcome;
    };
    assert.deepEqual([await open(), await open(), await open()], ['open', 'open', 429]);
  });

  test('CORS, when configured, answers allowed origins and preflights; others get nothing', async (t) => {
    const cors = await startServer({ tokens: TOKENS, corsOrigins: ['https://board.example.com'] });
    t.after(cors.close);
    const allowed = await fetch(`${cors.base}/api/orders`, { headers: { origin: 'https://board.example.com', ...auth(VIEWER) } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://board.example.com');
    const preflight = await fetch(`${cors.base}/api/orders`, { method: 'OPTIONS', headers: { origin: 'https://board.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await fetch(`${cors.base}/api/orders`, { headers: { origin: 'https://evil.example', ...auth(VIEWER) } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

// ---------------------------------------------------------------------------
// The hostile battery
// ---------------------------------------------------------------------------

interface HttpCase {
  readonly name: string;
  readonly method: string;
  readonly path: string | ((order: CreatedOrder) => string);
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly status: number;
}

const A = auth(ADMIN);
const O = { ...auth(OPERATOR), ...json };
const big = (n: number): string => 'x'.repeat(n);
/** The token with its first character replaced by another valid one. */
const changeFirstCharacter = (token: string): string => (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
/** The token with a final character that decodes to the same 16 bytes (the last 4 bits are padding). */
const respell = (token: string): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) + 1]!;
};

const HTTP_CASES: readonly HttpCase[] = [
  { name: 'no credentials', method: 'GET', path: '/api/orders', status: 401 },
  { name: 'empty bearer', method: 'GET', path: '/api/orders', headers: { authorization: 'Bearer ' }, status: 401 },
  { name: 'basic auth with the admin token', method: 'GET', path: '/api/orders', headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` }, status: 401 },
  { name: 'admin token plus a character', method: 'GET', path: '/api/orders', headers: auth(`${ADMIN}x`), status: 401 },
  { name: 'admin token minus a character', method: 'GET', path: '/api/orders', headers: auth(ADMIN.slice(0, -1)), status: 401 },
  { name: 'admin token with a trailing NUL-like escape', method: 'GET', path: '/api/orders', headers: auth(`${ADMIN}%00`), status: 401 },
  { name: 'token in the query string', method: 'GET', path: `/api/orders?token=${ADMIN}`, status: 401 },
  { name: 'token as a cookie', method: 'GET', path: '/api/orders', headers: { cookie: `token=${ADMIN}` }, status: 401 },
  { name: 'role name instead of a token', method: 'GET', path: '/api/orders', headers: auth('admin'), status: 401 },
  { name: 'viewer creates', method: 'POST', path: '/api/orders', headers: { ...auth(VIEWER), ...json }, body: JSON.stringify(orderBody()), status: 403 },
  { name: 'viewer changes a status', method: 'PUT', path: (o) => `/api/orders/${o.id}/status`, headers: { ...auth(VIEWER), ...json }, body: '{"status":"shipped"}', status: 403 },
  { name: 'viewer patches a status', method: 'PATCH', path: (o) => `/api/orders/${o.id}/status`, headers: { ...auth(VIEWER), ...json }, body: '{"status":"cancelled"}', status: 403 },
  { name: 'viewer deletes', method: 'DELETE', path: (o) => `/api/orders/${o.id}`, headers: auth(VIEWER), status: 403 },
  { name: 'operator deletes', method: 'DELETE', path: (o) => `/api/orders/${o.id}`, headers: auth(OPERATOR), status: 403 },
  { name: 'tracking token as a bearer token', method: 'GET', path: '/api/orders', headers: {}, status: 401 },
  { name: 'order by id without credentials', method: 'GET', path: (o) => `/api/orders/${o.id}`, status: 401 },
  { name: 'stats without credentials', method: 'GET', path: '/api/stats', status: 401 },
  { name: 'unknown tracking token', method: 'GET', path: '/api/track/AAAAAAAAAAAAAAAAAAAAAA', status: 404 },
  { name: 'a real tracking token with one character changed', method: 'GET', path: (o) => `/api/track/${changeFirstCharacter(o.trackingToken)}`, status: 404 },
  { name: 'another spelling of a real tracking token (same bytes)', method: 'GET', path: (o) => `/api/track/${respell(o.trackingToken)}`, status: 404 },
  { name: 'malformed tracking token', method: 'GET', path: '/api/track/..%2F..%2Fetc%2Fpasswd', status: 404 },
  { name: 'tracking token path traversal to the list', method: 'GET', path: '/api/track/..%2Forders', status: 404 },
  { name: 'write through the tracking route', method: 'PUT', path: (o) => `/api/track/${o.trackingToken}`, headers: json, body: '{"status":"delivered"}', status: 405 },
  { name: '__proto__ in an order', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":["x"],"__proto__":{"isAdmin":true}}', status: 400 },
  { name: 'constructor.prototype in an order', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":["x"],"constructor":{"prototype":{"polluted":true}}}', status: 400 },
  { name: '__proto__ in an item', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":[{"name":"x","__proto__":{"price":-1}}]}', status: 400 },
  { name: '__proto__ in a status change', method: 'PUT', path: (o) => `/api/orders/${o.id}/status`, headers: O, body: '{"status":"shipped","__proto__":{"status":"delivered"}}', status: 400 },
  { name: 'a status field smuggled into create', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":["x"],"status":"delivered"}', status: 400 },
  { name: 'an id field smuggled into create', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":["x"],"id":"00000000-0000-7000-8000-000000000000"}', status: 400 },
  { name: 'oversized body', method: 'POST', path: '/api/orders', headers: O, body: JSON.stringify({ customerName: 'A', items: ['x'], pad: big(70_000) }), status: 413 },
  { name: 'text/plain body', method: 'POST', path: '/api/orders', headers: { ...auth(OPERATOR), 'content-type': 'text/plain' }, body: JSON.stringify(orderBody()), status: 415 },
  { name: 'form-encoded body', method: 'POST', path: '/api/orders', headers: { ...auth(OPERATOR), 'content-type': 'application/x-www-form-urlencoded' }, body: 'customerName=A&items=x', status: 415 },
  { name: 'malformed JSON', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":', status: 400 },
  { name: 'JSON array body', method: 'POST', path: '/api/orders', headers: O, body: '[]', status: 400 },
  { name: 'deeply nested JSON', method: 'POST', path: '/api/orders', headers: O, body: '['.repeat(30_000) + ']'.repeat(30_000), status: 400 },
  { name: 'invalid UTF-8', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"\xff\xfe","items":["x"]}', status: 400 },
  { name: 'NUL in a name', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A\\u0000B","items":["x"]}', status: 400 },
  { name: 'terminal escape in a name', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"\\u001b[2J","items":["x"]}', status: 400 },
  { name: 'unpaired surrogate in an item', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":["\\ud800"]}', status: 400 },
  { name: 'name of 201 characters', method: 'POST', path: '/api/orders', headers: O, body: JSON.stringify({ customerName: big(201), items: ['x'] }), status: 400 },
  { name: 'name of only zero-width spaces trims to something', method: 'POST', path: '/api/orders', headers: O, body: JSON.stringify({ customerName: '   ', items: ['x'] }), status: 400 },
  { name: 'quantity 1e21', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":[{"name":"x","quantity":1e21}]}', status: 400 },
  { name: 'price overflowing to Infinity', method: 'POST', path: '/api/orders', headers: O, body: '{"customerName":"A","items":[{"name":"x","price":1e400}]}', status: 400 },
  { name: '101 items', method: 'POST', path: '/api/orders', headers: O, body: JSON.stringify({ customerName: 'A', items: Array.from({ length: 101 }, () => 'x') }), status: 400 },
  { name: 'status in capitals', method: 'PUT', path: (o) => `/api/orders/${o.id}/status`, headers: O, body: '{"status":"DELIVERED"}', status: 400 },
  { name: 'If-Match with a list', method: 'PUT', path: (o) => `/api/orders/${o.id}/status`, headers: { ...O, 'if-match': '"1", "2"' }, body: '{"status":"shipped"}', status: 412 },
  { name: 'Idempotency-Key of 300 characters', method: 'POST', path: '/api/orders', headers: { ...O, 'idempotency-key': big(300) }, body: JSON.stringify(orderBody()), status: 400 },
  { name: 'order id traversal', method: 'GET', path: '/api/orders/..%2F..%2Fpackage.json', headers: A, status: 404 },
  { name: 'order id with NUL', method: 'GET', path: '/api/orders/%00', headers: A, status: 404 },
  { name: 'huge limit', method: 'GET', path: '/api/orders?limit=99999999999', headers: A, status: 400 },
  { name: 'SQL in the cursor', method: 'GET', path: "/api/orders?cursor='%20OR%201=1--", headers: A, status: 400 },
  { name: 'TRACE', method: 'TRACE', path: '/api/orders', headers: A, status: 405 },
  { name: 'header too large', method: 'GET', path: '/api/orders', headers: { ...A, 'x-pad': big(20_000) }, status: 431 },
  { name: 'static traversal with %2f', method: 'GET', path: '/..%2fpackage.json', status: 404 },
  { name: 'static traversal with %2e%2e', method: 'GET', path: '/%2e%2e/package.json', status: 404 },
  { name: 'static traversal through a folder', method: 'GET', path: '/client/../package.json', status: 404 },
  { name: 'static absolute path', method: 'GET', path: '//etc/passwd', status: 404 },
  { name: 'static source file', method: 'GET', path: '/client/main.ts', status: 404 },
  { name: 'static with a NUL', method: 'GET', path: '/app.js%00.png', status: 404 },
  { name: 'static backslash traversal', method: 'GET', path: '/..\\..\\package.json', status: 404 },
];

describe(`hostile battery: ${HTTP_CASES.length} HTTP requests`, () => {
  for (const c of HTTP_CASES) {
    test(`${c.name} -> ${c.status}, store unchanged`, async () => {
      const order = await createAs(OPERATOR, 'Target');
      const headers = c.name === 'tracking token as a bearer token' ? auth(order.trackingToken) : (c.headers ?? {});
      const before = fingerprint();
      const path = typeof c.path === 'function' ? c.path(order) : c.path;
      const res = await raw(c.method, path, headers, c.body === undefined ? undefined : Buffer.from(c.body, c.name === 'invalid UTF-8' ? 'latin1' : 'utf8'));
      assert.equal(res.status, c.status, res.text.slice(0, 300));
      assert.equal(fingerprint(), before, 'the store did not change');
      const stored = srv.server.orders.get(order.id);
      assert.equal(stored?.status, 'pending');
    });
  }
});

interface WsCase {
  readonly name: string;
  readonly path?: (order: CreatedOrder) => string;
  readonly headers?: Record<string, string>;
  readonly protocols?: string[];
  /** The upgrade's HTTP status, or what the open connection must answer. */
  readonly expect: number | { send: unknown; error: string } | { sendRaw: string | Buffer; binary?: boolean; close: number };
}

const WS_CASES: readonly WsCase[] = [
  { name: 'no credentials', expect: 401 },
  { name: 'bad bearer header', headers: auth(`${VIEWER}x`), expect: 401 },
  { name: 'bad subprotocol token', protocols: ['liveorders', `liveorders.bearer.${VIEWER}x`], expect: 401 },
  { name: 'token in the query string', path: () => `/ws?token=${ADMIN}`, expect: 401 },
  { name: 'unknown tracking token', path: () => '/ws?track=AAAAAAAAAAAAAAAAAAAAAA', expect: 404 },
  { name: 'a real tracking token with one character changed', path: (o) => `/ws?track=${changeFirstCharacter(o.trackingToken)}`, expect: 404 },
  { name: 'another spelling of a real tracking token (same bytes)', path: (o) => `/ws?track=${respell(o.trackingToken)}`, expect: 404 },
  { name: 'malformed tracking token', path: () => '/ws?track=../../etc', expect: 404 },
  { name: 'forged Origin', headers: { ...auth(ADMIN), origin: 'https://evil.example' }, expect: 403 },
  { name: 'null Origin', headers: { ...auth(ADMIN), origin: 'null' }, expect: 403 },
  { name: 'look-alike Origin', headers: { ...auth(ADMIN), origin: 'http://127.0.0.1.evil.example' }, expect: 403 },
  { name: 'bad view with a good token', path: () => '/ws?status=lost', headers: auth(VIEWER), expect: 400 },
  { name: 'viewer createOrder', headers: auth(VIEWER), expect: { send: { type: 'createOrder', order: orderBody() }, error: 'LO_ERR_FORBIDDEN' } },
  { name: 'viewer updateStatus', headers: auth(VIEWER), expect: { send: { type: 'updateStatus', orderId: '{id}', status: 'cancelled' }, error: 'LO_ERR_FORBIDDEN' } },
  { name: 'tracking socket widens to everything', path: (o) => `/ws?track=${o.trackingToken}`, expect: { send: { type: 'subscribe' }, error: 'LO_ERR_FORBIDDEN' } },
  { name: 'tracking socket watches another order', path: (o) => `/ws?track=${o.trackingToken}`, expect: { send: { type: 'subscribe', orderId: '01890a5d-ac96-774b-bcce-b302099a8057' }, error: 'LO_ERR_FORBIDDEN' } },
  { name: 'tracking socket creates', path: (o) => `/ws?track=${o.trackingToken}`, expect: { send: { type: 'createOrder', order: orderBody() }, error: 'LO_ERR_FORBIDDEN' } },
  { name: 'tracking socket cancels its order', path: (o) => `/ws?track=${o.trackingToken}`, expect: { send: { type: 'updateStatus', orderId: '{id}', status: 'cancelled' }, error: 'LO_ERR_FORBIDDEN' } },
  { name: '__proto__ in a message', headers: auth(ADMIN), expect: { send: JSON.parse('{"type":"subscribe","__proto__":{"statuses":["pending"]}}'), error: 'LO_ERR_INVALID_FIELD' } },
  { name: 'admin sends an unknown command', headers: auth(ADMIN), expect: { send: { type: 'deleteOrder', orderId: '{id}' }, error: 'LO_ERR_UNKNOWN_TYPE' } },
  { name: 'binary frame', headers: auth(VIEWER), expect: { sendRaw: Buffer.from([0, 1, 2]), binary: true, close: 1003 } },
  { name: 'oversized frame', headers: auth(VIEWER), expect: { sendRaw: JSON.stringify({ type: 'ping', id: big(70_000) }), close: 1009 } },
  { name: 'invalid UTF-8 text frame', headers: auth(VIEWER), expect: { sendRaw: Buffer.from([0x7b, 0xff, 0x7d]), close: 1007 } },
];

describe(`hostile battery: ${WS_CASES.length} WebSocket attempts`, () => {
  for (const c of WS_CASES) {
    const expected = typeof c.expect === 'number' ? `${c.expect} at the upgrade` : 'error' in c.expect ? c.expect.error : `close ${c.expect.close}`;
    test(`${c.name} -> ${expected}, store unchanged`, async () => {
      const order = await createAs(OPERATOR, 'Target');
      const before = fingerprint();
      const client = new TestClient(`${srv.wsBase}${c.path?.(order) ?? '/ws'}`, { headers: c.headers ?? {} }, c.protocols);
      const { outcome } = await settle(client);
      if (typeof c.expect === 'number') {
        assert.equal(outcome, c.expect);
      } else {
        assert.equal(outcome, 'open');
        await client.next('snapshot');
        if ('error' in c.expect) {
          client.send(JSON.parse(JSON.stringify(c.expect.send).replace('{id}', order.id)) as ServerMessage);
          assert.equal((await client.next('error')).code, c.expect.error);
        } else {
          client.ws.send(c.expect.sendRaw, { binary: c.expect.binary ?? false });
          assert.equal(await client.closed, c.expect.close);
        }
      }
      assert.equal(fingerprint(), before, 'the store did not change');
      assert.equal(srv.server.orders.get(order.id)?.status, 'pending');
    });
  }
  test('the battery holds at least 60 hostile inputs', () => {
    assert.ok(HTTP_CASES.length + WS_CASES.length >= 60, `${HTTP_CASES.length + WS_CASES.length}`);
  });
});
