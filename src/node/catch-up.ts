/**
 * @module node/catch-up
 * Reading your own writes across instances: a client told 201 by one
 * instance may ask another a moment later, before that one's tail brought
 * the order. Where the log is shared, a lookup that finds nothing (or a
 * command the projection refuses) first catches up with the history's
 * head, and only then answers.
 */

import type { OrderLog } from '../store/ports.ts';
import type { OrderProjection } from './projection.ts';

/** How long a lookup waits for this instance to catch up with a shared history, in milliseconds. */
export const CATCH_UP_WAIT_MS = 5000;

/**
 * With a shared log: wait until the projection has everything committed
 * anywhere until now (what another instance just answered a client
 * included), within {@link CATCH_UP_WAIT_MS}. Resolves whether it got
 * there; false at once for logs that are not shared or cannot be asked.
 * @param log the backend's log
 * @param projection this instance's projection
 */
export async function catchUpWithHead(log: OrderLog, projection: OrderProjection): Promise<boolean> {
  if (log.head === undefined) return false;
  let head: number;
  try {
    head = await log.head();
  } catch {
    return false;
  }
  return projection.reachedWithin(head, CATCH_UP_WAIT_MS);
}

/**
 * Catch up with a shared head to decide a refusal again: whether the
 * projection moved on (false for a log that is not shared, or when nothing
 * came), so a command it refused may now be decided otherwise.
 * @param log the backend's log
 * @param projection this instance's projection
 */
export async function movedByCatchingUp(log: OrderLog, projection: OrderProjection): Promise<boolean> {
  const before = projection.seq;
  return (await catchUpWithHead(log, projection)) && projection.seq !== before;
}
