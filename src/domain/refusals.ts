/**
 * @module domain/refusals
 * Why the rules refuse a command, as facts. The protocol words them and
 * gives each its error code (protocol/errors.ts `refusalError`).
 */

import type { Product, Shortage } from './products.ts';
import type { Order } from './orders.ts';
import type { OrderStatus } from './statuses.ts';

/** A command the rules refuse, and what the refusal is about. */
export type Refusal =
  /** No order has the id the command names. */
  | { readonly kind: 'not-found'; readonly id: string }
  /** The order is no longer at the version the client expected. */
  | { readonly kind: 'version-mismatch'; readonly order: Order; readonly expectedVersion: number }
  /** The status machine does not allow the move. */
  | { readonly kind: 'bad-transition'; readonly order: Order; readonly status: OrderStatus }
  /** No product has the SKU the command names. */
  | { readonly kind: 'product-not-found'; readonly sku: string }
  /** A product with that SKU exists already. */
  | { readonly kind: 'product-exists'; readonly sku: string }
  /** The product is no longer at the version the client expected. */
  | { readonly kind: 'product-version-mismatch'; readonly product: Product; readonly expectedVersion: number }
  /** The stock would pass its bound. */
  | { readonly kind: 'stock-too-large'; readonly product: Product; readonly max: number }
  /** Some products have less stock than asked: every one of them. */
  | { readonly kind: 'out-of-stock'; readonly shortages: readonly Shortage[] }
  /** Items and lines together pass the largest order total. */
  | { readonly kind: 'total-too-large'; readonly max: number };

export type { Shortage } from './products.ts';
