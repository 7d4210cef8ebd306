/**
 * @module transport/http/orders
 * The order endpoints: each decodes the request, reads the projection or
 * calls the one write path, and encodes the answer. Rules live in
 * domain/decide.ts, shapes in the protocol.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ProtocolError,
  encodeCreatedOrder,
  encodeOrder,
  encodeOrders,
  isValidIdempotencyKey,
  orderNotFound,
  parseCreateOrderInput,
  parseStatusChangeInput,
  toWireError,
  type Order,
  type Result,
  type TrackingTokenAnswer,
} from '../../protocol.ts';
import { seesCustomerContact } from '../../security/auth.ts';
import { createOrderFor, trackingTokenOf, type CreatedForClient } from '../create-order.ts';
import { STORAGE_RETRY_AFTER_SECONDS } from '../../store/errors.ts';
import type { ApiContext, RouteMatch } from './context.ts';
import { filterParams, parseListQuery, searchOrders } from './order-search.ts';
import { CLOSE_AFTER_RESPONSE, readJsonBody, sendEmpty, sendEncodedJson, sendJson, sendProblem } from './io.ts';

export { LIST_LIMITS } from './order-search.ts';

/** `GET /api/orders`: a page, newest first, with its total and a link to the next; `q` and `created*` search. */
export function listOrders(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { url, principal }: RouteMatch): void {
  const query = parseListQuery(url.searchParams);
  if (!query.ok) return sendProblem(res, query.error);
  const page = searchOrders(ctx.orders, query.value);
  const headers: Record<string, string> = { 'X-Total-Count': String(page.total) };
  if (page.nextCursor !== undefined) {
    const next = filterParams(query.value);
    next.set('limit', String(query.value.limit));
    next.set('cursor', page.nextCursor);
    headers.Link = `</api/orders?${next.toString()}>; rel="next"`;
  }
  sendEncodedJson(res, 200, encodeOrders(page.orders, !seesCustomerContact(principal)), headers);
}

/** `POST /api/orders`: 201 with the order and its tracking token, once committed; a keyed retry gets the first answer again. */
export async function createOrder(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): Promise<void> {
  const rawKey = req.headers['idempotency-key'];
  if (typeof rawKey === 'string' && !isValidIdempotencyKey(rawKey)) {
    req.resume();
    return sendProblem(res, invalidHeader('Idempotency-Key', 'must be 1 to 255 visible ASCII characters'));
  }
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  const input = parseCreateOrderInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  let result: Result<CreatedForClient>;
  try {
    result = await createOrderFor(ctx.commands, ctx.access, principal, input.value, typeof rawKey === 'string' ? rawKey : undefined);
  } catch (error) {
    return sendCommandFailure(ctx, res, error);
  }
  if (!result.ok) return sendProblem(res, result.error);
  const { order, replayed, trackingToken } = result.value;
  const headers: Record<string, string> = { ETag: etagOf(order), Location: `/api/orders/${order.id}` };
  if (replayed) headers['Idempotent-Replayed'] = 'true';
  sendEncodedJson(res, 201, encodeCreatedOrder(order, trackingToken), headers);
}

/** `GET /api/orders/ID`. */
export function getOrder(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id, principal }: RouteMatch): Promise<void> | void {
  const redacted = !seesCustomerContact(principal);
  const order = ctx.orders.get(id);
  if (order !== undefined) return sendOrder(res, 200, order, redacted);
  if (ctx.catchUp === undefined) return sendProblem(res, orderNotFound(id));
  return ctx.catchUp().then((reached) => {
    const caughtUp = ctx.orders.get(id);
    if (caughtUp !== undefined) return sendOrder(res, 200, caughtUp, redacted);
    // Not found, but without reaching the shared history's head (Redis silent or away): the order may well exist.
    if (!reached && !ctx.health().ready) return sendProblem(res, storageUnreachable());
    sendProblem(res, orderNotFound(id));
  });
}

/** A lookup this instance could not settle: the shared history may hold the order, and storage cannot be asked now. */
function storageUnreachable(): ProtocolError {
  return new ProtocolError('LO_ERR_UNAVAILABLE', 'This instance does not hold the order and cannot reach the storage to look for it; try again later', { retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS });
}

