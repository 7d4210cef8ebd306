/**
 * @module domain/orders
 * What an order is and may hold, and money: prices in whole cents and exact
 * totals. The protocol carries these shapes as they are (protocol/orders.ts).
 */

import type { OrderLine, OrderLineInput } from './products.ts';
import type { OrderStatus } from './statuses.ts';

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
  /** Lines from the catalog, each with its unit price at the time of the order (absent when the order has none). */
  readonly lines?: readonly OrderLine[];
  /** Sum of quantity × price over items and lines, present only when every item has a price. */
  readonly total?: number;
  readonly status: OrderStatus;
  readonly history: readonly StatusHistoryEntry[];
  /** Starts at 1 and grows by 1 with every change; used for `If-Match`. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a client sends to create an order, after validation. */
export interface CreateOrderInput {
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items: readonly OrderItem[];
  /** Products to order from the catalog: priced, and their stock reserved, when the order is created. */
  readonly lines?: readonly OrderLineInput[];
}

/** Bounds on what an order may hold; validators and docs use the same numbers. */
export const ORDER_LIMITS = {
  customerNameMaxLength: 200,
  customerEmailMaxLength: 254,
  itemsMax: 100,
  itemNameMaxLength: 200,
  quantityMax: 1_000_000,
  priceMax: 1_000_000_000,
  /**
   * Largest order total: 15 significant digits with the cents, so every
   * total is an exact integer number of cents and prints back as it was summed.
   */
  totalMax: 9_999_999_999_999.99,
} as const;

/** {@link ORDER_LIMITS}.totalMax in cents: below 2^53, so sums of cents are exact. */
const TOTAL_MAX_CENTS = 999_999_999_999_999;

/**
 * A price in whole cents, or `undefined` when it has more than two decimals
 * (money is counted in cents, and a fraction of a cent would be rounded away).
 * @param price a finite, non-negative number
 */
export function priceInCents(price: number): number | undefined {
  const cents = Math.round(price * 100);
  // Both sides are the double nearest to cents / 100 exactly when the price has at most two decimals.
  return cents / 100 === price ? cents : undefined;
}

/**
 * The order's total in cents: quantity × price summed over the items, or
 * `undefined` when an item has no price (a partial total would mislead), or
 * `'too-large'` past {@link ORDER_LIMITS}.totalMax. Every step is an exact
 * integer: a product that could pass 2^53 is refused before it is made.
 * @param items validated items (prices in whole cents)
 */
export function orderTotalCents(items: readonly OrderItem[]): number | undefined | 'too-large' {
  let total = 0;
  for (const { price, quantity } of items) {
    if (price === undefined) return undefined;
    const cents = Math.round(price * 100);
    if (cents > 0 && quantity > Math.floor((TOTAL_MAX_CENTS - total) / cents)) return 'too-large';
    total += cents * quantity;
  }
  return total;
}
