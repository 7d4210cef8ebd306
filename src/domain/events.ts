/**
 * @module domain/events
 * The events every change makes: what the log records and the tail hands on.
 */

import type { Order } from './orders.ts';
import type { OrderStatus } from './statuses.ts';

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
