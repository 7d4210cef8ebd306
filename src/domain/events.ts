/**
 * @module domain/events
 * The events every change makes: what the log records and the tail hands on.
 */

import type { Product } from './products.ts';
import type { Order } from './orders.ts';
import type { OrderStatus } from './statuses.ts';

/** An order was created. */
export interface OrderCreatedEvent {
  readonly type: 'order.created';
  /** Global, gap-free, increasing sequence number. */
  readonly seq: number;
  readonly order: Order;
  /** The products whose stock the order reserved, after the reservation (absent without lines). */
  readonly products?: readonly Product[];
}

/** An order changed (today: its status). */
export interface OrderUpdatedEvent {
  readonly type: 'order.updated';
  readonly seq: number;
  readonly order: Order;
  readonly previousStatus: OrderStatus;
  /** The products whose stock a cancel gave back, after it (absent when none). */
  readonly products?: readonly Product[];
}

/** An order was deleted; `order` is its last state. */
export interface OrderDeletedEvent {
  readonly type: 'order.deleted';
  readonly seq: number;
  readonly order: Order;
  /** The products whose stock deleting a pending order gave back, after it (absent when none). */
  readonly products?: readonly Product[];
}

/** Every change to the store is one of these. */
export type OrderEvent = OrderCreatedEvent | OrderUpdatedEvent | OrderDeletedEvent;

/** A product was created or changed (name, price, or stock). */
export interface ProductChangedEvent {
  readonly type: 'product.changed';
  readonly seq: number;
  readonly product: Product;
}

/** A product was deleted; `product` is its last state. */
export interface ProductDeletedEvent {
  readonly type: 'product.deleted';
  readonly seq: number;
  readonly product: Product;
}

/** A change to the catalog alone. */
export type ProductEvent = ProductChangedEvent | ProductDeletedEvent;

/** Everything the log records: the store's history. */
export type LogEvent = OrderEvent | ProductEvent;

/**
 * Whether an event is a catalog change (the others are order changes).
 * @param event an event of the log
 */
export function isProductEvent(event: LogEvent): event is ProductEvent {
  return event.type === 'product.changed' || event.type === 'product.deleted';
}
