/**
 * @module domain/refusals
 * Why the rules refuse a command, as facts. The protocol words them and
 * gives each its error code (protocol/errors.ts `refusalError`).
 */

import type { Order } from './orders.ts';
import type { OrderStatus } from './statuses.ts';

/** A command the rules refuse, and what the refusal is about. */
export type Refusal =
  /** No order has the id the command names. */
  | { readonly kind: 'not-found'; readonly id: string }
  /** The order is no longer at the version the client expected. */
  | { readonly kind: 'version-mismatch'; readonly order: Order; readonly expectedVersion: number }
  /** The status machine does not allow the move. */
  | { readonly kind: 'bad-transition'; readonly order: Order; readonly status: OrderStatus };
