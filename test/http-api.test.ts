/** The REST API over real HTTP against a server on an ephemeral port. */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { after, describe, test } from 'node:test';
import { ALLOWED_TRANSITIONS, ORDER_STATUSES, type Order, type CreatedOrder } from '../src/protocol.ts';
import { INVALID_ORDER_BODIES } from './fixtures/messages.ts';
import { orderBody, request, startServer, type TestServer } from './helpers.ts';

const srv: TestServer = await startServer();
after(srv.close);

async function create(body: unknown = orderBody(), headers: Record<string, string> = {}): Promise<Order> {
  const res = await request(srv.base, 'POST', '/api/orders', body, headers);
  assert.equal(res.status, 201, res.text);
  return res.body as Order;
}

async function setStatus(id: string, status: string): Promise<Order> {
  const res = await request(srv.base, 'PUT', `/api/orders/${id}/status`, { status });
  assert.equal(res.status, 200, res.text);
  return res.body as Order;
}

/** Everything observable about the data, to prove a bad request changed nothing. */
async function fingerprint(): Promise<string> {
  const stats = (await request(srv.base, 'GET', '/api/stats')).body as { seq: number; orders: unknown };
  return JSON.stringify([stats.seq, stats.orders]);
}

function assertProblem(res: { status: number; headers: Headers; body: unknown }, status: number, code: string): Record<string, unknown> {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.match(String(body.type), /^urn:liveorders:problem:/);
  return body;
}

describe('the original demo commands', () => {
  test('POST, PUT status and GET work exactly as the old README showed', async () => {
    const created = await create({ customerName: 'John Doe', items: ['laptop', 'mouse'] });
    assert.equal(created.customerName, 'John Doe');
    assert.deepEqual(created.items, [{ name: 'laptop', quantity: 1 }, { name: 'mouse', quantity: 1 }]);
    assert.equal(created.status, 'pending');
    assert.equal(created.version, 1);
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID v7');
    const updated = await setStatus(created.id, 'processing');
    assert.equal(updated.status, 'processing');
    assert.equal(updated.version, 2);
    const list = await request(srv.base, 'GET', '/api/orders');
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.body));
    assert.deepEqual((list.body as Order[]).find((o) => o.id === created.id), updated);
  });
});

