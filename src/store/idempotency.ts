/**
 * @module idempotency
 * Remembers the responses to `POST` requests that carried an
 * `Idempotency-Key`, so a retried request gets the first answer instead of
 * creating a second order. Bounded in count and age; the clock is injected.
 */

/** A stored response, replayed for a retry with the same key and the same request. */
export interface StoredResponse {
  /** Canonical form of the validated request: a reused key with another request is refused. */
  readonly fingerprint: string;
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface Entry extends StoredResponse {
  readonly storedAt: number;
}

/** Options for {@link IdempotencyCache}. */
export interface IdempotencyCacheOptions {
  /** Oldest entries are evicted past this count. @default 10000 */
  readonly maxEntries?: number;
  /** Entries older than this are forgotten, in milliseconds. @default 86400000 (24 h) */
  readonly ttlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Longest accepted key, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * Whether a header value can serve as an idempotency key (1-255 visible ASCII characters).
 * @param key the raw header value
 */
export function isValidIdempotencyKey(key: string): boolean {
  return key.length >= 1 && key.length <= IDEMPOTENCY_KEY_MAX_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

/** A bounded map from key to the first response; insertion order doubles as age order. */
export class IdempotencyCache {
  #entries = new Map<string, Entry>();
  #maxEntries: number;
  #ttlMs: number;
  #now: () => number;

  /** @param options bounds and clock */
  constructor(options: IdempotencyCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys remembered. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The stored response for `key`, unless it expired.
   * @param key the Idempotency-Key
   */
  get(key: string): StoredResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.storedAt > this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Remember the response to the first request with `key`.
   * @param key the Idempotency-Key
   * @param response what to replay
   */
  set(key: string, response: StoredResponse): void {
    this.#entries.set(key, { ...response, storedAt: this.#now() });
    this.#evict();
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && now - entry.storedAt <= this.#ttlMs) break;
      this.#entries.delete(key);
    }
  }
}
