/**
 * @module store/journal/load
 * Start-up: the latest snapshot, then the journal after it, into the state
 * the instance serves from. A record cut short at the very end of the
 * journal (a crash in the middle of a write) is cut off and reported;
 * anything else that does not read back stops the start with the file and
 * the offset, and nothing is overwritten or deleted.
 */

import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Order, OrderEvent } from '../../protocol/orders.ts';
import { EventRing } from '../event-ring.ts';
import { IdempotencyTable } from '../idempotency.ts';
import { StorageStartError, listFolder, type FolderListing } from './files.ts';
import { FORMAT_VERSION, RECORD_HEADER_BYTES, asJournalEntry, asSnapshotItem, readRecord, type JournalEntry, type SegmentHeader, type SnapshotHeader } from './records.ts';

/** What start-up found. */
export interface LoadedJournal {
  /** Every order, as of `seq`. */
  readonly orders: Map<string, Order>;
  readonly keys: IdempotencyTable;
  /** The last seq on disk. */
  readonly seq: number;
  /** The most recent events, for replays and late tails. */
  readonly history: EventRing;
  /** The snapshot it started from, if any. */
  readonly snapshot: { readonly name: string; readonly seq: number; readonly bytes: number } | undefined;
  /** The segments read (those after the snapshot), oldest first; appends continue in the last. */
  readonly segments: readonly { readonly name: string; readonly firstSeq: number; readonly bytes: number }[];
  /** A record cut short at the end of the journal, which was cut off. */
  readonly torn: { readonly file: string; readonly offset: number; readonly bytes: number } | undefined;
  /** Files not needed: older snapshots, segments the snapshot covers, temp files of a write a crash stopped. */
  readonly stale: readonly string[];
}

