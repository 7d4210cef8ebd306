/**
 * The WebSocket address answers like the REST API: a refused upgrade is
 * problem+json naming what is wrong (a resume point without its epoch), and
 * a plain HTTP request to it (curl, a browser tab) is 426 Upgrade Required.
 * Also the small REST address fixes: `/api/orders/` is the list, and the
 * index at `/api` shows the list's example query only on the GET line.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { postOrder, request, startServer, type TestServer } from './helpers.ts';

/** An upgrade request whose refusal is read as an ordinary HTTP response. */
function refusedUpgrade(base: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`the upgrade to ${path} was accepted`));
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the WebSocket address', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('/ws?since=1 without an epoch: 400 problem+json whose errors name epoch', async () => {
    const res = await refusedUpgrade(srv.base, '/ws?since=1');
    assert.equal(res.status, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const problem = JSON.parse(res.body) as { code: string; detail: string; errors: { field: string; message: string }[] };
    assert.equal(problem.code, 'LO_ERR_INVALID_FIELD');
    assert.match(problem.detail, /epoch is missing/);
    assert.deepEqual(problem.errors.map((e) => e.field), ['epoch']);
  });

  test('an epoch without since, and a bad view, are problem+json too', async () => {
    const noSince = await refusedUpgrade(srv.base, '/ws?epoch=abc');
    assert.equal(noSince.status, 400);
    assert.deepEqual((JSON.parse(noSince.body) as { errors: { field: string }[] }).errors.map((e) => e.field), ['since']);
    const badView = await refusedUpgrade(srv.base, '/ws?status=lost');
    assert.equal(badView.status, 400);
    assert.equal((JSON.parse(badView.body) as { code: string }).code, 'LO_ERR_INVALID_FIELD');
    const elsewhere = await refusedUpgrade(srv.base, '/socket');
    assert.equal(elsewhere.status, 404);
    assert.equal((JSON.parse(elsewhere.body) as { code: string }).code, 'LO_ERR_NOT_FOUND');
  });

  test('curl /ws (no upgrade): 426 Upgrade Required, problem+json, with Upgrade: websocket', async () => {
    const res = await request(srv.base, 'GET', '/ws');
    assert.equal(res.status, 426);
    assert.equal(res.headers.get('upgrade'), 'websocket');
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const problem = res.body as { code: string; detail: string; status: number };
    assert.equal(problem.code, 'LO_ERR_UPGRADE_REQUIRED');
    assert.equal(problem.status, 426);
    assert.match(problem.detail, /WebSocket/);
  });
});

describe('REST addresses', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('/api/orders/ with a trailing slash lists the orders as /api/orders does', async () => {
    const order = await postOrder(srv.base, 'Slash');
    const res = await request(srv.base, 'GET', '/api/orders/');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.body as { id: string }[]).map((o) => o.id), [order.id]);
    const created = await request(srv.base, 'POST', '/api/orders/', { customerName: 'Slash 2', items: ['x'] });
    assert.equal(created.status, 201);
  });

  test('GET /api: the POST example has no query string, the GET example keeps its filter', async () => {
    const res = await request(srv.base, 'GET', '/api');
    const routes = (res.body as { routes: { method: string; path: string; curl: string }[] }).routes;
    const post = routes.find((r) => r.method === 'POST' && r.path === '/api/orders');
    const get = routes.find((r) => r.method === 'GET' && r.path === '/api/orders');
    assert.ok(post !== undefined && get !== undefined);
    assert.doesNotMatch(post.curl, /\?/);
    assert.match(post.curl, /-X POST '[^']+\/api\/orders'/);
    assert.match(get.curl, /\/api\/orders\?status=pending,processing&limit=50'/);
    assert.ok(!routes.some((r) => r.path === '/ws'), 'the WebSocket address is under "websocket", not a REST route');
  });
});
