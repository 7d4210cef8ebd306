/**
 * @module store/journal/journal-log
 * The journal backend: every accepted change is appended to a segment file
 * as one record and flushed with fdatasync before its writer is answered
 * and before any tail sees it. Appends that arrive while a flush runs share
 * the next one (group commit), so a burst pays one fdatasync per batch,
 * not per write; writes run off the event loop.
 *
 * Atomicity: an append is checked against the durable state, in one
 * synchronous step; a change to an order (or a claim of a key) that waits
 * for its flush makes a later append to the same order wait for that flush
 * first, so a check never depends on a write that may still fail. When a
 * write or flush fails (ENOSPC, EIO), the batch, and everything queued
 * after it, is refused with a StorageUnavailableError, the file is cut back
 * to what was durable, and the next append tries again.
 */

import { hrtime } from 'node:process';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isOrderChange, productWrites, versionBefore, type Change } from '../../domain/decide.ts';
import { encodeEventUncached } from '../../protocol/encode.ts';
import type { Product } from '../../domain/catalog.ts';
import type { LogEvent } from '../../domain/events.ts';
import type { Order } from '../../protocol/orders.ts';
import type { Logger } from '../../support/logger.ts';
import { StorageUnavailableError } from '../errors.ts';
import type { IdempotencyTable } from '../idempotency.ts';
import { withSeq } from '../with-seq.ts';
import type { AppendOutcome, EventSink, IdempotencyClaim, IdempotencyRecord, OrderLog, StorageHealth, StorageStats } from '../ports.ts';
import { LatencySamples } from '../latency-samples.ts';
import { TailFeed } from '../tail-feed.ts';
import { writeSnapshot, type CompactionReport } from './compaction.ts';
import { syncFolder, writeAll } from './files.ts';
import type { FolderLock } from './lock.ts';
import { applyEvent, type LoadedJournal } from './load.ts';
import { encodeRecords, journalEntry } from './records.ts';
import { closeSegment, extend, newSegment, readSegmentEvents, reopenSegment, type Segment } from './segments.ts';

/** Settings for {@link JournalLog}. */
export interface JournalLogOptions {
  readonly dir: string;
  readonly epoch: string;
  /** Start a compaction once the current segment passes this many bytes (or the last snapshot's size, if larger). @default 64 MiB */
  readonly compactAfterBytes?: number;
  /** Space allocated ahead of the writes, with zeros (0: none). @default 4 MiB */
  readonly preallocateBytes?: number;
  readonly logger: Logger;
  /** Told when a tail's consumer throws. */
  readonly onSinkError: (error: unknown) => void;
}

/** Default {@link JournalLogOptions.compactAfterBytes}. */
export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** Durations of batch flushes (write and fdatasync) kept for the stats. */
const FLUSH_SAMPLES = 512;

/**
 * Default space a segment is extended by, with zeros, ahead of its writes.
 * An append then does not change the file's size, so fdatasync has no
 * metadata to write: it took half the time here (see BENCHMARKS.md).
 */
export const DEFAULT_PREALLOCATE_BYTES = 4 * 1024 * 1024;

