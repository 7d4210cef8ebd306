/**
 * @module rate-limit
 * A token bucket per client key (a token's name or an address): `burst`
 * requests at once, refilled at `perMinute`. Bounded in keys; the clock is injected.
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

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by client. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
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
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#ratePerMs);
    bucket.at = now;
    this.#buckets.delete(key); // re-insert: Map order is recency order
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#ratePerMs / 1000)) };
  }
}
