/**
 * @module store/event-ring
 * A bounded, in-order buffer of the most recent events: the whole history a
 * memory backend keeps, and the live node's one in-memory history, so a
 * client that reconnects with the last seq it applied can be sent exactly
 * what it missed without asking the backend. Pure: no timers or I/O.
 */

import type { LogEvent } from '../domain/events.ts';

/** Default number of events kept: minutes of heavy traffic at a few hundred changes per second. */
export const DEFAULT_RING_CAPACITY = 10_000;

/** A ring buffer of events with consecutive seqs. */
export class EventRing {
  readonly #capacity: number;
  readonly #ring: (LogEvent | undefined)[];
  /** Seq of the newest event held, or of the last one before the ring started. */
  #latest: number;
  #size = 0;

  /**
   * @param capacity how many events to keep; at least 1
   * @param after the seq of the last event before this ring's first (a resume from exactly there needs nothing)
   */
  constructor(capacity: number = DEFAULT_RING_CAPACITY, after = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    this.#capacity = capacity;
    this.#ring = new Array<LogEvent | undefined>(capacity);
    this.#latest = after;
  }

  /** Seq of the oldest event held, or `latest + 1` when empty. */
  get oldestSeq(): number {
    return this.#latest - this.#size + 1;
  }

  /** Seq of the newest event held. */
  get latestSeq(): number {
    return this.#latest;
  }

  /**
   * Add the next event. Seqs must be consecutive; a gap means a bug upstream.
   * @param event the next event of the history
   */
  append(event: LogEvent): void {
    if (event.seq !== this.#latest + 1) {
      throw new Error(`event ring expected seq ${this.#latest + 1}, got ${event.seq}`);
    }
    this.#ring[event.seq % this.#capacity] = event;
    this.#latest = event.seq;
    this.#size = Math.min(this.#size + 1, this.#capacity);
  }

  /**
   * Forget every event held and start again after `after` (the history was
   * replaced: what was held belongs to the old one).
   * @param after the seq of the last event before the next one appended
   */
  reset(after: number): void {
    this.#ring.fill(undefined);
    this.#latest = after;
    this.#size = 0;
  }

  /**
   * The events after `seq`, oldest first, or `undefined` when some of them are
   * no longer held (or `seq` is in the future): the caller must then reset.
   * @param seq the last seq the client applied
   * @param limit at most this many, the oldest first
   */
  since(seq: number, limit = Infinity): LogEvent[] | undefined {
    if (!Number.isSafeInteger(seq) || seq > this.#latest) return undefined;
    if (seq === this.#latest) return [];
    if (seq + 1 < this.oldestSeq) return undefined;
    const events: LogEvent[] = [];
    const last = Math.min(this.#latest, seq + limit);
    for (let s = seq + 1; s <= last; s++) events.push(this.#ring[s % this.#capacity]!);
    return events;
  }
}
