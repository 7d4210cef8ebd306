/**
 * @module node/storage-failure
 * What a client is told when storage could not take its write: the one
 * mapping of storage failures to wire errors, for HTTP and WebSocket alike.
 */

import { ProtocolError, toWireError } from '../protocol/errors.ts';
import { StorageUnavailableError } from '../store/errors.ts';

/**
 * 503 with `Retry-After` for a storage that cannot take writes now
 * (nothing was committed, or it is unknown whether it was; reads still
 * work). Anything else is a bug, answered as an internal error.
 * @param error what a command rejected with
 */
export function storageFailure(error: unknown): ProtocolError {
  if (!(error instanceof StorageUnavailableError)) return toWireError(error);
  const detail = error.outcomeUnknown
    ? 'The storage did not confirm this write: it may have been applied. Retry it with the same Idempotency-Key (or If-Match), or read the order to see'
    : 'The storage cannot take writes right now; nothing was changed. Try again later';
  return new ProtocolError('LO_ERR_UNAVAILABLE', detail, { retryAfterSeconds: error.retryAfterSeconds });
}
