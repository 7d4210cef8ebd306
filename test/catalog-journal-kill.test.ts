/**
 * The catalog on the journal, with real processes and `kill -9`: 200
 * concurrent one-unit orders (some cancelled as they come back) against a
 * stock of 50, the process killed in the middle. After the restart the
 * stock and what the orders hold add up to the initial stock exactly
 * (the reservation is in the order's own event, so a replay rebuilds the
 * stock), every answered order is there, and ordering on to the end makes
 * exactly 50 orders, never more.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Order, Product } from '../src/protocol.ts';
import { pool, request, waitFor } from './helpers.ts';
import { MAIN, allOrders, startProcess } from './processes.ts';

const INITIAL_STOCK = 50;
const dataDir = mkdtempSync(join(tmpdir(), 'liveorders-catalog-kill-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Units the orders hold: every order with lines that was not cancelled. */
function reserved(orders: readonly Order[], sku: string): number {
  let units = 0;
  for (const order of orders) {
    if (order.status === 'cancelled') continue;
    for (const line of order.lines ?? []) if (line.sku === sku) units += line.quantity;
  }
  return units;
}

test('kill -9 in the middle of 200 concurrent orders against a stock of 50: stock + reserved = 50 after the restart, and never more than 50 orders', async (t) => {
  const first = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dataDir });
  t.after(() => first.child.kill('SIGKILL'));
  const product = await request(first.base, 'POST', '/api/products', { sku: 'LAMP', name: 'Lamp', priceCents: 4500, stock: INITIAL_STOCK });
  assert.equal(product.status, 201, product.text);

  const created = new Map<string, Order>();
  const cancelled = new Set<string>();
  let outOfStock = 0;
  const attempt = async (i: number): Promise<void> => {
    try {
      const answer = await request(first.base, 'POST', '/api/orders', { customerName: `Buyer ${i}`, lines: [{ sku: 'LAMP', quantity: 1 }] });
      if (answer.status === 409) outOfStock++;
      if (answer.status !== 201) return;
      const order = answer.body as Order;
      created.set(order.id, order);
      // One in four is cancelled right away: its unit goes back.
      if (i % 4 === 0) {
        const moved = await request(first.base, 'PATCH', `/api/orders/${order.id}/status`, { status: 'cancelled' });
        if (moved.status === 200) cancelled.add(order.id);
      }
    } catch {
      // The process is gone.
    }
  };
  // Twenty connections at a time, so cancels interleave with creates and the kill lands mid-way.
  const inFlight = pool(20, Array.from({ length: 200 }, (_, i) => () => attempt(i)));
  await waitFor(() => created.size >= 25 && cancelled.size >= 3, 'orders and cancels under way', 60_000);
  first.child.kill('SIGKILL');
  await inFlight;
  await first.exited;

  const second = await startProcess(process.execPath, ['--import', 'tsx', MAIN], { DATA_DIR: dataDir });
  t.after(() => second.child.kill('SIGKILL'));
  const orders = await allOrders(second.base);
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const id of created.keys()) assert.ok(byId.has(id), `order ${id} (answered 201) survived`);
  for (const id of cancelled) assert.equal(byId.get(id)?.status, 'cancelled', `cancel of ${id} (answered 200) survived`);
  const lamp = (await request(second.base, 'GET', '/api/products/LAMP')).body as Product;
  assert.ok(lamp.stock >= 0);
  assert.equal(lamp.stock + reserved(orders, 'LAMP'), INITIAL_STOCK, `stock ${lamp.stock} + reserved ${reserved(orders, 'LAMP')}`);
  t.diagnostic(`killed after ${created.size} created (${cancelled.size} cancelled), ${outOfStock} out of stock; after the restart ${orders.length} orders, stock ${lamp.stock}`);

  // Order on until the stock is gone: never more than 50 units held in all.
  let refused = 0;
  for (let round = 0; round < 200 && refused === 0; round++) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(second.base, 'POST', '/api/orders', { customerName: `Late ${round}-${i}`, lines: [{ sku: 'LAMP', quantity: 1 }] })));
    for (const answer of answers) {
      if (answer.status === 409) {
        refused++;
        assert.equal((answer.body as { code: string }).code, 'LO_ERR_OUT_OF_STOCK');
      } else {
        assert.equal(answer.status, 201, answer.text);
      }
    }
  }
  const final = await allOrders(second.base);
  const stock = ((await request(second.base, 'GET', '/api/products/LAMP')).body as Product).stock;
  assert.equal(stock, 0);
  assert.equal(reserved(final, 'LAMP'), INITIAL_STOCK, 'exactly the initial stock is held by orders, none oversold');

  // Cancelling restores.
  const some = final.find((o) => o.status === 'pending' && o.lines !== undefined)!;
  assert.equal((await request(second.base, 'PATCH', `/api/orders/${some.id}/status`, { status: 'cancelled' })).status, 200);
  assert.equal(((await request(second.base, 'GET', '/api/products/LAMP')).body as Product).stock, 1);
});
