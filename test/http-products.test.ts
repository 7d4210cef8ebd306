/**
 * The products API over real HTTP: create, read, list, change the price
 * with If-Match, adjust stock (never below zero), delete; bad input gets
 * a problem and changes nothing; viewers read but do not write; an order
 * naming an unknown SKU is 404 and reserves nothing.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Product } from '../src/protocol.ts';
import { request, startServer, type TestServer } from './helpers.ts';

const ADMIN = 'admin-token-0123456789abcdefghij';
const OPERATOR = 'operator-token-0123456789abcdefgh';
const VIEWER = 'viewer-token-0123456789abcdefghij';
const as = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('products API', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ tokens: [['admin', ADMIN], ['operator', OPERATOR], ['viewer', VIEWER]] });
  });
  after(() => srv.close());

  test('create, read, list, reprice with If-Match, adjust stock, delete', async () => {
    const created = await request(srv.base, 'POST', '/api/products', { sku: 'CUP-1', name: ' Cup ', priceCents: 500, stock: 4 }, as(OPERATOR));
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('etag'), '"1"');
    assert.equal(created.headers.get('location'), '/api/products/CUP-1');
    assert.deepEqual({ ...(created.body as Product), createdAt: '', updatedAt: '' }, { sku: 'CUP-1', name: 'Cup', priceCents: 500, stock: 4, version: 1, createdAt: '', updatedAt: '' });
    const again = await request(srv.base, 'POST', '/api/products', { sku: 'CUP-1', name: 'Other', priceCents: 1 }, as(OPERATOR));
    assert.equal(again.status, 409);
    assert.equal((again.body as { code: string }).code, 'LO_ERR_CONFLICT');

    const listed = await request(srv.base, 'GET', '/api/products', undefined, as(VIEWER));
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.body as Product[]).map((p) => p.sku), ['CUP-1']);

    const stale = await request(srv.base, 'PATCH', '/api/products/CUP-1', { priceCents: 650 }, { ...as(OPERATOR), 'if-match': '"7"' });
    assert.equal(stale.status, 412);
    const repriced = await request(srv.base, 'PATCH', '/api/products/CUP-1', { priceCents: 650 }, { ...as(OPERATOR), 'if-match': '"1"' });
    assert.equal(repriced.status, 200, repriced.text);
    assert.equal((repriced.body as Product).priceCents, 650);
    assert.equal(repriced.headers.get('etag'), '"2"');

    const tooMuch = await request(srv.base, 'POST', '/api/products/CUP-1/stock', { delta: -5 }, as(OPERATOR));
    assert.equal(tooMuch.status, 409);
    assert.deepEqual((tooMuch.body as { shortages: unknown }).shortages, [{ sku: 'CUP-1', requested: 5, available: 4 }]);
    const restocked = await request(srv.base, 'POST', '/api/products/CUP-1/stock', { delta: 6 }, as(OPERATOR));
    assert.equal((restocked.body as Product).stock, 10);

    const order = await request(srv.base, 'POST', '/api/orders', { customerName: 'Ada', items: [{ name: 'gift wrap', quantity: 1, price: 1.5 }], lines: [{ sku: 'CUP-1', quantity: 3 }] }, as(OPERATOR));
    assert.equal(order.status, 201, order.text);
    assert.equal((order.body as { total: number }).total, 21, '1.50 + 3 × 6.50');
    assert.equal(((await request(srv.base, 'GET', '/api/products/CUP-1', undefined, as(VIEWER))).body as Product).stock, 7);

    const unknown = await request(srv.base, 'POST', '/api/orders', { customerName: 'Bo', lines: [{ sku: 'CUP-1', quantity: 1 }, { sku: 'NOPE', quantity: 1 }] }, as(OPERATOR));
    assert.equal(unknown.status, 404);
    assert.equal(((await request(srv.base, 'GET', '/api/products/CUP-1', undefined, as(VIEWER))).body as Product).stock, 7, 'nothing reserved');

    assert.equal((await request(srv.base, 'DELETE', '/api/products/CUP-1', undefined, as(ADMIN))).status, 204);
    assert.equal((await request(srv.base, 'GET', '/api/products/CUP-1', undefined, as(VIEWER))).status, 404);
  });

  test('bad input is a problem and changes nothing; viewers may not write', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/api/products', { sku: 'has space', name: 'x', priceCents: 1 }],
      ['POST', '/api/products', { sku: 'OK', name: 'x', priceCents: 1.5 }],
      ['POST', '/api/products', { sku: 'OK', name: 'x', priceCents: 1, stock: -1 }],
      ['POST', '/api/products', { sku: 'OK', name: 'x', priceCents: 1, colour: 'red' }],
      ['POST', '/api/orders', { customerName: 'A', lines: [] }],
      ['POST', '/api/orders', { customerName: 'A', lines: [{ sku: 'OK', quantity: 0 }] }],
      ['POST', '/api/orders', { customerName: 'A' }],
    ];
    for (const [method, path, body] of cases) {
      const answer = await request(srv.base, method, path, body, as(OPERATOR));
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal((answer.body as { code: string }).code, 'LO_ERR_INVALID_FIELD');
    }
    assert.equal((await request(srv.base, 'POST', '/api/products', { sku: 'V', name: 'v', priceCents: 1 }, as(VIEWER))).status, 403);
    assert.equal((await request(srv.base, 'GET', '/api/products/OK', undefined, as(VIEWER))).status, 404);
    assert.equal((await request(srv.base, 'POST', '/api/products/OK/stock', { delta: 0 }, as(OPERATOR))).status, 400);
  });
});
