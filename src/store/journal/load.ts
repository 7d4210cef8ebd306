/**
 * @module store/journal/load
 * Start-up: the latest snapshot, then the journal after it, into the state
 * the instance serves from. A segment ends where only zeros (space
 * allocated ahead) are left. A tail torn by a crash (an unfinished record
 * with nothing valid after it) is cut off, once everything read back, and
 * reported; anything else that does not read back, and a segment missing
 * from the history, stops the start with the file and the offset, and
 * nothing is overwritten or deleted.
 */

import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Product } from '../../domain/catalog.ts';
import type { LogEvent } from '../../domain/events.ts';
import type { Order } from '../../protocol/orders.ts';
import { EventRing } from '../event-ring.ts';
import { IdempotencyTable } from '../idempotency.ts';
import { judgeDamage } from './damage.ts';
import { StorageStartError, listFolder, segmentName, type FolderListing } from './files.ts';
import { FORMAT_VERSION, asJournalEntry, asSnapshotItem, readRecord, type JournalEntry, type SegmentHeader, type SnapshotHeader } from './records.ts';

/** A tail torn by a crash: where it starts in which segment, and how many bytes it has (zeros after it included). */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
}

/** What start-up found. */
export interface LoadedJournal {
  /** Every order, as of `seq`. */
  readonly orders: Map<string, Order>;
  /** Every product, as of `seq`. */
  readonly products: Map<string, Product>;
  readonly keys: IdempotencyTable;
  /** The last seq on disk. */
  readonly seq: number;
  /** The most recent events, for replays and late tails. */
  readonly history: EventRing;
  /** The snapshot it started from, if any. */
  readonly snapshot: { readonly name: string; readonly seq: number; readonly bytes: number } | undefined;
  /** The segments read (those after the snapshot), oldest first, each with where its records end; appends continue in the last. */
  readonly segments: readonly { readonly name: string; readonly firstSeq: number; readonly bytes: number }[];
  /** Tails torn by a crash: cut off (unless {@link LoadOptions.cut} is false). */
  readonly torn: readonly TornTail[];
  /** Files not needed: older snapshots, segments the snapshot covers, temp files of a write a crash stopped. */
  readonly stale: readonly string[];
}

