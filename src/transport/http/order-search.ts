/**
 * @module transport/http/order-search
 * The query of `GET /api/orders` and `GET /api/orders.csv`: status, page
 * size and cursor, and the search filters `q` (a customer name part, an
 * order id or its last 8+ hex digits) and `createdAfter`/`createdBefore`.
 * Unknown parameters are refused, as unknown body fields are. Without a
 * search filter a list is the projection's own page (no scan); with one,
 * the orders are walked newest first in blocks, testing each with one
 * precompiled pattern and string comparisons (nothing allocated per order).
 */

import { ORDER_STATUSES, ProtocolError, isIdSuffix, isOrderId, isOrderStatus, type FieldError, type Order, type OrderStatus, type Result, type View } from '../../protocol.ts';
import type { OrderPage, OrderReader } from '../../store/ports.ts';

/** Page sizes for `GET /api/orders`. */
export const LIST_LIMITS = { default: 100, max: 1000 } as const;

/** Longest `q` accepted (as long as a customer name). */
export const SEARCH_MAX_LENGTH = 200;

/** Orders read from the projection per step of a filtered walk. */
const WALK_BLOCK = 1000;

/** The search filters; every one present must match. */
export interface OrderFilter {
  readonly statuses?: readonly OrderStatus[];
  /** `q` as given (trimmed). */
  readonly q?: string;
  /** Inclusive lower bound on `createdAt`, as `toISOString()` text (so a string comparison orders it). */
  readonly createdAfter?: string;
  /** Exclusive upper bound on `createdAt`, likewise. */
  readonly createdBefore?: string;
}

/** A parsed list query. */
export interface ListQueryValues extends OrderFilter {
  readonly limit: number;
  readonly cursor?: string;
}

/** Parameters each endpoint takes. */
const LIST_PARAMETERS = ['status', 'limit', 'cursor', 'q', 'createdAfter', 'createdBefore'] as const;
const EXPORT_PARAMETERS = ['status', 'q', 'createdAfter', 'createdBefore'] as const;

/**
 * `?status=a,b` (or repeated), `?limit=1..1000`, `?cursor=<id from Link>`,
 * `?q=`, `?createdAfter=`, `?createdBefore=` (ISO 8601). Anything else is refused.
 * @param params the query
 */
export function parseListQuery(params: URLSearchParams): Result<ListQueryValues> {
  const errors: FieldError[] = [];
  rejectUnknown(params, LIST_PARAMETERS, errors);
  const filter = parseFilter(params, errors);
  let limit: number = LIST_LIMITS.default;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= LIST_LIMITS.max)) errors.push({ field: 'query.limit', message: `must be an integer from 1 to ${LIST_LIMITS.max}` });
  }
  const cursor = params.get('cursor') ?? undefined;
  if (cursor !== undefined && !isOrderId(cursor)) errors.push({ field: 'query.cursor', message: 'must be the cursor from a Link header' });
  if (errors.length > 0) return invalid(errors);
  return { ok: true, value: { ...filter, limit, ...(cursor === undefined ? {} : { cursor }) } };
}

/**
 * The export's query: the list's filters, without pages (it streams them all).
 * @param params the query
 */
export function parseExportQuery(params: URLSearchParams): Result<OrderFilter> {
  const errors: FieldError[] = [];
  rejectUnknown(params, EXPORT_PARAMETERS, errors);
  const filter = parseFilter(params, errors);
  return errors.length > 0 ? invalid(errors) : { ok: true, value: filter };
}

/**
 * The query string that repeats `filter` (for a `Link` to the next page).
 * @param filter the filters
 */
export function filterParams(filter: OrderFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.statuses !== undefined) params.set('status', filter.statuses.join(','));
  if (filter.q !== undefined) params.set('q', filter.q);
  if (filter.createdAfter !== undefined) params.set('createdAfter', filter.createdAfter);
  if (filter.createdBefore !== undefined) params.set('createdBefore', filter.createdBefore);
  return params;
}

/** Whether the filter needs more than the projection's status indexes. */
function searches(filter: OrderFilter): boolean {
  return filter.q !== undefined || filter.createdAfter !== undefined || filter.createdBefore !== undefined;
}

/**
 * A page of orders matching `query`, newest first, with the number of all
 * matches and the cursor of the next page. Without `q`/`created*` this is
 * the projection's indexed page; with a whole order id in `q`, one lookup;
 * otherwise one walk over the orders of the chosen statuses, which also
 * counts the matches for `X-Total-Count`.
 * @param orders the projection
 * @param query the parsed query
 */
export function searchOrders(orders: OrderReader, query: ListQueryValues): OrderPage {
  const view: View = query.statuses === undefined ? {} : { statuses: query.statuses };
  if (!searches(query)) return orders.list({ view, limit: query.limit, ...(query.cursor === undefined ? {} : { before: query.cursor }) });
  const matches = orderMatcher(query);
  if (query.q !== undefined && isOrderId(query.q.toLowerCase())) {
    // A whole id: one lookup, whatever the store's size.
    const page = orders.list({ view: { ...view, orderId: query.q.toLowerCase() }, limit: 1 });
    const found = page.orders.filter(matches);
    const onPage = query.cursor === undefined ? found : found.filter((o) => o.id < query.cursor!);
    return { orders: onPage, total: found.length };
  }
  const page: Order[] = [];
  let total = 0;
  let nextCursor: string | undefined;
  // Plain loops over each block's array: a generator per order was most of the walk's cost.
  let before: string | undefined;
  do {
    const block = orders.list({ view, limit: WALK_BLOCK, ...(before === undefined ? {} : { before }) });
    for (const order of block.orders) {
      if (!matches(order)) continue;
      total++;
      if (query.cursor !== undefined && order.id >= query.cursor) continue;
      if (page.length < query.limit) page.push(order);
      else nextCursor ??= page[page.length - 1]!.id;
    }
    before = block.nextCursor;
  } while (before !== undefined);
  return nextCursor === undefined ? { orders: page, total } : { orders: page, total, nextCursor };
}

