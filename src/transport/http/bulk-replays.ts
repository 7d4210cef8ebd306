/**
 * @module transport/http/bulk-replays
 * The answers of keyed bulk status changes (`POST /api/orders/status` with
 * an `Idempotency-Key`), remembered on this instance for a while, so that
 * a retry gets the first answer instead of a second round of changes.
 * Bounded in count, age and bytes: a full answer of 500 orders is a few
 * hundred KiB, and clients choose the keys.
 */

/** Bulk answers remembered for replay, at most; the oldest go first. */
export const BULK_REPLAY_MAX_KEYS = 1000;

/** Bytes of remembered answers, at most; past it the oldest go first. */
export const BULK_REPLAY_MAX_BYTES = 32 * 1024 * 1024;

/** How long a bulk answer is remembered for replay, in milliseconds (one hour: retries come within seconds). */
export const BULK_REPLAY_TTL_MS = 60 * 60 * 1000;

/** A keyed bulk request: what it asked (hashed) and its answer, once known. */
interface Remembered {
  readonly fingerprint: string;
  readonly answer: Promise<string>;
  readonly expiresAt: number;
  /** The answer's length once it is known (0 while it runs). */
  bytes: number;
}

/**
 * The answers of keyed bulk requests, by caller and key, on this instance.
 * A retry that comes while the first is running waits for its answer.
 */
export class BulkReplays {
  readonly #byKey = new Map<string, Remembered>();
  #bytes = 0;

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
    if (held !== undefined) this.#forget(key, held);
    const answer = run();
    const remembered: Remembered = { fingerprint, answer, expiresAt: now + BULK_REPLAY_TTL_MS, bytes: 0 };
    this.#byKey.set(key, remembered);
    answer.then(
      (json) => {
        if (this.#byKey.get(key) !== remembered) return;
        remembered.bytes = json.length;
        this.#bytes += json.length;
        this.#trim(Date.now());
      },
      // A run that failed (a bug) is not an answer to replay.
      () => {
        if (this.#byKey.get(key) === remembered) this.#forget(key, remembered);
      },
    );
    this.#trim(now);
    return { json: answer, replayed: false };
  }

  /** Drop the expired, then the oldest while over a bound (insertion order is age order). */
  #trim(now: number): void {
    for (const [key, remembered] of this.#byKey) {
      if (this.#byKey.size <= BULK_REPLAY_MAX_KEYS && this.#bytes <= BULK_REPLAY_MAX_BYTES && remembered.expiresAt > now) break;
      this.#forget(key, remembered);
    }
  }

  #forget(key: string, remembered: Remembered): void {
    this.#byKey.delete(key);
    this.#bytes -= remembered.bytes;
  }
}
