/**
 * @module store/idempotency
 * Idempotency keys as an in-process backend keeps them: each key's record
 * (the create it answered), bounded in count and age. Memory and journal
 * backends hold one of these; Redis keeps keys with a TTL instead.
 */

import type { IdempotencyRecord } from './ports.ts';

/** How long a key is remembered, in milliseconds: 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Keys remembered at most; the oldest go first. */
export const IDEMPOTENCY_MAX_KEYS = 10_000;

/** Options for {@link IdempotencyTable}. */
export interface IdempotencyTableOptions {
  /** @default {@link IDEMPOTENCY_MAX_KEYS} */
  readonly maxKeys?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A bounded map from key to record; insertion order doubles as age order. */
export class IdempotencyTable {
  readonly #records = new Map<string, IdempotencyRecord>();
  readonly #maxKeys: number;
  readonly #now: () => number;

  /** @param options bound and clock */
  constructor(options: IdempotencyTableOptions = {}) {
    this.#maxKeys = options.maxKeys ?? IDEMPOTENCY_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  /** Keys held (expired ones may still count until the next write). */
  get size(): number {
    return this.#records.size;
  }

  /**
   * The record for `key`, unless it expired.
   * @param key a scoped idempotency key
   */
  get(key: string): IdempotencyRecord | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt <= this.#now()) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  /**
   * Remember a record, forgetting the expired and, past the bound, the oldest.
   * @param record what the key answered
   */
  set(record: IdempotencyRecord): void {
    this.#records.delete(record.key);
    this.#records.set(record.key, record);
    const now = this.#now();
    for (const [key, held] of this.#records) {
      if (this.#records.size <= this.#maxKeys && held.expiresAt > now) break;
      this.#records.delete(key);
    }
  }

  /** The records still valid, oldest first (what a journal snapshot keeps). */
  *live(): Generator<IdempotencyRecord, void, undefined> {
    const now = this.#now();
    for (const record of this.#records.values()) if (record.expiresAt > now) yield record;
  }
}
