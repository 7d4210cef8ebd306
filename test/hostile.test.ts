/**
 * The hostile battery, part two: the classes outside testing broke. Request
 * paths built to make a parser backtrack (over HTTP and over upgrades),
 * message floods and replies that pile up on one socket, Host and Origin
 * headers of a DNS-rebinding page, and frames sent after the server decided
 * to close. Each case says what the service must answer and checks that it
 * stayed responsive and unchanged. (Part one, tokens and malformed input, is
 * in auth.test.ts.)
 */

import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { after, describe, test, type TestContext } from 'node:test';
import type { CreatedOrder, Order } from '../src/protocol.ts';
import { RawWebSocket, clientFrame, OPCODE, textFrame } from './raw-ws.ts';
import { TestClient, orderBody, request, startServer, waitFor, type TestServer } from './helpers.ts';

/** How long `/healthz` may take while hostile input is being handled. */
const HEALTHY_MS = 50;

const open: TestServer = await startServer();
after(open.close);
const openPort = Number(new URL(open.base).port);
const anOrder = (await request(open.base, 'POST', '/api/orders', orderBody('Target'))).body as CreatedOrder;

/** Send raw bytes on a fresh connection and resolve with the status line of the answer (or 'closed'). */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n')) {
        resolve(head.split('\r\n')[0]!);
        socket.destroy();
      }
    });
    socket.on('error', () => resolve('closed'));
    socket.on('close', () => resolve(head.split('\r\n')[0] || 'closed'));
    socket.write(bytes);
  });
}

/** Milliseconds `GET /healthz` takes to answer on a new connection. */
async function healthMs(port: number): Promise<number> {
  const start = performance.now();
  const status = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  assert.match(status, /^HTTP\/1\.1 200/);
  return performance.now() - start;
}

/** The number of orders stored, and the last seq: what a refused request must not change. */
function fingerprint(srv: TestServer): string {
  return `${srv.server.orders.size}/${srv.server.orders.position.seq}`;
}

// ---------------------------------------------------------------------------
// Paths that made the path check backtrack
// ---------------------------------------------------------------------------

const ID = anOrder.id;
const PATH_CASES: readonly { readonly name: string; readonly path: string }[] = [
  { name: 'an order id with a trailing dot', path: `/api/orders/${ID}.` },
  { name: 'an order id with a pasted %20', path: `/api/orders/${ID}%20` },
  { name: '32 letters and a dot (13 s before)', path: `/${'a'.repeat(32)}.` },
  { name: '1,999 letters and a dot', path: `/${'a'.repeat(1999)}.` },
  { name: 'a long id of hyphens and a dot', path: `/api/orders/${'a-'.repeat(900)}.` },
  { name: 'many short segments, then a dot', path: `/${'ab/'.repeat(600)}.` },
  { name: 'a long tracking link with a stray %', path: `/track/${'A'.repeat(1500)}%` },
  { name: 'a long tracking token and two dots', path: `/api/track/${'_'.repeat(1500)}..` },
  { name: 'tildes and a backslash', path: `/${'~'.repeat(1500)}\\` },
  { name: 'a long route and a semicolon', path: `/api/${'x'.repeat(1500)};` },
  { name: 'the health path run on, then a dot', path: `/healthz${'a'.repeat(1500)}.` },
  { name: 'a long path and a query URL must parse', path: `/${'a'.repeat(1500)}?x=<` },
  { name: 'under a page asset', path: `/app.js/${'a'.repeat(1500)}.` },
  { name: 'under the socket path', path: `/ws/${'a'.repeat(1500)}.` },
  { name: 'segments ending in an empty one', path: `/${'a/'.repeat(999)}/` },
  { name: 'digits and a fragment', path: `/api/orders/${'9'.repeat(1900)}#` },
];