/** `PUT` or `PATCH /api/orders/ID/status`, honouring `If-Match`. */
export async function changeStatus(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  if (!expected.ok) return sendProblem(res, unlessNotFound(ctx, id, expected.error));
  const input = parseStatusChangeInput(body.value);
  if (!input.ok) return sendProblem(res, unlessNotFound(ctx, id, input.error));
  const changed = await commit(ctx, res, ctx.commands.changeStatus(id, input.value.status, expected.value));
  if (changed !== undefined) sendOrder(res, 200, changed.order);
}

/** `DELETE /api/orders/ID`, honouring `If-Match`. */
export async function deleteOrder(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  if (!expected.ok) return sendProblem(res, unlessNotFound(ctx, id, expected.error));
  const deleted = await commit(ctx, res, ctx.commands.delete(id, expected.value));
  if (deleted !== undefined) sendEmpty(res, 204);
}

/** `GET /api/orders/ID/tracking-token`: the token again, for whoever may create orders. */
export function getTrackingToken(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  if (ctx.orders.get(id) === undefined) return sendProblem(res, orderNotFound(id));
  const answer: TrackingTokenAnswer = { orderId: id, trackingToken: trackingTokenOf(ctx.access, id) };
  sendJson(res, 200, answer);
}

/** `GET /api/track/TOKEN`: the one order a tracking token opens. */
export function getTrackedOrder(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): void {
  const order = principal.kind === 'tracking' ? ctx.orders.get(principal.orderId) : undefined;
  if (order === undefined) return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'No order has this tracking token'));
  // Whoever holds the link sees the order, never the customer's address: links get forwarded.
  sendOrder(res, 200, order, true);
}

/**
 * Wait for a command (an order's or the catalog's); answer its refusal, or the failure of storage, here.
 * @returns what was committed, or undefined when an answer was sent already
 */
export async function commit<T>(ctx: ApiContext, res: ServerResponse, command: Promise<Result<T>>): Promise<T | undefined> {
  let result: Result<T>;
  try {
    result = await command;
  } catch (error) {
    sendCommandFailure(ctx, res, error);
    return undefined;
  }
  if (result.ok) return result.value;
  sendProblem(res, result.error);
  return undefined;
}

/**
 * A command that storage could not take: 503 with `Retry-After`; anything else is rethrown as the bug it is.
 * @param ctx the API's context
 * @param res the response
 * @param error what the command threw
 */
export function sendCommandFailure(ctx: ApiContext, res: ServerResponse, error: unknown): void {
  const problem = ctx.onCommandFailure?.(error) ?? toWireError(error);
  if (problem.code === 'LO_ERR_INTERNAL') throw error;
  sendProblem(res, problem, problem.details.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(problem.details.retryAfterSeconds) });
}

/** A request about no order is told so first, whatever else is wrong with it. */
function unlessNotFound(ctx: ApiContext, id: string, error: ProtocolError): ProtocolError {
  return ctx.orders.get(id) === undefined ? orderNotFound(id) : error;
}

function sendOrder(res: ServerResponse, status: number, order: Order, redacted = false): void {
  sendEncodedJson(res, status, encodeOrder(order, redacted), { ETag: etagOf(order) });
}

/** The order's version as a strong entity tag. */
function etagOf(order: Order): string {
  return `"${order.version}"`;
}

function invalidHeader(name: string, message: string): ProtocolError {
  return new ProtocolError('LO_ERR_INVALID_FIELD', `Header ${name} ${message}`, { errors: [{ field: `header.${name}`, message }] });
}

/**
 * A body that could not be read: its problem, closing the connection after a body too large.
 * @param res the response
 * @param error why
 */
export function sendBodyProblem(res: ServerResponse, error: ProtocolError): void {
  sendProblem(res, error, error.code === 'LO_ERR_PAYLOAD_TOO_LARGE' ? CLOSE_AFTER_RESPONSE : {});
}

/**
 * `If-Match` as an expected version: absent or `*` means any; otherwise a
 * single entity tag as sent in `ETag` (`"3"`; a bare `3` is accepted too).
 * @param header the header's value
 */
export function parseIfMatch(header: string | undefined): Result<number | undefined> {
  if (header === undefined || header.trim() === '*') return { ok: true, value: undefined };
  const m = /^\s*"?(\d{1,15})"?\s*$/.exec(header);
  if (m === null) {
    return {
      ok: false,
      error: new ProtocolError('LO_ERR_VERSION_MISMATCH', 'If-Match must be the order\'s ETag, e.g. "3"'),
    };
  }
  return { ok: true, value: Number(m[1]) };
}