/** Options for {@link loadJournal}. */
export interface LoadOptions {
  /** The folder's epoch: every file must belong to it. */
  readonly epoch: string;
  /** Events kept in memory for replays. */
  readonly historyCapacity: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Read the folder's snapshot and journal.
 * @param dir the data folder (locked by this process)
 * @param options the epoch and how much history to keep
 */
export async function loadJournal(dir: string, options: LoadOptions): Promise<LoadedJournal> {
  const listing = await listFolder(dir);
  const orders = new Map<string, Order>();
  const keys = new IdempotencyTable(options.now === undefined ? {} : { now: options.now });
  const latest = listing.snapshots.at(-1);
  let seq = 0;
  let snapshot: LoadedJournal['snapshot'];
  if (latest !== undefined) {
    const bytes = await readSnapshot(join(dir, latest.name), options.epoch, latest.seq, orders, keys);
    seq = latest.seq;
    snapshot = { name: latest.name, seq, bytes };
  }
  const history = new EventRing(options.historyCapacity, seq);
  const toRead = segmentsAfter(listing, seq);
  const segments: { name: string; firstSeq: number; bytes: number }[] = [];
  let torn: LoadedJournal['torn'];
  for (const [i, segment] of toRead.entries()) {
    const last = i === toRead.length - 1;
    const read = await readSegment(join(dir, segment.name), segment.firstSeq, options.epoch, seq, last, (entry) => {
      seq = entry.event.seq;
      applyEvent(orders, entry.event);
      if (entry.claim !== undefined) keys.set({ ...entry.claim, order: entry.event.order, seq: entry.event.seq });
      history.append(entry.event);
    });
    if (read.torn !== undefined) torn = { file: segment.name, ...read.torn };
    segments.push({ name: segment.name, firstSeq: segment.firstSeq, bytes: read.bytes });
  }
  const used = new Set([...(latest === undefined ? [] : [latest.name]), ...toRead.map((s) => s.name)]);
  const stale = [...listing.snapshots.map((s) => s.name), ...listing.segments.map((s) => s.name), ...listing.temporary].filter((name) => !used.has(name));
  return { orders, keys, seq, history, snapshot, segments, torn, stale };
}

/**
 * The segments that may hold events after `seq`: the last one that starts
 * at or before `seq + 1`, and every later one. Earlier ones are covered by
 * the snapshot (a compaction that stopped before removing them).
 */
function segmentsAfter(listing: FolderListing, seq: number): FolderListing['segments'] {
  let first = 0;
  for (let i = 0; i < listing.segments.length; i++) if (listing.segments[i]!.firstSeq <= seq + 1) first = i;
  return listing.segments.slice(first);
}

/** Apply an event to the loading state (the same effect as the projection's). */
export function applyEvent(orders: Map<string, Order>, event: OrderEvent): void {
  if (event.type === 'order.deleted') orders.delete(event.order.id);
  else orders.set(event.order.id, event.order);
}

function refuse(path: string, offset: number, what: string): StorageStartError {
  return new StorageStartError(
    `${path} does not read back at byte ${offset}: ${what}. Nothing was changed. Restore the data folder from a backup, or move this file away to start from what precedes it`,
  );
}

/** Read a snapshot into `orders` and `keys`; returns its size. */
async function readSnapshot(path: string, epoch: string, seq: number, orders: Map<string, Order>, keys: IdempotencyTable): Promise<number> {
  const bytes = await readFile(path);
  let offset = 0;
  let header: SnapshotHeader | undefined;
  let items = 0;
  for (;;) {
    const read = readRecord(bytes, offset);
    if (read.kind === 'torn') throw refuse(path, offset, offset === bytes.length ? 'the snapshot ends before its last record' : 'a record cut short');
    if (read.kind === 'corrupt') throw refuse(path, offset, read.reason);
    const payload = read.payload as Record<string, unknown>;
    if (header === undefined) {
      header = payload as unknown as SnapshotHeader;
      if (header.journal !== 'liveorders snapshot' || header.version !== FORMAT_VERSION || header.seq !== seq) throw refuse(path, offset, 'not a liveorders snapshot of this seq');
      if (header.epoch !== epoch) throw refuse(path, offset, `a snapshot of another history (epoch ${String(header.epoch)})`);
    } else if (payload.end === true) {
      if (payload.records !== items || items !== header.orders + header.keys) throw refuse(path, offset, `${items} records where the snapshot counts ${String(payload.records)}`);
      if (read.next !== bytes.length) throw refuse(path, read.next, 'data after the end of the snapshot');
      return bytes.length;
    } else {
      const item = asSnapshotItem(payload);
      if (item === undefined) throw refuse(path, offset, 'a record that is neither an order nor an idempotency key');
      if ('order' in item) orders.set(item.order.id, item.order);
      else keys.set(item.key);
      items++;
    }
    offset = read.next;
  }
}

/**
 * Read a segment's entries after `after`, in order. The last segment may
 * end in a record cut short: it is cut off (the file truncated there).
 */
async function readSegment(
  path: string,
  firstSeq: number,
  epoch: string,
  after: number,
  last: boolean,
  apply: (entry: JournalEntry) => void,
): Promise<{ bytes: number; torn?: { offset: number; bytes: number } }> {
  const bytes = await readFile(path);
  let offset = 0;
  let expected = after + 1;
  let headerRead = false;
  while (offset < bytes.length) {
    // The segment's space is allocated ahead with zeros: where only zeros are left, the journal ends.
    if (last && headerRead && zerosFrom(bytes, offset)) return { bytes: offset };
    const read = readRecord(bytes, offset);
    if (read.kind !== 'record') {
      if (last && cutShort(bytes, offset, read.kind)) {
        await cutAt(path, offset);
        return { bytes: offset, torn: { offset, bytes: bytes.length - offset } };
      }
      throw refuse(path, offset, read.kind === 'torn' ? 'a record cut short before the end of the journal' : read.reason);
    }
    if (!headerRead) {
      const header = read.payload as SegmentHeader;
      if (header.journal !== 'liveorders segment' || header.version !== FORMAT_VERSION || header.firstSeq !== firstSeq) throw refuse(path, offset, 'not a liveorders journal segment');
      if (header.epoch !== epoch) throw refuse(path, offset, `a segment of another history (epoch ${String(header.epoch)})`);
      headerRead = true;
    } else {
      const entry = asJournalEntry(read.payload);
      if (entry === undefined) throw refuse(path, offset, 'a record that is not a journal entry');
      const seq = entry.event.seq;
      if (seq >= expected) {
        if (seq !== expected) throw refuse(path, offset, `seq ${seq} where ${expected} was next`);
        apply(entry);
        expected++;
      }
    }
    offset = read.next;
  }
  if (!headerRead && last && bytes.length === 0) return { bytes: 0 };
  if (!headerRead) throw refuse(path, 0, 'an empty segment in the middle of the journal');
  return { bytes: bytes.length };
}

/**
 * Whether the bad record at `offset` is where writes a crash interrupted
 * begin: it runs past the end of the file, or it is zeros, or it ends in
 * zeros (the space allocated ahead, which the write did not reach). Flushes
 * overlap, so records written after it may have reached the disk while it
 * did not; none of them was answered (batches are answered in order, each
 * only once it and all before it are on disk), so they go with it. A
 * record that is all there (its JSON ends in `}`) but does not check out is
 * corruption, not a crash, and is refused.
 */
function cutShort(bytes: Buffer, offset: number, kind: 'torn' | 'corrupt'): boolean {
  if (kind === 'torn') return true;
  const length = bytes.readUInt32BE(offset);
  const end = offset + RECORD_HEADER_BYTES + length;
  return length === 0 || (end <= bytes.length && bytes[end - 1] === 0);
}

/** Whether every byte from `offset` to the end is zero. */
function zerosFrom(bytes: Buffer, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Cut a segment at `offset` and make that durable. */
async function cutAt(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
