/**
 * @module protocol/decode
 * The clients' side: the page and the CLI decode every frame and answer the
 * server sends through these, so a server they do not understand is
 * reported instead of trusted.
 */

import type { OrderLine, Product } from '../domain/catalog.ts';
import type { LogEvent } from '../domain/events.ts';
import { ORDER_STATUSES, isOrderStatus } from '../domain/statuses.ts';
import { ERROR_CODES, ProtocolError, fail, ok, type Result } from './errors.ts';
import type { ServerMessage, View } from './messages.ts';
import { isOrderId, type Order, type OrderEvent, type OrderItem, type StatusCounts, type StatusHistoryEntry } from './orders.ts';
import { isNonNegativeInteger, isObject, parseJson } from './json.ts';

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function isStatusCounts(value: unknown): value is StatusCounts {
  return isObject(value) && ORDER_STATUSES.every((s) => isNonNegativeInteger(value[s]));
}

function isOrderItem(value: unknown): value is OrderItem {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    isNonNegativeInteger(value.quantity) &&
    (value.price === undefined || typeof value.price === 'number')
  );
}

function isHistoryEntry(value: unknown): value is StatusHistoryEntry {
  return isObject(value) && isOrderStatus(value.status) && typeof value.at === 'string';
}

/** Whether `value` has the shape of an {@link Order}. */
export function isOrder(value: unknown): value is Order {
  return (
    isObject(value) &&
    isOrderId(value.id) &&
    typeof value.customerName === 'string' &&
    isOptionalString(value.customerEmail) &&
    Array.isArray(value.items) &&
    value.items.every(isOrderItem) &&
    (value.lines === undefined || (Array.isArray(value.lines) && value.lines.every(isOrderLine))) &&
    (value.total === undefined || typeof value.total === 'number') &&
    isOrderStatus(value.status) &&
    Array.isArray(value.history) &&
    value.history.every(isHistoryEntry) &&
    isNonNegativeInteger(value.version) &&
    typeof value.createdAt === 'string' &&
    typeof value.updatedAt === 'string'
  );
}

function isView(value: unknown): value is View {
  return (
    isObject(value) &&
    (value.orderId === undefined || isOrderId(value.orderId)) &&
    (value.statuses === undefined || (Array.isArray(value.statuses) && value.statuses.every(isOrderStatus)))
  );
}

function isOrderLine(value: unknown): value is OrderLine {
  return isObject(value) && typeof value.sku === 'string' && typeof value.name === 'string' && isNonNegativeInteger(value.quantity) && isNonNegativeInteger(value.unitPriceCents);
}

/** Whether `value` has the shape of a {@link Product}. */
export function isProduct(value: unknown): value is Product {
  return (
    isObject(value) &&
    typeof value.sku === 'string' &&
    typeof value.name === 'string' &&
    isNonNegativeInteger(value.priceCents) &&
    isNonNegativeInteger(value.stock) &&
    isNonNegativeInteger(value.version) &&
    typeof value.createdAt === 'string' &&
    typeof value.updatedAt === 'string'
  );
}

/** Whether `value` has the shape of an event of the log: an {@link OrderEvent}, or a product's change. */
export function isLogEvent(value: unknown): value is LogEvent {
  if (isObject(value) && (value.type === 'product.changed' || value.type === 'product.deleted')) return isNonNegativeInteger(value.seq) && isProduct(value.product);
  return isOrderEvent(value);
}

/** Whether `value` has the shape of an {@link OrderEvent}. */
export function isOrderEvent(value: unknown): value is OrderEvent {
  if (!isObject(value) || !isNonNegativeInteger(value.seq) || !isOrder(value.order)) return false;
  if (value.products !== undefined && !(Array.isArray(value.products) && value.products.every(isProduct))) return false;
  switch (value.type) {
    case 'order.created':
    case 'order.deleted':
      return true;
    case 'order.updated':
      return isOrderStatus(value.previousStatus);
    default:
      return false;
  }
}

function isServerMessage(value: unknown): value is ServerMessage {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'snapshot':
      return (
        isNonNegativeInteger(value.seq) &&
        typeof value.epoch === 'string' &&
        isView(value.view) &&
        Array.isArray(value.orders) &&
        value.orders.every(isOrder) &&
        isNonNegativeInteger(value.total) &&
        isStatusCounts(value.counts) &&
        isNonNegativeInteger(value.limit) &&
        (value.reset === undefined || value.reset === true)
      );
    case 'resumed':
      return typeof value.epoch === 'string' && isNonNegativeInteger(value.since) && isNonNegativeInteger(value.seq) && isView(value.view);
    case 'events':
      return Array.isArray(value.events) && value.events.every(isOrderEvent);
    case 'pong':
      return isOptionalString(value.id);
    case 'productUpdated':
      return isNonNegativeInteger(value.seq) && isProduct(value.product) && (value.deleted === undefined || value.deleted === true);
    case 'ack':
      return isOptionalString(value.requestId) && isOrder(value.order) && isOptionalString(value.trackingToken);
    case 'refreshed':
      return isOptionalString(value.requestId) && isNonNegativeInteger(value.expiresAt);
    case 'error':
      return typeof value.code === 'string' && value.code in ERROR_CODES && typeof value.message === 'string' && isOptionalString(value.requestId);
    default:
      return false;
  }
}

/**
 * The `cursor` of the `rel="next"` link in a `Link` header (RFC 8288), as
 * `GET /api/orders` sends it. One pass over the header: a regular
 * expression over it backtracked in cubic time on a long hostile header.
 * @param header the `Link` header, if any
 */
export function nextCursorInLink(header: string | null | undefined): string | undefined {
  if (header == null) return undefined;
  for (const link of header.split(',')) {
    const open = link.indexOf('<');
    const close = link.indexOf('>', open + 1);
    if (open === -1 || close === -1) continue;
    const params = link.slice(close + 1).split(';').map((p) => p.trim());
    if (!params.includes('rel="next"') && !params.includes('rel=next')) continue;
    const target = link.slice(open + 1, close);
    const query = target.indexOf('?');
    if (query === -1) continue;
    return new URLSearchParams(target.slice(query + 1)).get('cursor') ?? undefined;
  }
  return undefined;
}

/**
 * Parse one frame from the server (page and CLI). Never throws.
 * @param text the frame's text
 */
export function parseServerMessage(text: string): Result<ServerMessage> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  if (!isServerMessage(parsed.value)) {
    return fail(new ProtocolError('LO_ERR_UNKNOWN_TYPE', 'The server sent a message this client does not understand'));
  }
  return ok(parsed.value);
}
