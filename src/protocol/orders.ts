/**
 * @module protocol/orders
 * Orders and events as they travel: the order, its items and history, what
 * a client sends to create or change one, and the events every change makes.
 */

import type { OrderStatus } from '../domain/statuses.ts';


/** One line of an order, always stored normalised (a bare string means quantity 1). */
export interface OrderItem {
  readonly name: string;
  readonly quantity: number;
  /** Unit price; absent when the client gave none. */
  readonly price?: number;
}

/** One entry of an order's status timeline. */
export interface StatusHistoryEntry {
  readonly status: OrderStatus;
  /** ISO 8601 time of the change. */
  readonly at: string;
}

/** An order as the API and the socket carry it. */
export interface Order {
  /** UUID v7: sorts by creation time. */
  readonly id: string;
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items: readonly OrderItem[];
  /** Sum of quantity × price, present only when every item has a price. */
  readonly total?: number;
  readonly status: OrderStatus;
  readonly history: readonly StatusHistoryEntry[];
  /** Starts at 1 and grows by 1 with every change; used for `If-Match`. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

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


/** What a client sends to create an order, after validation. */
export interface CreateOrderInput {
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items: readonly OrderItem[];
}

/** What a client sends to change an order's status, after validation. */
export interface StatusChangeInput {
  readonly status: OrderStatus;
}

/** Number of orders in each status. */
export type StatusCounts = Record<OrderStatus, number>;



/** An order was created. */
export interface OrderCreatedEvent {
  readonly type: 'order.created';
  /** Global, gap-free, increasing sequence number. */
  readonly seq: number;
  readonly order: Order;
}

/** An order changed (today: its status). */
export interface OrderUpdatedEvent {
  readonly type: 'order.updated';
  readonly seq: number;
  readonly order: Order;
  readonly previousStatus: OrderStatus;
}

/** An order was deleted; `order` is its last state. */
export interface OrderDeletedEvent {
  readonly type: 'order.deleted';
  readonly seq: number;
  readonly order: Order;
}

/** Every change to the store is one of these. */
export type OrderEvent = OrderCreatedEvent | OrderUpdatedEvent | OrderDeletedEvent;

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
