/**
 * @module store/errors
 * What a backend throws when it cannot take a write now (a full or failing
 * disk, an unreachable Redis): nothing was committed, reads still work,
 * and the client may try again. Transports answer it with 503 and
 * `Retry-After`.
 */

/** How long clients are told to wait before retrying a write the storage refused, in seconds. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** A write the storage could not take; nothing of it was committed. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  /** The underlying cause's code (`ENOSPC`, `EIO`, `ECONNREFUSED`, ...). */
  readonly code: string;
  readonly retryAfterSeconds: number;

  /**
   * @param code the cause's code
   * @param message what happened, for the log
   * @param retryAfterSeconds when to try again
   */
  constructor(code: string, message: string, retryAfterSeconds = STORAGE_RETRY_AFTER_SECONDS) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
