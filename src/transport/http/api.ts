/**
 * @module http-api
 * The REST API: routes, and one small handler per route. Handlers decode the
 * request, call the store, and encode the answer; rules live in the store and
 * shapes in the protocol.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../../security/access.ts';
import type { Permission, Principal } from '../../security/auth.ts';
import { corsHeaders } from '../../security/edge.ts';
import { isValidIdempotencyKey, type IdempotencyCache } from '../../store/idempotency.ts';
import { CLOSE_AFTER_RESPONSE, readJsonBody, sendEmpty, sendEncodedJson, sendJson, sendProblem } from './io.ts';
import {
  ORDER_STATUSES,
  ProtocolError,
  isOrderId,
  encodeCreatedOrder,
  encodeOrder,
  encodeOrders,
  isOrderStatus,
  parseCreateOrderInput,
  parseStatusChangeInput,
  type Order,
  type OrderStatus,
  type Result,
  type TrackingTokenAnswer,
} from '../../protocol.ts';
import type { RequestTarget } from './request-target.ts';
import type { OrderStore } from '../../store.ts';

/** Page sizes for `GET /api/orders`. */
export const LIST_LIMITS = { default: 100, max: 1000 } as const;

/** What the API handlers read besides the store. */
export interface ApiContext {
  readonly store: OrderStore;
  readonly idempotency: IdempotencyCache;
  /** Maximum request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Live numbers for `GET /api/stats`. */
  readonly stats: () => Record<string, unknown>;
  /** Who may do what. */
  readonly access: AccessControl;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers. */
  readonly corsOrigins: readonly string[];
}

type Handler = (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, match: RouteMatch) => Promise<void> | void;

interface RouteMatch {
  readonly url: RequestTarget;
  /** The `:id` (or `:token`) segment, when the route has one. */
  readonly id: string;
  readonly principal: Principal;
}

/** A handler, what it needs (a permission, `tracking`: the path's token is the credential, or nothing), and how the index shows it. */
interface Endpoint {
  readonly handle: Handler;
  readonly needs: Permission | 'tracking' | 'public';
  /** One line for the index at `/api`. */
  readonly what: string;
  /** What follows the method and URL in the index's curl line (a body, say). */
  readonly curlArgs?: string;
}

interface Route {
  readonly pattern: RegExp;
  /** The path as the index shows it, with placeholders in capitals. */
  readonly path: string;
  readonly methods: Readonly<Record<string, Endpoint>>;
}

const JSON_BODY = `-H 'Content-Type: application/json' -d`;

const ROUTES: readonly Route[] = [
  { pattern: /^\/api\/?$/, path: '/api', methods: { GET: { handle: getIndex, needs: 'public', what: 'this index' } } },
  {
    pattern: /^\/api\/orders$/,
    path: '/api/orders?status=pending,processing&limit=50',
    methods: {
      GET: { handle: listOrders, needs: 'read', what: 'orders, newest first; X-Total-Count, and a Link header to the next page' },
      POST: { handle: createOrder, needs: 'write', what: 'create an order (Idempotency-Key makes retries safe); the answer carries its trackingToken', curlArgs: `${JSON_BODY} '{"customerName":"Ada","items":["laptop",{"name":"mouse","quantity":2,"price":19.99}]}'` },
    },
  },
  {
    pattern: /^\/api\/orders\/([^/]+)$/,
    path: '/api/orders/ORDER_ID',
    methods: {
      GET: { handle: getOrder, needs: 'read', what: 'one order, with its version as ETag' },
      DELETE: { handle: deleteOrder, needs: 'delete', what: 'delete an order (If-Match honoured)' },
    },
  },
  {
    pattern: /^\/api\/orders\/([^/]+)\/status$/,
    path: '/api/orders/ORDER_ID/status',
    methods: {
      PUT: { handle: changeStatus, needs: 'write', what: 'move an order along: pending, processing, shipped, delivered, or cancelled (If-Match honoured)', curlArgs: `${JSON_BODY} '{"status":"processing"}'` },
      PATCH: { handle: changeStatus, needs: 'write', what: 'the same as PUT', curlArgs: `${JSON_BODY} '{"status":"shipped"}'` },
    },
  },
  // A tracking token is a shareable capability: only those who get one when creating may ask again (and it counts as a write).
  { pattern: /^\/api\/orders\/([^/]+)\/tracking-token$/, path: '/api/orders/ORDER_ID/tracking-token', methods: { GET: { handle: getTrackingToken, needs: 'write', what: "an order's customer tracking token again" } } },
  { pattern: /^\/api\/track\/([^/]+)$/, path: '/api/track/TRACKING_TOKEN', methods: { GET: { handle: getTrackedOrder, needs: 'tracking', what: 'the one order a tracking token opens (no other credential needed); the customer page is /track/TRACKING_TOKEN' } } },
  { pattern: /^\/api\/stats$/, path: '/api/stats', methods: { GET: { handle: getStats, needs: 'read', what: 'live numbers: orders by status, connections, events sent, seq' } } },
  { pattern: /^\/healthz$/, path: '/healthz', methods: { GET: { handle: getHealth, needs: 'public', what: 'liveness' } } },
];

