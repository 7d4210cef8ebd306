/**
 * @module node/projection
 * The local projection: every order this instance knows, with its indexes,
 * as of a position in the history. It is the only writer of that state, and
 * it changes only by applying events from the log's tail, in `seq` order.
 * Reads are synchronous and never scan the store: a map by id, plus sorted
 * id indexes overall and per status (UUID v7 ids sort by creation time).
 */

import type { Product } from '../domain/catalog.ts';
import type { LogEvent } from '../domain/events.ts';
import { ORDER_STATUSES, type OrderStatus } from '../domain/statuses.ts';
import type { Position } from '../protocol/messages.ts';
import type { Order, StatusCounts } from '../protocol/orders.ts';
import type { ListQuery, LoadedState, OrderPage, OrderReader } from '../store/ports.ts';
import { SortedIds, mergeDescending } from './sorted-ids.ts';

/** A command waiting for the projection to reach its seq. */
interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  /** The history was replaced before the seq came: it may never come. */
  readonly abandon: (error: Error) => void;
}

/** Orders and indexes, fed by events. */
export class OrderProjection implements OrderReader {
  #orders = new Map<string, Order>();
  /** The catalog, by SKU, sorted on demand (products are few next to orders). */
  #products = new Map<string, Product>();
  #all = new SortedIds();
  #byStatus = new Map<OrderStatus, SortedIds>(ORDER_STATUSES.map((s) => [s, new SortedIds()]));
  #epoch: string;
  #seq: number;
  /** Waiting commands, by increasing seq (commits resolve in order). */
  #waiters: Waiter[] = [];

  /** @param initial the orders and position to start from */
  constructor(initial: LoadedState) {
    this.#epoch = initial.position.epoch;
    this.#seq = initial.position.seq;
    for (const order of initial.orders) this.#add(order);
    for (const product of initial.products ?? []) this.#products.set(product.sku, product);
  }

  /**
   * Start over from another history (a shared backend lost its history and
   * loaded it again): every order and index replaced, and every command
   * still waiting for a seq of the old history told it may never come.
   * @param state the orders and position loaded again
   * @param abandoned what waiting commands fail with (their write may or may not be in the new history)
   */
  reset(state: LoadedState, abandoned: Error): void {
    this.#orders = new Map();
    this.#all = new SortedIds();
    this.#byStatus = new Map(ORDER_STATUSES.map((s) => [s, new SortedIds()]));
    this.#epoch = state.position.epoch;
    this.#seq = state.position.seq;
    for (const order of state.orders) this.#add(order);
    this.#products = new Map((state.products ?? []).map((product) => [product.sku, product]));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.abandon(abandoned);
  }

