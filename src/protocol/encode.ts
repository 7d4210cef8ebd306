/**
 * @module protocol/encode
 * Serialising what the server sends: each order and event once, whatever
 * the number of clients, and errors as RFC 9457 problem documents.
 */

import { ERROR_CODES, type ProtocolError } from './errors.ts';
import type { ClientMessage, ServerMessage } from './messages.ts';
import type { LogEvent } from '../domain/events.ts';
import type { Order, OrderEvent } from './orders.ts';

/**
 * Serialise a server message. The only `JSON.stringify` of socket traffic,
 * apart from {@link encodeEvent} whose output {@link encodeEventsFrame} splices.
 * @param message the message
 * @param redacted leave out customers' email addresses (see {@link redactOrder})
 */
export function encodeServerMessage(message: ServerMessage, redacted = false): string {
  if (message.type === 'snapshot') {
    // The orders are the bulk of a snapshot: splice in their cached JSON.
    const { orders, ...rest } = message;
    return `${JSON.stringify(rest).slice(0, -1)},"orders":${encodeOrders(orders, redacted)}}`;
  }
  if (redacted && message.type === 'ack') return JSON.stringify({ ...message, order: redactOrder(message.order) });
  return JSON.stringify(message);
}

/**
 * Serialise a client message (page and CLI).
 * @param message the message
 */
export function encodeClientMessage(message: ClientMessage): string {
  return JSON.stringify(message);
}

/** Orders are immutable (every change makes a new object), so an order's JSON never goes stale. */
const encodedOrders = new WeakMap<Order, string>();
/** The same without the customer's email address, for orders that have one (the others share {@link encodedOrders}). */
const redactedOrders = new WeakMap<Order, string>();

/**
 * The order as those who may not see the customer's contact details get it
 * (viewers, tracking links): without `customerEmail`.
 * @param order the order
 */
export function redactOrder(order: Order): Order {
  if (order.customerEmail === undefined) return order;
  const { customerEmail: _hidden, ...rest } = order;
  return rest;
}

/**
 * An order's JSON, written field by field in the order the store builds them:
 * equal to `JSON.stringify(order)` for every order the store makes (protocol
 * tests compare the two), at a fraction of its cost (BENCHMARKS.md). Names and
 * emails go through `JSON.stringify` for escaping. The id, statuses and
 * timestamps are written as they are: the store makes them (UUID, enum,
 * ISO 8601), none can hold a quote, backslash or control character, so an
 * escape call would be pure cost. Numbers are finite, where `String` and JSON agree.
 * @param order the order
 * @param extra more members, already encoded, each starting with a comma
 * @param redacted leave out `customerEmail`
 */
function orderJson(order: Order, extra = '', redacted = false): string {
  const { total } = order;
  const customerEmail = redacted ? undefined : order.customerEmail;
  let items = '';
  for (const { name, quantity, price } of order.items) {
    const priced = price === undefined ? '' : `,"price":${price}`;
    items += `${items === '' ? '' : ','}{"name":${JSON.stringify(name)},"quantity":${quantity}${priced}}`;
  }
  let history = '';
  for (const { status, at } of order.history) history += `${history === '' ? '' : ','}{"status":"${status}","at":"${at}"}`;
  return (
    `{"id":"${order.id}","customerName":${JSON.stringify(order.customerName)}` +
    (customerEmail === undefined ? '' : `,"customerEmail":${JSON.stringify(customerEmail)}`) +
    `,"items":[${items}]` +
    (order.lines === undefined ? '' : `,"lines":${JSON.stringify(order.lines)}`) +
    (total === undefined ? '' : `,"total":${total}`) +
    `,"status":"${order.status}","history":[${history}],"version":${order.version}` +
    `,"createdAt":"${order.createdAt}","updatedAt":"${order.updatedAt}"${extra}}`
  );
}

/**
 * Serialise an order without keeping the result: for writing many orders
 * once (a journal snapshot), where caching them all would double memory.
 * @param order the order
 */
export function encodeOrderUncached(order: Order): string {
  return encodedOrders.get(order) ?? orderJson(order);
}

/**
 * Serialise an order, once per order object: the REST answer, the event and
 * every snapshot that includes it share the same string.
 * @param order the order
 * @param redacted without `customerEmail` (cached apart)
 */