describe(`hostile paths: ${PATH_CASES.length} over HTTP and ${PATH_CASES.length} over upgrades`, () => {
  for (const c of PATH_CASES) {
    test(`HTTP ${c.name}: answered, and /healthz answers within ${HEALTHY_MS} ms meanwhile`, async () => {
      const before = fingerprint(open);
      const answer = rawExchange(openPort, `GET ${c.path} HTTP/1.1\r\nHost: 127.0.0.1:${openPort}\r\nConnection: close\r\n\r\n`);
      const ms = await healthMs(openPort);
      assert.ok(ms < HEALTHY_MS, `/healthz took ${ms.toFixed(1)} ms`);
      assert.match(await answer, /^HTTP\/1\.1 4\d\d/);
      assert.equal(fingerprint(open), before);
    });
    test(`upgrade ${c.name}: refused, and /healthz answers within ${HEALTHY_MS} ms meanwhile`, async () => {
      const before = fingerprint(open);
      const answer = RawWebSocket.open(openPort, c.path);
      const ms = await healthMs(openPort);
      assert.ok(ms < HEALTHY_MS, `/healthz took ${ms.toFixed(1)} ms`);
      const outcome = await answer;
      assert.equal(typeof outcome, 'string', 'not upgraded');
      assert.match(outcome as string, /^HTTP\/1\.1 4\d\d/);
      assert.equal(fingerprint(open), before);
    });
  }
});

// ---------------------------------------------------------------------------
// Floods: messages, subscribes and the replies they cause
// ---------------------------------------------------------------------------

/** A server whose store holds `orders` orders, so that every snapshot is large (~300 KiB for 1,000). */
async function seededServer(orders: number, options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const srv = await startServer(options);
  for (let i = 0; i < orders; i++) {
    const created = await srv.server.commands.create({ customerName: `Customer ${i} with a longer name`, items: [{ name: 'a fairly long item name', quantity: 2, price: 12.5 }] });
    assert.ok(created.ok);
  }
  return srv;
}

/**
 * A server with a small high-water mark and a client that asks for large
 * snapshots, within the message rate, and never reads them, until the server
 * drops it as slow (the replies alone fill its queue).
 */
async function droppedAsSlow(t: TestContext): Promise<{ srv: TestServer; silent: RawWebSocket }> {
  const srv = await seededServer(1000, { highWaterMark: 64 * 1024 });
  t.after(srv.close);
  const silent = await RawWebSocket.open(Number(new URL(srv.base).port), '/ws', { read: false });
  assert.ok(silent instanceof RawWebSocket);
  t.after(() => silent.destroy());
  const dropped = async (): Promise<boolean> => ((await request(srv.base, 'GET', '/api/stats')).body as { slowSubscribersDropped: number }).slowSubscribersDropped === 1;
  // Spread out: each asks for ~300 KiB that is never read.
  for (let i = 0; i < 30 && !(await dropped()); i++) {
    silent.write(textFrame({ type: 'subscribe', limit: 1000 - i }), textFrame({ type: 'ping' }));
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  assert.ok(await dropped(), 'dropped as slow');
  return { srv, silent };
}

/** `count` subscribe messages with varying limits (which defeat any cache of snapshots by view), as frames. */
function subscribeFlood(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => textFrame({ type: 'subscribe', limit: 1000 - (i % 999) }));
}