/**
 * Whether the API owns `pathname` (anything under `/api/`, and `/healthz`).
 * @param pathname the request path
 */
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/api/') || pathname === '/api' || pathname === '/healthz';
}

/**
 * Route one API request. Unknown paths get 404, known paths with another
 * method 405 with `Allow`; `HEAD` follows `GET` and `OPTIONS` lists `Allow`.
 * @param ctx store and settings
 * @param req the request
 * @param res the response
 * @param url the parsed request URL
 * @returns the handler's promise when it reads a body, so the caller can catch its failure
 */
export function handleApiRequest(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: RequestTarget): Promise<void> | void {
  const cors = corsHeaders(req.headers.origin, ctx.corsOrigins);
  for (const name in cors) res.setHeader(name, cors[name]!);
  for (const route of ROUTES) {
    const m = route.pattern.exec(url.pathname);
    if (m === null) continue;
    const method = req.method === 'HEAD' && headFollowsGet(route) ? 'GET' : (req.method ?? 'GET');
    const endpoint = route.methods[method];
    if (endpoint === undefined) {
      req.resume();
      const allow = allowHeader(route);
      if (method === 'OPTIONS') return sendEmpty(res, 204, { Allow: allow, ...(cors['Access-Control-Allow-Origin'] ? { 'Access-Control-Allow-Methods': allow } : {}) });
      return sendProblem(res, new ProtocolError('LO_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}`), { Allow: allow });
    }
    const id = decodeSegment(m[1]);
    const principal = admit(ctx, req, endpoint.needs, id);
    if (!principal.ok) {
      req.resume();
      return sendAccessProblem(res, principal.error);
    }
    return endpoint.handle(ctx, req, res, { url, id, principal: principal.value });
  }
  req.resume();
  sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', `No API route ${url.pathname.slice(0, 200)}`));
}

/** Who the request is, if they may use this endpoint: 401 without a valid credential, 403 without the permission, 429 past the write limit. */
function admit(ctx: ApiContext, req: IncomingMessage, needs: Endpoint['needs'], id: string): Result<Principal> {
  if (needs === 'public') return { ok: true, value: { kind: 'open' } };
  if (needs === 'tracking') return ctx.access.track(id);
  const principal = ctx.access.authenticate(req.headers.authorization);
  if (!principal.ok) return principal;
  const allowed = ctx.access.authorize(principal.value, needs);
  if (!allowed.ok) return allowed;
  if (needs !== 'read') {
    const limited = ctx.access.limitWrite(principal.value, req.socket.remoteAddress);
    if (!limited.ok) return limited;
  }
  return principal;
}

function sendAccessProblem(res: ServerResponse, error: ProtocolError): void {
  const headers: Record<string, string> = {};
  if (error.code === 'LO_ERR_UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer realm="liveorders"';
  if (error.details.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.details.retryAfterSeconds);
  sendProblem(res, error, headers);
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

function listOrders(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { url }: RouteMatch): void {
  const query = parseListQuery(url.searchParams);
  if (!query.ok) return sendProblem(res, query.error);
  const { statuses, limit, cursor } = query.value;
  const page = ctx.store.list({ view: statuses === undefined ? {} : { statuses }, limit, ...(cursor ? { before: cursor } : {}) });
  const headers: Record<string, string> = { 'X-Total-Count': String(page.total) };
  if (page.nextCursor !== undefined) {
    const next = new URLSearchParams();
    if (statuses !== undefined) next.set('status', statuses.join(','));
    next.set('limit', String(limit));
    next.set('cursor', page.nextCursor);
    headers.Link = `</api/orders?${next.toString()}>; rel="next"`;
  }
  sendEncodedJson(res, 200, encodeOrders(page.orders), headers);
}

async function createOrder(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): Promise<void> {
  const rawKey = req.headers['idempotency-key'];
  if (typeof rawKey === 'string' && !isValidIdempotencyKey(rawKey)) {
    req.resume();
    return sendProblem(res, invalidHeader('Idempotency-Key', 'must be 1 to 255 visible ASCII characters'));
  }
  // Keys are scoped to the caller, so nobody can replay another client's answer (and its tracking token).
  const key = typeof rawKey === 'string' ? (principal.kind === 'role' ? `${principal.name}\n${rawKey}` : rawKey) : undefined;
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  const input = parseCreateOrderInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);

  // From here to the end nothing awaits, so a concurrent retry cannot slip between the check and the store.
  const fingerprint = typeof key === 'string' ? JSON.stringify(input.value) : '';
  if (typeof key === 'string') {
    const stored = ctx.idempotency.get(key);
    if (stored !== undefined) {
      if (stored.fingerprint !== fingerprint) {
        return sendProblem(
          res,
          new ProtocolError('LO_ERR_IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was already used with a different request body'),
        );
      }
      return sendEncodedJson(res, stored.status, stored.body, { ...stored.headers, 'Idempotent-Replayed': 'true' });
    }
  }
  const result = ctx.store.create(input.value);
  if (!result.ok) return sendProblem(res, result.error);
  const order = result.value.order;
  const trackingToken = ctx.access.tracking.issue(order.id);
  const headers = { ETag: etagOf(order), Location: `/api/orders/${order.id}` };
  // The order, plus its tracking token: only the creator ever sees the token.
  const responseBody = encodeCreatedOrder(order, trackingToken);
  if (typeof key === 'string') ctx.idempotency.set(key, { fingerprint, status: 201, body: responseBody, headers });
  sendEncodedJson(res, 201, responseBody, headers);
}

function getOrder(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  const order = findOrder(ctx, id);
  if (order === undefined) return sendProblem(res, orderNotFound(id));
  sendOrder(res, 200, order);
}

async function changeStatus(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): Promise<void> {
  const expected = parseIfMatch(req.headers['if-match']);
  const body = await readJsonBody(req, ctx.maxBodyBytes);
  if (!body.ok) return sendBodyProblem(res, body.error);
  if (findOrder(ctx, id) === undefined) return sendProblem(res, orderNotFound(id));
  if (!expected.ok) return sendProblem(res, expected.error);
  const input = parseStatusChangeInput(body.value);
  if (!input.ok) return sendProblem(res, input.error);
  const result = ctx.store.changeStatus(id, input.value.status, expected.value);
  if (!result.ok) return sendProblem(res, result.error);
  sendOrder(res, 200, result.value.order);
}

function deleteOrder(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  if (findOrder(ctx, id) === undefined) return sendProblem(res, orderNotFound(id));
  const expected = parseIfMatch(req.headers['if-match']);
  if (!expected.ok) return sendProblem(res, expected.error);
  const result = ctx.store.delete(id, expected.value);
  if (!result.ok) return sendProblem(res, result.error);
  sendEmpty(res, 204);
}

function getTrackingToken(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { id }: RouteMatch): void {
  if (findOrder(ctx, id) === undefined) return sendProblem(res, orderNotFound(id));
  const answer: TrackingTokenAnswer = { orderId: id, trackingToken: ctx.access.tracking.issue(id) };
  sendJson(res, 200, answer);
}

function getTrackedOrder(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): void {
  const order = principal.kind === 'tracking' ? ctx.store.get(principal.orderId) : undefined;
  if (order === undefined) return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'No order has this tracking token'));
  sendOrder(res, 200, order);
}

function getStats(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, ctx.stats());
}

