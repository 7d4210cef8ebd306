/**
 * The catalog's cases of the storage conformance suite: every backend
 * (memory, journal, Redis) runs them through describeStorage. Stock is
 * reserved in the order's own event, a stale reservation is a conflict
 * that records nothing, concurrent orders never oversell (on one instance
 * and across two), a keyed retry never reserves twice, cancelling and
 * deleting a pending order give the stock back, and a restart rebuilds
 * the stock exactly.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { decideProduct, type Product } from '../src/domain/catalog.ts';
import { decideOrderCreate } from '../src/domain/decide.ts';
import { startCore, type Core } from '../src/node.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import type { Storage } from '../src/store.ts';
import type { Backend } from './storage-conformance.ts';

const AT = '2026-01-01T00:00:00.000Z';

/** Resolve once `predicate` holds, checking every few milliseconds. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The catalog cases, inside a backend's conformance suite.
 * @param backend how to open the backend
 * @param open opens a fresh storage the suite closes
 * @param opened storages the suite closes at the end
 */
export function describeCatalogConformance(backend: Backend, open: () => Promise<Storage>, opened: Storage[]): void {
  const core = (storage: Storage): Core => {
    const started = startCore(storage, { newId: createOrderIdGenerator() });
    after(() => started.stop());
    return started;
  };
  const stocked = async (c: Core, sku: string, stock: number): Promise<Product> => {
    const created = await c.catalog.createProduct({ sku, name: `Product ${sku}`, priceCents: 250, stock });
    assert.ok(created.ok);
    return created.value.product;
  };

  test('catalog: an order reserves its lines in its own event; cancelling and deleting a pending order give the stock back', async () => {
    const storage = await open();
    const c = core(storage);
    await stocked(c, 'A', 5);
    await stocked(c, 'B', 2);
    const order = await c.commands.create({ customerName: 'Ada', items: [], lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }, { sku: 'A', quantity: 1 }] });
    assert.ok(order.ok);
    assert.equal(order.value.order.total, 10, '4 units at 2.50');
    assert.deepEqual([c.catalog.product('A')?.stock, c.catalog.product('B')?.stock], [2, 1]);
    const short = await c.commands.create({ customerName: 'Bob', items: [], lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 2 }, { sku: 'A', quantity: 1 }] });
    assert.ok(!short.ok);
    assert.equal(short.error.code, 'LO_ERR_OUT_OF_STOCK');
    assert.deepEqual(short.error.details.shortages, [{ sku: 'A', requested: 3, available: 2 }, { sku: 'B', requested: 2, available: 1 }]);
    assert.deepEqual([c.catalog.product('A')?.stock, c.catalog.product('B')?.stock], [2, 1], 'a refused order reserves nothing');
    const cancelled = await c.commands.changeStatus(order.value.order.id, 'cancelled');
    assert.ok(cancelled.ok);
    assert.deepEqual([c.catalog.product('A')?.stock, c.catalog.product('B')?.stock], [5, 2]);
    const pending = await c.commands.create({ customerName: 'Cy', items: [], lines: [{ sku: 'B', quantity: 2 }] });
    assert.ok(pending.ok);
    assert.equal(c.catalog.product('B')?.stock, 0);
    assert.ok((await c.commands.delete(pending.value.order.id)).ok);
    assert.equal(c.catalog.product('B')?.stock, 2, 'deleting a pending order releases it');
    const shipped = await c.commands.create({ customerName: 'Di', items: [], lines: [{ sku: 'B', quantity: 1 }] });
    assert.ok(shipped.ok);
    assert.ok((await c.commands.changeStatus(shipped.value.order.id, 'processing')).ok);
    assert.ok((await c.commands.delete(shipped.value.order.id)).ok);
    assert.equal(c.catalog.product('B')?.stock, 1, 'deleting an order past pending does not: those units were sold');
  });

  test('catalog: a reservation decided against a product version that moved on is a conflict and records nothing', async () => {
    const storage = await open();
    const c = core(storage);
    const product = await stocked(c, 'C', 1);
    const ids = createOrderIdGenerator();
    const first = decideOrderCreate(ids(), { customerName: 'A', items: [], lines: [{ sku: 'C', quantity: 1 }] }, AT, () => product);
    const second = decideOrderCreate(ids(), { customerName: 'B', items: [], lines: [{ sku: 'C', quantity: 1 }] }, AT, () => product);
    assert.ok(first.ok && second.ok);
    assert.equal((await storage.log.append(first.value)).kind, 'committed');
    assert.equal((await storage.log.append(second.value)).kind, 'conflict', 'the same unit is not sold twice');
    const restock = decideProduct(product, { type: 'adjustStock', sku: 'C', delta: 5, at: AT });
    assert.ok(restock.ok);
    assert.equal((await storage.log.append(restock.value)).kind, 'conflict', 'a restock decided on the old version too');
    await until(() => c.projection.seq === 2, 'the projection');
    assert.equal(c.catalog.product('C')?.stock, 0);
    assert.equal(c.projection.size, 1);
  });

  test('catalog: 30 concurrent one-unit orders against a stock of 10 make exactly 10; a keyed retry never reserves twice', async () => {
    const storage = await open();
    const c = core(storage);
    await stocked(c, 'D', 10);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.commands.create({ customerName: `C${i % 15}`, items: [], lines: [{ sku: 'D', quantity: 1 }] }, `key-${i % 15}`)));
    const orderIds = new Set(results.filter((r) => r.ok).map((r) => (r.ok ? r.value.order.id : '')));
    assert.equal(orderIds.size, 10, 'ten orders');
    assert.equal(c.catalog.product('D')?.stock, 0);
    assert.equal(c.projection.size, 10);
    for (const result of results) if (!result.ok) assert.equal(result.error.code, 'LO_ERR_OUT_OF_STOCK');
    // Retries of keys that got an order answer with it, even though the stock is gone now.
    const retried = await c.commands.create({ customerName: 'C0', items: [], lines: [{ sku: 'D', quantity: 1 }] }, 'key-0');
    const firstOfKey = results[0]!;
    if (firstOfKey.ok) {
      assert.ok(retried.ok && retried.value.replayed);
      assert.equal(retried.value.order.id, firstOfKey.value.order.id);
    }
    assert.equal(c.catalog.product('D')?.stock, 0);
  });

  const another = backend.openAnother;
  if (another !== undefined) test('catalog: two instances on one storage, concurrent orders never oversell; both converge', async () => {
    const storage = await open();
    const second = await another(storage);
    opened.push(second);
    const a = core(storage);
    const b = core(second);
    await stocked(a, 'E', 12);
    await until(() => b.catalog.product('E') !== undefined, 'the second instance to see the product');
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).commands.create({ customerName: `C${i}`, items: [], lines: [{ sku: 'E', quantity: 1 }] })));
    assert.equal(results.filter((r) => r.ok).length, 12);
    for (const result of results) if (!result.ok) assert.equal(result.error.code, 'LO_ERR_OUT_OF_STOCK');
    await until(() => a.catalog.product('E')?.stock === 0 && b.catalog.product('E')?.stock === 0 && a.projection.seq === b.projection.seq, 'both to converge');
    assert.equal(a.projection.size, 12);
  });

  const reopen = backend.reopen;
  if (reopen !== undefined) test('catalog: after a restart the stock is what the events made it', async () => {
    const storage = await open();
    const c = core(storage);
    await stocked(c, 'F', 7);
    const kept = await c.commands.create({ customerName: 'A', items: [], lines: [{ sku: 'F', quantity: 3 }] });
    const gone = await c.commands.create({ customerName: 'B', items: [], lines: [{ sku: 'F', quantity: 2 }] });
    assert.ok(kept.ok && gone.ok);
    assert.ok((await c.commands.changeStatus(gone.value.order.id, 'cancelled')).ok);
    assert.ok((await c.catalog.adjustStock('F', 4)).ok);
    assert.ok((await c.catalog.updateProduct('F', { priceCents: 300 })).ok);
    c.stop();
    const again = await reopen(storage);
    opened.push(again);
    const product = again.initial.products?.find((p) => p.sku === 'F');
    assert.equal(product?.stock, 7 - 3 + 4);
    assert.equal(product?.priceCents, 300);
    assert.deepEqual(product, c.catalog.product('F'));
    assert.deepEqual(again.initial.orders.find((o) => o.id === kept.value.order.id)?.lines, [{ sku: 'F', name: 'Product F', quantity: 3, unitPriceCents: 250 }]);
  });
}