describe('floods', () => {
  test('3,000 subscribes with varying limits from a viewer that never reads: closed, and memory stays bounded', async (t) => {
    const srv = await seededServer(1000);
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    const rssBefore = process.memoryUsage().rss;
    const silent = await RawWebSocket.open(port, '/ws', { read: false });
    assert.ok(silent instanceof RawWebSocket);
    t.after(() => silent.destroy());
    silent.write(...subscribeFlood(3000));
    await waitFor(() => srv.server.webSockets.size === 0, 'the server to close the flooding socket', 10_000);
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(growthMiB < 100, `RSS grew ${growthMiB.toFixed(0)} MiB`);
    const stats = (await request(srv.base, 'GET', '/api/stats')).body as { floodingClientsClosed: number };
    assert.equal(stats.floodingClientsClosed, 1);
    t.diagnostic(`never-reading subscribe flood: closed; test process RSS grew ${growthMiB.toFixed(0)} MiB`);
  });

  test('3,000 subscribes from a client that reads: closed with 1008 saying why; few snapshots sent; /healthz stays fast', async (t) => {
    const srv = await seededServer(1000);
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    const reader = await RawWebSocket.open(port);
    assert.ok(reader instanceof RawWebSocket);
    t.after(() => reader.destroy());
    reader.write(...subscribeFlood(3000));
    const ms = await healthMs(port);
    assert.ok(ms < HEALTHY_MS, `/healthz took ${ms.toFixed(1)} ms during the flood`);
    await reader.ended;
    assert.equal(reader.closeCode(), 1008);
    assert.match(reader.closeReason(), /too many messages: at most 50 per second/);
    const snapshots = reader.messages().filter((m) => m.type === 'snapshot').length;
    assert.ok(snapshots <= 5, `${snapshots} snapshots for 3,000 subscribes`);
    assert.ok(reader.received < 5 * 2 ** 20, `${reader.received} bytes sent to it`);
    t.diagnostic(`reading subscribe flood: ${snapshots} snapshots, ${(reader.received / 2 ** 20).toFixed(1)} MiB sent, /healthz ${ms.toFixed(1)} ms`);
  });

  test('10,000 pings in one write: at most a burst of pongs, then 1008', async (t) => {
    const port = openPort;
    const pinger = await RawWebSocket.open(port);
    assert.ok(pinger instanceof RawWebSocket);
    t.after(() => pinger.destroy());
    pinger.write(...Array.from({ length: 10_000 }, (_, i) => textFrame({ type: 'ping', id: `p${i}` })));
    await pinger.ended;
    assert.equal(pinger.closeCode(), 1008);
    const pongs = pinger.messages().filter((m) => m.type === 'pong').length;
    assert.ok(pongs <= 200, `${pongs} pongs`);
  });

  test('a burst of subscribes within the limit: the newest replaces the ones waiting, and it is what the client ends up with', async (t) => {
    const srv = await seededServer(1000);
    t.after(srv.close);
    const client = new TestClient(`${srv.wsBase}/ws`);
    t.after(() => client.close());
    await client.next('snapshot');
    const limits = Array.from({ length: 150 }, (_, i) => 1000 - i * 5);
    for (const limit of limits) client.send({ type: 'subscribe', limit });
    client.send({ type: 'ping', id: 'after' });
    await client.until(() => client.received.some((m) => m.type === 'pong'), 'the pong');
    await client.until(() => client.received.filter((m) => m.type === 'snapshot').at(-1)?.limit === limits.at(-1), 'the last view');
    const snapshots = client.received.filter((m) => m.type === 'snapshot').length - 1;
    assert.ok(snapshots <= 10, `${snapshots} snapshots for ${limits.length} subscribes`);
    assert.equal(client.closeCode, undefined, 'still open');
  });

  test('a client that keeps to the rate is never closed', async (t) => {
    const client = new TestClient(`${open.wsBase}/ws`);
    t.after(() => client.close());
    await client.next('snapshot');
    for (let i = 0; i < 60; i++) {
      client.send({ type: 'ping', id: `steady ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await client.until(() => client.received.filter((m) => m.type === 'pong').length === 60, '60 pongs');
    assert.equal(client.closeCode, undefined);
  });

  test('replies count against the high-water mark: a client that asks for snapshots and never reads is dropped as slow', async (t) => {
    const { srv } = await droppedAsSlow(t);
    await waitFor(() => srv.server.webSockets.size === 0, 'the slow socket to be destroyed', 10_000);
  });

  test('client-caused warnings are rate-limited in the log: 40 bad frames, at most 10 lines and a count', async (t) => {
    const srv = await startServer();
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    for (let i = 0; i < 40; i++) {
      const bad = await RawWebSocket.open(port);
      assert.ok(bad instanceof RawWebSocket);
      bad.write(clientFrame(OPCODE.text, Buffer.from([0x7b, 0xff, 0x7d])));
      await bad.ended;
    }
    const lines = srv.logLines.filter((l) => l.msg === 'websocket error');
    assert.ok(lines.length <= 10, `${lines.length} lines`);
    assert.ok(lines.length >= 1);
  });
});

// ---------------------------------------------------------------------------
// Host and Origin: DNS rebinding, and Host never taken for our origin
// ---------------------------------------------------------------------------

interface HostCase {
  readonly name: string;
  readonly host: string;
  readonly method?: string;
  readonly path?: string;
  readonly status: number;
}

const REBIND = 'rebind.attacker.example';
const HOST_CASES: readonly HostCase[] = [
  { name: 'a rebinding name reads the list', host: REBIND, status: 421 },
  { name: 'a rebinding name with our port', host: `${REBIND}:${openPort}`, status: 421 },
  { name: 'a rebinding name creates', host: REBIND, method: 'POST', status: 421 },
  { name: 'a rebinding name deletes', host: REBIND, method: 'DELETE', path: `/api/orders/${ID}`, status: 421 },
  { name: 'a rebinding name loads the page', host: REBIND, path: '/', status: 421 },
  { name: 'a rebinding name loads the script', host: REBIND, path: '/app.js', status: 421 },
  { name: 'a rebinding name asks for health', host: REBIND, path: '/healthz', status: 421 },
  { name: 'a name that starts with localhost', host: 'localhost.attacker.example', status: 421 },
  { name: 'a name that starts with 127.0.0.1', host: '127.0.0.1.nip.io:8000', status: 421 },
  { name: 'a name with userinfo', host: `localhost:${openPort}@attacker.example`, status: 421 },
  { name: 'an empty Host', host: '', status: 421 },
  { name: 'a tracking link through a rebinding name', host: REBIND, path: `/api/track/${anOrder.trackingToken}`, status: 421 },
  { name: 'localhost in capitals', host: `LOCALHOST:${openPort}`, status: 200 },
  { name: 'the IPv6 loopback', host: '[::1]:9', status: 200 },
  { name: '127.0.0.1', host: '127.0.0.1', status: 200 },
  { name: 'elsewhere in 127/8', host: '127.9.9.9:1', status: 200 },
];

describe(`Host headers in open mode: ${HOST_CASES.length} cases`, () => {
  for (const c of HOST_CASES) {
    test(`${c.name} -> ${c.status}`, async () => {
      const before = fingerprint(open);
      const method = c.method ?? 'GET';
      const body = method === 'POST' ? JSON.stringify(orderBody('Rebound')) : '';
      const status = await rawExchange(
        openPort,
        `${method} ${c.path ?? '/api/orders'} HTTP/1.1\r\nHost: ${c.host}\r\nConnection: close\r\n` +
          (body === '' ? '' : `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n`) +
          `\r\n${body}`,
      );
      assert.match(status, new RegExp(`^HTTP/1\\.1 ${c.status}`));
      assert.equal(fingerprint(open), before);
    });
  }
});

describe('Host and Origin at the upgrade', () => {
  const upgrade = async (port: number, headers: Record<string, string>): Promise<string> => {
    const outcome = await RawWebSocket.open(port, '/ws', { headers });
    if (typeof outcome === 'string') return outcome;
    outcome.destroy();
    return 'open';
  };

  test('open mode: a rebinding Host is refused with 421, whatever the Origin', async () => {
    assert.match(await upgrade(openPort, { Host: REBIND }), /^HTTP\/1\.1 421/);
    assert.match(await upgrade(openPort, { Host: REBIND, Origin: `http://${REBIND}` }), /^HTTP\/1\.1 421/);
  });

  test('open mode: an Origin equal to the Host is not trusted for being equal', async () => {
    assert.match(await upgrade(openPort, { Host: `localhost:${openPort}`, Origin: `http://${REBIND}:${openPort}` }), /^HTTP\/1\.1 403/);
  });

  test('open mode: pages from loopback origins may connect', async () => {
    assert.equal(await upgrade(openPort, { Host: `localhost:${openPort}`, Origin: 'http://localhost:3000' }), 'open');
    assert.equal(await upgrade(openPort, { Host: `127.0.0.1:${openPort}`, Origin: `http://127.0.0.1:${openPort}` }), 'open');
  });

  test('ALLOWED_HOSTS: a listed name is served and its pages may connect; others are not', async (t) => {
    const srv = await startServer({ allowedHosts: ['orders.example.com'] });
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    assert.match(await rawExchange(port, 'GET /api/orders HTTP/1.1\r\nHost: orders.example.com\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/);
    assert.match(await rawExchange(port, 'GET /api/orders HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 421/);
    assert.equal(await upgrade(port, { Host: 'orders.example.com', Origin: 'https://orders.example.com' }), 'open');
    assert.match(await upgrade(port, { Host: 'orders.example.com', Origin: 'https://shop.example.com' }), /^HTTP\/1\.1 403/);
  });

  test('tokens on: any Host is served (the token guards), but an Origin matching the Host is still refused unless configured', async (t) => {
    const admin = 'admin-token-0123456789abcdefghij';
    const srv = await startServer({ tokens: [['admin', admin]] });
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    assert.match(
      await rawExchange(port, `GET /api/orders HTTP/1.1\r\nHost: orders.example.com\r\nAuthorization: Bearer ${admin}\r\nConnection: close\r\n\r\n`),
      /^HTTP\/1\.1 200/,
    );
    assert.match(await upgrade(port, { Host: 'orders.example.com', Origin: 'https://orders.example.com', Authorization: `Bearer ${admin}` }), /^HTTP\/1\.1 403/);
    const configured = await startServer({ tokens: [['admin', admin]], allowedOrigins: ['https://orders.example.com'] });
    t.after(configured.close);
    const configuredPort = Number(new URL(configured.base).port);
    assert.equal(await upgrade(configuredPort, { Host: 'orders.example.com', Origin: 'https://orders.example.com', Authorization: `Bearer ${admin}` }), 'open');
  });
});

// ---------------------------------------------------------------------------
// Frames after the server decided to close
// ---------------------------------------------------------------------------

/** A createOrder frame for the post-close cases. */
const create = (name: string): Buffer => textFrame({ type: 'createOrder', requestId: name, order: orderBody(name) });

/** Whether an order with this customer name was stored. */
function stored(srv: TestServer, name: string): boolean {
  return srv.server.orders.list({ limit: 1000 }).orders.some((o: Order) => o.customerName === name);
}

interface PostCloseCase {
  readonly name: string;
  /** Frames written in one TCP write; the last ones are those that must be ignored. */
  readonly frames: () => Buffer[];
  readonly close: number;
}

const POST_CLOSE_CASES: readonly PostCloseCase[] = [
  { name: 'a binary frame, then createOrder in the same write', frames: () => [clientFrame(OPCODE.binary, Buffer.from([1, 2, 3])), create('after binary')], close: 1003 },
  { name: 'invalid UTF-8, then createOrder', frames: () => [clientFrame(OPCODE.text, Buffer.from([0x7b, 0xff, 0x7d])), create('after bad utf-8')], close: 1007 },
  { name: 'an oversized frame, then createOrder', frames: () => [textFrame({ type: 'ping', id: 'x'.repeat(70_000) }), create('after oversized')], close: 1009 },
  { name: 'a flood past the rate, then createOrder', frames: () => [...Array.from({ length: 250 }, () => textFrame({ type: 'ping' })), create('after flood')], close: 1008 },
  { name: 'the client closes, then sends createOrder anyway', frames: () => [clientFrame(OPCODE.close, Buffer.from([0x03, 0xe8])), create('after own close')], close: 1000 },
];

describe(`frames after a close: ${POST_CLOSE_CASES.length + 3} cases`, () => {
  for (const c of POST_CLOSE_CASES) {
    test(`${c.name}: closed with ${c.close}, nothing created, no ack`, async () => {
      const client = await RawWebSocket.open(openPort);
      assert.ok(client instanceof RawWebSocket);
      const before = fingerprint(open);
      client.write(...c.frames());
      await client.ended;
      assert.equal(client.closeCode(), c.close);
      assert.equal(client.messages().filter((m) => m.type === 'ack').length, 0);
      assert.equal(fingerprint(open), before);
    });
  }

  test('a token revoked (1008): 40 createOrders sent while ignoring the close frame create nothing', async (t) => {
    const operator = 'operator-token-0123456789abcdefgh';
    const admin = 'admin-token-0123456789abcdefghij';
    const srv = await startServer({ tokens: [['admin', admin], ['operator', operator]] });
    t.after(srv.close);
    const port = Number(new URL(srv.base).port);
    const client = await RawWebSocket.open(port, '/ws', { headers: { Authorization: `Bearer ${operator}` } });
    assert.ok(client instanceof RawWebSocket);
    t.after(() => client.destroy());
    await waitFor(() => client.messages().some((m) => m.type === 'snapshot'), 'the snapshot');
    const revoked = srv.server.replaceTokens([['admin', admin]]);
    assert.ok(revoked.ok && revoked.value.closedSockets === 1);
    for (let i = 0; i < 40; i++) client.write(create(`revoked ${i}`));
    await waitFor(() => client.closeCode() !== undefined, 'the close frame');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(client.closeCode(), 1008);
    assert.equal(srv.server.orders.size, 0, 'nothing created');
    assert.equal(client.messages().filter((m) => m.type === 'ack').length, 0);
  });

  test('dropped as slow (1013): what it sends during the close grace is not acted on', async (t) => {
    const { srv, silent } = await droppedAsSlow(t);
    assert.equal(srv.server.webSockets.size, 1, 'still within its close grace');
    const before = fingerprint(srv);
    silent.write(...Array.from({ length: 5 }, (_, i) => create(`after the drop ${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(fingerprint(srv), before, 'nothing created');
  });

  test('shutting down (1001): createOrder sent after the close frame creates nothing', async () => {
    const srv = await startServer();
    const port = Number(new URL(srv.base).port);
    const client = await RawWebSocket.open(port);
    assert.ok(client instanceof RawWebSocket);
    await waitFor(() => client.messages().some((m) => m.type === 'snapshot'), 'the snapshot');
    const closing = srv.close();
    await waitFor(() => client.closeCode() !== undefined, 'the close frame');
    client.write(create('during shutdown'));
    await closing;
    assert.equal(client.closeCode(), 1001);
    assert.equal(stored(srv, 'during shutdown'), false);
  });
});

// ---------------------------------------------------------------------------
// Smaller ones
// ---------------------------------------------------------------------------

describe('low', () => {
  test('HEAD on the tracking-token route has no effect: 405, no token, no write spent', async (t) => {
    const operator = 'operator-token-0123456789abcdefgh';
    const srv = await startServer({ tokens: [['operator', operator]], writeRatePerMinute: 6, limitLoopback: true });
    t.after(srv.close);
    const auth = { authorization: `Bearer ${operator}` };
    const created = await request(srv.base, 'POST', '/api/orders', orderBody(), auth); // the one write of the burst
    assert.equal(created.status, 201);
    const id = (created.body as Order).id;
    await new Promise((resolve) => setTimeout(resolve, 10_100)); // one write back in the bucket (6 a minute)
    for (let i = 0; i < 3; i++) {
      const head = await fetch(`${srv.base}/api/orders/${id}/tracking-token`, { method: 'HEAD', headers: auth });
      assert.equal(head.status, 405);
      assert.equal(head.headers.get('allow'), 'GET, OPTIONS');
    }
    const get = await request(srv.base, 'GET', `/api/orders/${id}/tracking-token`, undefined, auth);
    assert.equal(get.status, 200, 'HEAD spent nothing of the allowance');
  });

  test("a tracking socket's positions are its order's own: other orders' activity moves nothing it sees", async (t) => {
    const srv = await startServer();
    t.after(srv.close);
    for (let i = 0; i < 5; i++) await request(srv.base, 'POST', '/api/orders', orderBody(`Other ${i}`));
    const mine = (await request(srv.base, 'POST', '/api/orders', orderBody('Me'))).body as CreatedOrder;
    for (let i = 0; i < 5; i++) await request(srv.base, 'POST', '/api/orders', orderBody(`Later ${i}`));
    const tracking = new TestClient(`${srv.wsBase}/ws?track=${mine.trackingToken}`);
    t.after(() => tracking.close());
    const snapshot = await tracking.next('snapshot');
    assert.equal(snapshot.seq, 1, 'the order is at version 1; the store is at seq 11');
    await request(srv.base, 'PUT', `/api/orders/${mine.id}/status`, { status: 'processing' });
    for (let i = 0; i < 3; i++) await request(srv.base, 'POST', '/api/orders', orderBody(`More ${i}`));
    await request(srv.base, 'PUT', `/api/orders/${mine.id}/status`, { status: 'shipped' });
    await tracking.until(() => tracking.events.length === 2, 'two events');
    assert.deepEqual(tracking.events.map((e) => e.seq), [2, 3]);
    // Resuming at its own position: nothing missed.
    const resumed = new TestClient(`${srv.wsBase}/ws?track=${mine.trackingToken}&since=3&epoch=${srv.server.epoch}`);
    t.after(() => resumed.close());
    const first = await resumed.next();
    assert.equal(first.type, 'resumed');
    assert.equal(first.type === 'resumed' && first.seq, 3);
    // Resuming from an older position: the order as it is now.
    const behind = new TestClient(`${srv.wsBase}/ws?track=${mine.trackingToken}&since=1&epoch=${srv.server.epoch}`);
    t.after(() => behind.close());
    const fresh = await behind.next('snapshot');
    assert.equal(fresh.seq, 3);
    assert.equal(fresh.orders[0]?.status, 'shipped');
  });

  test('the battery grows: at least 40 cases of these classes', () => {
    const cases = PATH_CASES.length * 2 + HOST_CASES.length + POST_CLOSE_CASES.length + 3 + 6 + 5;
    assert.ok(cases >= 40, `${cases}`);
  });
});