/** Options for {@link loadJournal}. */
export interface LoadOptions {
  /** The folder's epoch: every file must belong to it. */
  readonly epoch: string;
  /** Events kept in memory for replays. */
  readonly historyCapacity: number;
  /** Cut torn tails off on disk (false: only report them). @default true */
  readonly cut?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What a refusal advises: never a step that drops data. */
const SAFE_STEPS =
  'Nothing was changed. Keep the data folder as it is (copy it somewhere safe before trying anything), and restore the file from a backup copy of the folder; `npm run journal -- check` reports what a start finds';

/**
 * Read the folder's snapshot and journal. Nothing on disk changes unless
 * everything reads back; then torn tails are cut off (see {@link LoadOptions.cut}).
 * @param dir the data folder (locked by this process, unless only reading)
 * @param options the epoch and how much history to keep
 */
export async function loadJournal(dir: string, options: LoadOptions): Promise<LoadedJournal> {
  const listing = await listFolder(dir);
  const orders = new Map<string, Order>();
  const products = new Map<string, Product>();
  const keys = new IdempotencyTable(options.now === undefined ? {} : { now: options.now });
  const latest = listing.snapshots.at(-1);
  let seq = 0;
  let snapshot: LoadedJournal['snapshot'];
  if (latest !== undefined) {
    const bytes = await readSnapshot(join(dir, latest.name), options.epoch, latest.seq, orders, products, keys);
    seq = latest.seq;
    snapshot = { name: latest.name, seq, bytes };
  }
  const history = new EventRing(options.historyCapacity, seq);
  const toRead = segmentsAfter(listing, seq);
  const first = toRead[0];
  // A compaction starts the segment after its snapshot before it writes the snapshot, so that segment is always there.
  if (first === undefined ? latest !== undefined : first.firstSeq > seq + 1) {
    const missing = segmentName(seq + 1);
    throw new StorageStartError(
      `${join(dir, missing)} is missing: the events after seq ${seq}${latest === undefined ? '' : ` (where ${latest.name} ends)`} are in no file, so the journal cannot start from what is left. ${SAFE_STEPS.replace('the file', `${missing}`)}`,
    );
  }
  const segments: { name: string; firstSeq: number; bytes: number }[] = [];
  const torn: TornTail[] = [];
  for (const [i, segment] of toRead.entries()) {
    const path = join(dir, segment.name);
    if (i > 0 && segment.firstSeq > seq + 1) {
      throw new StorageStartError(
        `${join(dir, segmentName(seq + 1))} is missing: ${toRead[i - 1]!.name} ends at seq ${seq} and ${segment.name} starts at ${segment.firstSeq}. ${SAFE_STEPS.replace('the file', 'the missing segment')}`,
      );
    }
    const next = toRead[i + 1];
    const read = await readSegment(path, segment.firstSeq, options.epoch, seq, (entry) => {
      seq = entry.event.seq;
      applyEvent(orders, products, entry.event);
      if (entry.claim !== undefined && 'order' in entry.event) keys.set({ ...entry.claim, order: entry.event.order, seq: entry.event.seq });
      history.append(entry.event);
    });
    if (read.empty && next !== undefined) throw refuse(path, 0, 'an empty segment in the middle of the journal');
    if (read.torn !== undefined) torn.push({ file: segment.name, ...read.torn });
    segments.push({ name: segment.name, firstSeq: segment.firstSeq, bytes: read.bytes });
  }
  // Only once everything read back: a refusal leaves every file as it was.
  if (options.cut !== false) for (const tail of torn) await cutAt(join(dir, tail.file), tail.offset);
  const used = new Set([...(latest === undefined ? [] : [latest.name]), ...toRead.map((s) => s.name)]);
  const stale = [...listing.snapshots.map((s) => s.name), ...listing.segments.map((s) => s.name), ...listing.temporary].filter((name) => !used.has(name));
  return { orders, products, keys, seq, history, snapshot, segments, torn, stale };
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
export function applyEvent(orders: Map<string, Order>, products: Map<string, Product>, event: LogEvent): void {
  if (event.type === 'product.changed') products.set(event.product.sku, event.product);
  else if (event.type === 'product.deleted') products.delete(event.product.sku);
  else {
    if (event.type === 'order.deleted') orders.delete(event.order.id);
    else orders.set(event.order.id, event.order);
    // The stock the order moved is in its event: a replay rebuilds it exactly.
    if (event.products !== undefined) for (const product of event.products) products.set(product.sku, product);
  }
}

function refuse(path: string, offset: number, what: string): StorageStartError {
  return new StorageStartError(`${path} does not read back at byte ${offset}: ${what}. ${SAFE_STEPS}`);
}

/** Read a snapshot into `orders` and `keys`; returns its size. */
async function readSnapshot(path: string, epoch: string, seq: number, orders: Map<string, Order>, products: Map<string, Product>, keys: IdempotencyTable): Promise<number> {
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
      if (payload.records !== items || items !== header.orders + header.keys + (header.products ?? 0)) throw refuse(path, offset, `${items} records where the snapshot counts ${String(payload.records)}`);
      if (read.next !== bytes.length) throw refuse(path, read.next, 'data after the end of the snapshot');
      return bytes.length;
    } else {
      const item = asSnapshotItem(payload);
      if (item === undefined) throw refuse(path, offset, 'a record that is neither an order nor an idempotency key');
      if ('order' in item) orders.set(item.order.id, item.order);
      else if ('product' in item) products.set(item.product.sku, item.product);
      else keys.set(item.key);
      items++;
    }
    offset = read.next;
  }
}


/** A segment read back: where its records end, the tail a crash tore (if any), or that it holds nothing. */
interface SegmentRead {
  readonly bytes: number;
  readonly torn?: { readonly offset: number; readonly bytes: number };
  /** No header: a segment a crash interrupted while it was started (zeros or nothing). */
  readonly empty?: true;
}

/**
 * Read a segment's entries after `after`, in order. It ends where only zeros
 * are left, or at a tail torn by a crash (reported, not cut here).
 */
async function readSegment(path: string, firstSeq: number, epoch: string, after: number, apply: (entry: JournalEntry) => void): Promise<SegmentRead> {
  const bytes = await readFile(path);
  let offset = 0;
  let expected = after + 1;
  let lastSeq = firstSeq - 1;
  let headerRead = false;
  while (offset < bytes.length) {
    // The segment's space is allocated ahead with zeros: where only zeros are left, its records end.
    if (zerosFrom(bytes, offset)) return headerRead ? { bytes: offset } : { bytes: 0, empty: true };
    const read = readRecord(bytes, offset);
    if (read.kind !== 'record') {
      const damage = judgeDamage(bytes, offset, read, lastSeq);
      if (damage.kind === 'corrupt') throw refuse(path, offset, damage.reason);
      return offset === 0 ? { bytes: 0, empty: true, torn: { offset, bytes: bytes.length } } : { bytes: offset, torn: { offset, bytes: bytes.length - offset } };
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
      lastSeq = seq;
    }
    offset = read.next;
  }
  return headerRead ? { bytes: bytes.length } : { bytes: 0, empty: true };
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
