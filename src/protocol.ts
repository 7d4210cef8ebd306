/**
 * @module protocol
 * The one definition of the wire: the order type, the status machine, every
 * WebSocket message in both directions, error codes, and the validators that
 * turn untrusted JSON into those types. Server, page and CLI all import it.
 * This file has no Node-only imports so that esbuild can bundle it for the page.
 */

// ---------------------------------------------------------------------------
// Statuses and the status machine
// ---------------------------------------------------------------------------

/** Every order status, in the order an order normally moves through them. */
export const ORDER_STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'] as const;

/** One of {@link ORDER_STATUSES}. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * The statuses an order may move to from each status. Moves go forward only;
 * skipping ahead is allowed (and recorded in history). `delivered` and
 * `cancelled` are final.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['processing', 'shipped', 'delivered', 'cancelled'],
  processing: ['shipped', 'delivered', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** The next step on the happy path, used by "advance" buttons; `undefined` when final or only cancellable. */
export const NEXT_STATUS: Readonly<Record<OrderStatus, OrderStatus | undefined>> = {
  pending: 'processing',
  processing: 'shipped',
  shipped: 'delivered',
  delivered: undefined,
  cancelled: undefined,
};

/**
 * Whether `value` is one of {@link ORDER_STATUSES}.
 * @param value anything
 */
export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

/**
 * Whether an order in status `from` may move to status `to`.
 * @param from the current status
 * @param to the requested status
 */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

// ---------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------

/** Bounds on what an order may hold; validators and docs use the same numbers. */
export const ORDER_LIMITS = {
  customerNameMaxLength: 200,
  customerEmailMaxLength: 254,
  itemsMax: 100,
  itemNameMaxLength: 200,
  quantityMax: 1_000_000,
  priceMax: 1_000_000_000,
  /**
   * Largest order total: 15 significant digits with the cents, so every
   * total is an exact integer number of cents and prints back as it was summed.
   */
  totalMax: 9_999_999_999_999.99,
} as const;

/** {@link ORDER_LIMITS}.totalMax in cents: below 2^53, so sums of cents are exact. */
const TOTAL_MAX_CENTS = 999_999_999_999_999;

/**
 * A price in whole cents, or `undefined` when it has more than two decimals
 * (money is counted in cents, and a fraction of a cent would be rounded away).
 * @param price a finite, non-negative number
 */
export function priceInCents(price: number): number | undefined {
  const cents = Math.round(price * 100);
  // Both sides are the double nearest to cents / 100 exactly when the price has at most two decimals.
  return cents / 100 === price ? cents : undefined;
}

/**
 * The order's total in cents: quantity × price summed over the items, or
 * `undefined` when an item has no price (a partial total would mislead), or
 * `'too-large'` past {@link ORDER_LIMITS}.totalMax. Every step is an exact
 * integer: a product that could pass 2^53 is refused before it is made.
 * @param items validated items (prices in whole cents)
 */
export function orderTotalCents(items: readonly OrderItem[]): number | undefined | 'too-large' {
  let total = 0;
  for (const { price, quantity } of items) {
    if (price === undefined) return undefined;
    const cents = Math.round(price * 100);
    if (cents > 0 && quantity > Math.floor((TOTAL_MAX_CENTS - total) / cents)) return 'too-large';
    total += cents * quantity;
  }
  return total;
}

/** One line of an order, always stored normalised (a bare string means quantity 1). */
export interface OrderItem {
  readonly name: string;
  readonly quantity: number;
  /** Unit price; absent when the client gave none. */
  readonly price?: number;
}

/** One entry of an order's status timeline. */
export interface StatusHistoryEntry {
  readonly status: OrderStatus;
  /** ISO 8601 time of the change. */
  readonly at: string;
}

