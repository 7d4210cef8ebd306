/**
 * @module store/memory-log
 * The memory backend: the history lives in this process and dies with it.
 * An append is atomic because it runs in one synchronous step of the event
 * loop: the version check, the seq, the idempotency record and the event
 * are made together, and nothing else runs in between. The epoch is new
 * with every process, so clients of a previous run resume with a reset.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { isOrderChange, productWrites, versionBefore, type Change } from '../domain/decide.ts';
import type { LogEvent } from '../domain/events.ts';
import { DEFAULT_RING_CAPACITY, EventRing } from './event-ring.ts';
import { IdempotencyTable } from './idempotency.ts';
import type { AppendOutcome, EventSink, IdempotencyClaim, IdempotencyRecord, OrderLog, Storage, StorageHealth, StorageStats } from './ports.ts';
import { MemoryPositions } from './positions.ts';
import { TailFeed } from './tail-feed.ts';
import { withSeq } from './with-seq.ts';

/** Options for {@link MemoryLog}. */
export interface MemoryLogOptions {
  /** Events kept for replays. @default 10000 */
  readonly historyCapacity?: number;
  /** Told when a tail's sink throws. @default rethrown on a later turn */
  readonly onSinkError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Recent history, versions and idempotency keys, in memory. */
export class MemoryLog implements OrderLog {
  readonly epoch = randomUUID();
  #seq = 0;
  /**
   * The version of each order changed since it was created (0 once
   * deleted), for the compare in an append. An order that is absent is at
   * version 1 if it was ever created: the change was decided against this
   * instance's projection, which only knows orders from this log. Creates,
   * the bulk of the writes, so add nothing here.
   */
  readonly #versions = new Map<string, number>();
  /** Each product's version (absent: no such product), for the same compare over every product a change writes. */
  readonly #productVersions = new Map<string, number>();
  readonly #history: EventRing;
  readonly #keys: IdempotencyTable;
  readonly #feed: TailFeed;
  #closed = false;

  /** @param options history size, error reporting, clock */
  constructor(options: MemoryLogOptions = {}) {
    this.#history = new EventRing(options.historyCapacity ?? DEFAULT_RING_CAPACITY);
    this.#keys = new IdempotencyTable(options.now === undefined ? {} : { now: options.now });
    const onSinkError = options.onSinkError ?? ((error: unknown) => setImmediate(() => { throw error; }));
    this.#feed = new TailFeed((after) => this.#history.since(after), onSinkError);
  }

  append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    return Promise.resolve(this.appendNow(change, claim));
  }

  /**
   * {@link append}, answered in the same turn: what makes it atomic here.
   * @param change what decide() returned
   * @param claim the create's idempotency key
   */
  appendNow(change: Change, claim?: IdempotencyClaim): AppendOutcome {
    if (this.#closed) throw new Error('the log is closed');
    const products = productWrites(change);
    for (const { sku, before } of products) if ((this.#productVersions.get(sku) ?? 0) !== before) return { kind: 'conflict', headSeq: this.#seq };
    const id = isOrderChange(change) ? change.order.id : undefined;
    if (id !== undefined && isOrderChange(change)) {
      const expected = versionBefore(change);
      const current = this.#versions.get(id) ?? (expected === 0 ? 0 : 1);
      if (current !== expected) return { kind: 'conflict', headSeq: this.#seq };
    }
    if (claim !== undefined) {
      const record = this.#keys.get(claim.key);
      if (record !== undefined) return { kind: 'duplicate', record };
    }
    const seq = ++this.#seq;
    const event = withSeq(change, seq);
    if (id !== undefined) {
      if (event.type === 'order.deleted') this.#versions.set(id, 0);
      else if (event.type === 'order.updated') this.#versions.set(id, event.order.version);
    }
    for (const { sku, after } of products) {
      if (after === 0) this.#productVersions.delete(sku);
      else this.#productVersions.set(sku, after);
    }
    this.#history.append(event);
    if (claim !== undefined && 'order' in event) this.#keys.set({ ...claim, order: event.order, seq });
    this.#feed.push(event);
    return { kind: 'committed', seq };
  }

  findIdempotent(key: string): Promise<IdempotencyRecord | undefined> {
    return Promise.resolve(this.#keys.get(key));
  }

  replay(after: { seq: number; epoch: string }, limit: number): Promise<readonly LogEvent[] | 'reset'> {
    if (after.epoch !== this.epoch) return Promise.resolve('reset');
    return Promise.resolve(this.#history.since(after.seq, limit) ?? 'reset');
  }

  tail(after: number, sink: EventSink): () => void {
    return this.#feed.add(after, this.#seq, sink);
  }

  stats(): StorageStats {
    return { mode: 'memory', seq: this.#seq, idempotencyKeys: this.#keys.size };
  }

  health(): StorageHealth {
    return { ready: !this.#closed };
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

/**
 * A memory backend, ready to serve: empty, at seq 0 of a new epoch.
 * @param options history size, error reporting, clock
 * @param trackingKey the tracking key from configuration, or a new random one (links then last as long as the process)
 */
export function memoryStorage(options: MemoryLogOptions = {}, trackingKey?: Buffer): Storage {
  const log = new MemoryLog(options);
  return { mode: 'memory', log, shared: false, initial: { orders: [], position: { seq: 0, epoch: log.epoch } }, trackingKey: trackingKey ?? randomBytes(16), positions: new MemoryPositions() };
}
