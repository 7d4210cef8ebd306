/**
 * @module transport/ws/presence
 * Who watches each order right now, by kind of watcher, on this instance: a
 * tracking socket watches its own order; a board socket watches the order
 * whose detail it has open (the `watch` message). Each socket watches at
 * most one order, so this holds at most one entry per open socket.
 */

import type { PresenceCounts, Role, WatcherKind } from '../../protocol.ts';
import type { Principal } from '../../security/auth.ts';
import type { Session } from './session-state.ts';

/**
 * The kind of watcher a principal is (also the role `/api/stats` says the
 * caller is seen as). Open mode (no tokens) can do all an admin can, so it
 * counts as one; a signed-in user as the highest of its roles. Exhaustive on purpose: a new kind of principal must say
 * what it counts as.
 * @param principal who holds the socket
 */
export function watcherKind(principal: Principal): WatcherKind {
  switch (principal.kind) {
    case 'open':
      return 'admin';
    case 'role':
      return principal.role;
    case 'tracking':
      return 'customer';
    case 'user':
      return highestRole(principal.roles);
    case 'scraper':
      // METRICS_TOKEN opens the metrics only: never a socket or the stats, so this is for exhaustiveness; the least.
      return 'viewer';
  }
}

/** A signed-in user counts as the highest of its roles; one with none can do no more than a viewer. */
function highestRole(roles: readonly Role[]): Role {
  if (roles.includes('admin')) return 'admin';
  if (roles.includes('operator')) return 'operator';
  return 'viewer';
}

/** No watchers: a fresh object each time (callers may keep it). */
export function noWatchers(): PresenceCounts {
  return { admin: 0, operator: 0, viewer: 0, customer: 0 };
}

/** Counts of watchers per order, for this instance's sockets. */
export class Presence {
  readonly #byOrder = new Map<string, PresenceCounts>();
  readonly #onChange: ((orderId: string) => void) | undefined;

  /** @param onChange told the order whose counts changed (shared-presence.ts writes them for other instances) */
  constructor(onChange?: (orderId: string) => void) {
    this.#onChange = onChange;
  }

  /**
   * What `session` watches from now on: `orderId`, or nothing. Idempotent;
   * the order it watched before, if another, loses it.
   * @param session the socket's session
   * @param orderId the order, or undefined for none
   */
  set(session: Session, orderId: string | undefined): void {
    const before = session.watchedOrder;
    if (before?.orderId === orderId) return;
    // Uncounted as the kind it was counted as: a `refresh` may have changed the principal's roles since.
    if (before !== undefined) this.#add(before.orderId, before.kind, -1);
    if (orderId === undefined) {
      session.watchedOrder = undefined;
      return;
    }
    const kind = watcherKind(session.principal);
    session.watchedOrder = { orderId, kind };
    this.#add(orderId, kind, 1);
  }

  /**
   * How many of each kind watch `orderId` now.
   * @param orderId an order id
   */
  counts(orderId: string): PresenceCounts {
    const counts = this.#byOrder.get(orderId);
    return counts === undefined ? noWatchers() : { ...counts };
  }

  /** Orders watched by at least one socket. */
  get watchedOrders(): number {
    return this.#byOrder.size;
  }

  /** The ids of the orders watched by at least one socket. */
  watched(): IterableIterator<string> {
    return this.#byOrder.keys();
  }

  #add(orderId: string, kind: WatcherKind, delta: 1 | -1): void {
    let counts = this.#byOrder.get(orderId);
    if (counts === undefined) {
      if (delta < 0) return;
      counts = noWatchers();
      this.#byOrder.set(orderId, counts);
    }
    counts[kind] += delta;
    if (counts.admin + counts.operator + counts.viewer + counts.customer <= 0) this.#byOrder.delete(orderId);
    this.#onChange?.(orderId);
  }
}