/** An order as the API and the socket carry it. */
export interface Order {
  /** UUID v7: sorts by creation time. */
  readonly id: string;
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items: readonly OrderItem[];
  /** Sum of quantity × price, present only when every item has a price. */
  readonly total?: number;
  readonly status: OrderStatus;
  readonly history: readonly StatusHistoryEntry[];
  /** Starts at 1 and grows by 1 with every change; used for `If-Match`. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * The answer to creating an order: the order plus its secret tracking token.
 * Whoever holds the token can read that one order and stream its updates
 * (`GET /api/track/TOKEN`, `/ws?track=TOKEN`, the page at `/track/TOKEN`), and nothing else.
 */
export type CreatedOrder = Order & { readonly trackingToken: string };

/** `GET /api/orders/ID/tracking-token`: an order's tracking token again, for whoever may create orders. */
export interface TrackingTokenAnswer {
  readonly orderId: string;
  readonly trackingToken: string;
}

/** Who may do what: `admin` everything, `operator` create and change status, `viewer` read and stream. */
export const ROLES = ['admin', 'operator', 'viewer'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** The WebSocket subprotocol the server speaks; browsers add `liveorders.bearer.TOKEN` to authenticate. */
export const WS_SUBPROTOCOL = 'liveorders';

/** Prefix of the subprotocol that carries a bearer token from a browser (which cannot set headers). */
export const WS_BEARER_PREFIX = 'liveorders.bearer.';

/** A customer tracking token: 16 bytes (the order id enciphered, see tracking.ts) as unpadded base64url, 22 characters. */
export const TRACKING_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * Whether `value` has the shape of a tracking token (not whether it opens an order).
 * @param value anything
 */
export function isTrackingToken(value: unknown): value is string {
  return typeof value === 'string' && TRACKING_TOKEN_PATTERN.test(value);
}

/**
 * The token in a customer tracking page's path (`/track/TOKEN`), if it is one.
 * @param pathname a URL path
 */
export function trackingTokenInPath(pathname: string): string | undefined {
  const token = pathname.startsWith('/track/') ? pathname.slice('/track/'.length) : undefined;
  return isTrackingToken(token) ? token : undefined;
}

/** What a client sends to create an order, after validation. */
export interface CreateOrderInput {
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items: readonly OrderItem[];
}

/** What a client sends to change an order's status, after validation. */
export interface StatusChangeInput {
  readonly status: OrderStatus;
}

/** Number of orders in each status. */
export type StatusCounts = Record<OrderStatus, number>;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/** An order was created. */
export interface OrderCreatedEvent {
  readonly type: 'order.created';
  /** Global, gap-free, increasing sequence number. */
  readonly seq: number;
  readonly order: Order;
}

/** An order changed (today: its status). */
export interface OrderUpdatedEvent {
  readonly type: 'order.updated';
  readonly seq: number;
  readonly order: Order;
  readonly previousStatus: OrderStatus;
}

/** An order was deleted; `order` is its last state. */
export interface OrderDeletedEvent {
  readonly type: 'order.deleted';
  readonly seq: number;
  readonly order: Order;
}

/** Every change to the store is one of these. */
export type OrderEvent = OrderCreatedEvent | OrderUpdatedEvent | OrderDeletedEvent;

/**
 * Where an event stands in the history of its own order: the order's
 * version after it (1 for a create), and one past the last version for a
 * delete. A customer's tracking connection is sent these instead of the
 * store-wide `seq`, which would tell it how busy the whole shop is.
 * @param event an event
 */
export function orderPosition(event: OrderEvent): number {
  return event.type === 'order.deleted' ? event.order.version + 1 : event.order.version;
}

// ---------------------------------------------------------------------------
// Views (what one connection watches)
// ---------------------------------------------------------------------------

/**
 * A narrowing of the order stream. An empty view is everything; `orderId` and
 * `statuses` may be combined and then both must match.
 */
export interface View {
  readonly orderId?: string;
  readonly statuses?: readonly OrderStatus[];
}

/**
 * A string that is equal for equal views (statuses are kept in status order
 * by the validators), for grouping subscribers and caching snapshots.
 * @param view a view
 */
export function viewKey(view: View): string {
  return `${view.orderId ?? '*'}|${view.statuses?.join(',') ?? '*'}`;
}

/** Default and maximum number of orders in a snapshot. */
export const SNAPSHOT_LIMITS = { default: 1000, max: 1000 } as const;

/**
 * Whether an order in `status` with `orderId` belongs to `view`.
 * @param view the connection's view
 * @param orderId the order's id
 * @param status the order's status
 */
export function viewIncludes(view: View, orderId: string, status: OrderStatus): boolean {
  if (view.orderId !== undefined && view.orderId !== orderId) return false;
  if (view.statuses !== undefined && !view.statuses.includes(status)) return false;
  return true;
}

/**
 * Whether a connection with `view` must see `event`. An update is delivered when
 * the order was in the view before or is in it after, so that clients can drop
 * orders that leave their view.
 * @param view the connection's view
 * @param event the event
 */
export function viewMatchesEvent(view: View, event: OrderEvent): boolean {
  if (viewIncludes(view, event.order.id, event.order.status)) return true;
  return event.type === 'order.updated' && viewIncludes(view, event.order.id, event.previousStatus);
}

// ---------------------------------------------------------------------------
// Messages: server -> client
// ---------------------------------------------------------------------------

/** Sent first on every connection, and again in answer to `subscribe`. */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  /** Sequence number of the last event reflected in this snapshot. */
  readonly seq: number;
  /** Identifies this server run; a different value means earlier seqs mean nothing here. */
  readonly serverId: string;
  readonly view: View;
  /** The most recent orders in the view, newest first, at most `limit`. */
  readonly orders: readonly Order[];
  /** How many orders are in the view; more than `orders.length` when the snapshot was cut at `limit`. */
  readonly total: number;
  /** Orders by status across the whole store. */
  readonly counts: StatusCounts;
  readonly limit: number;
  /**
   * True when the client asked to resume (`?since=`) but could not be: its seq
   * is older than the server's event buffer or from another server run. Replace
   * all local state with this snapshot.
   */
  readonly reset?: true;
}

/**
 * Sent first, instead of a snapshot, when a reconnecting client's `?since=SEQ`
 * could be honoured: the events it missed follow in `events` frames, then live ones.
 */
export interface ResumedMessage {
  readonly type: 'resumed';
  readonly serverId: string;
  /** The seq the client said it had applied. */
  readonly since: number;
  /** The server's seq now: the missed events that follow end here. */
  readonly seq: number;
  readonly view: View;
}

/** One or more events, in `seq` order. Events produced together may share one frame. */
export interface EventsMessage {
  readonly type: 'events';
  readonly events: readonly OrderEvent[];
}

/** Answer to `ping`. */
export interface PongMessage {
  readonly type: 'pong';
  readonly id?: string;
}

/** Answer to a successful `createOrder` or `updateStatus`. */
export interface AckMessage {
  readonly type: 'ack';
  readonly requestId?: string;
  readonly order: Order;
  /** For `createOrder`: the new order's customer tracking token (see {@link CreatedOrder}). */
  readonly trackingToken?: string;
}

/** A request was refused; the connection stays open. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldError[];
}

/** Every message the server sends. */
export type ServerMessage = SnapshotMessage | ResumedMessage | EventsMessage | PongMessage | AckMessage | ErrorMessage;

// ---------------------------------------------------------------------------
// Messages: client -> server
// ---------------------------------------------------------------------------

/** Liveness check; answered with `pong` carrying the same `id`. */
export interface PingMessage {
  readonly type: 'ping';
  readonly id?: string;
}

/** Narrow (or widen back) what this connection receives; answered with a fresh snapshot. */
export interface SubscribeMessage {
  readonly type: 'subscribe';
  readonly orderId?: string;
  readonly statuses?: readonly OrderStatus[];
  /** Maximum orders in the snapshot (1..1000, default 1000). */
  readonly limit?: number;
}

/** Create an order over the socket; answered with `ack` or `error`. */
export interface CreateOrderMessage {
  readonly type: 'createOrder';
  readonly requestId?: string;
  readonly order: CreateOrderInput;
}

/** Change an order's status over the socket; answered with `ack` or `error`. */
export interface UpdateStatusMessage {
  readonly type: 'updateStatus';
  readonly requestId?: string;
  readonly orderId: string;
  readonly status: OrderStatus;
  /** When given, the change applies only if the order is still at this version. */
  readonly expectedVersion?: number;
}

/** Every message a client may send. */
export type ClientMessage = PingMessage | SubscribeMessage | CreateOrderMessage | UpdateStatusMessage;

/** The `type` of every {@link ClientMessage}. */
export const CLIENT_MESSAGE_TYPES = ['ping', 'subscribe', 'createOrder', 'updateStatus'] as const;

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  /** Server shutting down; reconnect later. */
  goingAway: 1001,
  /** A binary frame: this protocol is text only. */
  unsupportedData: 1003,
  /** The token this socket was opened with is no longer configured (the tokens were reloaded). */
  policyViolation: 1008,
  /** A frame larger than the server's maximum payload. */
  messageTooBig: 1009,
  /** The server failed; reconnect. */
  internalError: 1011,
  /** The client read too slowly and fell too far behind; reconnect and resume. */
  tryAgainLater: 1013,
} as const;