function getHealth(_ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/**
 * `GET /api`: every route with a line of what it does and a curl line to
 * copy, addressed to the host the client used, with the Authorization
 * header when tokens are on. Pretty-printed: it is read by people.
 */
function getIndex(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): void {
  const base = `${req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost:8000'}`;
  const auth = ctx.access.enabled ? ` -H "Authorization: Bearer $LIVEORDERS_TOKEN"` : '';
  const routes = ROUTES.flatMap((route) =>
    Object.entries(route.methods).map(([method, endpoint]) => {
      const credential = endpoint.needs === 'public' || endpoint.needs === 'tracking' ? '' : auth;
      const curl = `curl${method === 'GET' ? '' : ` -X ${method}`} '${base}${route.path}'${credential}${endpoint.curlArgs === undefined ? '' : ` ${endpoint.curlArgs}`}`;
      return { method, path: route.path.split('?')[0], what: endpoint.what, curl };
    }),
  );
  const index = {
    service: 'liveorders',
    auth: ctx.access.enabled ? 'Authorization: Bearer TOKEN on every route but /healthz, /api and /api/track' : 'open: no token needed (loopback only)',
    routes,
    websocket: { url: `${base.replace(/^http/, 'ws')}/ws`, watch: 'npm run -s watch', messages: 'ping, subscribe, createOrder, updateStatus (docs/protocol.md)' },
  };
  sendEncodedJson(res, 200, JSON.stringify(index, null, 2));
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function sendOrder(res: ServerResponse, status: number, order: Order): void {
  sendEncodedJson(res, status, encodeOrder(order), { ETag: etagOf(order) });
}

/** The order's version as a strong entity tag. */
function etagOf(order: Order): string {
  return `"${order.version}"`;
}

/** The order a path's `:id` names, if it is an order id and the order exists. */
function findOrder(ctx: ApiContext, id: string): Order | undefined {
  return isOrderId(id) ? ctx.store.get(id) : undefined;
}

function orderNotFound(id: string): ProtocolError {
  return new ProtocolError('LO_ERR_NOT_FOUND', `No order with id ${id.slice(0, 100)}`);
}

function invalidHeader(name: string, message: string): ProtocolError {
  return new ProtocolError('LO_ERR_INVALID_FIELD', `Header ${name} ${message}`, { errors: [{ field: `header.${name}`, message }] });
}

function sendBodyProblem(res: ServerResponse, error: ProtocolError): void {
  sendProblem(res, error, error.code === 'LO_ERR_PAYLOAD_TOO_LARGE' ? CLOSE_AFTER_RESPONSE : {});
}

/** A malformed percent-encoding cannot name an order; keep the raw text for the error message. */
function decodeSegment(segment: string | undefined): string {
  if (segment === undefined) return '';
  try {
    return decodeURIComponent(segment);
  } catch {
    // URIError: not valid percent-encoding.
    return segment;
  }
}

/**
 * `If-Match` as an expected version: absent or `*` means any; otherwise a
 * single entity tag as sent in `ETag` (`"3"`; a bare `3` is accepted too).
 */
function parseIfMatch(header: string | undefined): Result<number | undefined> {
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

interface ListQueryValues {
  readonly statuses?: readonly OrderStatus[];
  readonly limit: number;
  readonly cursor?: string;
}

/** `?status=a,b` (or repeated), `?limit=1..1000`, `?cursor=<id from Link>`. Unknown parameters are ignored. */
function parseListQuery(params: URLSearchParams): Result<ListQueryValues> {
  const errors: { field: string; message: string }[] = [];
  let statuses: OrderStatus[] | undefined;
  const rawStatuses = params.getAll('status').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (rawStatuses.length > 0) {
    const unknown = rawStatuses.filter((s) => !isOrderStatus(s));
    if (unknown.length > 0) errors.push({ field: 'query.status', message: `must be among ${ORDER_STATUSES.join(', ')}` });
    else statuses = ORDER_STATUSES.filter((s) => rawStatuses.includes(s));
  }
  let limit: number = LIST_LIMITS.default;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= LIST_LIMITS.max)) {
      errors.push({ field: 'query.limit', message: `must be an integer from 1 to ${LIST_LIMITS.max}` });
    }
  }
  const cursor = params.get('cursor') ?? undefined;
  if (cursor !== undefined && !isOrderId(cursor)) {
    errors.push({ field: 'query.cursor', message: 'must be the cursor from a Link header' });
  }
  if (errors.length > 0) return { ok: false, error: new ProtocolError('LO_ERR_INVALID_FIELD', 'The query is invalid', { errors }) };
  return {
    ok: true,
    value: { limit, ...(statuses === undefined ? {} : { statuses }), ...(cursor === undefined ? {} : { cursor }) },
  };
}

function allowHeader(route: Route): string {
  const methods = Object.keys(route.methods);
  if (headFollowsGet(route)) methods.push('HEAD');
  return [...methods, 'OPTIONS'].join(', ');
}

/**
 * Whether `HEAD` may run the route's `GET`: only when that `GET` is a read.
 * `GET /api/orders/ID/tracking-token` counts as a write (it hands out a
 * capability and spends the rate limit), and HEAD must have no effect.
 */
function headFollowsGet(route: Route): boolean {
  const get = route.methods.GET;
  return get !== undefined && get.needs !== 'write' && get.needs !== 'delete';
}
