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
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { versionBefore, type Change } from '../../domain/decide.ts';
import { encodeEvent } from '../../protocol/encode.ts';
import type { Order, OrderEvent } from '../../protocol/orders.ts';
import type { Logger } from '../../support/logger.ts';
import { StorageUnavailableError } from '../errors.ts';
import type { EventRing } from '../event-ring.ts';
import type { IdempotencyTable } from '../idempotency.ts';
import { withSeq } from '../memory-log.ts';
import type { AppendOutcome, EventSink, IdempotencyClaim, IdempotencyRecord, OrderLog, StorageHealth, StorageStats } from '../ports.ts';
import { TailFeed } from '../tail-feed.ts';
import { writeSnapshot, type CompactionReport } from './compaction.ts';
import { segmentName, syncFolder, writeAll, type FolderLock } from './files.ts';
import { applyEvent, type LoadedJournal } from './load.ts';
import { FORMAT_VERSION, asJournalEntry, encodeRecord, journalEntry, readRecord, type SegmentHeader } from './records.ts';

/** Settings for {@link JournalLog}. */
export interface JournalLogOptions {
  readonly dir: string;
  readonly epoch: string;
  /** Start a compaction once the current segment passes this many bytes (or the last snapshot's size, if larger). @default 64 MiB */
  readonly compactAfterBytes?: number;
  readonly logger: Logger;
  /** Told when a tail's consumer throws. */
  readonly onSinkError: (error: unknown) => void;
}

/** Default {@link JournalLogOptions.compactAfterBytes}. */
export const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** fdatasync durations kept for the stats. */
const FSYNC_SAMPLES = 512;

/** An append waiting for its flush. */
interface Queued {
  readonly record: Buffer;
  readonly event: OrderEvent;
  readonly claim: IdempotencyClaim | undefined;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** The segment appends go to. */
interface Segment {
  readonly name: string;
  readonly firstSeq: number;
  readonly handle: FileHandle;
  /** Bytes durable in it (appends go on from here). */
  bytes: number;
}

/** Orders, keys and history on disk, appended to with group commit. */
export class JournalLog implements OrderLog {
  readonly epoch: string;
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #compactAfterBytes: number;
  readonly #orders: Map<string, Order>;
  readonly #keys: IdempotencyTable;
  readonly #history: EventRing;
  readonly #feed: TailFeed;
  readonly #lock: FolderLock;
  /** Orders and keys with a change waiting for its flush; a later append to them waits for it. */
  readonly #waitingOrders = new Set<string>();
  readonly #waitingKeys = new Set<string>();
  #queue: Queued[] = [];
  #flushing = false;
  /** Set while a compaction moves appends to a new segment: flushes wait. */
  #rolling = false;
  /** Resolved whenever a flush ends, well or not. */
  #flushEnded: (() => void)[] = [];
  /** The last seq handed out (durable, or waiting for its flush). */
  #seq: number;
  /** The last seq on disk. */
  #durableSeq: number;
  #segment: Segment;
  #olderSegments: string[];
  #snapshot: { name: string; seq: number; bytes: number } | undefined;
  /** Files start-up did not need (older snapshots, segments a snapshot covers, temp files): removed by the next compaction. */
  readonly #stale: string[];
  #compaction: Promise<void> | undefined;
  #lastCompaction: CompactionReport | undefined;
  #failure: { code: string; message: string; since: string } | undefined;
  readonly #fsyncMs: number[] = [];
  #fsyncs = 0;
  #closed = false;

  private constructor(options: JournalLogOptions, loaded: LoadedJournal, segment: Segment, lock: FolderLock) {
    this.epoch = options.epoch;
    this.#dir = options.dir;
    this.#logger = options.logger;
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    this.#orders = loaded.orders;
    this.#keys = loaded.keys;
    this.#history = loaded.history;
    this.#seq = loaded.seq;
    this.#durableSeq = loaded.seq;
    this.#segment = segment;
    this.#olderSegments = loaded.segments.filter((s) => s.name !== segment.name).map((s) => s.name);
    this.#snapshot = loaded.snapshot;
    this.#stale = [...loaded.stale];
    this.#lock = lock;
    this.#feed = new TailFeed((after) => this.#history.since(after), options.onSinkError);
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
    const segment = last !== undefined && last.bytes > 0 ? await reopenSegment(options.dir, last) : await newSegment(options.dir, options.epoch, loaded.seq + 1, reuse);
    return new JournalLog(options, loaded, segment, lock);
  }

