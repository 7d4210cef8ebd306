/**
 * @module client/url-state
 * What the address bar holds, so a filtered board can be shared: the status filter and
 * search (`?status=pending,processing&q=ada`) and the open order
 * (`#/orders/ID`). Pure functions over strings.
 */

import { ORDER_STATUSES, isOrderId, type OrderStatus } from '../src/protocol.ts';

/** The board's filter. An empty `statuses` means every status. */
export interface Filter {
  readonly statuses: readonly OrderStatus[];
  readonly q: string;
}

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

