/**
 * The catalog never oversells across instances: three real instances on
 * one real Redis take 200 concurrent one-unit orders for a product with 50
 * in stock; exactly 50 are created, the stock ends at 0 on every instance,
 * and the other 150 are refused with 409 LO_ERR_OUT_OF_STOCK. The stock
 * check is a compare of the product's version inside the append script,
 * so a reservation decided on a stale view loses and is decided again.
 */

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Product } from '../src/protocol.ts';
import { request } from './helpers.ts';
import { startInstance, type StartedProcess } from './processes.ts';
import { redisRequirement, startRedis, type RedisProcess } from './redis-server.ts';

const { skip } = redisRequirement();
const redis: RedisProcess | undefined = skip === false ? await startRedis() : undefined;
const instances: StartedProcess[] = [];
after(async () => {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((i) => i.exited));
  await redis?.dispose();
});

const INITIAL_STOCK = 50;
const ORDERS = 200;

describe('catalog over three Redis instances', { skip }, () => {
  test('200 concurrent one-unit orders against a stock of 50: 50 created, stock 0, 150 answers of 409 out of stock', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'catalog-race' };
    const started = await Promise.all([startInstance(env), startInstance(env), startInstance(env)]);
    instances.push(...started);
    const bases = started.map((s) => s.base);
    const created = await request(bases[0]!, 'POST', '/api/products', { sku: 'MUG-1', name: 'Mug', priceCents: 1299, stock: INITIAL_STOCK });
    assert.equal(created.status, 201, created.text);
    // Every instance knows the product before the rush (otherwise some would answer 404 for it).
    await Promise.all(bases.map(async (base) => {
      for (;;) {
        const seen = await request(base, 'GET', '/api/products/MUG-1');
        if (seen.status === 200) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }));

    const answers = await Promise.all(
      Array.from({ length: ORDERS }, (_, i) =>
        request(bases[i % bases.length]!, 'POST', '/api/orders', { customerName: `Buyer ${i}`, lines: [{ sku: 'MUG-1', quantity: 1 }] }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byStatus), { 201: INITIAL_STOCK, 409: ORDERS - INITIAL_STOCK }, 'answers by status');
    for (const answer of answers.filter((a) => a.status === 409)) {
      const problem = answer.body as { code: string; shortages: { sku: string; requested: number; available: number }[] };
      assert.equal(problem.code, 'LO_ERR_OUT_OF_STOCK');
      assert.deepEqual(problem.shortages, [{ sku: 'MUG-1', requested: 1, available: 0 }]);
    }
    for (const answer of answers.filter((a) => a.status === 201)) {
      const order = answer.body as { lines: { sku: string; unitPriceCents: number; quantity: number }[]; total: number };
      assert.deepEqual(order.lines, [{ sku: 'MUG-1', name: 'Mug', quantity: 1, unitPriceCents: 1299 }]);
      assert.equal(order.total, 12.99);
    }
    // Every instance converges on stock 0, and holds exactly the 50 orders.
    for (const base of bases) {
      let product: Product | undefined;
      for (let i = 0; i < 500; i++) {
        product = (await request(base, 'GET', '/api/products/MUG-1')).body as Product;
        if (product.stock === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(product?.stock, 0, `stock on ${base}`);
      assert.equal(product?.version, 1 + INITIAL_STOCK, 'one version per reservation');
      const listed = await request(base, 'GET', '/api/orders?limit=500');
      assert.equal(listed.headers.get('x-total-count'), String(INITIAL_STOCK));
    }
  });

  test('one Idempotency-Key sent to three instances at once reserves once; its retries answer the same order', async () => {
    const env = { STORAGE: 'redis', REDIS_URL: redis!.url, REDIS_PREFIX: 'catalog-keys' };
    const started = await Promise.all([startInstance(env), startInstance(env), startInstance(env)]);
    instances.push(...started);
    const bases = started.map((s) => s.base);
    assert.equal((await request(bases[0]!, 'POST', '/api/products', { sku: 'BOX', name: 'Box', priceCents: 800, stock: 5 })).status, 201);
    await Promise.all(bases.map(async (base) => {
      while ((await request(base, 'GET', '/api/products/BOX')).status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }));
    const body = { customerName: 'Once', lines: [{ sku: 'BOX', quantity: 2 }] };
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => request(bases[i % 3]!, 'POST', '/api/orders', body, { 'Idempotency-Key': 'box-once' })));
    for (const answer of answers) assert.equal(answer.status, 201, answer.text);
    assert.equal(new Set(answers.map((a) => (a.body as { id: string }).id)).size, 1, 'one order');
    for (const base of bases) {
      let stock = -1;
      for (let i = 0; i < 500 && stock !== 3; i++) {
        stock = ((await request(base, 'GET', '/api/products/BOX')).body as Product).stock;
        if (stock !== 3) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(stock, 3, `reserved once, as seen on ${base}`);
    }
  });
});