/** An append waiting for its flush. */
interface Queued {
  /** The journal entry's JSON, framed with the others of its batch when it is written. */
  readonly entry: string;
  readonly event: LogEvent;
  readonly claim: IdempotencyClaim | undefined;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Flushes in the air at once. Overlapping fdatasyncs of one file do finish
 * sooner, but under load one flight with bigger batches gave more writes per
 * second (BENCHMARKS.md, figure 7).
 */
const MAX_FLIGHTS = 1;

/** A batch being written and flushed. */
interface Flight {
  readonly batch: readonly Queued[];
  readonly segment: Segment;
  readonly offset: number;
  readonly length: number;
  done: boolean;
  error: unknown;
}

/** Orders, keys and history on disk, appended to with group commit. */
export class JournalLog implements OrderLog {
  readonly epoch: string;
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #compactAfterBytes: number;
  readonly #preallocateBytes: number;
  readonly #orders: Map<string, Order>;
  readonly #products: Map<string, Product>;
  readonly #keys: IdempotencyTable;
  readonly #feed: TailFeed;
  readonly #lock: FolderLock;
  /** Orders and keys with a change waiting for its flush; a later append to them waits for it. */
  readonly #waitingOrders = new Set<string>();
  readonly #waitingKeys = new Set<string>();
  /** Products with a change waiting for its flush: a later change to them waits for it, then compares versions. */
  readonly #waitingProducts = new Set<string>();
  #queue: Queued[] = [];
  /** Batches being written and flushed, oldest first. */
  #flights: Flight[] = [];
  /** Where the next batch goes in the segment. */
  #nextOffset: number;
  /** The extension of the segment under way, if any. */
  #extending: Promise<void> | undefined;
  /** The error of a flight that failed, while the flights after it land. */
  #failing: unknown;
  #launchScheduled = false;
  /** Set while a compaction moves appends to a new segment: flushes wait. */
  #rolling = false;
  /** Resolved whenever a flush ends, well or not. */
  #flushEnded: (() => void)[] = [];
  /** The last seq handed out (durable, or waiting for its flush). */
  #seq: number;
  /** The last seq on disk. */
  #durableSeq: number;
  #segment: Segment;
  /** The segments before the current one, oldest first, with where their records end. */
  #olderSegments: { name: string; bytes: number }[];
  #snapshot: { name: string; seq: number; bytes: number } | undefined;
  /** Files start-up did not need (older snapshots, segments a snapshot covers, temp files): removed by the next compaction. */
  readonly #stale: string[];
  #compaction: Promise<void> | undefined;
  #lastCompaction: CompactionReport | undefined;
  #failure: { code: string; message: string; since: string } | undefined;
  readonly #flushMs = new LatencySamples(FLUSH_SAMPLES);
  #closed = false;

  private constructor(options: JournalLogOptions, loaded: LoadedJournal, segment: Segment, lock: FolderLock) {
    this.epoch = options.epoch;
    this.#dir = options.dir;
    this.#logger = options.logger;
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#preallocateBytes = options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    this.#orders = loaded.orders;
    this.#products = loaded.products;
    this.#keys = loaded.keys;
    this.#seq = loaded.seq;
    this.#durableSeq = loaded.seq;
    this.#segment = segment;
    this.#nextOffset = segment.bytes;
    this.#olderSegments = loaded.segments.filter((s) => s.name !== segment.name).map((s) => ({ name: s.name, bytes: s.bytes }));
    this.#snapshot = loaded.snapshot;
    this.#stale = [...loaded.stale];
    this.#lock = lock;
    // No copy of recent events here: the live node keeps the one in-memory history; late tails read the journal.
    this.#feed = new TailFeed((after, limit) => this.replay({ seq: after, epoch: this.epoch }, limit), options.onSinkError);
  }

  /**
   * Continue a loaded journal: appends go on at the end of its last segment
   * (or a new one).
   * @param options folder, epoch, logging
   * @param loaded what start-up read
   * @param lock the folder's lock, released on close
   */
  static async continue(options: JournalLogOptions, loaded: LoadedJournal, lock: FolderLock): Promise<JournalLog> {
    const last = loaded.segments.at(-1);
    // A last segment that is empty (a crash right after it was created) gets its header now.
    const reuse = last !== undefined && last.bytes === 0 && last.firstSeq === loaded.seq + 1 ? last.name : undefined;
    const preallocate = options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    const segment = last !== undefined && last.bytes > 0 ? await reopenSegment(options.dir, last) : await newSegment(options.dir, options.epoch, loaded.seq + 1, preallocate, reuse);
    return new JournalLog(options, loaded, segment, lock);
  }