describe('POST /api/orders', () => {
  test('201 with Location, ETag and the normalised order', async () => {
    const res = await request(srv.base, 'POST', '/api/orders', {
      customerName: '  Grace  ',
      customerEmail: 'grace@example.com',
      items: [{ name: 'keyboard', quantity: 2, price: 49.5 }, { name: 'cable', price: 3.25 }],
    });
    assert.equal(res.status, 201);
    const { trackingToken, ...order } = res.body as CreatedOrder;
    assert.match(trackingToken, /^[A-Za-z0-9_-]{22}$/, 'a 128-bit tracking token comes with the new order');
    assert.equal(res.headers.get('location'), `/api/orders/${order.id}`);
    assert.equal(res.headers.get('etag'), '"1"');
    assert.equal(order.customerName, 'Grace');
    assert.equal(order.total, 102.25);
    assert.deepEqual(order.history.map((h) => h.status), ['pending']);
    const fetched = await request(srv.base, 'GET', `/api/orders/${order.id}`);
    assert.deepEqual(fetched.body, order);
  });

  for (const { name, body, field } of INVALID_ORDER_BODIES) {
    test(`400 for ${name}, naming the field, changing nothing`, async () => {
      const before = await fingerprint();
      const res = await request(srv.base, 'POST', '/api/orders', body);
      const problem = assertProblem(res, 400, 'LO_ERR_INVALID_FIELD');
      assert.ok((problem.errors as { field: string }[]).some((e) => e.field === field), JSON.stringify(problem.errors));
      assert.equal(await fingerprint(), before);
    });
  }

  test('malformed JSON is 400 LO_ERR_BAD_JSON', async () => {
    assertProblem(await request(srv.base, 'POST', '/api/orders', '{"customerName": "x",'), 400, 'LO_ERR_BAD_JSON');
    assertProblem(await request(srv.base, 'POST', '/api/orders', ''), 400, 'LO_ERR_BAD_JSON');
  });

  test('invalid UTF-8 is 400 LO_ERR_BAD_JSON', async () => {
    const res = await fetch(srv.base + '/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'LO_ERR_BAD_JSON');
  });

  test('a wrong or missing content type is 415', async () => {
    assertProblem(await request(srv.base, 'POST', '/api/orders', JSON.stringify(orderBody()), { 'content-type': 'text/plain' }), 415, 'LO_ERR_UNSUPPORTED_MEDIA_TYPE');
    const res = await fetch(srv.base + '/api/orders', { method: 'POST', body: new Blob([JSON.stringify(orderBody())]) });
    assert.equal(res.status, 415);
    await res.text();
    // application/*+json and parameters are fine
    assert.equal((await request(srv.base, 'POST', '/api/orders', orderBody(), { 'content-type': 'application/vnd.api+json; charset=UTF-8' })).status, 201);
  });

  test('a body over 64 KiB is 413 and changes nothing, declared or streamed', async () => {
    const before = await fingerprint();
    const big = JSON.stringify({ customerName: 'x', items: ['y'], pad: 'z'.repeat(70 * 1024) });
    assertProblem(await request(srv.base, 'POST', '/api/orders', big), 413, 'LO_ERR_PAYLOAD_TOO_LARGE');
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(srv.base + '/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"customerName":"x","items":["y"],"pad":"');
      req.write('z'.repeat(80 * 1024));
      req.end('"}');
    });
    assert.equal(streamed, 413);
    assert.equal(await fingerprint(), before);
  });

  test('Idempotency-Key: a retry returns the first order, a different body with the same key is 422', async () => {
    const key = `key-${Date.now()}`;
    const first = await request(srv.base, 'POST', '/api/orders', orderBody('Idem'), { 'Idempotency-Key': key });
    assert.equal(first.status, 201);
    const countBefore = (await request(srv.base, 'GET', '/api/orders')).headers.get('x-total-count');
    const retry = await request(srv.base, 'POST', '/api/orders', orderBody('Idem'), { 'Idempotency-Key': key });
    assert.equal(retry.status, 201);
    assert.deepEqual(retry.body, first.body);
    assert.equal(retry.headers.get('location'), first.headers.get('location'));
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    const other = await request(srv.base, 'POST', '/api/orders', orderBody('Someone else'), { 'Idempotency-Key': key });
    assertProblem(other, 422, 'LO_ERR_IDEMPOTENCY_MISMATCH');
    assert.equal((await request(srv.base, 'GET', '/api/orders')).headers.get('x-total-count'), countBefore);
    const bad = await request(srv.base, 'POST', '/api/orders', orderBody(), { 'Idempotency-Key': 'has space' });
    assertProblem(bad, 400, 'LO_ERR_INVALID_FIELD');
  });

  test('concurrent retries with one Idempotency-Key create exactly one order', async () => {
    const key = `race-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => request(srv.base, 'POST', '/api/orders', orderBody('Race'), { 'Idempotency-Key': key })),
    );
    const ids = new Set(results.map((r) => (r.body as Order).id));
    assert.equal(ids.size, 1);
    assert.ok(results.every((r) => r.status === 201));
  });
});

describe('status changes', () => {
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      const legal = ALLOWED_TRANSITIONS[from].includes(to);
      test(`PUT ${from} -> ${to}: ${legal ? '200' : '409 naming the allowed statuses'}`, async () => {
        const order = await create();
        if (from !== 'pending') await setStatus(order.id, from);
        const res = await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: to });
        if (legal) {
          assert.equal(res.status, 200);
          assert.equal((res.body as Order).status, to);
        } else {
          const problem = assertProblem(res, 409, 'LO_ERR_BAD_TRANSITION');
          assert.deepEqual(problem.allowed, ALLOWED_TRANSITIONS[from]);
          assert.equal(problem.currentStatus, from);
          assert.equal(((await request(srv.base, 'GET', `/api/orders/${order.id}`)).body as Order).status, from);
        }
      });
    }
  }

  test('PATCH works like PUT and the ETag follows the version', async () => {
    const order = await create();
    const res = await request(srv.base, 'PATCH', `/api/orders/${order.id}/status`, { status: 'shipped' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('etag'), '"2"');
    assert.deepEqual((res.body as Order).history.map((h) => h.status), ['pending', 'shipped']);
  });

  test('If-Match: the current version applies, a stale one is 412 and changes nothing', async () => {
    const order = await create();
    const stale = await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' }, { 'If-Match': '"7"' });
    const problem = assertProblem(stale, 412, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(problem.currentVersion, 1);
    assertProblem(await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' }, { 'If-Match': 'garbage' }), 412, 'LO_ERR_VERSION_MISMATCH');
    assert.equal(((await request(srv.base, 'GET', `/api/orders/${order.id}`)).body as Order).version, 1);
    const fresh = await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'processing' }, { 'If-Match': '"1"' });
    assert.equal(fresh.status, 200);
    assert.equal((await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'shipped' }, { 'If-Match': '*' })).status, 200);
  });

  test('bad bodies are 400 and unknown ids 404', async () => {
    const order = await create();
    assertProblem(await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { status: 'teleported' }), 400, 'LO_ERR_INVALID_FIELD');
    assertProblem(await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, { state: 'shipped' }), 400, 'LO_ERR_INVALID_FIELD');
    assertProblem(await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, '"shipped"'), 400, 'LO_ERR_INVALID_FIELD');
    assertProblem(await request(srv.base, 'PUT', `/api/orders/${order.id}/status`, '{'), 400, 'LO_ERR_BAD_JSON');
    assertProblem(await request(srv.base, 'PUT', '/api/orders/01890a5d-ac96-774b-bcce-b302099a8057/status', { status: 'shipped' }), 404, 'LO_ERR_NOT_FOUND');
    assertProblem(await request(srv.base, 'PUT', '/api/orders/not-an-id/status', { status: 'shipped' }), 404, 'LO_ERR_NOT_FOUND');
    assert.equal(((await request(srv.base, 'GET', `/api/orders/${order.id}`)).body as Order).version, 1);
  });
});

describe('GET and DELETE one order', () => {
  test('GET unknown and malformed ids are 404', async () => {
    assertProblem(await request(srv.base, 'GET', '/api/orders/01890a5d-ac96-774b-bcce-b302099a8057'), 404, 'LO_ERR_NOT_FOUND');
    assertProblem(await request(srv.base, 'GET', '/api/orders/%E0%A4%A'), 404, 'LO_ERR_NOT_FOUND');
    assertProblem(await request(srv.base, 'GET', '/api/orders/..%2F..%2Fetc%2Fpasswd'), 404, 'LO_ERR_NOT_FOUND');
  });

  test('DELETE is 204, then the order is gone (404 for GET and a second DELETE)', async () => {
    const order = await create();
    const res = await request(srv.base, 'DELETE', `/api/orders/${order.id}`);
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assertProblem(await request(srv.base, 'GET', `/api/orders/${order.id}`), 404, 'LO_ERR_NOT_FOUND');
    assertProblem(await request(srv.base, 'DELETE', `/api/orders/${order.id}`), 404, 'LO_ERR_NOT_FOUND');
  });

  test('DELETE honours If-Match', async () => {
    const order = await create();
    assertProblem(await request(srv.base, 'DELETE', `/api/orders/${order.id}`, undefined, { 'If-Match': '"2"' }), 412, 'LO_ERR_VERSION_MISMATCH');
    assert.equal((await request(srv.base, 'DELETE', `/api/orders/${order.id}`, undefined, { 'If-Match': '"1"' })).status, 204);
  });
});

describe('GET /api/orders', () => {
  test('newest first, ?status filter, ?limit with Link paging and X-Total-Count', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await request(fresh.base, 'POST', '/api/orders', orderBody(`c${i}`));
      ids.push((res.body as Order).id);
    }
    for (const id of ids.slice(0, 3)) await request(fresh.base, 'PUT', `/api/orders/${id}/status`, { status: 'shipped' });

    const first = await request(fresh.base, 'GET', '/api/orders?limit=3');
    assert.deepEqual((first.body as Order[]).map((o) => o.id), ids.slice(4).reverse());
    assert.equal(first.headers.get('x-total-count'), '7');
    const link = first.headers.get('link');
    assert.match(link ?? '', /^<\/api\/orders\?limit=3&cursor=[0-9a-f-]+>; rel="next"$/);
    const seen = [...(first.body as Order[]).map((o) => o.id)];
    let next = /<([^>]+)>/.exec(link!)![1];
    while (next !== undefined) {
      const page = await request(fresh.base, 'GET', next);
      seen.push(...(page.body as Order[]).map((o) => o.id));
      next = /<([^>]+)>/.exec(page.headers.get('link') ?? '')?.[1];
    }
    assert.deepEqual(seen, [...ids].reverse());

    const shipped = await request(fresh.base, 'GET', '/api/orders?status=shipped');
    assert.deepEqual((shipped.body as Order[]).map((o) => o.id), ids.slice(0, 3).reverse());
    assert.equal(shipped.headers.get('x-total-count'), '3');
    assert.equal(shipped.headers.get('link'), null);
    const several = await request(fresh.base, 'GET', '/api/orders?status=shipped,pending&limit=2');
    assert.equal(several.headers.get('x-total-count'), '7');
    assert.match(several.headers.get('link') ?? '', /status=pending%2Cshipped/);
  });

  test('bad query values are 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['status=lost', 'query.status'],
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['limit=-5', 'query.limit'],
      ['cursor=abc', 'query.cursor'],
    ] as const) {
      const problem = assertProblem(await request(srv.base, 'GET', `/api/orders?${query}`), 400, 'LO_ERR_INVALID_FIELD');
      assert.deepEqual((problem.errors as { field: string }[]).map((e) => e.field), [field], query);
    }
  });
});

describe('stats, health, routing', () => {
  test('GET /api/stats reports counts, connections, events, uptime and seq', async (t) => {
    const fresh = await startServer();
    t.after(fresh.close);
    await request(fresh.base, 'POST', '/api/orders', orderBody());
    const stats = (await request(fresh.base, 'GET', '/api/stats')).body as Record<string, unknown>;
    assert.deepEqual(stats.orders, { total: 1, byStatus: { pending: 1, processing: 0, shipped: 0, delivered: 0, cancelled: 0 } });
    assert.equal(stats.connections, 0);
    assert.equal(stats.eventsSent, 0);
    assert.equal(stats.seq, 1);
    assert.equal(typeof stats.uptimeSeconds, 'number');
  });

  test('GET /healthz', async () => {
    const res = await request(srv.base, 'GET', '/healthz');
    assert.equal(res.status, 200);
    const health = res.body as { status: string; ready: boolean; storage: { mode: string }; seq: number };
    assert.deepEqual([health.status, health.ready, health.storage.mode], ['ok', true, 'memory']);
    assert.equal(typeof health.seq, 'number');
  });

  test('a wrong method is 405 with Allow; OPTIONS lists Allow; HEAD works', async () => {
    const res = await request(srv.base, 'DELETE', '/api/orders');
    assertProblem(res, 405, 'LO_ERR_METHOD_NOT_ALLOWED');
    assert.equal(res.headers.get('allow'), 'GET, POST, HEAD, OPTIONS');
    const put = await request(srv.base, 'PUT', '/api/stats', {});
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, OPTIONS');
    const options = await request(srv.base, 'OPTIONS', '/api/orders/x/status');
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'PUT, PATCH, OPTIONS');
    const head = await fetch(srv.base + '/api/orders', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(head.headers.get('x-total-count'));
    assert.equal((await head.text()).length, 0);
  });

  test('GET /api and /api/ list every route with a curl line to copy, addressed to the host used', async () => {
    for (const path of ['/api', '/api/']) {
      const res = await request(srv.base, 'GET', path);
      assert.equal(res.status, 200);
      const index = res.body as { routes: { method: string; path: string; what: string; curl: string }[]; websocket: { url: string } };
      const pairs = index.routes.map((r) => `${r.method} ${r.path}`);
      for (const route of ['GET /api/orders', 'POST /api/orders', 'GET /api/orders/ORDER_ID', 'DELETE /api/orders/ORDER_ID', 'PUT /api/orders/ORDER_ID/status', 'PATCH /api/orders/ORDER_ID/status', 'GET /api/orders/ORDER_ID/tracking-token', 'GET /api/track/TRACKING_TOKEN', 'GET /api/stats', 'GET /healthz']) {
        assert.ok(pairs.includes(route), `${route} is listed`);
      }
      const post = index.routes.find((r) => r.method === 'POST')!;
      assert.match(post.curl, new RegExp(`^curl -X POST '${srv.base}/api/orders' -H 'Content-Type: application/json' -d '\\{`));
      assert.equal(index.websocket.url, `${srv.wsBase}/ws`);
      assert.ok(index.routes.every((r) => !r.curl.includes('Authorization')), 'open mode needs no token');
    }
  });

  test("the index's POST example, copied as printed, creates an order", async () => {
    const index = (await request(srv.base, 'GET', '/api')).body as { routes: { method: string; curl: string }[] };
    const post = index.routes.find((r) => r.method === 'POST')!;
    const body = /-d '(.*)'$/.exec(post.curl)?.[1];
    assert.ok(body !== undefined);
    assert.equal((await request(srv.base, 'POST', '/api/orders', body)).status, 201);
  });

  test('every JSON answer ends with a newline, so the shell prompt starts on its own line', async () => {
    const order = await create();
    for (const [method, path, body] of [['GET', '/api/orders'], ['GET', `/api/orders/${order.id}`], ['GET', '/api/stats'], ['GET', '/healthz'], ['GET', '/api'], ['GET', '/api/nope'], ['POST', '/api/orders', orderBody()], ['PUT', `/api/orders/${order.id}/status`, { status: 'processing' }]] as const) {
      const res = await request(srv.base, method, path, body);
      assert.ok(res.text.endsWith('}\n') || res.text.endsWith(']\n'), `${method} ${path}: ${JSON.stringify(res.text.slice(-5))}`);
    }
  });

  test('unknown API routes are 404 problem+json', async () => {
    assertProblem(await request(srv.base, 'GET', '/api/nothing'), 404, 'LO_ERR_NOT_FOUND');
    assertProblem(await request(srv.base, 'GET', '/api/orders/x/y/z'), 404, 'LO_ERR_NOT_FOUND');
  });

  test('garbage on the socket gets 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(Number(new URL(srv.base).port), '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write('NONSENSE \x00\x01 HTTP/9.9\r\n\r\n');
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await request(srv.base, 'GET', '/healthz')).status, 200);
  });

  test('a client that leaves halfway through a body changes nothing and is not waited for', async () => {
    const own = await startServer({ shutdownTimeoutMs: 10_000 });
    const port = Number(new URL(own.base).port);
    for (const leave of ['end', 'reset'] as const) {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume(); // whatever the server says (a 400 after the half-closed body), read it so 'close' can come
      const received = new Promise((resolve) => own.server.http.once('request', resolve));
      socket.write('POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"customerName":"Ha');
      await received;
      await new Promise((resolve) => setImmediate(resolve));
      if (leave === 'end') socket.end();
      else socket.resetAndDestroy();
      await new Promise((resolve) => socket.once('close', resolve));
    }
    const stats = (await request(own.base, 'GET', '/api/stats')).body as { seq: number; orders: { total: number } };
    assert.equal(stats.seq, 0);
    assert.equal(stats.orders.total, 0);
    assert.equal((await request(own.base, 'POST', '/api/orders', orderBody())).status, 201, 'still serving');
    // Shutdown waits for requests in flight: the two abandoned ones must not count.
    const closing = Date.now();
    await own.close();
    assert.ok(Date.now() - closing < 2000, `close took ${Date.now() - closing} ms`);
  });
});
