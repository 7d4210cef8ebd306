/**
 * @module client/state
 * The board's state and a pure `reduce(state, message)`: no DOM, no network,
 * so node:test covers it directly. A snapshot replaces everything (that is how
 * a reconnect resynchronises); events apply only when newer than `seq`.
 */

import {
  ORDER_STATUSES,
  viewIncludes,
  viewKey,
  type Order,
  type OrderEvent,
  type ServerMessage,
  type StatusCounts,
  type View,
} from '../src/protocol.ts';

/** Everything the page knows about orders. */
export interface BoardState {
  /** False until the first snapshot, and again while a new view's snapshot is awaited. */
  readonly synced: boolean;
  readonly epoch: string | undefined;
  /** Last applied seq. */
  readonly seq: number;
  /** The server-side view asked for. */
  readonly view: View;
  /** The view of the orders held (from the last snapshot or resume); differs from `view` while a new one is awaited. */
  readonly dataView: View | undefined;
  /** Orders of the view that are loaded (snapshot plus older pages), by id. */
  readonly orders: ReadonlyMap<string, Order>;
  /** The same orders, newest first (kept sorted as events arrive, so renders never sort). */
  readonly list: readonly Order[];
  /** Orders in the view on the server; more than `orders.size` when older ones are not loaded. */
  readonly total: number;
  /** Orders by status across the store. */
  readonly counts: StatusCounts;
  /** Where older pages continue (the oldest loaded id), while some are not loaded. */
  readonly olderCursor: string | undefined;
  /** Ids changed by the last message, for a highlight. */
  readonly changed: readonly string[];
  /** Events applied by the last message, for toasts and announcements. */
  readonly applied: readonly OrderEvent[];
  /** Set when an unfiltered stream skipped a seq: the page must ask for a fresh snapshot. */
  readonly outOfSync: boolean;
}

const ZERO_COUNTS: StatusCounts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as StatusCounts;

/** The state before any snapshot. */
export function initialState(view: View = {}): BoardState {
  return {
    synced: false,
    epoch: undefined,
    seq: 0,
    view,
    dataView: undefined,
    orders: new Map(),
    list: [],
    total: 0,
    counts: ZERO_COUNTS,
    olderCursor: undefined,
    changed: [],
    applied: [],
    outOfSync: false,
  };
}

/**
 * Apply one server message.
 * @param state the current state
 * @param message a validated server message
 */
export function reduce(state: BoardState, message: ServerMessage): BoardState {
  switch (message.type) {
    case 'snapshot': {
      const orders = new Map(message.orders.map((o) => [o.id, o]));
      return {
        ...state,
        synced: true,
        epoch: message.epoch,
        seq: message.seq,
        view: message.view,
        dataView: message.view,
        orders,
        list: [...orders.values()].sort(newestFirst),
        total: message.total,
        counts: message.counts,
        olderCursor: message.total > orders.size ? message.orders.at(-1)?.id : undefined,
        changed: [],
        applied: [],
        outOfSync: false,
      };
    }
    case 'resumed':
      // The server will send exactly the events after our seq: keep everything.
      return { ...state, synced: true, epoch: message.epoch, view: message.view, dataView: message.view, changed: [], applied: [] };
    case 'events':
      return applyEvents(state, message.events);
    case 'productUpdated':
      // A change of the catalog alone takes a seq of its own: applied, so the stream has no gap.
      return message.seq === state.seq + 1 ? { ...state, seq: message.seq, changed: [], applied: [] } : state;
    case 'pong':
    case 'ack':
    case 'refreshed':
    case 'error':
      return state;
  }
}

/**
 * Mark the state as waiting for a snapshot of `view` (after a filter change or a reconnect).
 * @param state the current state
 * @param view the view asked for
 */
export function awaitSnapshot(state: BoardState, view: View): BoardState {
  return { ...state, synced: false, view, changed: [], applied: [] };
}

/**
 * Where to resume after a reconnect: only when the orders held are of the view
 * being asked for (a filter changed while offline needs a fresh snapshot).
 * @param state the current state
 */
export function resumePoint(state: BoardState): { since: number; epoch: string } | undefined {
  if (state.epoch === undefined || state.dataView === undefined) return undefined;
  return viewKey(state.dataView) === viewKey(state.view) ? { since: state.seq, epoch: state.epoch } : undefined;
}

/**
 * Merge an older page fetched over REST.
 * @param state the current state
 * @param orders the page, newest first
 * @param nextCursor the page's next cursor, if there are more
 */
export function addOlder(state: BoardState, orders: readonly Order[], nextCursor: string | undefined): BoardState {
  const merged = new Map(state.orders);
  const list = [...state.list];
  for (const order of orders) {
    // An event may already have brought a newer version.
    if (!merged.has(order.id) && viewIncludes(state.view, order.id, order.status)) {
      merged.set(order.id, order);
      upsertSorted(list, order);
    }
  }
  return { ...state, orders: merged, list, olderCursor: nextCursor, changed: [], applied: [] };
}

/** Newest first: ids are UUID v7, so id order is creation order. */
function newestFirst(a: Order, b: Order): number {
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Index in a newest-first list where `id` is or would go (binary search). */
function indexOf(list: readonly Order[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.id > id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upsertSorted(list: Order[], order: Order): void {
  const i = indexOf(list, order.id);
  if (list[i]?.id === order.id) list[i] = order;
  else list.splice(i, 0, order);
}

function removeSorted(list: Order[], id: string): void {
  const i = indexOf(list, id);
  if (list[i]?.id === id) list.splice(i, 1);
}

function applyEvents(state: BoardState, events: readonly OrderEvent[]): BoardState {
  const orders = new Map(state.orders);
  const list = [...state.list];
  const counts = { ...state.counts };
  const changed: string[] = [];
  const applied: OrderEvent[] = [];
  let { seq, total } = state;
  let outOfSync = state.outOfSync;
  const unfiltered = state.view.orderId === undefined && state.view.statuses === undefined;
  for (const event of events) {
    if (event.seq <= seq) continue; // already reflected (e.g. in the snapshot)
    if (unfiltered && event.seq !== seq + 1) outOfSync = true;
    seq = event.seq;
    applied.push(event);
    const { order } = event;
    const inView = viewIncludes(state.view, order.id, order.status);
    switch (event.type) {
      case 'order.created':
        counts[order.status]++;
        if (inView) {
          orders.set(order.id, order);
          upsertSorted(list, order);
          total++;
          changed.push(order.id);
        }
        break;
      case 'order.updated': {
        counts[event.previousStatus]--;
        counts[order.status]++;
        const wasInView = viewIncludes(state.view, order.id, event.previousStatus);
        if (inView) {
          orders.set(order.id, order);
          upsertSorted(list, order);
          changed.push(order.id);
        } else {
          orders.delete(order.id);
          removeSorted(list, order.id);
        }
        total += Number(inView) - Number(wasInView);
        break;
      }
      case 'order.deleted':
        counts[order.status]--;
        if (inView) total--;
        orders.delete(order.id);
        removeSorted(list, order.id);
        break;
    }
  }
  return { ...state, orders, list, counts, seq, total, changed, applied, outOfSync };
}