/**
 * Every order matching `filter`, newest first, read from the projection in
 * blocks (each block is a fresh indexed page, so orders added or removed
 * meanwhile neither stop the walk nor repeat).
 * @param orders the projection
 * @param filter the filters
 */
export function* matchingOrders(orders: OrderReader, filter: OrderFilter): Generator<Order, void, undefined> {
  const view: View = filter.statuses === undefined ? {} : { statuses: filter.statuses };
  if (!searches(filter)) {
    yield* walk(orders, view);
    return;
  }
  const matches = orderMatcher(filter);
  for (const order of walk(orders, view)) if (matches(order)) yield order;
}

function* walk(orders: OrderReader, view: View): Generator<Order, void, undefined> {
  let before: string | undefined;
  for (;;) {
    const page = orders.list({ view, limit: WALK_BLOCK, ...(before === undefined ? {} : { before }) });
    yield* page.orders;
    if (page.nextCursor === undefined) return;
    before = page.nextCursor;
  }
}

/**
 * One test for every filter, built once per request: `q` as a
 * case-insensitive pattern over the name, and as an id suffix when it is
 * 8+ hex digits (with or without dashes).
 */
function orderMatcher(filter: OrderFilter): (order: Order) => boolean {
  const { createdAfter, createdBefore, q } = filter;
  // Without the u flag when q is ASCII: case-insensitive Unicode matching costs more per name.
  const name = q === undefined ? undefined : new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), /^[\x20-\x7e]*$/.test(q) ? 'i' : 'iu');
  const suffix = q !== undefined && isIdSuffix(q) ? q.toLowerCase() : undefined;
  return (order) => {
    if (createdAfter !== undefined && order.createdAt < createdAfter) return false;
    if (createdBefore !== undefined && order.createdAt >= createdBefore) return false;
    if (name === undefined) return true;
    return name.test(order.customerName) || (suffix !== undefined && order.id.endsWith(suffix));
  };
}

function parseFilter(params: URLSearchParams, errors: FieldError[]): OrderFilter {
  let statuses: OrderStatus[] | undefined;
  const rawStatuses = params.getAll('status').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (rawStatuses.length > 0) {
    const unknown = rawStatuses.filter((s) => !isOrderStatus(s));
    if (unknown.length > 0) errors.push({ field: 'query.status', message: `must be among ${ORDER_STATUSES.join(', ')}` });
    else statuses = ORDER_STATUSES.filter((s) => rawStatuses.includes(s));
  }
  const rawQ = single(params, 'q', errors)?.trim();
  let q: string | undefined;
  if (rawQ !== undefined && rawQ !== '') {
    if (rawQ.length > SEARCH_MAX_LENGTH) errors.push({ field: 'query.q', message: `must be at most ${SEARCH_MAX_LENGTH} characters` });
    else q = rawQ;
  }
  const createdAfter = parseInstant(params, 'createdAfter', errors);
  const createdBefore = parseInstant(params, 'createdBefore', errors);
  return {
    ...(statuses === undefined ? {} : { statuses }),
    ...(q === undefined ? {} : { q }),
    ...(createdAfter === undefined ? {} : { createdAfter }),
    ...(createdBefore === undefined ? {} : { createdBefore }),
  };
}

/** ISO 8601: a date (midnight UTC), or a date and time with `Z` or an offset (a time without a zone would be the server's local time). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function parseInstant(params: URLSearchParams, name: string, errors: FieldError[]): string | undefined {
  const raw = single(params, name, errors);
  if (raw === undefined) return undefined;
  const ms = ISO_INSTANT.test(raw) ? Date.parse(raw) : NaN;
  // Years 0000-9999 keep toISOString() at 24 characters, so bounds compare with createdAt as text.
  const year = Number.isFinite(ms) ? new Date(ms).getUTCFullYear() : NaN;
  if (!(year >= 0 && year <= 9999)) {
    errors.push({ field: `query.${name}`, message: 'must be an ISO 8601 date (2026-12-01) or date and time with a zone (2026-12-01T10:00:00Z)' });
    return undefined;
  }
  return new Date(ms).toISOString();
}

function single(params: URLSearchParams, name: string, errors: FieldError[]): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) errors.push({ field: `query.${name}`, message: 'must be given once' });
  return values[0];
}

function rejectUnknown(params: URLSearchParams, known: readonly string[], errors: FieldError[]): void {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (known.includes(name) || seen.has(name)) continue;
    seen.add(name);
    errors.push({ field: `query.${name.slice(0, 50)}`, message: `is not a known parameter (known: ${known.join(', ')})` });
  }
}

function invalid(errors: FieldError[]): Result<never> {
  return { ok: false, error: new ProtocolError('LO_ERR_INVALID_FIELD', 'The query is invalid', { errors }) };
}
