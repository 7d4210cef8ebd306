/**
 * @module event-log
 * A bounded, in-order buffer of the most recent events, so a client that
 * reconnects with the last seq it applied can be sent exactly what it missed.
 * Pure: no timers or I/O. A durable journal can implement the same shape.
 */

import type { OrderEvent } from '../protocol.ts';

/** Default number of events kept: minutes of heavy traffic at a few hundred changes per second. */
export const DEFAULT_EVENT_LOG_CAPACITY = 10_000;

/** A ring buffer of events with consecutive seqs. */
export class EventLog {
  readonly #capacity: number;
  readonly #ring: (OrderEvent | undefined)[];
  /** Seq of the newest event held (0 when empty). */
  #latest = 0;
  #size = 0;

  /** @param capacity how many events to keep; at least 1 */
  constructor(capacity: number = DEFAULT_EVENT_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    this.#capacity = capacity;
    this.#ring = new Array<OrderEvent | undefined>(capacity);
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
   * @param event the event just emitted by the store
   */
  append(event: OrderEvent): void {
    if (this.#size > 0 && event.seq !== this.#latest + 1) {
      throw new Error(`event log expected seq ${this.#latest + 1}, got ${event.seq}`);
    }
    this.#ring[event.seq % this.#capacity] = event;
    this.#latest = event.seq;
    this.#size = Math.min(this.#size + 1, this.#capacity);
  }

  /**
   * The events after `seq`, oldest first, or `undefined` when some of them are
   * no longer held (or `seq` is in the future): the caller must then reset.
   * @param seq the last seq the client applied
   */
  since(seq: number): OrderEvent[] | undefined {
    if (!Number.isSafeInteger(seq) || seq > this.#latest) return undefined;
    if (seq === this.#latest) return [];
    if (seq + 1 < this.oldestSeq) return undefined;
    const events: OrderEvent[] = [];
    for (let s = seq + 1; s <= this.#latest; s++) events.push(this.#ring[s % this.#capacity]!);
    return events;
  }
}
