/**
 * @module store/journal/compaction
 * Snapshots: every order and live idempotency key at one seq, written in
 * the background in chunks (so the event loop keeps serving), atomically
 * (temp file, fsync, rename, fsync of the folder). Start-up then reads the
 * snapshot and only the journal after it, so its time and the disk used
 * stay bounded however long the service runs.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeOrderUncached } from '../../protocol/encode.ts';
import type { Product } from '../../domain/catalog.ts';
import type { Order } from '../../protocol/orders.ts';
import type { IdempotencyRecord } from '../ports.ts';
import { snapshotName, writeFileAtomically } from './files.ts';
import { FORMAT_VERSION, encodeRecord, type SnapshotEnd, type SnapshotHeader } from './records.ts';

/** Records serialised per chunk before the event loop gets a turn. */
const RECORDS_PER_CHUNK = 2000;

/** What the last compaction did, for `/api/stats`. */
export interface CompactionReport {
  readonly at: string;
  readonly seq: number;
  readonly orders: number;
  readonly snapshotBytes: number;
  readonly ms: number;
  /** Files it replaced and removed. */
  readonly removed: number;
}

/**
 * Write the snapshot of `orders` and `keys` at `seq`.
 * @param dir the data folder
 * @param epoch the folder's epoch
 * @param seq the seq the state is at
 * @param orders every order at `seq` (immutable objects: the array is a consistent view)
 * @param keys the live idempotency records at `seq`
 * @returns the snapshot's name and size
 */
export async function writeSnapshot(dir: string, epoch: string, seq: number, orders: readonly Order[], keys: readonly IdempotencyRecord[], products: readonly Product[] = []): Promise<{ name: string; seq: number; bytes: number }> {
  const name = snapshotName(seq);
  const bytes = await writeFileAtomically(dir, name, snapshotChunks(epoch, seq, orders, keys, products));
  return { name, seq, bytes };
}

async function* snapshotChunks(epoch: string, seq: number, orders: readonly Order[], keys: readonly IdempotencyRecord[], products: readonly Product[]): AsyncGenerator<Buffer> {
  const header: SnapshotHeader = { journal: 'liveorders snapshot', version: FORMAT_VERSION, epoch, seq, orders: orders.length, keys: keys.length, ...(products.length === 0 ? {} : { products: products.length }), takenAt: new Date().toISOString() };
  yield encodeRecord(JSON.stringify(header));
  for (let i = 0; i < orders.length; i += RECORDS_PER_CHUNK) {
    yield Buffer.concat(orders.slice(i, i + RECORDS_PER_CHUNK).map((order) => encodeRecord(`{"o":${encodeOrderUncached(order)}}`)));
    await nextTurn();
  }
  for (let i = 0; i < keys.length; i += RECORDS_PER_CHUNK) {
    yield Buffer.concat(keys.slice(i, i + RECORDS_PER_CHUNK).map((key) => encodeRecord(JSON.stringify({ k: key }))));
    await nextTurn();
  }
  // Products are few: one chunk.
  if (products.length > 0) yield Buffer.concat(products.map((product) => encodeRecord(JSON.stringify({ p: product }))));
  const end: SnapshotEnd = { end: true, records: orders.length + keys.length + products.length };
  yield encodeRecord(JSON.stringify(end));
}
