/**
 * `GET /api/openapi.json`: a valid OpenAPI 3.1 document (by
 * @readme/openapi-parser) that covers every route of the router and no
 * other; `/api` links to it; and every route's answers match its schemas
 * (`request()` checks each JSON answer, see test/openapi-check.ts; here
 * every route is called at least once, by the role it is meant for).
 */

import { UnsubscribeTokens } from '../src/notify/email/unsubscribe.ts';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { validate, compileErrors } from '@readme/openapi-parser';
import { CLIENT_MESSAGE_TYPES, type CreatedOrder, type Role } from '../src/protocol.ts';
import { buildOpenApiDocument, openApiPath } from '../src/transport/http/openapi.ts';
import { ROUTE_TABLE } from '../src/transport/http/router.ts';
import { assertMatchesOpenApi, OPENAPI_DOCUMENT } from './openapi-check.ts';
import { orderBody, request, startServer } from './helpers.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from '../src/notify/webhooks/settings.ts';

const TOKENS = { admin: 'admin-token-0123456789abcdefghij', operator: 'operator-token-0123456789abcdefgh', viewer: 'viewer-token-0123456789abcdefghij' } as const;
const auth = (role: Role): Record<string, string> => ({ Authorization: `Bearer ${TOKENS[role]}` });
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// Private webhook targets allowed: the endpoint created below is on this machine.
const srv = await startServer({ tokens: Object.entries(TOKENS) as [Role, string][], webhooks: { settings: { ...DEFAULT_WEBHOOK_SETTINGS, allowPrivate: true, retryScheduleMs: [], timeoutMs: 2000 } } });
after(srv.close);

