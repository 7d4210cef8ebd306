/**
 * @module observe/fanout-lag
 * Samples the fan-out lag: from a committed event leaving the event tail to
 * its frame written to the last socket that gets it. A consumer of the tail
 * notes when one event of a batch came (one at a time, so a sample costs a
 * clock read and two fields); the hub says when a flush has written its
 * frames, and the flush that carried the noted event closes the sample.
 */

import type { LogEvent, OrderEvent } from '../domain/events.ts';
import type { FanOutLagMetrics } from './metrics.ts';

/** The name the sampler has among the tail's consumers. */
export const FANOUT_LAG_CONSUMER = 'metrics-fanout-lag';

/** Takes a lag sample per flush at most, one event at a time. */
export class FanOutLagSampler {
  readonly name = FANOUT_LAG_CONSUMER;
  readonly #metrics: FanOutLagMetrics;
  readonly #now: () => number;
  /** The seq of the event being timed, or 0 for none. */
  #seq = 0;
  /** When it left the tail, in `now()` milliseconds. */
  #at = 0;

  /**
   * @param metrics where samples go
   * @param now a monotonic clock in milliseconds @default performance.now
   */
  constructor(metrics: FanOutLagMetrics, now: () => number = () => performance.now()) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /**
   * A batch from the tail: time its last event, unless one is being timed.
   * @param events the batch, in seq order
   */
  take(events: readonly LogEvent[]): void {
    if (this.#seq !== 0 || events.length === 0) return;
    this.#seq = events[events.length - 1]!.seq;
    this.#at = this.#now();
  }

  /**
   * The hub wrote a flush's frames to its sockets.
   * @param events what the flush carried, in seq order
   */
  flushed(events: readonly OrderEvent[]): void {
    if (this.#seq === 0 || events.length === 0) return;
    const last = events[events.length - 1]!.seq;
    if (last < this.#seq) return;
    // A flush past the timed event without it: the event went to no socket (nobody watched it); time a later one.
    if (events[0]!.seq <= this.#seq) this.#metrics.observeFanOutLag((this.#now() - this.#at) / 1000);
    this.#seq = 0;
  }
}
