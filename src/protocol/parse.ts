/**
 * @module protocol/parse
 * The server's side of the trust boundary: validators that turn untrusted
 * JSON, headers and query values into the protocol's types. They never
 * throw, and report every bad field at once.
 */

import { ORDER_LIMITS, orderTotalCents, priceInCents } from '../domain/orders.ts';
import { PRODUCT_LIMITS, type OrderLineInput } from '../domain/catalog.ts';
import { ORDER_STATUSES, isOrderStatus, type OrderStatus } from '../domain/statuses.ts';
import { ProtocolError, fail, ok, type FieldError, type Result } from './errors.ts';
import { CLIENT_MESSAGE_TYPES, MAX_BEARER_LENGTH, SNAPSHOT_LIMITS, type ClientMessage, type PingMessage, type Position, type View, type WatchMessage } from './messages.ts';
import { isNonNegativeInteger, isObject, parseJson, type JsonObject } from './json.ts';
import { BULK_STATUS_MAX_ORDERS, isOrderId, type BulkStatusInput, type CreateOrderInput, type OrderItem, type StatusChangeInput } from './orders.ts';
import { hasBidiControl, hasVisibleCharacter } from './text.ts';

const REQUEST_ID_MAX_LENGTH = 100;

/** What a bearer token may be: visible ASCII, no spaces, at most {@link MAX_BEARER_LENGTH}. */
const BEARER_TOKEN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_BEARER_LENGTH}}$`);


/** Collects field errors so that a client hears about every problem at once. */
export class FieldErrors {
  readonly list: FieldError[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Report keys of `obj` that are not in `allowed` (this also catches `__proto__`). */
  rejectUnknown(obj: JsonObject, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(prefix + key, 'is not a known field');
    }
  }

  result<T>(value: T, what: string): Result<T> {
    if (this.list.length === 0) return ok(value);
    return fail(new ProtocolError('LO_ERR_INVALID_FIELD', `${what} is invalid`, { errors: this.list }));
  }
}

/** Control characters and unpaired surrogates: nothing a name needs, and trouble for terminals and encoders. */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A trimmed, visible, bounded string without control characters, or undefined (and an error) when it is not one.
 * @param value the raw value
 * @param maxLength the longest accepted, trimmed
 * @param field the field's path, for the error
 * @param errors where errors go
 */
export function parseTrimmedString(value: unknown, maxLength: number, field: string, errors: FieldErrors): string | undefined {
  if (typeof value !== 'string') {
    errors.add(field, 'must be a string');
    return undefined;
  }
  if (UNSAFE_TEXT.test(value)) {
    errors.add(field, 'must not contain control characters or unpaired surrogates');
    return undefined;
  }
  if (hasBidiControl(value)) {
    errors.add(field, 'must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069): they reorder the text around them');
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length === 0) errors.add(field, 'must not be empty');
  else if (trimmed.length > maxLength) errors.add(field, `must be at most ${maxLength} characters`);
  else if (!hasVisibleCharacter(trimmed)) errors.add(field, 'must contain a visible character (it holds only blanks, such as zero width spaces or fillers)');
  else return trimmed;
  return undefined;
}

/**
 * Whether `text` looks like an email address: one `@` with something before
 * it, a dot in the domain with something on each side, no white space. In
 * linear time: `^[^\s@]+@[^\s@]+\.[^\s@]+$` says the same but backtracks
 * quadratically on a domain of many dots.
 */
function isEmailAddress(text: string): boolean {
  if (WHITE_SPACE.test(text)) return false;
  const at = text.indexOf('@');
  if (at <= 0 || text.includes('@', at + 1)) return false;
  const dot = text.indexOf('.', at + 2);
  return dot !== -1 && dot < text.length - 1;
}

const WHITE_SPACE = /\s/;

/** What marks a display name (`Ada <a@example.com>`, `"Ada" a@...`): emails go to one bare address. */
const DISPLAY_NAME_MARK = /[<>"]/;
/** What separates a list of addresses: one order has one customer address. */
const LIST_SEPARATOR = /[,;]/;
/** The rest of RFC 5322's specials, which a bare dot-atom address never holds. */
const OTHER_SPECIALS = /[():[\]\\]/;

/**
 * Why `text` is not one bare email address, or `undefined` when it is.
 * CR and LF never get here (control characters are refused before), so an
 * accepted address cannot carry a header line into an email.
 */
function emailAddressProblem(text: string): string | undefined {
  if (DISPLAY_NAME_MARK.test(text)) return 'must be the address alone, without a display name: a@example.com, not "Ada <a@example.com>"';
  if (LIST_SEPARATOR.test(text)) return 'must be one address, not a list';
  if (OTHER_SPECIALS.test(text) || !isEmailAddress(text)) return 'must be an email address';
  return undefined;
}

function parseItem(value: unknown, field: string, errors: FieldErrors): OrderItem | undefined {
  if (typeof value === 'string') {
    const name = parseTrimmedString(value, ORDER_LIMITS.itemNameMaxLength, field, errors);
    return name === undefined ? undefined : { name, quantity: 1 };
  }
  if (!isObject(value)) {
    errors.add(field, 'must be a string or an object with name, quantity and price');
    return undefined;
  }
  const before = errors.list.length;
  errors.rejectUnknown(value, ['name', 'quantity', 'price'], `${field}.`);
  const name = parseTrimmedString(value.name, ORDER_LIMITS.itemNameMaxLength, `${field}.name`, errors);
  const quantity = value.quantity === undefined ? 1 : value.quantity;
  if (!isNonNegativeInteger(quantity) || quantity < 1 || quantity > ORDER_LIMITS.quantityMax) {
    errors.add(`${field}.quantity`, `must be an integer from 1 to ${ORDER_LIMITS.quantityMax}`);
  }
  const price = value.price;
  if (price !== undefined && (typeof price !== 'number' || !Number.isFinite(price) || price < 0 || price > ORDER_LIMITS.priceMax)) {
    errors.add(`${field}.price`, `must be a number from 0 to ${ORDER_LIMITS.priceMax}`);
  } else if (price !== undefined && priceInCents(price) === undefined) {
    errors.add(`${field}.price`, 'must be in whole cents (at most two decimals)');
  }
  if (errors.list.length !== before || name === undefined) return undefined;
  return price === undefined ? { name, quantity: quantity as number } : { name, quantity: quantity as number, price: price as number };
}

/**
 * Whether a value is a SKU: 1-64 letters, digits and `._-`, starting with a letter or digit (it goes in paths as is).
 * @param value anything
 */
export function isSku(value: unknown): value is string {
  return typeof value === 'string' && PRODUCT_LIMITS.skuPattern.test(value);
}

/**
 * A SKU, or undefined (and an error) when the value is not one.
 * @param value the raw value
 * @param field the field's path, for the error
 * @param errors where errors go
 */
export function parseSku(value: unknown, field: string, errors: FieldErrors): string | undefined {
  if (isSku(value)) return value;
  errors.add(field, 'must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
  return undefined;
}

/**
 * An integer within bounds, or undefined (and an error) when the value is not one.
 * @param value the raw value
 * @param min the least accepted
 * @param max the most accepted
 * @param field the field's path, for the error
 * @param errors where errors go
 */
export function parseBoundedInteger(value: unknown, min: number, max: number, field: string, errors: FieldErrors): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  errors.add(field, `must be an integer from ${min} to ${max}`);
  return undefined;
}

/**
 * Validate an order's `lines`: 1 to {@link PRODUCT_LIMITS}.linesMax of `{ sku, quantity }`.
 * @param raw the field's value
 * @param errors where errors go (fields `lines[i].…`)
 */
export function parseOrderLines(raw: unknown, errors: FieldErrors): OrderLineInput[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > PRODUCT_LIMITS.linesMax) {
    errors.add('lines', `must be an array of 1 to ${PRODUCT_LIMITS.linesMax} lines`);
    return undefined;
  }
  const lines: OrderLineInput[] = [];
  raw.forEach((line: unknown, i: number) => {
    const field = `lines[${i}]`;
    if (!isObject(line)) return errors.add(field, 'must be an object { sku, quantity }');
    errors.rejectUnknown(line, ['sku', 'quantity'], `${field}.`);
    const sku = parseSku(line.sku, `${field}.sku`, errors);
    const quantity = parseBoundedInteger(line.quantity, 1, PRODUCT_LIMITS.stockMax, `${field}.quantity`, errors);
    if (sku !== undefined && quantity !== undefined) lines.push({ sku, quantity });
  });
  return lines.length === raw.length ? lines : undefined;
}

/** Longest accepted idempotency key, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * Whether a value can serve as an idempotency key (the `Idempotency-Key`
 * header, or `idempotencyKey` of `createOrder`): 1-255 visible ASCII characters.
 * @param key the raw value
 */
export function isValidIdempotencyKey(key: string): boolean {
  return key.length >= 1 && key.length <= IDEMPOTENCY_KEY_MAX_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

/**
 * Validate the body of `POST /api/orders` (and the `order` of `createOrder`).
 * Items may be strings (quantity 1) or `{ name, quantity?, price? }`; the result is normalised.
 * @param raw parsed JSON from an untrusted client
 */
export function parseCreateOrderInput(raw: unknown): Result<CreateOrderInput> {
  const errors = new FieldErrors();
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object');
    return errors.result<CreateOrderInput>({ customerName: '', items: [] }, 'Order');
  }
  errors.rejectUnknown(raw, ['customerName', 'customerEmail', 'items', 'lines'], '');
  const lines = raw.lines === undefined ? undefined : parseOrderLines(raw.lines, errors);
  const customerName = parseTrimmedString(raw.customerName, ORDER_LIMITS.customerNameMaxLength, 'customerName', errors) ?? '';
  let customerEmail: string | undefined;
  if (raw.customerEmail !== undefined) {
    customerEmail = parseTrimmedString(raw.customerEmail, ORDER_LIMITS.customerEmailMaxLength, 'customerEmail', errors);
    const problem = customerEmail === undefined ? undefined : emailAddressProblem(customerEmail);
    if (problem !== undefined) errors.add('customerEmail', problem);
  }
  const items: OrderItem[] = [];
  if (raw.items === undefined && lines !== undefined) {
    // An order of catalog lines alone.
  } else if (!Array.isArray(raw.items)) {
    errors.add('items', 'must be an array');
  } else if ((raw.items.length === 0 && lines === undefined) || raw.items.length > ORDER_LIMITS.itemsMax) {
    errors.add('items', `must hold 1 to ${ORDER_LIMITS.itemsMax} items`);
  } else {
    raw.items.forEach((item: unknown, i: number) => {
      const parsed = parseItem(item, `items[${i}]`, errors);
      if (parsed !== undefined) items.push(parsed);
    });
    if (items.length === raw.items.length && orderTotalCents(items) === 'too-large') {
      errors.add('items', `the order total must be at most ${ORDER_LIMITS.totalMax}`);
    }
  }
  const plain: CreateOrderInput = customerEmail === undefined ? { customerName, items } : { customerName, customerEmail, items };
  return errors.result(lines === undefined ? plain : { ...plain, lines }, 'Order');
}

/**
 * Validate the body of `PUT`/`PATCH /api/orders/:id/status`.
 * @param raw parsed JSON from an untrusted client
 */
export function parseStatusChangeInput(raw: unknown): Result<StatusChangeInput> {
  const errors = new FieldErrors();
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object');
    return errors.result<StatusChangeInput>({ status: 'pending' }, 'Status change');
  }
  errors.rejectUnknown(raw, ['status'], '');
  if (!isOrderStatus(raw.status)) errors.add('status', `must be one of ${ORDER_STATUSES.join(', ')}`);
  return errors.result({ status: raw.status as OrderStatus }, 'Status change');
}

/**
 * Validate the body of `POST /api/orders/status`: 1 to
 * {@link BULK_STATUS_MAX_ORDERS} distinct order ids, one status, and
 * optionally the version each order must still be at (`If-Match` per order).
 * @param raw parsed JSON from an untrusted client
 */
export function parseBulkStatusInput(raw: unknown): Result<BulkStatusInput> {
  const errors = new FieldErrors();
  const none: BulkStatusInput = { orderIds: [], status: 'pending' };
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object');
    return errors.result(none, 'Bulk status change');
  }
  errors.rejectUnknown(raw, ['orderIds', 'status', 'expectedVersions'], '');
  if (!isOrderStatus(raw.status)) errors.add('status', `must be one of ${ORDER_STATUSES.join(', ')}`);
  const ids = raw.orderIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > BULK_STATUS_MAX_ORDERS) {
    errors.add('orderIds', `must be an array of 1 to ${BULK_STATUS_MAX_ORDERS} order ids`);
    return errors.result(none, 'Bulk status change');
  }
  const seen = new Set<string>();
  ids.forEach((id: unknown, i) => {
    // Ten bad ids say enough; a list of 500 would bloat the answer.
    if (errors.list.length >= 10) return;
    if (!isOrderId(id)) errors.add(`orderIds[${i}]`, 'must be an order id (a lowercase UUID)');
    else if (seen.has(id)) errors.add(`orderIds[${i}]`, 'is listed twice');
    else seen.add(id);
  });
  const versions = raw.expectedVersions;
  const expected = new Map<string, number>();
  if (versions !== undefined) {
    if (!isObject(versions)) errors.add('expectedVersions', 'must be an object of order id to version');
    else {
      for (const [id, version] of Object.entries(versions)) {
        if (errors.list.length >= 10) break;
        if (!seen.has(id)) errors.add(`expectedVersions.${id.slice(0, 40)}`, 'names no order of orderIds');
        else if (!(isNonNegativeInteger(version) && version >= 1)) errors.add(`expectedVersions.${id}`, 'must be an integer >= 1');
        else expected.set(id, version);
      }
    }
  }
  const input: BulkStatusInput = { orderIds: ids as string[], status: raw.status as OrderStatus, ...(expected.size > 0 ? { expectedVersions: expected } : {}) };
  return errors.result(input, 'Bulk status change');
}

/**
 * Validate a view given as fields of a `subscribe` message or as URL query values.
 * @param raw `{ orderId?, statuses?, limit? }` from an untrusted client
 */
export function parseViewRequest(raw: JsonObject): Result<{ view: View; limit: number }> {
  const errors = new FieldErrors();
  const view: { orderId?: string; statuses?: OrderStatus[] } = {};
  if (raw.orderId !== undefined) {
    if (isOrderId(raw.orderId)) view.orderId = raw.orderId;
    else errors.add('orderId', 'must be an order id (a lowercase UUID)');
  }
  if (raw.statuses !== undefined) {
    if (Array.isArray(raw.statuses) && raw.statuses.length > 0 && raw.statuses.every(isOrderStatus)) {
      view.statuses = ORDER_STATUSES.filter((s) => (raw.statuses as unknown[]).includes(s));
    } else {
      errors.add('statuses', `must be a non-empty array of ${ORDER_STATUSES.join(', ')}`);
    }
  }
  let limit: number = SNAPSHOT_LIMITS.default;
  if (raw.limit !== undefined) {
    if (isNonNegativeInteger(raw.limit) && raw.limit >= 1 && raw.limit <= SNAPSHOT_LIMITS.max) limit = raw.limit;
    else errors.add('limit', `must be an integer from 1 to ${SNAPSHOT_LIMITS.max}`);
  }
  return errors.result({ view, limit }, 'Subscription');
}

/**
 * Validate `?since=SEQ&epoch=EPOCH` from a WebSocket URL: where a
 * reconnecting client left off, the last seq it applied and the epoch of
 * the snapshot it came from. Both or neither.
 * @param since the raw `since` value
 * @param epoch the raw `epoch` value
 */
export function parseResumePoint(since: string | null, epoch: string | null): Result<Position | undefined> {
  if (since === null && epoch === null) return ok(undefined);
  const errors = new FieldErrors();
  if (since === null) errors.add('since', 'is missing: resume with ?since=SEQ&epoch=EPOCH (the last seq the client applied)');
  else if (!/^\d{1,15}$/.test(since)) errors.add('since', 'must be the last seq the client applied (an integer >= 0)');
  if (epoch === null) errors.add('epoch', 'is missing: resume with ?since=SEQ&epoch=EPOCH (the epoch of the snapshot the seq came from)');
  else if (epoch.length === 0 || epoch.length > REQUEST_ID_MAX_LENGTH) errors.add('epoch', 'must be the epoch of the snapshot the seq came from');
  const result = errors.result<Position | undefined>({ seq: Number(since), epoch: epoch ?? '' }, 'Resume point');
  if (result.ok) return result;
  // The detail names each bad parameter: an upgrade refusal is often read as one line in a log.
  const detail = (result.error.details.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
  return fail(new ProtocolError('LO_ERR_INVALID_FIELD', `The resume point is invalid: ${detail}`, result.error.details));
}

function parseRequestId(raw: JsonObject, errors: FieldErrors): string | undefined {
  const id = raw.requestId;
  if (id === undefined) return undefined;
  if (typeof id === 'string' && id.length > 0 && id.length <= REQUEST_ID_MAX_LENGTH) return id;
  errors.add('requestId', `must be a string of 1 to ${REQUEST_ID_MAX_LENGTH} characters`);
  return undefined;
}

function withRequestId<T extends object>(message: T, requestId: string | undefined): T & { requestId?: string } {
  return requestId === undefined ? message : { ...message, requestId };
}

/** A client frame parsed, with the `requestId` it carried even when it was refused (to echo in the `error`). */
export interface ParsedClientFrame {
  readonly message: Result<ClientMessage>;
  /** The frame's `requestId` when it is a usable one (a string of 1 to 100 characters), whatever else is wrong. */
  readonly requestId?: string;
}

/**
 * Parse one text frame from a client, keeping its `requestId` for the answer
 * when the message is refused (an unknown type, an invalid `ping`, bad fields):
 * the client can still match the error to what it sent.
 * @param text the frame's text
 */
export function parseClientFrame(text: string): ParsedClientFrame {
  const parsed = parseJson(text);
  if (!parsed.ok) return { message: parsed };
  const message = parseClientObject(parsed.value);
  if (message.ok) return { message };
  const raw = parsed.value;
  const id = isObject(raw) ? raw.requestId : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= REQUEST_ID_MAX_LENGTH ? { message, requestId: id } : { message };
}

/**
 * Parse one text frame from a client. Never throws: bad JSON, an unknown type
 * or bad fields come back as a {@link ProtocolError}.
 * @param text the frame's text
 */
export function parseClientMessage(text: string): Result<ClientMessage> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  return parseClientObject(parsed.value);
}

function parseClientObject(raw: unknown): Result<ClientMessage> {
  if (!isObject(raw) || typeof raw.type !== 'string') {
    return fail(new ProtocolError('LO_ERR_UNKNOWN_TYPE', `A message must be a JSON object with a "type" (${CLIENT_MESSAGE_TYPES.join(', ')})`));
  }
  const errors = new FieldErrors();
  switch (raw.type) {
    case 'ping': {
      errors.rejectUnknown(raw, ['type', 'id'], '');
      if (raw.id !== undefined && (typeof raw.id !== 'string' || raw.id.length > REQUEST_ID_MAX_LENGTH)) {
        errors.add('id', `must be a string of at most ${REQUEST_ID_MAX_LENGTH} characters`);
      }
      const message: PingMessage = typeof raw.id === 'string' ? { type: 'ping', id: raw.id } : { type: 'ping' };
      return errors.result(message, 'Ping');
    }
    case 'subscribe': {
      errors.rejectUnknown(raw, ['type', 'orderId', 'statuses', 'limit'], '');
      const request = parseViewRequest(raw);
      if (!request.ok) return request;
      return errors.result<ClientMessage>({ type: 'subscribe', ...request.value.view, limit: request.value.limit }, 'Subscription');
    }
    case 'createOrder': {
      errors.rejectUnknown(raw, ['type', 'requestId', 'idempotencyKey', 'order'], '');
      const requestId = parseRequestId(raw, errors);
      const key = raw.idempotencyKey;
      if (key !== undefined && !(typeof key === 'string' && isValidIdempotencyKey(key))) {
        errors.add('idempotencyKey', `must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters`);
      }
      const input = parseCreateOrderInput(raw.order);
      if (!input.ok) return fail(prefixFieldErrors(input.error, 'order'));
      const message = typeof key === 'string' ? { type: 'createOrder' as const, idempotencyKey: key, order: input.value } : { type: 'createOrder' as const, order: input.value };
      return errors.result<ClientMessage>(withRequestId(message, requestId), 'createOrder');
    }
    case 'updateStatus': {
      errors.rejectUnknown(raw, ['type', 'requestId', 'orderId', 'status', 'expectedVersion'], '');
      const requestId = parseRequestId(raw, errors);
      if (!isOrderId(raw.orderId)) errors.add('orderId', 'must be an order id (a lowercase UUID)');
      if (!isOrderStatus(raw.status)) errors.add('status', `must be one of ${ORDER_STATUSES.join(', ')}`);
      if (raw.expectedVersion !== undefined && !(isNonNegativeInteger(raw.expectedVersion) && raw.expectedVersion >= 1)) {
        errors.add('expectedVersion', 'must be an integer >= 1');
      }
      const base = { type: 'updateStatus' as const, orderId: raw.orderId as string, status: raw.status as OrderStatus };
      const message = raw.expectedVersion === undefined ? base : { ...base, expectedVersion: raw.expectedVersion as number };
      return errors.result<ClientMessage>(withRequestId(message, requestId), 'updateStatus');
    }
    case 'refresh': {
      errors.rejectUnknown(raw, ['type', 'requestId', 'token'], '');
      const requestId = parseRequestId(raw, errors);
      const token = raw.token;
      if (typeof token !== 'string' || !BEARER_TOKEN.test(token)) errors.add('token', `must be the fresh access token: 1 to ${MAX_BEARER_LENGTH} visible ASCII characters`);
      return errors.result<ClientMessage>(withRequestId({ type: 'refresh' as const, token: token as string }, requestId), 'refresh');
    }
    case 'watch': {
      errors.rejectUnknown(raw, ['type', 'orderId'], '');
      if (raw.orderId !== undefined && !isOrderId(raw.orderId)) errors.add('orderId', 'must be an order id (a lowercase UUID), or absent to watch none');
      const message: WatchMessage = typeof raw.orderId === 'string' ? { type: 'watch', orderId: raw.orderId } : { type: 'watch' };
      return errors.result<ClientMessage>(message, 'watch');
    }
    default:
      return fail(new ProtocolError('LO_ERR_UNKNOWN_TYPE', `Unknown message type "${raw.type.slice(0, 50)}" (expected ${CLIENT_MESSAGE_TYPES.join(', ')})`));
  }
}

function prefixFieldErrors(error: ProtocolError, prefix: string): ProtocolError {
  const errors = (error.details.errors ?? []).map((e) => ({ field: e.field === '' ? prefix : `${prefix}.${e.field}`, message: e.message }));
  return new ProtocolError(error.code, error.message, { ...error.details, errors });
}
