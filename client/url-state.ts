/**
 * @module client/url-state
 * What the address bar holds, so a board can be shared: the status filter,
 * search and layout (`?status=pending,processing&q=ada&view=compact`) and the
 * open order (`#/orders/ID`). Pure functions over strings.
 */

import { ORDER_STATUSES, isOrderId, type OrderStatus } from '../src/protocol.ts';

/** The board's filter. An empty `statuses` means every status. */
export interface Filter {
  readonly statuses: readonly OrderStatus[];
  readonly q: string;
  /** The dense one-row-per-order board; absent for cards (the default). */
  readonly layout?: typeof COMPACT_LAYOUT;
}

/** The query value (`?view=compact`) and {@link Filter.layout} of the dense board. */
export const COMPACT_LAYOUT = 'compact';

/** The query parameter that holds the layout. */
const LAYOUT_PARAM = 'view';

/**
 * Read the filter from a query string; unknown statuses are ignored.
 * @param search `location.search`
 */
export function parseFilter(search: string): Filter {
  const params = new URLSearchParams(search);
  const wanted = (params.get('status') ?? '').split(',');
  return {
    statuses: ORDER_STATUSES.filter((s) => wanted.includes(s)),
    q: (params.get('q') ?? '').trim(),
    ...(params.get(LAYOUT_PARAM) === COMPACT_LAYOUT ? { layout: COMPACT_LAYOUT } : {}),
  };
}

/**
 * Write the filter as a query string ('' when empty), keeping it in status order.
 * @param filter the filter
 */
export function formatFilter(filter: Filter): string {
  const params = new URLSearchParams();
  if (filter.statuses.length > 0) params.set('status', ORDER_STATUSES.filter((s) => filter.statuses.includes(s)).join(','));
  if (filter.q !== '') params.set('q', filter.q);
  if (filter.layout === COMPACT_LAYOUT) params.set(LAYOUT_PARAM, COMPACT_LAYOUT);
  const text = params.toString().replaceAll('%2C', ',');
  return text === '' ? '' : `?${text}`;
}

/**
 * The order id in `#/orders/ID`, if the hash names one.
 * @param hash `location.hash`
 */
export function parseDetailHash(hash: string): string | undefined {
  const m = /^#\/orders\/([^/?#]+)$/.exec(hash);
  return m?.[1] !== undefined && isOrderId(m[1]) ? m[1] : undefined;
}

/**
 * What follows `#/orders/` in the hash, whatever it is (a whole id, a short
 * one, a typo), so a link that names no order can say so.
 * @param hash `location.hash`
 */
export function detailHashTarget(hash: string): string | undefined {
  const m = /^#\/orders\/(.+)$/.exec(hash);
  if (m?.[1] === undefined) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1]; // a stray % is still what the link says
  }
}

/**
 * The export link of the board's filter: `GET /api/orders.csv` with the same
 * `status` and `q` as the board shows.
 * @param filter the board's filter
 */
export function csvExportHref(filter: Filter): string {
  const params = new URLSearchParams();
  if (filter.statuses.length > 0) params.set('status', ORDER_STATUSES.filter((s) => filter.statuses.includes(s)).join(','));
  if (filter.q !== '') params.set('q', filter.q);
  const text = params.toString().replaceAll('%2C', ',');
  return `/api/orders.csv${text === '' ? '' : `?${text}`}`;
}

/**
 * The hash that opens an order's detail dialog.
 * @param id the order id
 */
export function detailHash(id: string): string {
  return `#/orders/${id}`;
}

/**
 * Toggle one status in the filter.
 * @param filter the current filter
 * @param status the status clicked
 */
export function toggleStatus(filter: Filter, status: OrderStatus): Filter {
  const on = filter.statuses.includes(status);
  return { ...filter, statuses: ORDER_STATUSES.filter((s) => (s === status ? !on : filter.statuses.includes(s))) };
}

