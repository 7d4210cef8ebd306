/**
 * @module client/api
 * The REST calls the page makes. Failures come back as values carrying the
 * server's problem+json (code, detail and field errors), never as throws.
 */

import {
  WATCHER_KINDS,
  isOrder,
  isProduct,
  type Product,
  isTrackingToken,
  nextCursorInLink,
  type PresenceCounts,
  type CreatedOrder,
  type ErrorCode,
  type FieldError,
  type Order,
  type OrderStatus,
  type Result,
} from '../src/protocol.ts';

/** The bearer token the page sends, if the user signed in (kept in sessionStorage by the page). */
let bearer: string | undefined;

/**
 * Use `token` for every later call (undefined: none).
 * @param token an access token
 */
export function setBearerToken(token: string | undefined): void {
  bearer = token;
}

/** An API failure as the page shows it. */
export interface ApiProblem {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly code: ErrorCode | 'NETWORK';
  readonly detail: string;
  readonly errors: readonly FieldError[];
}

/** A page of `GET /api/orders`. */
export interface OrderListPage {
  readonly orders: readonly Order[];
  readonly total: number;
  readonly nextCursor: string | undefined;
}

/** Raw form values for a new order; the server validates them. */
export interface NewOrderBody {
  readonly customerName: string;
  readonly customerEmail?: string;
  readonly items?: readonly (string | { name: string; quantity?: number; price?: number })[];
  /** Products from the catalog (an order with lines may leave items out). */
  readonly lines?: readonly { sku: string; quantity: number }[];
}

/** `GET /api/products`: the catalog, with live stock. */
export async function listProducts(): Promise<Result<Product[], ApiProblem>> {
  const result = await call('GET', '/api/products');
  if (!result.ok) return result;
  const body = result.value.body;
  return Array.isArray(body) && body.every(isProduct) ? { ok: true, value: body } : { ok: false, error: unexpected() };
}

/**
 * `POST /api/orders`: the order, with its customer tracking token.
 * @param body the order
 */
export function createOrder(body: NewOrderBody): Promise<Result<CreatedOrder, ApiProblem>> {
  return call('POST', '/api/orders', body).then((r) => {
    if (!r.ok) return r;
    const created = r.value.body;
    const token = (created as { trackingToken?: unknown } | undefined)?.trackingToken;
    return isOrder(created) && isTrackingToken(token) ? { ok: true, value: { ...created, trackingToken: token } } : { ok: false, error: unexpected() };
  });
}

/**
 * `GET /api/orders/:id/tracking-token`: an order's customer tracking token
 * again. Only those who may create orders get it (a viewer gets 403).
 * @param id the order
 */
export function getTrackingToken(id: string): Promise<Result<string, ApiProblem>> {
  return call('GET', `/api/orders/${encodeURIComponent(id)}/tracking-token`).then((r) => {
    if (!r.ok) return r;
    const token = (r.value.body as { trackingToken?: unknown } | undefined)?.trackingToken;
    return isTrackingToken(token) ? { ok: true, value: token } : { ok: false, error: unexpected() };
  });
}

/**
 * Download `path` (a CSV export) with the bearer token, which a plain link cannot send.
 * @param path an API path
 * @param fileName what the browser saves it as
 */
