/**
 * @module domain/decide
 * Every rule of the service in one pure function: given an order as it
 * stands (or nothing) and a command, the change to record, or the refusal.
 * No clock, no ids, no storage: the caller passes the time and the new id,
 * and a backend records the change only if the order is still at the
 * version the decision was made against. Whatever the backend (memory, a
 * journal, Redis), this is the only copy of the rules.
 */

import { linesTotalCents, release, reserve, type OrderLine, type Product, type ProductChange } from './catalog.ts';
import type { OrderCreatedEvent, OrderDeletedEvent, OrderUpdatedEvent } from './events.ts';
import { ORDER_LIMITS, orderTotalCents, type CreateOrderInput, type Order, type OrderItem, type StatusHistoryEntry } from './orders.ts';
import type { Refusal } from './refusals.ts';
import { fail, ok, type Result } from './result.ts';
import { canTransition, type OrderStatus } from './statuses.ts';

/** What a client asks for, with what the caller supplies: the new order's id, and the time. */
export type Command =
  | { readonly type: 'create'; readonly id: string; readonly input: CreateOrderInput; readonly at: string }
  | { readonly type: 'changeStatus'; readonly id: string; readonly status: OrderStatus; readonly expectedVersion?: number; readonly at: string }
  | { readonly type: 'delete'; readonly id: string; readonly expectedVersion?: number; readonly at?: string };

/** An order's change before the log has given it its `seq`. */
export type OrderChange = Omit<OrderCreatedEvent, 'seq'> | Omit<OrderUpdatedEvent, 'seq'> | Omit<OrderDeletedEvent, 'seq'>;

/** An event before the log has given it its `seq`: an order's change (with the stock it moved), or the catalog's. */
export type Change = OrderChange | ProductChange;

/** The products as the caller knows them, by SKU. */
export type ProductLookup = (sku: string) => Product | undefined;

const NO_PRODUCTS: ProductLookup = () => undefined;

/** {@link ORDER_LIMITS}.totalMax in whole cents. */
const TOTAL_MAX_CENTS = Math.round(ORDER_LIMITS.totalMax * 100);

/**
 * Decide a command against the order it concerns.
 * @param current the order as this instance knows it, or undefined when it has none with that id
 * @param command what was asked
 * @returns the change to record (its order is the order after it; a delete's is the last state), or why not
 */
export function decide(current: Order | undefined, command: Command, productOf: ProductLookup = NO_PRODUCTS): Result<OrderChange, Refusal> {
  switch (command.type) {
    case 'create':
      if (current !== undefined) throw new Error(`id generator repeated ${command.id}`);
      return decideOrderCreate(command.id, command.input, command.at, productOf);
    case 'changeStatus': {
      const refused = refusal(current, command.id, command.expectedVersion);
      if (refused !== undefined) return fail(refused);
      const order = current!;
      if (!canTransition(order.status, command.status)) return fail({ kind: 'bad-transition', order, status: command.status });
      const { at, status } = command;
      const history: readonly StatusHistoryEntry[] = [...order.history, { status, at }];
      const updated: Order = { ...order, status, history, version: order.version + 1, updatedAt: at };
      // A cancel gives the stock back; an order is cancelled at most once (cancelled is final).
      const released = status === 'cancelled' && order.lines !== undefined ? release(order.lines, productOf, at) : [];
      return ok(released.length === 0 ? { type: 'order.updated', order: updated, previousStatus: order.status } : { type: 'order.updated', order: updated, previousStatus: order.status, products: released });
    }
    case 'delete': {
      const refused = refusal(current, command.id, command.expectedVersion);
      if (refused !== undefined) return fail(refused);
      const order = current!;
      // Only a pending order still holds its stock: a cancelled one gave it back, a later one was sold.
      const released = order.status === 'pending' && order.lines !== undefined ? release(order.lines, productOf, command.at ?? order.updatedAt) : [];
      return ok(released.length === 0 ? { type: 'order.deleted', order } : { type: 'order.deleted', order, products: released });
    }
  }
}

/**
 * A create, which no rule refuses once its input is valid: {@link decide}
 * for `create`, without the command and result objects around it (creates
 * are most writes).
 * @param id the new order's id (fresh: no order has it)
 * @param input a validated order
 * @param at the time, in ISO 8601
 */
export function decideCreate(id: string, input: CreateOrderInput, at: string): Omit<OrderCreatedEvent, 'seq'> {
  return { type: 'order.created', order: newOrder(id, input, at) };
}

/**
 * A create, with its lines priced from the catalog and their stock
 * reserved, all or nothing; without lines, {@link decideCreate}.
 * @param id the new order's id (fresh: no order has it)
 * @param input a validated order
 * @param at the time, in ISO 8601
 * @param productOf the products as the caller knows them
 */
