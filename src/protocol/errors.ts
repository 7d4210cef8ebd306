/**
 * @module protocol/errors
 * The error registry: every code the service reports with its HTTP status,
 * the error class that carries one, `Result` for expected failures, and
 * the words and codes of the rules' refusals.
 */

import type { Refusal, Shortage } from '../domain/refusals.ts';
import { fail, ok, type Result as DomainResult } from '../domain/result.ts';
import { ALLOWED_TRANSITIONS, type OrderStatus } from '../domain/statuses.ts';

export { fail, ok };

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
  LO_ERR_OUT_OF_STOCK: { status: 409, title: 'Out of stock' },
  LO_ERR_CONFLICT: { status: 409, title: 'Already exists' },
  LO_ERR_VERSION_MISMATCH: { status: 412, title: 'Version mismatch' },
  LO_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  LO_ERR_HOST_NOT_ALLOWED: { status: 421, title: 'Host not allowed' },
  LO_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  LO_ERR_UPGRADE_REQUIRED: { status: 426, title: 'Upgrade required' },
  LO_ERR_IDEMPOTENCY_MISMATCH: { status: 422, title: 'Idempotency key reused with a different request' },
  LO_ERR_WEBHOOK_TARGET: { status: 422, title: 'Webhook target refused' },
  LO_ERR_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  LO_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  LO_ERR_UNAVAILABLE: { status: 503, title: 'Storage unavailable' },
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
  /** For `LO_ERR_RATE_LIMITED` and `LO_ERR_UNAVAILABLE`: when to try again, in seconds. */
  readonly retryAfterSeconds?: number;
  /** For `LO_ERR_OUT_OF_STOCK`: every product short of what was asked. */
  readonly shortages?: readonly Shortage[];
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

/** A value or an expected failure (by default a {@link ProtocolError}). */
export type Result<T, E = ProtocolError> = DomainResult<T, E>;

/**
 * Make a compile error of any unhandled union member.
 * @param value the value that should be `never`
 */
export function assertNever(value: never): never {
  throw new TypeError(`unexpected value: ${JSON.stringify(value)}`);
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

/**
 * The refusal for a client that names no order: the one sentence for "not
 * found" everywhere (HTTP, WebSocket, tracking aside).
 * @param id what the client sent as an id, shortened
 */
export function orderNotFound(id: string): ProtocolError {
  return new ProtocolError('LO_ERR_NOT_FOUND', `No order with id ${id.slice(0, 100)}`);
}

/**
 * A refusal of the rules (domain/decide.ts), as the client is told it.
 * @param refusal what the rules refused, and why
 */
export function refusalError(refusal: Refusal): ProtocolError {
  switch (refusal.kind) {
    case 'not-found':
      return orderNotFound(refusal.id);
    case 'version-mismatch': {
      const { order, expectedVersion } = refusal;
      return new ProtocolError('LO_ERR_VERSION_MISMATCH', `Order ${order.id} is at version ${order.version}, not ${expectedVersion}`, {
        currentVersion: order.version,
        currentStatus: order.status,
      });
    }
    case 'bad-transition': {
      const { order, status } = refusal;
      const allowed = ALLOWED_TRANSITIONS[order.status];
      const next = allowed.length === 0 ? `"${order.status}" is final` : `allowed next: ${allowed.join(', ')}`;
      return new ProtocolError('LO_ERR_BAD_TRANSITION', `Cannot move order from "${order.status}" to "${status}" (${next})`, {
        allowed,
        currentStatus: order.status,
        currentVersion: order.version,
      });
    }
    case 'product-not-found':
      return productNotFound(refusal.sku);
    case 'product-exists':
      return new ProtocolError('LO_ERR_CONFLICT', `A product with SKU ${refusal.sku} exists already`);
    case 'product-version-mismatch': {
      const { product, expectedVersion } = refusal;
      return new ProtocolError('LO_ERR_VERSION_MISMATCH', `Product ${product.sku} is at version ${product.version}, not ${expectedVersion}`, { currentVersion: product.version });
    }
    case 'stock-too-large':
      return new ProtocolError('LO_ERR_INVALID_FIELD', `Stock of ${refusal.product.sku} would pass ${refusal.max}`, { errors: [{ field: 'delta', message: `would make the stock more than ${refusal.max}` }] });
    case 'out-of-stock': {
      const list = refusal.shortages.map((s) => `${s.sku} (${s.requested} asked, ${s.available} left)`).join(', ');
      return new ProtocolError('LO_ERR_OUT_OF_STOCK', `Not enough stock: ${list}`, { shortages: refusal.shortages });
    }
    case 'total-too-large':
      return new ProtocolError('LO_ERR_INVALID_FIELD', `The order total must be at most ${refusal.max}`, { errors: [{ field: 'lines', message: `the order total must be at most ${refusal.max}` }] });
  }
}

/**
 * The refusal for a SKU the catalog does not have.
 * @param sku what the client sent as a SKU, shortened
 */
export function productNotFound(sku: string): ProtocolError {
  return new ProtocolError('LO_ERR_NOT_FOUND', `No product with SKU ${sku.slice(0, 100)}`);
}