export async function downloadWithBearer(path: string, fileName: string): Promise<Result<void, ApiProblem>> {
  let response: Response;
  try {
    response = await fetch(path, { headers: bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` } });
  } catch {
    return { ok: false, error: { status: 0, code: 'NETWORK', detail: 'The server cannot be reached', errors: [] } };
  }
  if (!response.ok) {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { ok: false, error: toProblem(response.status, parsed) };
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The click starts the download synchronously; the URL may go once it has.
  setTimeout(() => URL.revokeObjectURL(url), 0);
  return { ok: true, value: undefined };
}

/**
 * `PATCH /api/orders/:id/status` with `If-Match`, so a change made elsewhere meanwhile is refused (412).
 * @param id the order
 * @param status the new status
 * @param version the version the user saw
 */
export function changeStatus(id: string, status: OrderStatus, version: number): Promise<Result<Order, ApiProblem>> {
  return call('PATCH', `/api/orders/${encodeURIComponent(id)}/status`, { status }, { 'If-Match': `"${version}"` }).then((r) =>
    r.ok ? asOrder(r.value.body) : r,
  );
}

/**
 * `GET /api/orders/:id`.
 * @param id the order
 */
export function getOrder(id: string): Promise<Result<Order, ApiProblem>> {
  return call('GET', `/api/orders/${encodeURIComponent(id)}`).then((r) => (r.ok ? asOrder(r.value.body) : r));
}

/** The numbers of `GET /api/stats` the page shows (the answer holds more). */
export interface ServerStats {
  /** Open WebSockets. */
  readonly connections: number;
  /** The server's latest event seq: its growth over time is the event rate. */
  readonly seq: number;
  readonly epoch: string;
  /** The whole answer, for the admin panel (client/ui/admin.ts reads what it shows from it, checking each field). */
  readonly all: Readonly<Record<string, unknown>>;
}

/** `GET /api/stats`, to learn whether the page may read (401: sign in; 403: the token may not read). */
export function probeAccess(): Promise<Result<unknown, ApiProblem>> {
  return call('GET', '/api/stats').then((r) => (r.ok ? { ok: true, value: r.value.body } : r));
}

/** `GET /api/stats`, for the live numbers. */
export function getStats(): Promise<Result<ServerStats, ApiProblem>> {
  return call('GET', '/api/stats').then((r) => {
    if (!r.ok) return r;
    const body = (typeof r.value.body === 'object' && r.value.body !== null ? r.value.body : {}) as Record<string, unknown>;
    const { connections, seq, epoch } = body;
    if (typeof connections !== 'number' || typeof seq !== 'number' || typeof epoch !== 'string') return { ok: false, error: unexpected() };
    return { ok: true, value: { connections, seq, epoch, all: body } };
  });
}

/** One order's outcome in a bulk change, as the page uses it. */
export interface BulkOutcome {
  readonly id: string;
  /** 200 when moved; else what a request for this order alone would have answered. */
  readonly status: number;
  readonly message?: string;
}

/**
 * `POST /api/orders/status`: move many orders, each only if still at the version the user saw.
 * @param orders the orders with the versions shown
 * @param status where to move them
 */
export async function changeStatuses(orders: readonly { readonly id: string; readonly version: number }[], status: OrderStatus): Promise<Result<readonly BulkOutcome[], ApiProblem>> {
  const expectedVersions = Object.fromEntries(orders.map((o) => [o.id, o.version]));
  const result = await call('POST', '/api/orders/status', { orderIds: orders.map((o) => o.id), status, expectedVersions });
  if (!result.ok) return result;
  const body = result.value.body as { results?: unknown } | undefined;
  if (!Array.isArray(body?.results)) return { ok: false, error: unexpected() };
  const outcomes: BulkOutcome[] = [];
  for (const item of body.results as unknown[]) {
    const r = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const error = (typeof r.error === 'object' && r.error !== null ? r.error : {}) as Record<string, unknown>;
    if (typeof r.id !== 'string' || typeof r.status !== 'number') return { ok: false, error: unexpected() };
    outcomes.push(typeof error.message === 'string' ? { id: r.id, status: r.status, message: error.message } : { id: r.id, status: r.status });
  }
  return { ok: true, value: outcomes };
}

/**
 * `GET /api/orders/:id/presence`: how many watch the order now, by kind.
 * @param id the order
 */
export async function getPresence(id: string): Promise<Result<PresenceCounts, ApiProblem>> {
  const result = await call('GET', `/api/orders/${encodeURIComponent(id)}/presence`);
  if (!result.ok) return result;
  const watching = (result.value.body as { watching?: unknown } | undefined)?.watching;
  if (typeof watching !== 'object' || watching === null) return { ok: false, error: unexpected() };
  const counts = watching as Record<string, unknown>;
  if (!WATCHER_KINDS.every((k) => typeof counts[k] === 'number')) return { ok: false, error: unexpected() };
  return { ok: true, value: counts as PresenceCounts };
}

/**
 * `GET /api/track/TOKEN`: the one order a customer tracking token opens.
 * @param token the tracking token
 */
export function getTrackedOrder(token: string): Promise<Result<Order, ApiProblem>> {
  return call('GET', `/api/track/${encodeURIComponent(token)}`).then((r) => (r.ok ? asOrder(r.value.body) : r));
}

/** One email about an order, as `GET /api/orders/ID/emails` lists it. */
export interface OrderEmail {
  readonly status: string;
  readonly outcome: 'sent' | 'failed';
  readonly at: string;
  /** The server's reply when given up. */
  readonly reply?: string;
}

/**
 * `GET /api/orders/ID/emails`: what was emailed to the customer (operators and admins).
 * @param id the order
 */
export function getOrderEmails(id: string): Promise<Result<readonly OrderEmail[], ApiProblem>> {
  return call('GET', `/api/orders/${encodeURIComponent(id)}/emails`).then((r) => {
    if (!r.ok) return r;
    const emails = (r.value.body as { emails?: unknown } | null)?.emails;
    if (!Array.isArray(emails) || !emails.every(isOrderEmail)) return { ok: false, error: unexpected() };
    return { ok: true, value: emails };
  });
}

function isOrderEmail(value: unknown): value is OrderEmail {
  if (typeof value !== 'object' || value === null) return false;
  const { status, outcome, at, reply } = value as Record<string, unknown>;
  return typeof status === 'string' && (outcome === 'sent' || outcome === 'failed') && typeof at === 'string' && (reply === undefined || typeof reply === 'string');
}

/**
 * `GET /api/orders` for one older page.
 * @param query statuses to include, cursor to continue from, page size
 */
export async function listOrders(query: {
  statuses?: readonly OrderStatus[];
  cursor?: string;
  limit: number;
}): Promise<Result<OrderListPage, ApiProblem>> {
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.statuses !== undefined) params.set('status', query.statuses.join(','));
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  const result = await call('GET', `/api/orders?${params.toString()}`);
  if (!result.ok) return result;
  const { body, headers } = result.value;
  if (!Array.isArray(body) || !body.every(isOrder)) return { ok: false, error: unexpected() };
  const nextCursor = nextCursorInLink(headers.get('link'));
  return {
    ok: true,
    value: {
      orders: body,
      total: Number(headers.get('x-total-count') ?? body.length),
      nextCursor,
    },
  };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Result<{ body: unknown; headers: Headers }, ApiProblem>> {
  let response: Response;
  try {
    const auth: Record<string, string> = bearer === undefined ? {} : { Authorization: `Bearer ${bearer}` };
    response = await fetch(path, {
      method,
      headers: body === undefined ? { ...auth, ...headers } : { 'Content-Type': 'application/json', ...auth, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    // fetch rejects only when the server could not be reached.
    return { ok: false, error: { status: 0, code: 'NETWORK', detail: 'The server cannot be reached', errors: [] } };
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // A proxy's HTML error page, say: report the status alone.
    parsed = undefined;
  }
  if (response.ok) return { ok: true, value: { body: parsed, headers: response.headers } };
  return { ok: false, error: toProblem(response.status, parsed) };
}

function toProblem(status: number, body: unknown): ApiProblem {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    status,
    code: typeof problem.code === 'string' ? (problem.code as ErrorCode) : 'LO_ERR_INTERNAL',
    detail: typeof problem.detail === 'string' ? problem.detail : `The server answered ${status}`,
    errors: Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [],
  };
}

function asOrder(body: unknown): Result<Order, ApiProblem> {
  return isOrder(body) ? { ok: true, value: body } : { ok: false, error: unexpected() };
}

function unexpected(): ApiProblem {
  return { status: 0, code: 'LO_ERR_INTERNAL', detail: 'The server sent an unexpected answer', errors: [] };
}

/**
 * An admin call whose answer the caller checks itself (the webhooks panel).
 * @param method HTTP method
 * @param path the API path
 * @param body a JSON body, if any
 */
export async function adminCall(method: string, path: string, body?: unknown): Promise<Result<unknown, ApiProblem>> {
  const result = await call(method, path, body);
  return result.ok ? { ok: true, value: result.value.body } : result;
}