export function decideOrderCreate(id: string, input: CreateOrderInput, at: string, productOf: ProductLookup): Result<OrderChange, Refusal> {
  if (input.lines === undefined || input.lines.length === 0) return ok(decideCreate(id, input, at));
  const reserved = reserve(input.lines, productOf, at);
  if (!reserved.ok) return reserved;
  const { lines, products } = reserved.value;
  if (totalCents(input.items, lines) === 'too-large') return fail({ kind: 'total-too-large', max: ORDER_LIMITS.totalMax });
  return ok({ type: 'order.created', order: newOrder(id, input, at, lines), products });
}

/**
 * The version an order change was decided against: a backend records it
 * only if the order is still there (0: still absent).
 * @param change a change from {@link decide}
 */
export function versionBefore(change: OrderChange): number {
  switch (change.type) {
    case 'order.created':
      return 0;
    case 'order.updated':
      return change.order.version - 1;
    case 'order.deleted':
      return change.order.version;
  }
}

/** One product a change writes: the version it was decided against (0: absent) and the one after (0: deleted). */
export interface ProductWrite {
  readonly sku: string;
  readonly before: number;
  readonly after: number;
  readonly product: Product;
}

/**
 * The products a change writes: a backend records the change only if each
 * is still at the version it was decided against, so two orders never
 * reserve the same units.
 * @param change a change from {@link decide} or decideProduct
 */
export function productWrites(change: Change): readonly ProductWrite[] {
  switch (change.type) {
    case 'product.changed':
      return [{ sku: change.product.sku, before: change.product.version - 1, after: change.product.version, product: change.product }];
    case 'product.deleted':
      return [{ sku: change.product.sku, before: change.product.version, after: 0, product: change.product }];
    default:
      return (change.products ?? []).map((product) => ({ sku: product.sku, before: product.version - 1, after: product.version, product }));
  }
}

/**
 * Whether a change is an order's (the others are the catalog's alone).
 * @param change a change
 */
export function isOrderChange(change: Change): change is OrderChange {
  return change.type !== 'product.changed' && change.type !== 'product.deleted';
}

/** Items and lines together, in cents; undefined when an item has no price. */
function totalCents(items: readonly OrderItem[], lines: readonly OrderLine[] | undefined): number | undefined | 'too-large' {
  const itemsCents = orderTotalCents(items);
  if (lines === undefined || itemsCents === undefined || itemsCents === 'too-large') return itemsCents;
  const cents = itemsCents + linesTotalCents(lines);
  return cents > TOTAL_MAX_CENTS ? 'too-large' : cents;
}

/** Not found, or not at the version the client expected. */
function refusal(current: Order | undefined, id: string, expectedVersion: number | undefined): Refusal | undefined {
  if (current === undefined) return { kind: 'not-found', id };
  if (expectedVersion !== undefined && expectedVersion !== current.version) return { kind: 'version-mismatch', order: current, expectedVersion };
  return undefined;
}

/** The first history of orders created at the last timestamp seen (see {@link firstHistoryAt}). */
let firstHistory: readonly StatusHistoryEntry[] = [];

/**
 * A new order's history, `[{ status: 'pending', at }]`. Orders are
 * immutable (a change makes a new history), so the orders created at one
 * timestamp share it: two objects, ~100 bytes, fewer per stored order.
 */
function firstHistoryAt(at: string): readonly StatusHistoryEntry[] {
  if (firstHistory[0]?.at !== at) firstHistory = [{ status: 'pending', at }];
  return firstHistory;
}

/**
 * A new pending order. Written as plain object literals, one per combination
 * of the optional fields, in wire order: conditional spreads made creating an
 * order about four times slower.
 */
function newOrder(id: string, input: CreateOrderInput, at: string, lines?: readonly OrderLine[]): Order {
  const { customerName, customerEmail } = input;
  const items = input.items.map(copyItem);
  const history = firstHistoryAt(at);
  const cents = totalCents(input.items, lines);
  if (cents === 'too-large') throw new RangeError('order total exceeds ORDER_LIMITS.totalMax; validate the input first');
  const total = cents === undefined ? undefined : cents / 100;
  if (lines !== undefined) {
    // Rare enough (catalog orders) to build with spreads, in wire order.
    return { id, customerName, ...(customerEmail === undefined ? {} : { customerEmail }), items, lines, ...(total === undefined ? {} : { total }), status: 'pending', history, version: 1, createdAt: at, updatedAt: at };
  }
  if (customerEmail === undefined) {
    return total === undefined
      ? { id, customerName, items, status: 'pending', history, version: 1, createdAt: at, updatedAt: at }
      : { id, customerName, items, total, status: 'pending', history, version: 1, createdAt: at, updatedAt: at };
  }
  return total === undefined
    ? { id, customerName, customerEmail, items, status: 'pending', history, version: 1, createdAt: at, updatedAt: at }
    : { id, customerName, customerEmail, items, total, status: 'pending', history, version: 1, createdAt: at, updatedAt: at };
}

/** The order keeps its own copy of every item (callers may reuse theirs). */
function copyItem(item: OrderItem): OrderItem {
  return item.price === undefined ? { name: item.name, quantity: item.quantity } : { name: item.name, quantity: item.quantity, price: item.price };
}