  async append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    const id = change.order.id;
    // A change to the same order, or a claim of the same key, waiting for its flush: decide after it.
    while (this.#waitingOrders.has(id) || (claim !== undefined && this.#waitingKeys.has(claim.key))) await this.#nextFlushEnd();
    if (this.#closed) throw new StorageUnavailableError('ECLOSED', 'the journal is closed');
    if ((this.#orders.get(id)?.version ?? 0) !== versionBefore(change)) return { kind: 'conflict', headSeq: this.#durableSeq };
    if (claim !== undefined) {
      const record = this.#keys.get(claim.key);
      if (record !== undefined) return { kind: 'duplicate', record };
    }
    const event = withSeq(change, ++this.#seq);
    this.#waitingOrders.add(id);
    if (claim !== undefined) this.#waitingKeys.add(claim.key);
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.#queue.push({ record: encodeRecord(journalEntry(encodeEvent(event), claim)), event, claim, resolve, reject });
      this.#startFlushing();
    });
  }

  findIdempotent(key: string): Promise<IdempotencyRecord | undefined> {
    return Promise.resolve(this.#keys.get(key));
  }

  async replay(after: { seq: number; epoch: string }, limit: number): Promise<readonly OrderEvent[] | 'reset'> {
    if (after.epoch !== this.epoch || after.seq > this.#durableSeq) return 'reset';
    const recent = this.#history.since(after.seq, limit);
    if (recent !== undefined) return recent;
    // Older than the memory keeps: the journal since the last snapshot has it, if it is that recent.
    if (after.seq + 1 < this.#segmentsStart()) return 'reset';
    return this.#readEvents(after.seq, Math.min(limit, this.#durableSeq - after.seq));
  }

  tail(after: number, sink: EventSink): () => void {
    return this.#feed.add(after, this.#durableSeq, sink);
  }

  stats(): StorageStats {
    const sorted = [...this.#fsyncMs].sort((a, b) => a - b);
    const at = (q: number): number | undefined => (sorted.length === 0 ? undefined : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000) / 1000);
    return {
      mode: 'journal',
      dataDir: this.#dir,
      durableSeq: this.#durableSeq,
      journalBytes: this.#segment.bytes,
      segment: this.#segment.name,
      snapshot: this.#snapshot === undefined ? null : { seq: this.#snapshot.seq, bytes: this.#snapshot.bytes },
      lastCompaction: this.#lastCompaction ?? null,
      fsync: { count: this.#fsyncs, p50Ms: at(0.5) ?? null, p99Ms: at(0.99) ?? null },
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
    while (this.#flushing) await this.#nextFlushEnd();
    await this.#compaction?.catch(() => undefined);
    await this.#segment.handle.close().catch(() => undefined);
    await this.#lock.release();
  }

  #startFlushing(): void {
    if (!this.#flushing && !this.#rolling && this.#queue.length > 0) void this.#flushLoop();
  }

  async #flushLoop(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const bytes = batch.length === 1 ? batch[0]!.record : Buffer.concat(batch.map((q) => q.record));
      const segment = this.#segment;
      try {
        await writeAll(segment.handle, bytes, segment.bytes);
        const started = hrtime.bigint();
        await segment.handle.datasync();
        this.#timeFsync(started);
      } catch (error) {
        await this.#fail(error, batch);
        continue;
      }
      segment.bytes += bytes.length;
      this.#commit(batch);
    }
    this.#flushing = false;
    for (const wake of this.#flushEnded.splice(0)) wake();
    if (!this.#closed && this.#compaction === undefined && this.#segment.bytes > Math.max(this.#compactAfterBytes, this.#snapshot?.bytes ?? 0)) {
      void this.compact();
    }
  }

  /** A batch is on disk: make it the durable state, answer it, and give it to the tails. */
  #commit(batch: readonly Queued[]): void {
    for (const { event, claim, resolve } of batch) {
      applyEvent(this.#orders, event);
      if (claim !== undefined) {
        this.#keys.set({ ...claim, order: event.order, seq: event.seq });
        this.#waitingKeys.delete(claim.key);
      }
      this.#waitingOrders.delete(event.order.id);
      this.#history.append(event);
      this.#durableSeq = event.seq;
      this.#feed.push(event);
      resolve({ kind: 'committed', seq: event.seq });
    }
    if (this.#failure !== undefined) {
      this.#logger.info('the journal takes writes again', { after: this.#failure });
      this.#failure = undefined;
    }
    for (const wake of this.#flushEnded.splice(0)) wake();
  }

  /**
   * A write or flush failed: nothing of this batch, or of what queued after
   * it, is answered as committed; the segment is cut back to what was
   * durable, and the seq with it.
   */
  async #fail(error: unknown, batch: readonly Queued[]): Promise<void> {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    const failed = [...batch, ...this.#queue];
    this.#queue = [];
    this.#seq = this.#durableSeq;
    this.#waitingOrders.clear();
    this.#waitingKeys.clear();
    if (this.#failure === undefined) this.#logger.error('the journal cannot take writes: refusing them until it can', { code, error });
    this.#failure = { code, message: (error as Error).message, since: this.#failure?.since ?? new Date().toISOString() };
    try {
      await this.#segment.handle.truncate(this.#segment.bytes);
      await this.#segment.handle.datasync();
    } catch (truncateError) {
      this.#logger.error('could not cut the journal back after a failed write; its end will be checked at the next start', { error: truncateError });
    }
    const refusal = new StorageUnavailableError(code, `the journal could not write: ${(error as Error).message}`);
    for (const queued of failed) queued.reject(refusal);
    for (const wake of this.#flushEnded.splice(0)) wake();
  }

  #nextFlushEnd(): Promise<void> {
    return new Promise((resolve) => this.#flushEnded.push(resolve));
  }

  #timeFsync(started: bigint): void {
    this.#fsyncs++;
    if (this.#fsyncMs.length === FSYNC_SAMPLES) this.#fsyncMs.shift();
    this.#fsyncMs.push(Number(hrtime.bigint() - started) / 1e6);
  }

  /** The first seq the segments on disk hold. */
  #segmentsStart(): number {
    return (this.#snapshot?.seq ?? 0) + 1;
  }

  /** The events after `after` from the segments on disk (older than the memory holds), at most `limit`. */
  async #readEvents(after: number, limit: number): Promise<readonly OrderEvent[] | 'reset'> {
    const events: OrderEvent[] = [];
    for (const name of [...this.#olderSegments, this.#segment.name]) {
      const durable = name === this.#segment.name ? this.#segment.bytes : undefined;
      let bytes: Buffer;
      try {
        bytes = await readFile(join(this.#dir, name));
      } catch {
        return 'reset'; // removed by a compaction meanwhile
      }
      const end = durable ?? bytes.length;
      let offset = 0;
      let header = true;
      while (offset < end && events.length < limit) {
        const read = readRecord(bytes.subarray(0, end), offset);
        if (read.kind !== 'record') return 'reset';
        if (!header) {
          const entry = asJournalEntry(read.payload);
          if (entry === undefined) return 'reset';
          if (entry.event.seq > after) events.push(entry.event);
        }
        header = false;
        offset = read.next;
      }
      if (events.length === limit) break;
    }
    return events.length > 0 && events[0]!.seq === after + 1 ? events : 'reset';
  }

  async #compact(): Promise<void> {
    // Roll to a new segment between flushes: the snapshot is the state at the last durable seq.
    while (this.#flushing) await this.#nextFlushEnd();
    this.#rolling = true;
    const started = Date.now();
    const seq = this.#durableSeq;
    const orders = [...this.#orders.values()];
    const keys = [...this.#keys.live()];
    const previous = this.#segment;
    let next: Segment;
    try {
      next = await newSegment(this.#dir, this.epoch, seq + 1);
    } catch (error) {
      this.#rolling = false;
      this.#startFlushing();
      this.#logger.error('compaction could not start a new segment; it will be tried again', { error });
      return;
    }
    // Appends that queued meanwhile go to the new segment.
    this.#segment = next;
    this.#olderSegments.push(previous.name);
    this.#rolling = false;
    this.#startFlushing();
    await previous.handle.close().catch(() => undefined);
    try {
      const snapshot = await writeSnapshot(this.#dir, this.epoch, seq, orders, keys);
      const replaced = [...this.#olderSegments.splice(0), ...this.#stale.splice(0), ...(this.#snapshot === undefined ? [] : [this.#snapshot.name])];
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

/** Open the last segment to append at its end. */
async function reopenSegment(dir: string, last: { name: string; firstSeq: number; bytes: number }): Promise<Segment> {
  const handle = await open(join(dir, last.name), 'r+');
  return { name: last.name, firstSeq: last.firstSeq, handle, bytes: last.bytes };
}

/**
 * Start a segment whose first event will be `firstSeq`: its header is
 * durable, and so is its name in the folder, before any event goes in.
 * @param reuse an empty segment file left by a crash right after it was created, to write the header into
 */
async function newSegment(dir: string, epoch: string, firstSeq: number, reuse?: string): Promise<Segment> {
  const name = reuse ?? segmentName(firstSeq);
  const header: SegmentHeader = { journal: 'liveorders segment', version: FORMAT_VERSION, epoch, firstSeq };
  const bytes = encodeRecord(JSON.stringify(header));
  const handle = await open(join(dir, name), reuse === undefined ? 'wx' : 'r+');
  try {
    await writeAll(handle, bytes, 0);
    await handle.datasync();
    await syncFolder(dir);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return { name, firstSeq, handle, bytes: bytes.length };
}
