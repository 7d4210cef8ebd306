/**
 * @module store/errors
 * What a backend throws when it cannot take a write now (a full or failing
 * disk, an unreachable Redis): nothing was committed, reads still work,
 * and the client may try again. Transports answer it with 503 and
 * `Retry-After`.
 */

/** How long clients are told to wait before retrying a write the storage refused, in seconds. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * A write the storage could not take: nothing of it was committed, or
 * (`outcomeUnknown`) the connection was lost after the write was sent, so
 * it may have been. A retry with the same idempotency key, or with
 * `If-Match`, is safe either way.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  /** The underlying cause's code (`ENOSPC`, `EIO`, `ECONNREFUSED`, ...). */
  readonly code: string;
  readonly retryAfterSeconds: number;
  /** The write was sent and no answer came back: it may have been committed. */
  readonly outcomeUnknown: boolean;

  /**
   * @param code the cause's code
   * @param message what happened, for the log
   * @param options when to try again; whether the write may have been committed
   */
  constructor(code: string, message: string, options: { readonly retryAfterSeconds?: number; readonly outcomeUnknown?: boolean } = {}) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds ?? STORAGE_RETRY_AFTER_SECONDS;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}