describe('the OpenAPI document', () => {
  test('is served at /api/openapi.json, linked from /api, and is valid OpenAPI 3.1', async () => {
    const served = await request(srv.base, 'GET', '/api/openapi.json');
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(served.body, JSON.parse(JSON.stringify(buildOpenApiDocument(ROUTE_TABLE))));
    const document = served.body as { openapi: string };
    assert.equal(document.openapi, '3.1.0');
    const result = await validate(structuredClone(served.body) as Parameters<typeof validate>[0]);
    assert.ok(result.valid, result.valid ? '' : compileErrors(result));
    assert.equal(result.specification, 'OpenAPI');
    const index = (await request(srv.base, 'GET', '/api')).body as { openapi: string; routes: { path: string }[]; websocket: { messages: string } };
    assert.equal(index.openapi, `${srv.base}/api/openapi.json`);
    // The index names every message a client may send (refresh and watch came from two branches at once).
    for (const type of CLIENT_MESSAGE_TYPES) assert.match(index.websocket.messages, new RegExp(`\\b${type}\\b`), `the index names ${type}`);
    assert.ok(index.routes.some((r) => r.path === '/api/openapi.json'));
  });

  test('every route of the router is in paths, with each of its methods, and nothing else is', () => {
    const paths = OPENAPI_DOCUMENT.paths;
    for (const route of ROUTE_TABLE) {
      const item = paths[openApiPath(route.path)];
      assert.ok(item !== undefined, `${route.path} is documented`);
      assert.deepEqual(Object.keys(item).filter((k) => METHODS.includes(k)).sort(), route.methods.map((m) => m.method.toLowerCase()).sort(), `methods of ${route.path}`);
    }
    for (const [path, item] of Object.entries(paths)) {
      // A concrete request path for the template: each placeholder filled with a value of its kind.
      const concrete = path.replace('{orderId}', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b').replace('{trackingToken}', 'AAAAAAAAAAAAAAAAAAAAAA');
      const route = ROUTE_TABLE.find((r) => r.pattern.test(concrete));
      assert.ok(route !== undefined, `${path} is routed`);
      assert.equal(openApiPath(route.path), path, `${path} is routed to its own route`);
      for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
        assert.ok(route.methods.some((m) => m.method.toLowerCase() === method), `${method} ${path} is routed`);
      }
    }
    assert.equal(Object.keys(paths).length, ROUTE_TABLE.length);
  });

  test('a route the document lacks an operation for fails the build', () => {
    const extra = { path: '/api/new-thing', pattern: /^\/api\/new-thing$/, unlisted: false, methods: [{ method: 'GET', action: 'readIndex' as const, what: 'new' }] };
    assert.throws(() => buildOpenApiDocument([...ROUTE_TABLE, extra]), /no operation for GET \/api\/new-thing/);
  });

  test('the check catches answers that do not match', () => {
    assert.throws(() => assertMatchesOpenApi('GET', '/api/orders/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 200, 'application/json', { id: 'x' }), /does not match/);
    assert.throws(() => assertMatchesOpenApi('GET', '/api/orders', 200, 'application/json', [{ id: 'nope' }]), /does not match/);
    assert.throws(() => assertMatchesOpenApi('GET', '/api/stats', 418, 'application/json', {}), /documents a 418 answer/);
    assert.throws(() => assertMatchesOpenApi('GET', '/nowhere', 404, 'application/problem+json', { title: 'x' }), /does not match/);
  });

  test('every 401 documents its WWW-Authenticate challenge, and the answers carry it', async () => {
    type Header = { schema: { pattern: string } };
    const paths = OPENAPI_DOCUMENT.paths as Record<string, Record<string, { responses?: Record<string, { headers?: Record<string, Header> }> }>>;
    let documented = 0;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const unauthorized = operation.responses?.['401'];
        if (unauthorized === undefined) continue;
        documented++;
        assert.ok(unauthorized.headers?.['WWW-Authenticate'] !== undefined, `${method} ${path}: its 401 documents WWW-Authenticate`);
      }
    }
    assert.ok(documented > 5, `${documented} operations document a 401`);
    const pattern = new RegExp(paths['/api/stats']!.get!.responses!['401']!.headers!['WWW-Authenticate']!.schema.pattern);
    const none = await request(srv.base, 'GET', '/api/stats');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', pattern);
    const refused = await request(srv.base, 'GET', '/api/stats', undefined, { Authorization: 'Bearer not-a-token-of-this-service-at-all' });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', pattern);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('every route, called by the role it is for, answers what the document says', async () => {
    // request() checks each JSON answer against the document; here each status is asserted too.
    const created = await request(srv.base, 'POST', '/api/orders', orderBody('OpenAPI'), { ...auth('operator'), 'Idempotency-Key': 'openapi-1' });
    assert.equal(created.status, 201);
    const order = created.body as CreatedOrder;
    const other = (await request(srv.base, 'POST', '/api/orders', orderBody('Second'), auth('operator'))).body as CreatedOrder;
    // Port 9 (discard) refuses: the test send is answered with its failed outcome.
    const hook = await request(srv.base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hooks', events: ['order.deleted'] }, auth('admin'));
    assert.equal(hook.status, 201);
    const hookId = (hook.body as { id: string }).id;
    const sent = await request(srv.base, 'POST', `/api/webhooks/${hookId}/test`, undefined, auth('admin'));
    assert.equal(sent.status, 200);
    const deliveryId = (sent.body as { id: string }).id;
    const unsubscribeToken = new UnsubscribeTokens(srv.server.storage.trackingKey).issue(order.id);
    const calls: [string, string, Role | undefined, unknown, number][] = [
      ['GET', '/api', undefined, undefined, 200],
      ['GET', '/api/openapi.json', undefined, undefined, 200],
      ['GET', '/api/orders?status=pending&limit=1', 'viewer', undefined, 200],
      ['GET', '/api/orders?limit=nope', 'viewer', undefined, 400],
      ['POST', '/api/orders', 'operator', orderBody('Third'), 201],
      ['POST', '/api/orders', 'operator', { customerName: '' }, 400],
      ['GET', '/api/orders.csv', 'viewer', undefined, 200],
      ['GET', `/api/orders/${order.id}`, 'viewer', undefined, 200],
      ['GET', '/api/orders/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'viewer', undefined, 404],
      ['GET', `/api/orders/${order.id}/presence`, 'viewer', undefined, 200],
      ['GET', `/api/orders/${order.id}/tracking-token`, 'operator', undefined, 200],
      ['GET', `/api/orders/${order.id}/emails`, 'operator', undefined, 200],
      ['GET', `/api/orders/${order.id}/emails`, 'viewer', undefined, 403],
      ['GET', `/api/email/unsubscribe/${unsubscribeToken}`, undefined, undefined, 200],
      ['GET', `/api/email/unsubscribe/${order.id}.AAAAAAAAAAAAAAAAAAAAAA`, undefined, undefined, 404],
      ['POST', `/api/email/unsubscribe/${unsubscribeToken}`, undefined, 'List-Unsubscribe=Maybe', 400],
      ['POST', `/api/email/unsubscribe/${unsubscribeToken}`, undefined, 'List-Unsubscribe=One-Click', 200],
      ['GET', `/api/track/${order.trackingToken}`, undefined, undefined, 200],
      ['GET', `/api/orders/${order.trackingToken}/presence`, undefined, undefined, 401],
      ['PUT', `/api/orders/${order.id}/status`, 'operator', { status: 'processing' }, 200],
      ['PATCH', `/api/orders/${order.id}/status`, 'operator', { status: 'pending' }, 409],
      ['PUT', `/api/orders/${order.id}/status`, 'viewer', { status: 'shipped' }, 403],
      ['POST', '/api/orders/status', 'operator', { orderIds: [order.id, other.id, '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'], status: 'shipped' }, 200],
      ['POST', '/api/orders/status', 'operator', { orderIds: [], status: 'shipped' }, 400],
      ['POST', '/api/products', 'operator', { sku: 'DOC-1', name: 'Doc', priceCents: 250, stock: 1 }, 201],
      ['POST', '/api/products', 'operator', { sku: 'DOC-1', name: 'Again', priceCents: 1 }, 409],
      ['GET', '/api/products', 'viewer', undefined, 200],
      ['GET', '/api/products/DOC-1', 'viewer', undefined, 200],
      ['PATCH', '/api/products/DOC-1', 'operator', { priceCents: 300 }, 200],
      ['POST', '/api/products/DOC-1/stock', 'operator', { delta: 2 }, 200],
      ['POST', '/api/products/DOC-1/stock', 'operator', { delta: -9 }, 409],
      ['POST', '/api/orders', 'operator', { customerName: 'Lines', lines: [{ sku: 'DOC-1', quantity: 3 }] }, 201],
      ['POST', '/api/orders', 'operator', { customerName: 'Short', lines: [{ sku: 'DOC-1', quantity: 1 }] }, 409],
      ['POST', '/api/orders', 'operator', { customerName: 'Nothing', lines: [{ sku: 'NO-SUCH', quantity: 1 }] }, 404],
      ['DELETE', '/api/products/DOC-1', 'admin', undefined, 204],
      ['GET', '/api/products/DOC-1', 'viewer', undefined, 404],
      ['GET', '/api/stats', 'viewer', undefined, 200],
      ['GET', '/api/stats', 'admin', undefined, 200],
      ['GET', '/healthz', undefined, undefined, 200],
      ['GET', '/metrics', 'admin', undefined, 200],
      ['GET', '/metrics', 'operator', undefined, 403],
      ['GET', '/ws', undefined, undefined, 426],
      ['DELETE', `/api/orders/${other.id}`, 'admin', undefined, 204],
      ['DELETE', `/api/orders/${other.id}`, 'admin', undefined, 404],
      ['POST', '/api/stats', 'admin', undefined, 405],
      ['GET', '/api/webhooks', 'admin', undefined, 200],
      ['GET', '/api/webhooks', 'operator', undefined, 403],
      ['POST', '/api/webhooks', 'admin', { url: 'ftp://example.com/' }, 400],
      ['POST', '/api/webhooks', 'admin', { url: 'http://127.0.0.1:9/other' }, 201],
      ['GET', `/api/webhooks/${hookId}`, 'admin', undefined, 200],
      ['PATCH', `/api/webhooks/${hookId}`, 'admin', { description: 'documented' }, 200],
      ['POST', `/api/webhooks/${hookId}/rotate-secret`, 'admin', undefined, 200],
      ['POST', `/api/webhooks/${hookId}/test`, 'admin', undefined, 200],
      ['GET', `/api/webhooks/${hookId}/deliveries?limit=5`, 'admin', undefined, 200],
      ['POST', `/api/webhooks/${hookId}/deliveries/${deliveryId}/retry`, 'admin', undefined, 200],
      ['DELETE', `/api/webhooks/${hookId}`, 'admin', undefined, 204],
      ['GET', `/api/webhooks/${hookId}`, 'admin', undefined, 404],
    ];
    for (const [method, path, role, body, status] of calls) {
      const res = await request(srv.base, method, path, body, role === undefined ? {} : auth(role));
      assert.equal(res.status, status, `${method} ${path} as ${role ?? 'nobody'}`);
    }
    // Every documented operation was called above.
    const called = new Set(calls.map(([method, path]) => `${method.toLowerCase()} ${openApiPath(ROUTE_TABLE.find((r) => r.pattern.test(path.split('?')[0]!))!.path)}`));
    for (const [path, item] of Object.entries(OPENAPI_DOCUMENT.paths)) {
      for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) assert.ok(called.has(`${method} ${path}`), `${method} ${path} was called`);
    }
  });
});
