/**
 * @module domain/statuses
 * The status machine: every status an order can be in, and the moves
 * between them. Pure data and predicates, shared by the rules, the
 * validators, the page and the CLI.
 */

/** Every order status, in the order an order normally moves through them. */
export const ORDER_STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'] as const;

/** One of {@link ORDER_STATUSES}. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * The statuses an order may move to from each status. Moves go forward only;
 * skipping ahead is allowed (and recorded in history). `delivered` and
 * `cancelled` are final.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processing', 'shipped', 'delivered', 'cancelled'],
  processing: ['shipped', 'delivered', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** The next step on the happy path, used by "advance" buttons; `undefined` when final or only cancellable. */
export const NEXT_STATUS: Readonly<Record<OrderStatus, OrderStatus | undefined>> = {
  pending: 'processing',
  processing: 'shipped',
  shipped: 'delivered',
  delivered: undefined,
  cancelled: undefined,
};

/**
 * Whether `value` is one of {@link ORDER_STATUSES}.
 * @param value anything
 */
export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

/**
 * Whether an order in status `from` may move to status `to`.
 * @param from the current status
 * @param to the requested status
 */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}