/** Maximum size of one client frame or HTTP body, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * Every error the service reports, with its HTTP status and problem title.
 * `docs/protocol.md` lists each one (a test keeps them in step).
 */
export const ERROR_CODES = {
  LO_ERR_BAD_JSON: { status: 400, title: 'Malformed JSON' },
  LO_ERR_UNKNOWN_TYPE: { status: 400, title: 'Unknown message type' },
  LO_ERR_INVALID_FIELD: { status: 400, title: 'Invalid request' },
  LO_ERR_UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  LO_ERR_FORBIDDEN: { status: 403, title: 'Forbidden' },
  LO_ERR_NOT_FOUND: { status: 404, title: 'Not found' },
  LO_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  LO_ERR_BAD_TRANSITION: { status: 409, title: 'Illegal status transition' },
  LO_ERR_VERSION_MISMATCH: { status: 412, title: 'Version mismatch' },
  LO_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  LO_ERR_HOST_NOT_ALLOWED: { status: 421, title: 'Host not allowed' },
  LO_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  LO_ERR_IDEMPOTENCY_MISMATCH: { status: 422, title: 'Idempotency key reused with a different request' },
  LO_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  LO_ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** One of the keys of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** One invalid field: `field` is a path such as `items[2].quantity`. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Extra, machine-readable facts about an error (e.g. the allowed next statuses). */
export interface ErrorDetails {
  readonly errors?: readonly FieldError[];
  readonly allowed?: readonly OrderStatus[];
  readonly currentVersion?: number;
  readonly currentStatus?: OrderStatus;
  /** For `LO_ERR_RATE_LIMITED`: when to try again, in seconds. */
  readonly retryAfterSeconds?: number;
}

/** An expected, client-caused failure with a stable code. Never carries a stack to the wire. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  /**
   * @param code one of {@link ERROR_CODES}
   * @param message a sentence for humans
   * @param details machine-readable extras
   */
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.details = details;
  }
}

