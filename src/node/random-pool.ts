/**
 * @module node/random-pool
 * Cryptographically strong random bytes, drawn from a pool that one
 * `randomFillSync` call refills. Every `randomBytes`/`getRandomValues` call
 * goes through OpenSSL's generator lookup, which was
 * the largest single item in the write path's profile when each new order
 * id made one. Bytes are handed out once and never reused, so drawing from
 * the pool is as unpredictable as calling `randomBytes` each time (Node's own
 * `randomUUID` pools the same way).
 */

import { randomFillSync } from 'node:crypto';

/** Bytes fetched per refill: 256 order ids. */
const DEFAULT_POOL_BYTES = 4096;

/** A pool of random bytes; each byte is handed out once. */
export class RandomPool {
  readonly #pool: Buffer;
  #offset: number;

  /** @param size bytes per refill; must be at least the largest draw */
  constructor(size: number = DEFAULT_POOL_BYTES) {
    this.#pool = Buffer.allocUnsafeSlow(size);
    this.#offset = size;
  }

  /**
   * `n` fresh random bytes, as a view on the pool: read them before the next draw.
   * @param n how many bytes (at most the pool's size)
   */
  bytes(n: number): Uint8Array {
    if (n > this.#pool.length) throw new RangeError(`cannot draw ${n} bytes from a pool of ${this.#pool.length}`);
    if (this.#offset + n > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += n;
    return this.#pool.subarray(start, start + n);
  }
}
