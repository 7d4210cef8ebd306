/**
 * @module protocol/orders
 * Orders and events as they travel: the order and its events (their shapes
 * are the domain's, re-exported here), what a client sends to create or
 * change one, tracking tokens, and positions in an order's own history.
 */

import type { OrderEvent } from '../domain/events.ts';
import type { Order } from '../domain/orders.ts';
import type { OrderStatus } from '../domain/statuses.ts';

export type { CreateOrderInput, Order, OrderItem, StatusHistoryEntry } from '../domain/orders.ts';
export type { OrderCreatedEvent, OrderDeletedEvent, OrderEvent, OrderUpdatedEvent } from '../domain/events.ts';

/**
 * The answer to creating an order: the order plus its secret tracking token.
 * Whoever holds the token can read that one order and stream its updates
 * (`GET /api/track/TOKEN`, `/ws?track=TOKEN`, the page at `/track/TOKEN`), and nothing else.
 */
export type CreatedOrder = Order & { readonly trackingToken: string };

/** `GET /api/orders/ID/tracking-token`: an order's tracking token again, for whoever may create orders. */
export interface TrackingTokenAnswer {
  readonly orderId: string;
  readonly trackingToken: string;
}

/** What a client sends to change an order's status, after validation. */
export interface StatusChangeInput {
  readonly status: OrderStatus;
}

/** Number of orders in each status. */
export type StatusCounts = Record<OrderStatus, number>;

/**
 * Where an event stands in the history of its own order: the order's
 * version after it (1 for a create), and one past the last version for a
 * delete. A customer's tracking connection is sent these instead of the
 * store-wide `seq`, which would tell it how busy the whole shop is.
 * @param event an event
 */
export function orderPosition(event: OrderEvent): number {
  return event.type === 'order.deleted' ? event.order.version + 1 : event.order.version;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `value` is a lowercase UUID string, the only id form the service issues. */
export function isOrderId(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** Most orders one `POST /api/orders/status` may move. */
export const BULK_STATUS_MAX_ORDERS = 500;

/** The body of `POST /api/orders/status`: one status for many orders. */
export interface BulkStatusInput {
  readonly orderIds: readonly string[];
  readonly status: OrderStatus;
  /** The version an order must still be at for its change to apply (412 otherwise), by id; the JSON is an object. */
  readonly expectedVersions?: ReadonlyMap<string, number>;
}

/**
 * One order's outcome in a bulk status change: 200 with the order as
 * committed, or the HTTP status its own request would have had (404, 409,
 * 412, 503) with the error.
 */
export interface BulkStatusResult {
  readonly id: string;
  readonly status: number;
  readonly order?: Order;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Who can be counted watching an order: the three roles, and customers on the tracking page. */
export const WATCHER_KINDS = ['admin', 'operator', 'viewer', 'customer'] as const;

/** One of {@link WATCHER_KINDS}. */
export type WatcherKind = (typeof WATCHER_KINDS)[number];

/** How many of each kind watch one order. */
export type PresenceCounts = Record<WatcherKind, number>;

/** The answer of `GET /api/orders/ID/presence`. */
export interface PresenceAnswer {
  readonly orderId: string;
  /** Sockets watching it now, by kind: tracking pages for it, boards with its detail open (`watch`). */
  readonly watching: PresenceCounts;
  /**
   * What the counts cover: `instance`, the sockets of the instance that
   * answered (memory and journal storage, or Redis unreachable);
   * `cluster`, those of every live instance sharing the Redis history.
   */
  readonly scope: 'instance' | 'cluster';
}