  async append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    const id = isOrderChange(change) ? change.order.id : undefined;
    const products = productWrites(change);
    // A change to the same order or product, or a claim of the same key, waiting for its flush: decide after it.
    while (
      (id !== undefined && this.#waitingOrders.has(id)) ||
      products.some(({ sku }) => this.#waitingProducts.has(sku)) ||
      (claim !== undefined && this.#waitingKeys.has(claim.key))
    ) {
      await this.#nextFlushEnd();
    }
    if (this.#closed) throw new StorageUnavailableError('ECLOSED', 'the journal is closed');
    while (this.#failing !== undefined) await this.#nextFlushEnd();
    if (isOrderChange(change) && (this.#orders.get(change.order.id)?.version ?? 0) !== versionBefore(change)) return { kind: 'conflict', headSeq: this.#durableSeq };
    for (const { sku, before } of products) if ((this.#products.get(sku)?.version ?? 0) !== before) return { kind: 'conflict', headSeq: this.#durableSeq };
    if (claim !== undefined) {
      const record = this.#keys.get(claim.key);
      if (record !== undefined) return { kind: 'duplicate', record };
    }
    const event = withSeq(change, ++this.#seq);
    if (id !== undefined) this.#waitingOrders.add(id);
    for (const { sku } of products) this.#waitingProducts.add(sku);
    if (claim !== undefined) this.#waitingKeys.add(claim.key);
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.#queue.push({ entry: journalEntry(encodeEventUncached(event), claim), event, claim, resolve, reject });
      this.#startFlushing();
    });
  }

  findIdempotent(key: string): Promise<IdempotencyRecord | undefined> {
    return Promise.resolve(this.#keys.get(key));
  }

  async replay(after: { seq: number; epoch: string }, limit: number): Promise<readonly LogEvent[] | 'reset'> {
    if (after.epoch !== this.epoch || after.seq > this.#durableSeq) return 'reset';
    if (after.seq === this.#durableSeq) return [];
    // The journal since the last snapshot has it, if it is that recent.
    if (after.seq + 1 < this.#segmentsStart()) return 'reset';
    return readSegmentEvents(this.#dir, [...this.#olderSegments, this.#segment], after.seq, Math.min(limit, this.#durableSeq - after.seq));
  }

  tail(after: number, sink: EventSink): () => void {
    return this.#feed.add(after, this.#durableSeq, sink);
  }

  stats(): StorageStats {
    return {
      mode: 'journal',
      dataDir: this.#dir,
      durableSeq: this.#durableSeq,
      journalBytes: this.#segment.bytes,
      segment: this.#segment.name,
      snapshot: this.#snapshot === undefined ? null : { seq: this.#snapshot.seq, bytes: this.#snapshot.bytes },
      lastCompaction: this.#lastCompaction ?? null,
      flushes: this.#flushMs.summary(),
      idempotencyKeys: this.#keys.size,
      failure: this.#failure ?? null,
    };
  }

  health(): StorageHealth {
    if (this.#closed) return { ready: false, reason: 'closed' };
    return this.#failure === undefined ? { ready: true } : { ready: false, reason: this.#failure.code, since: this.#failure.since };
  }

  /**
   * Write a snapshot of every order now and start a new segment; once the
   * snapshot is durable, remove the segments and snapshots it replaces.
   * Runs in the background; resolves when done (one at a time).
   */
  compact(): Promise<void> {
    this.#compaction ??= this.#compact().finally(() => (this.#compaction = undefined));
    return this.#compaction;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flights.length > 0) await this.#nextFlushEnd();
    await this.#compaction?.catch(() => undefined);
    await this.#segment.handle.close().catch(() => undefined);
    await this.#lock.release();
  }

  /**
   * Launch a flight for what is queued, at the end of this turn: every
   * append made in the turn (the requests of one read from the network)
   * joins it, rather than the first flying alone and the rest waiting.
   */
  #startFlushing(): void {
    if (this.#launchScheduled) return;
    this.#launchScheduled = true;
    setImmediate(() => {
      this.#launchScheduled = false;
      this.#launchWhatWaits();
    });
  }

  #launchWhatWaits(): void {
    while (!this.#rolling && this.#failing === undefined && this.#queue.length > 0 && this.#flights.length < MAX_FLIGHTS) this.#launch();
  }

  /**
   * Write and flush what is queued, at the next place in the segment.
   * Flights overlap (the disk takes concurrent flushes faster than one
   * after another), but are committed in order: a batch is answered only
   * once it and every batch before it are on disk.
   */
  #launch(): void {
    const batch = this.#queue;
    this.#queue = [];
    const bytes = encodeRecords(batch.map((q) => q.entry));
    const flight: Flight = { batch, segment: this.#segment, offset: this.#nextOffset, length: bytes.length, done: false, error: undefined };
    this.#nextOffset += bytes.length;
    this.#flights.push(flight);
    void this.#fly(flight, bytes);
  }

  async #fly(flight: Flight, bytes: Buffer): Promise<void> {
    const { segment } = flight;
    try {
      await this.#allocate(segment, flight.offset + flight.length);
      const started = hrtime.bigint();
      await writeAll(segment.handle, bytes, flight.offset);
      await segment.handle.datasync();
      this.#flushMs.record(Number(hrtime.bigint() - started) / 1e6);
    } catch (error) {
      flight.error = error;
    }
    flight.done = true;
    await this.#land();
  }

  /** Space up to `end` allocated ahead: one extension at a time, never over bytes a flight wrote. */
  async #allocate(segment: Segment, end: number): Promise<void> {
    // Without space allocated ahead, the file simply grows with its writes.
    if (this.#preallocateBytes === 0) return;
    while (end > segment.allocated) {
      this.#extending ??= extend(segment, end - segment.bytes, this.#preallocateBytes).finally(() => (this.#extending = undefined));
      await this.#extending;
      if (end > segment.allocated) throw Object.assign(new Error('no space left to extend the journal'), { code: 'ENOSPC' });
    }
  }

  /** Commit the flights that are done, in order; after a failure, refuse the rest and cut the segment back once none is in the air. */
  async #land(): Promise<void> {
    while (this.#flights[0]?.done === true) {
      const flight = this.#flights.shift()!;
      if (flight.error !== undefined && this.#failing === undefined) this.#failing = flight.error;
      if (this.#failing === undefined) this.#commit(flight);
      else this.#refuse(flight.batch);
    }
    if (this.#failing !== undefined && this.#flights.length === 0) await this.#recover(this.#failing);
    for (const wake of this.#flushEnded.splice(0)) wake();
    // What queued while the flight was in the air has waited long enough.
    this.#launchWhatWaits();
    if (!this.#closed && this.#compaction === undefined && this.#segment.bytes > Math.max(this.#compactAfterBytes, this.#snapshot?.bytes ?? 0)) {
      void this.compact();
    }
  }

  /** A flight is on disk, and every one before it: make it the durable state, answer it, and give it to the tails. */
  #commit(flight: Flight): void {
    for (const { event, claim, resolve } of flight.batch) {
      applyEvent(this.#orders, this.#products, event);
      if (claim !== undefined && 'order' in event) {
        this.#keys.set({ ...claim, order: event.order, seq: event.seq });
        this.#waitingKeys.delete(claim.key);
      }
      this.#stopWaiting(event);
      this.#durableSeq = event.seq;
      this.#feed.push(event);
      resolve({ kind: 'committed', seq: event.seq });
    }
    flight.segment.bytes = flight.offset + flight.length;
    if (this.#failure !== undefined) {
      this.#logger.info('the journal takes writes again', { after: this.#failure });
      this.#failure = undefined;
    }
  }

  /** The event's order and products take changes again. */
  #stopWaiting(event: LogEvent): void {
    if ('order' in event) this.#waitingOrders.delete(event.order.id);
    if ('product' in event) this.#waitingProducts.delete(event.product.sku);
    else if (event.products !== undefined) for (const { sku } of event.products) this.#waitingProducts.delete(sku);
  }

  #refuse(batch: readonly Queued[]): void {
    const code = (this.#failing as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
    const refusal = new StorageUnavailableError(code, `the journal could not write: ${(this.#failing as Error | undefined)?.message ?? 'unknown'}`);
    for (const { event, claim, reject } of batch) {
      this.#stopWaiting(event);
      if (claim !== undefined) this.#waitingKeys.delete(claim.key);
      reject(refusal);
    }
  }

  /**
   * A write or flush failed: nothing of its batch, or of what came after,
   * was answered as committed; the segment is cut back to what was durable,
   * and the seq with it. The next append tries again.
   */
  async #recover(error: unknown): Promise<void> {
    this.#refuse(this.#queue);
    this.#queue = [];
    this.#seq = this.#durableSeq;
    const segment = this.#segment;
    this.#nextOffset = segment.bytes;
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (this.#failure === undefined) this.#logger.error('the journal cannot take writes: refusing them until it can', { code, error });
    this.#failure = { code, message: (error as Error).message, since: this.#failure?.since ?? new Date().toISOString() };
    try {
      await segment.handle.truncate(segment.bytes);
      await segment.handle.datasync();
      segment.allocated = segment.bytes;
    } catch (truncateError) {
      this.#logger.error('could not cut the journal back after a failed write; its end will be checked at the next start', { error: truncateError });
    }
    this.#failing = undefined;
  }

  #nextFlushEnd(): Promise<void> {
    return new Promise((resolve) => this.#flushEnded.push(resolve));
  }

  /** The first seq the segments on disk hold. */
  #segmentsStart(): number {
    return (this.#snapshot?.seq ?? 0) + 1;
  }

  async #compact(): Promise<void> {
    // Roll to a new segment between flushes: the snapshot is the state at the last durable seq.
    this.#rolling = true;
    while (this.#flights.length > 0) await this.#nextFlushEnd();
    const started = Date.now();
    const seq = this.#durableSeq;
    const orders = [...this.#orders.values()];
    const products = [...this.#products.values()];
    const keys = [...this.#keys.live()];
    const previous = this.#segment;
    let next: Segment;
    try {
      next = await newSegment(this.#dir, this.epoch, seq + 1, this.#preallocateBytes);
    } catch (error) {
      this.#rolling = false;
      this.#startFlushing();
      this.#logger.error('compaction could not start a new segment; it will be tried again', { error });
      return;
    }
    // Appends that queued meanwhile go to the new segment.
    this.#segment = next;
    this.#nextOffset = next.bytes;
    this.#olderSegments.push({ name: previous.name, bytes: previous.bytes });
    this.#rolling = false;
    this.#startFlushing();
    // The old segment ends at its last record: a start never has to tell its allocated zeros from a tear.
    await closeSegment(previous).catch((error: unknown) => this.#logger.warn('could not cut the space allocated ahead off a closed segment; a start reads past it', { segment: previous.name, error }));
    try {
      const snapshot = await writeSnapshot(this.#dir, this.epoch, seq, orders, keys, products);
      const replaced = [...this.#olderSegments.splice(0).map((s) => s.name), ...this.#stale.splice(0), ...(this.#snapshot === undefined ? [] : [this.#snapshot.name])];
      this.#snapshot = snapshot;
      for (const name of replaced) await unlink(join(this.#dir, name)).catch(() => undefined);
      await syncFolder(this.#dir);
      this.#lastCompaction = { at: new Date().toISOString(), seq, orders: orders.length, snapshotBytes: snapshot.bytes, ms: Date.now() - started, removed: replaced.length };
      this.#logger.info('journal compacted', { ...this.#lastCompaction });
    } catch (error) {
      // The older segments stay: they and the new one still hold everything.
      this.#logger.error('compaction failed; the journal keeps every segment until the next one', { error });
    }
  }
}
