/**
 * @module protocol/messages
 * Every WebSocket message in both directions, views (what one connection
 * watches), roles, close codes and the shape of tracking tokens.
 */

import type { OrderStatus } from '../domain/statuses.ts';
import type { Product } from '../domain/catalog.ts';
import type { Shortage } from '../domain/refusals.ts';
import type { ErrorCode, FieldError } from './errors.ts';
import type { CreateOrderInput, Order, OrderEvent, StatusCounts } from './orders.ts';

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

/**
 * Where a client or an instance stands in the history of changes: the last
 * `seq` applied, and the epoch of that history. The epoch changes only when
 * history is lost (a restart without durable storage, a Redis that lost its
 * data): a `seq` means nothing under another epoch.
 */
export interface Position {
  readonly seq: number;
  readonly epoch: string;
}

// ---------------------------------------------------------------------------
// Messages: server -> client
// ---------------------------------------------------------------------------

/** Sent first on every connection, and again in answer to `subscribe`. */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  /** Sequence number of the last event reflected in this snapshot. */
  readonly seq: number;
  /** The history `seq` belongs to ({@link Position}); under another epoch earlier seqs mean nothing. */
  readonly epoch: string;
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
   * is older than the history kept, or from another epoch. Replace all local
   * state with this snapshot.
   */
  readonly reset?: true;
}

/**
 * Sent first, instead of a snapshot, when a reconnecting client's `?since=SEQ`
 * could be honoured: the events it missed follow in `events` frames, then live ones.
 */
export interface ResumedMessage {
  readonly type: 'resumed';
  readonly epoch: string;
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
  /** For `LO_ERR_OUT_OF_STOCK`: every product short of what the order asked. */
  readonly shortages?: readonly Shortage[];
}

/**
 * A product changed: its price or name, or its stock (a restock, or an
 * order that reserved or gave back units). Sent to every staff connection
 * (not to customers tracking an order), after the events before it. `seq`
 * is the change's: for stock an order moved, the seq of that order's event,
 * which the same connection has just been sent (or not, for a narrowed
 * view); for a change of the catalog alone, a seq no `events` frame
 * carries, so an unfiltered client counts it as applied.
 */
export interface ProductUpdatedMessage {
  readonly type: 'productUpdated';
  readonly seq: number;
  /** The product after the change (for a delete, its last state). */
  readonly product: Product;
  /** The product was removed from the catalog. */
  readonly deleted?: true;
}

/** Answer to a `refresh` that was taken: the connection now lives until the new token's expiry. */
export interface RefreshedMessage {
  readonly type: 'refreshed';
  readonly requestId?: string;
  /** When the connection will be closed with {@link CLOSE_CODES.tokenExpired} unless refreshed again, in seconds since 1970 (the token's `exp`). */
  readonly expiresAt: number;
}

/** Every message the server sends. */
export type ServerMessage = SnapshotMessage | ResumedMessage | EventsMessage | PongMessage | AckMessage | RefreshedMessage | ErrorMessage | ProductUpdatedMessage;

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
  /**
   * Like the `Idempotency-Key` header: a retry with the same key and order
   * (over either transport) gets the first answer instead of a second order.
   */
  readonly idempotencyKey?: string;
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

/**
 * Presence: which order's detail this (board) socket has open, for the
 * "watching" counts of `GET /api/orders/ID/presence`; without `orderId`,
 * none. Not answered (an `error` if refused); a socket watches one order at
 * a time, and stops when it closes. Tracking sockets watch their own order
 * without asking, and may not send it.
 */
export interface WatchMessage {
  readonly type: 'watch';
  readonly orderId?: string;
}

/**
 * Replace the identity provider token of a connection opened with one,
 * before it expires: the same subject, checked like the first. Answered
 * with `refreshed` or `error`; without it the connection is closed at the
 * token's expiry ({@link CLOSE_CODES.tokenExpired}).
 */
export interface RefreshMessage {
  readonly type: 'refresh';
  readonly requestId?: string;
  /** The fresh access token (a JWT). */
  readonly token: string;
}

/** Every message a client may send. */
export type ClientMessage = PingMessage | SubscribeMessage | CreateOrderMessage | UpdateStatusMessage | RefreshMessage | WatchMessage;

/** The `type` of every {@link ClientMessage}. */
export const CLIENT_MESSAGE_TYPES = ['ping', 'subscribe', 'createOrder', 'updateStatus', 'refresh', 'watch'] as const;

/** Longest bearer token accepted (identity providers' JWTs run to a few kilobytes). */
export const MAX_BEARER_LENGTH = 8192;

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
  /** The identity provider token this socket lives on expired without a `refresh`; reconnect with a fresh one (and resume). */
  tokenExpired: 4001,
} as const;

/** Maximum size of one client frame or HTTP body, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