/** A value or an expected failure. */
export type Result<T, E = ProtocolError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** Wrap a success. */
export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

/** Wrap a failure. */
export function fail<E>(error: E): Result<never, E> {
  return { ok: false, error };
}

/**
 * Make a compile error of any unhandled union member.
 * @param value the value that should be `never`
 */
export function assertNever(value: never): never {
  throw new TypeError(`unexpected value: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------
// Validators (small predicates that never throw)
// ---------------------------------------------------------------------------

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REQUEST_ID_MAX_LENGTH = 100;

type JsonObject = Readonly<Record<string, unknown>>;

/** Whether `value` is a lowercase UUID string, the only id form the service issues. */
export function isOrderId(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Collects field errors so that a client hears about every problem at once. */
class FieldErrors {
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

function parseTrimmedString(value: unknown, maxLength: number, field: string, errors: FieldErrors): string | undefined {
  if (typeof value !== 'string') {
    errors.add(field, 'must be a string');
    return undefined;
  }
  if (UNSAFE_TEXT.test(value)) {
    errors.add(field, 'must not contain control characters or unpaired surrogates');
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length === 0) errors.add(field, 'must not be empty');
  else if (trimmed.length > maxLength) errors.add(field, `must be at most ${maxLength} characters`);
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
  errors.rejectUnknown(raw, ['customerName', 'customerEmail', 'items'], '');
  const customerName = parseTrimmedString(raw.customerName, ORDER_LIMITS.customerNameMaxLength, 'customerName', errors) ?? '';
  let customerEmail: string | undefined;
  if (raw.customerEmail !== undefined) {
    customerEmail = parseTrimmedString(raw.customerEmail, ORDER_LIMITS.customerEmailMaxLength, 'customerEmail', errors);
    if (customerEmail !== undefined && !isEmailAddress(customerEmail)) {
      errors.add('customerEmail', 'must be an email address');
    }
  }
  const items: OrderItem[] = [];
  if (!Array.isArray(raw.items)) {
    errors.add('items', 'must be an array');
  } else if (raw.items.length === 0 || raw.items.length > ORDER_LIMITS.itemsMax) {
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
  const input: CreateOrderInput = customerEmail === undefined ? { customerName, items } : { customerName, customerEmail, items };
  return errors.result(input, 'Order');
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

/** Where a reconnecting client left off: the last seq it applied on the server run `serverId`. */
export interface ResumePoint {
  readonly since: number;
  readonly serverId: string;
}

/**
 * Validate `?since=SEQ&server=SERVER_ID` from a WebSocket URL. Both or neither.
 * @param since the raw `since` value
 * @param serverId the raw `server` value
 */
export function parseResumePoint(since: string | null, serverId: string | null): Result<ResumePoint | undefined> {
  if (since === null && serverId === null) return ok(undefined);
  const errors = new FieldErrors();
  if (since === null || !/^\d{1,15}$/.test(since)) errors.add('since', 'must be the last seq the client applied (an integer >= 0)');
  if (serverId === null || serverId.length === 0 || serverId.length > REQUEST_ID_MAX_LENGTH) {
    errors.add('server', 'must be the serverId of the snapshot the seq came from');
  }
  return errors.result<ResumePoint | undefined>({ since: Number(since), serverId: serverId ?? '' }, 'Resume point');
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

/**
 * Parse one text frame from a client. Never throws: bad JSON, an unknown type
 * or bad fields come back as a {@link ProtocolError}.
 * @param text the frame's text
 */
export function parseClientMessage(text: string): Result<ClientMessage> {
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const raw = parsed.value;
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
      errors.rejectUnknown(raw, ['type', 'requestId', 'order'], '');
      const requestId = parseRequestId(raw, errors);
      const input = parseCreateOrderInput(raw.order);
      if (!input.ok) return fail(prefixFieldErrors(input.error, 'order'));
      return errors.result<ClientMessage>(withRequestId({ type: 'createOrder', order: input.value }, requestId), 'createOrder');
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
    default:
      return fail(new ProtocolError('LO_ERR_UNKNOWN_TYPE', `Unknown message type "${raw.type.slice(0, 50)}" (expected ${CLIENT_MESSAGE_TYPES.join(', ')})`));
  }
}

function prefixFieldErrors(error: ProtocolError, prefix: string): ProtocolError {
  const errors = (error.details.errors ?? []).map((e) => ({ field: e.field === '' ? prefix : `${prefix}.${e.field}`, message: e.message }));
  return new ProtocolError(error.code, error.message, { ...error.details, errors });
}

/**
 * `JSON.parse` as a {@link Result}.
 * @param text untrusted JSON text
 */
export function parseJson(text: string): Result<unknown> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    // The parser's message names the offending position, which helps curl users.
    return fail(new ProtocolError('LO_ERR_BAD_JSON', `Malformed JSON: ${(e as Error).message}`));
  }
}

// ---------------------------------------------------------------------------
// Decoding server messages (used by the page and the CLI)
// ---------------------------------------------------------------------------

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

/** Whether `value` has the shape of an {@link OrderEvent}. */
export function isOrderEvent(value: unknown): value is OrderEvent {
  if (!isObject(value) || !isNonNegativeInteger(value.seq) || !isOrder(value.order)) return false;
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
        typeof value.serverId === 'string' &&
        isView(value.view) &&
        Array.isArray(value.orders) &&
        value.orders.every(isOrder) &&
        isNonNegativeInteger(value.total) &&
        isStatusCounts(value.counts) &&
        isNonNegativeInteger(value.limit) &&
        (value.reset === undefined || value.reset === true)
      );
    case 'resumed':
      return typeof value.serverId === 'string' && isNonNegativeInteger(value.since) && isNonNegativeInteger(value.seq) && isView(value.view);
    case 'events':
      return Array.isArray(value.events) && value.events.every(isOrderEvent);
    case 'pong':
      return isOptionalString(value.id);
    case 'ack':
      return isOptionalString(value.requestId) && isOrder(value.order) && isOptionalString(value.trackingToken);
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

// ---------------------------------------------------------------------------
// Encoding server messages
// ---------------------------------------------------------------------------

/**
 * Serialise a server message. The only `JSON.stringify` of socket traffic,
 * apart from {@link encodeEvent} whose output {@link encodeEventsFrame} splices.
 * @param message the message
 */
export function encodeServerMessage(message: ServerMessage): string {
  if (message.type === 'snapshot') {
    // The orders are the bulk of a snapshot: splice in their cached JSON.
    const { orders, ...rest } = message;
    return `${JSON.stringify(rest).slice(0, -1)},"orders":${encodeOrders(orders)}}`;
  }
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

/**
 * An order's JSON, written field by field in the order the store builds them:
 * equal to `JSON.stringify(order)` for every order the store makes (protocol
 * tests compare the two), at about 0.6x its cost. Names and emails go through
 * `JSON.stringify` for escaping. The id, statuses and timestamps are written
 * as they are: the store makes them (UUID, enum, ISO 8601), none can hold a
 * quote, backslash or control character, and each escape call costs ~700
 * instructions. Numbers are finite, where `String` and JSON agree.
 * @param order the order
 * @param extra more members, already encoded, each starting with a comma
 */
function orderJson(order: Order, extra = ''): string {
  const { customerEmail, total } = order;
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
    (total === undefined ? '' : `,"total":${total}`) +
    `,"status":"${order.status}","history":[${history}],"version":${order.version}` +
    `,"createdAt":"${order.createdAt}","updatedAt":"${order.updatedAt}"${extra}}`
  );
}

/**
 * Serialise an order, once per order object: the REST answer, the event and
 * every snapshot that includes it share the same string.
 * @param order the order
 */
export function encodeOrder(order: Order): string {
  let json = encodedOrders.get(order);
  if (json === undefined) {
    json = orderJson(order);
    encodedOrders.set(order, json);
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
 */
export function encodeProblem(error: ProtocolError, instance: string | undefined): string {
  const { status, title } = ERROR_CODES[error.code];
  return JSON.stringify({
    type: PROBLEM_TYPE_PREFIX + error.code.replace(/^LO_ERR_/, '').toLowerCase().replaceAll('_', '-'),
    title,
    status,
    detail: error.message,
    instance,
    code: error.code,
    ...error.details,
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
 */
export function encodeEventAt(event: OrderEvent, seq: number): string {
  const head = `{"type":"${event.type}","seq":${seq},"order":${encodeOrder(event.order)}`;
  return event.type === 'order.updated' ? `${head},"previousStatus":"${event.previousStatus}"}` : `${head}}`;
}

/**
 * A JSON array of orders from their cached encodings (list answers and snapshots).
 * @param orders the orders
 */
export function encodeOrders(orders: readonly Order[]): string {
  return `[${orders.map(encodeOrder).join(',')}]`;
}

/**
 * Build an `events` frame from events already encoded by {@link encodeEvent}.
 * Equal to `encodeServerMessage({ type: 'events', events })`.
 * @param encodedEvents encoded events in `seq` order
 */
export function encodeEventsFrame(encodedEvents: readonly string[]): string {
  return `{"type":"events","events":[${encodedEvents.join(',')}]}`;
}

/**
 * The wire form of an error, from anything thrown or returned. A
 * {@link ProtocolError} goes out as is; anything else becomes `LO_ERR_INTERNAL`
 * with no detail, so no stack or internal message leaks.
 * @param error what went wrong
 */
export function toWireError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  return new ProtocolError('LO_ERR_INTERNAL', 'The server failed to handle this request');
}