  get position(): Position {
    return { seq: this.#seq, epoch: this.#epoch };
  }

  /** The seq of the last event applied. */
  get seq(): number {
    return this.#seq;
  }

  get size(): number {
    return this.#orders.size;
  }

  /** @param id an order id */
  get(id: string): Order | undefined {
    return this.#orders.get(id);
  }

  /** @param sku a product's SKU */
  product(sku: string): Product | undefined {
    return this.#products.get(sku);
  }

  /** Every product, by SKU. */
  products(): Product[] {
    return [...this.#products.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  }

  /** Counts by status, read from the index sizes (no scan). */
  counts(): StatusCounts {
    const counts = {} as StatusCounts;
    for (const status of ORDER_STATUSES) counts[status] = this.#index(status).size;
    return counts;
  }

  /**
   * Newest-first page of orders matching a view. Costs O(log n + limit) per
   * status in the view, never a scan of the whole store.
   * @param query view, cursor and page size
   */
  list(query: ListQuery): OrderPage {
    const view = query.view ?? {};
    if (view.orderId !== undefined) return this.#listOne(view.orderId, view.statuses, query.before);
    const statuses = view.statuses ?? ORDER_STATUSES;
    const ids =
      view.statuses === undefined
        ? this.#all.descending(query.before)
        : mergeDescending(statuses.map((s) => this.#index(s).descending(query.before)));
    const orders: Order[] = [];
    let last: string | undefined;
    for (const id of ids) {
      if (orders.length === query.limit) {
        // One more exists beyond this page, so there is a next page.
        return { orders, total: this.#total(view.statuses), nextCursor: last };
      }
      orders.push(this.#orders.get(id)!);
      last = id;
    }
    return { orders, total: this.#total(view.statuses) };
  }

  /**
   * Apply events from the tail, in order, then wake the commands they
   * answer. Gaps and repeats are bugs upstream (the tail promises neither).
   * @param events consecutive events, starting at the next seq
   */
  apply(events: readonly LogEvent[]): void {
    for (const event of events) {
      if (event.seq !== this.#seq + 1) throw new Error(`projection expected seq ${this.#seq + 1}, got ${event.seq}`);
      if (event.type === 'product.changed' || event.type === 'product.deleted') {
        if (event.type === 'product.changed') this.#products.set(event.product.sku, event.product);
        else this.#products.delete(event.product.sku);
        this.#seq = event.seq;
        continue;
      }
      // The stock an order reserved or gave back is part of its event.
      if (event.products !== undefined) for (const product of event.products) this.#products.set(product.sku, product);
      const { order } = event;
      switch (event.type) {
        case 'order.created':
          this.#add(order);
          break;
        case 'order.updated':
          this.#orders.set(order.id, order);
          if (event.previousStatus !== order.status) {
            this.#index(event.previousStatus).remove(order.id);
            this.#index(order.status).insert(order.id);
          }
          break;
        case 'order.deleted':
          this.#orders.delete(order.id);
          this.#all.remove(order.id);
          this.#index(order.status).remove(order.id);
          break;
      }
      this.#seq = event.seq;
    }
    if (this.#waiters.length > 0 && this.#waiters[0]!.seq <= this.#seq) this.#wake();
  }

  /**
   * Resolves once the projection has applied `seq`: a command answers only
   * then, so its writer reads its own write here.
   * @param seq a committed seq
   */
  reached(seq: number): Promise<void> {
    if (seq <= this.#seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters;
      // Nearly always the newest commit, so it goes last; otherwise keep them in seq order.
      let at = waiters.length;
      while (at > 0 && waiters[at - 1]!.seq > seq) at--;
      waiters.splice(at, 0, { seq, resolve, abandon: reject });
    });
  }

  /**
   * {@link reached}, giving up after `timeoutMs`: for a client that says it
   * saw a seq this instance has not applied yet (it came from another
   * instance), which may never come (it made the seq up).
   * @param seq a seq
   * @param timeoutMs how long to wait
   * @returns whether the projection reached it in time
   */
  reachedWithin(seq: number, timeoutMs: number): Promise<boolean> {
    if (seq <= this.#seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
        abandon: () => {
          clearTimeout(timer);
          resolve(false);
        },
      };
      const timer = setTimeout(() => {
        // Gone from the list, so a client that asks again and again leaves nothing behind.
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      let at = this.#waiters.length;
      while (at > 0 && this.#waiters[at - 1]!.seq > seq) at--;
      this.#waiters.splice(at, 0, waiter);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    let woken = 0;
    while (woken < waiters.length && waiters[woken]!.seq <= this.#seq) waiters[woken++]!.resolve();
    this.#waiters = woken === waiters.length ? [] : waiters.slice(woken);
  }

  #add(order: Order): void {
    const size = this.#orders.size;
    this.#orders.set(order.id, order);
    // One hash lookup instead of has() then set(): in a map of a million orders each is a cache miss.
    if (this.#orders.size === size) throw new Error(`order ${order.id} created twice`);
    this.#all.insert(order.id);
    this.#index(order.status).insert(order.id);
  }

  #index(status: OrderStatus): SortedIds {
    return this.#byStatus.get(status)!;
  }

  #total(statuses: readonly OrderStatus[] | undefined): number {
    if (statuses === undefined) return this.#orders.size;
    let total = 0;
    for (const status of statuses) total += this.#index(status).size;
    return total;
  }

  #listOne(id: string, statuses: readonly OrderStatus[] | undefined, before: string | undefined): OrderPage {
    const order = this.#orders.get(id);
    const matches = order !== undefined && (statuses === undefined || statuses.includes(order.status));
    if (!matches) return { orders: [], total: 0 };
    return { orders: before === undefined || id < before ? [order] : [], total: 1 };
  }
}