export function encodeOrder(order: Order, redacted = false): string {
  const cache = redacted && order.customerEmail !== undefined ? redactedOrders : encodedOrders;
  let json = cache.get(order);
  if (json === undefined) {
    json = orderJson(order, '', cache === redactedOrders);
    cache.set(order, json);
  }
  return json;
}

/** Media type of every HTTP error body. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Prefix of every problem `type`; the suffix is the error code in kebab case. */
export const PROBLEM_TYPE_PREFIX = 'urn:liveorders:problem:';

/**
 * An error as an RFC 9457 problem document: `type`, `title`, `status`,
 * `detail`, `instance`, plus `code` and the error's details (field `errors`,
 * `allowed` next statuses, `currentVersion`).
 * @param error the error
 * @param instance the request target it answers
 * @param requestId the request's id (`X-Request-Id`), for matching an answer with the server's log
 */
export function encodeProblem(error: ProtocolError, instance: string | undefined, requestId?: string): string {
  const { status, title } = ERROR_CODES[error.code];
  return JSON.stringify({
    type: PROBLEM_TYPE_PREFIX + error.code.replace(/^LO_ERR_/, '').toLowerCase().replaceAll('_', '-'),
    title,
    status,
    detail: error.message,
    instance,
    code: error.code,
    ...error.details,
    requestId,
  });
}

/**
 * Serialise a just-created order with its tracking token: the creator's
 * answer, equal to `JSON.stringify({ ...order, trackingToken })`. Not cached
 * (one client sees it); the order's own encoding is cached when the first
 * event, snapshot or list needs it.
 * @param order the new order
 * @param trackingToken its tracking token
 */
export function encodeCreatedOrder(order: Order, trackingToken: string): string {
  // Tracking tokens are base64url: nothing to escape.
  return orderJson(order, `,"trackingToken":"${trackingToken}"`);
}

/**
 * Serialise one event, once, no matter how many clients receive it. Equal to
 * `JSON.stringify(event)` (same keys, same order), built around {@link encodeOrder}.
 * @param event the event
 */
export function encodeEvent(event: OrderEvent): string {
  return encodeEventAt(event, event.seq);
}

/**
 * {@link encodeEvent} with another position in place of the store's `seq`
 * (a tracking connection's {@link orderPosition}).
 * @param event the event
 * @param seq the position to send
 * @param redacted without the customer's email address
 */
export function encodeEventAt(event: OrderEvent, seq: number, redacted = false): string {
  return eventJson(event, seq, encodeOrder(event.order, redacted));
}

/**
 * {@link encodeEvent} without keeping the order's JSON: for writing every
 * event once (a journal), where caching each order's JSON for as long as
 * the order lives would cost its size again in memory. An order some
 * client was already sent is taken from the cache.
 * @param event the event
 */
export function encodeEventUncached(event: LogEvent): string {
  if (event.type === 'product.changed' || event.type === 'product.deleted') return `{"type":"${event.type}","seq":${event.seq},"product":${JSON.stringify(event.product)}}`;
  return eventJson(event, event.seq, encodeOrderUncached(event.order));
}

function eventJson(event: OrderEvent, seq: number, order: string): string {
  const head = `{"type":"${event.type}","seq":${seq},"order":${order}`;
  // The stock an order moved travels with it, so a replay of the log rebuilds the stock exactly.
  const products = event.products === undefined ? '' : `,"products":${JSON.stringify(event.products)}`;
  return event.type === 'order.updated' ? `${head},"previousStatus":"${event.previousStatus}"${products}}` : `${head}${products}}`;
}

/**
 * A JSON array of orders from their cached encodings (list answers and snapshots).
 * @param orders the orders
 * @param redacted without customers' email addresses
 */
export function encodeOrders(orders: readonly Order[], redacted = false): string {
  return `[${orders.map((order) => encodeOrder(order, redacted)).join(',')}]`;
}

/**
 * Build an `events` frame from events already encoded by {@link encodeEvent}.
 * Equal to `encodeServerMessage({ type: 'events', events })`.
 * @param encodedEvents encoded events in `seq` order
 */
export function encodeEventsFrame(encodedEvents: readonly string[]): string {
  return `{"type":"events","events":[${encodedEvents.join(',')}]}`;
}
