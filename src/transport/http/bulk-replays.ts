/**
 * @module transport/http/bulk-replays
 * The answers of keyed bulk status changes (`POST /api/orders/status` with
 * an `Idempotency-Key`), remembered on this instance for a while, so that
 * a retry gets the first answer instead of a second round of changes.
 */

/** Bulk answers remembered for replay, at most; the oldest go first. */
export const BULK_REPLAY_MAX_KEYS = 1000;

/** How long a bulk answer is remembered for replay, in milliseconds (one hour: retries come within seconds). */
export const BULK_REPLAY_TTL_MS = 60 * 60 * 1000;

/** A keyed bulk request: what it asked (hashed) and its answer, once known. */
interface Remembered {
  readonly fingerprint: string;
  readonly answer: Promise<string>;
  readonly expiresAt: number;
}

/**
 * The answers of keyed bulk requests, by caller and key, on this instance.
 * A retry that comes while the first is running waits for its answer.
 */
export class BulkReplays {
  readonly #byKey = new Map<string, Remembered>();

  /**
   * The answer for `key`: the remembered one, or `run()`'s, remembered.
   * @param key the caller-scoped key
   * @param fingerprint what the request asked, hashed
   * @param run makes the answer (the JSON text) the first time
   * @returns the answer and whether it is a replay, or undefined when the key was used for another request
   */
  answer(key: string, fingerprint: string, run: () => Promise<string>): { readonly json: Promise<string>; readonly replayed: boolean } | undefined {
    const now = Date.now();
    const held = this.#byKey.get(key);
    if (held !== undefined && held.expiresAt > now) return held.fingerprint === fingerprint ? { json: held.answer, replayed: true } : undefined;
    const answer = run();
    this.#byKey.delete(key);
    this.#byKey.set(key, { fingerprint, answer, expiresAt: now + BULK_REPLAY_TTL_MS });
    // A run that failed (a bug) is not an answer to replay.
    answer.catch(() => this.#byKey.delete(key));
    for (const [old, remembered] of this.#byKey) {
      if (this.#byKey.size <= BULK_REPLAY_MAX_KEYS && remembered.expiresAt > now) break;
      this.#byKey.delete(old);
    }
    return { json: answer, replayed: false };
  }
}
