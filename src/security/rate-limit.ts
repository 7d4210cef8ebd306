/**
 * @module security/rate-limit
 * Token buckets: `burst` requests at once, refilled at a steady rate. One
 * per client key (a token's name or an address) for writes, bounded in
 * keys; one per WebSocket for its messages. The clock is injected.
 */

/** Settings for {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Sustained allowance, per minute. */
  readonly perMinute: number;
  /** Requests allowed at once. @default perMinute / 6 (ten seconds' worth), at least 1 */
  readonly burst?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Keys remembered at most; the least recently seen go first. @default 10000 */
  readonly maxKeys?: number;
}

/** The outcome of {@link RateLimiter.take}. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/**
 * One token bucket: `burst` at once, refilled at `perMs` tokens per
 * millisecond. A plain object with two numbers, so one per WebSocket costs
 * next to nothing.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  /**
   * @param burst tokens when full
   * @param now the clock's time, in milliseconds
   */
  constructor(burst: number, now: number) {
    this.#tokens = burst;
    this.#at = now;
  }

  /**
   * Spend one token if there is one.
   * @param now the clock's time, in milliseconds
   * @param burst tokens when full
   * @param perMs refill rate, in tokens per millisecond
   * @returns 0 when spent, otherwise the milliseconds until a token is back
   */
  take(now: number, burst: number, perMs: number): number {
    this.#tokens = Math.min(burst, this.#tokens + Math.max(0, now - this.#at) * perMs);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return (1 - this.#tokens) / perMs;
  }
}

/** Token buckets keyed by client. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxKeys: number;

  /** @param options rate, burst, clock */
  constructor(options: RateLimitOptions) {
    if (!(options.perMinute > 0)) throw new RangeError(`perMinute must be > 0, got ${options.perMinute}`);
    this.#ratePerMs = options.perMinute / 60_000;
    this.#burst = Math.max(1, options.burst ?? Math.floor(options.perMinute / 6));
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * Spend one request for `key`.
   * @param key who is asking
   */
  take(key: string): RateDecision {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? new TokenBucket(this.#burst, now);
    this.#buckets.delete(key); // re-insert: Map order is recency order
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    const waitMs = bucket.take(now, this.#burst, this.#ratePerMs);
    return waitMs === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
