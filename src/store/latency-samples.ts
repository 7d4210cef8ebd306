/**
 * @module store/latency-samples
 * The last few hundred timings of one kind of storage operation (a journal
 * flush, a Redis append), kept in a ring so that `/api/stats` can report
 * their median and 99th percentile in constant memory.
 */

/** What `/api/stats` shows of a timed operation. */
export interface LatencySummary {
  /** Operations timed since start-up. */
  readonly count: number;
  /** Median of the kept samples, in milliseconds (µs resolution); null before the first. */
  readonly p50Ms: number | null;
  /** 99th percentile of the kept samples, in milliseconds; null before the first. */
  readonly p99Ms: number | null;
}

/** A ring of the most recent timings, in milliseconds. */
export class LatencySamples {
  readonly #samples: Float64Array;
  #count = 0;

  /** @param capacity how many of the most recent timings are kept */
  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  /** @param ms one operation's time, in milliseconds */
  record(ms: number): void {
    this.#samples[this.#count++ % this.#samples.length] = ms;
  }

  /** Count, median and 99th percentile of the kept timings (sorted on demand: stats are read rarely). */
  summary(): LatencySummary {
    const sorted = this.#samples.slice(0, Math.min(this.#count, this.#samples.length)).sort();
    const at = (q: number): number | null => (sorted.length === 0 ? null : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000) / 1000);
    return { count: this.#count, p50Ms: at(0.5), p99Ms: at(0.99) };
  }
}
