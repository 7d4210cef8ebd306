/**
 * Start-up time and disk use of the journal (figure 7c), in a process of its
 * own: fill a data folder with `n` orders through the journal's own append
 * (batches of a thousand, as a busy server groups them), then time how long
 * an instance takes to be ready to serve from it: opening the folder and
 * building the projection, first from the journal alone, then again after a
 * compaction (a snapshot and an empty journal). Command over IPC: startup.
 */

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideCreate } from '../src/domain/decide.ts';
import { OrderProjection } from '../src/node.ts';
import { openJournalStorage, type JournalLog, type Storage } from '../src/store.ts';
import { createOrderIdGenerator } from '../src/node/order-id.ts';
import { createLogger } from '../src/support/logger.ts';
import { serve } from './ipc.ts';

const ITEMS = [{ name: 'widget', quantity: 2, price: 9.99 }, { name: 'cable', quantity: 1 }];
const BATCH = 1000;

function open(dir: string): Promise<Storage> {
  return openJournalStorage({ dir, logger: createLogger({ level: 'error' }), onSinkError: () => undefined });
}

/** Milliseconds from nothing to an instance ready to serve: the folder opened and read, the projection built. */
async function timeStart(dir: string): Promise<{ ms: number; storage: Storage }> {
  const started = process.hrtime.bigint();
  const storage = await open(dir);
  new OrderProjection(storage.initial);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, storage };
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/**
 * Fill a folder with `n` orders, then time the starts.
 * @param n orders
 */
async function startup(n: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'liveorders-startup-'));
  try {
    const filled = await open(dir);
    const newId = createOrderIdGenerator();
    const at = new Date().toISOString();
    for (let i = 0; i < n; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => filled.log.append(decideCreate(newId(), { customerName: `Customer ${i + k}`, items: ITEMS }, at)));
      await Promise.all(batch);
    }
    await filled.log.close();
    const journalBytes = folderBytes(dir);
    const fromJournal = await timeStart(dir);
    await (fromJournal.storage.log as JournalLog).compact();
    await fromJournal.storage.log.close();
    const snapshotBytes = folderBytes(dir);
    const fromSnapshot = await timeStart(dir);
    const orders = fromSnapshot.storage.initial.orders.length;
    await fromSnapshot.storage.log.close();
    if (orders !== n) throw new Error(`started with ${orders} orders, not ${n}`);
    return { fromJournalMs: fromJournal.ms, fromSnapshotMs: fromSnapshot.ms, journalBytesPerOrder: journalBytes / n, snapshotBytesPerOrder: snapshotBytes / n };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

serve({ startup: ({ n }) => startup(Number(n)) }, {});
