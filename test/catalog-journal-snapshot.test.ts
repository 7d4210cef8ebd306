/**
 * The catalog through a journal compaction: a snapshot holds every product
 * as of its seq, and a start from that snapshot plus the journal after it
 * has the stock the events made (the same as a replay of every event).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startCore } from '../src/node.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { JournalLog, openJournalStorage } from '../src/store.ts';
import { captureLogger } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'liveorders-catalog-snapshot-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function open() {
  return openJournalStorage({ dir, logger: captureLogger().logger, onSinkError: (error) => { throw error; } });
}

test('a snapshot keeps the products; a start from it and the journal after it has the stock the events made', async () => {
  const storage = await open();
  const core = startCore(storage, { newId: createOrderIdGenerator() });
  assert.ok((await core.catalog.createProduct({ sku: 'SNAP', name: 'Snap', priceCents: 100, stock: 20 })).ok);
  assert.ok((await core.catalog.createProduct({ sku: 'GONE', name: 'Gone', priceCents: 100, stock: 1 })).ok);
  for (let i = 0; i < 5; i++) assert.ok((await core.commands.create({ customerName: `Before ${i}`, items: [], lines: [{ sku: 'SNAP', quantity: 2 }] })).ok);
  assert.ok((await core.catalog.deleteProduct('GONE')).ok);
  await (storage.log as JournalLog).compact();
  assert.ok(readdirSync(dir).some((name) => name.endsWith('.snap')), 'a snapshot was written');
  const late = await core.commands.create({ customerName: 'After', items: [], lines: [{ sku: 'SNAP', quantity: 3 }] });
  assert.ok(late.ok);
  assert.ok((await core.commands.changeStatus(late.value.order.id, 'cancelled')).ok);
  assert.ok((await core.catalog.adjustStock('SNAP', 4)).ok);
  const before = core.catalog.product('SNAP');
  assert.equal(before?.stock, 20 - 10 + 4);
  core.stop();
  await storage.log.close();

  const again = await open();
  assert.deepEqual(again.initial.products, [before], 'the product as it was, and the deleted one gone');
  assert.equal(again.initial.orders.length, 6);
  await again.log.close();
});
