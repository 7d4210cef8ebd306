/**
 * @module transport/http/router
 * The REST API's routes: which handler answers which path and method, the
 * action of the access table (security/policy.ts) each is, and the index at
 * `/api` that lists them with a curl line each. Unknown paths get 404,
 * known paths with another method 405 with `Allow`; `HEAD` follows a `GET`
 * that only reads, and `OPTIONS` lists `Allow`.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { tagRoute } from '../../observe/http-metrics.ts';
import { METRICS_CONTENT_TYPE } from '../../observe/metrics.ts';
import { CLIENT_MESSAGE_TYPES, ProtocolError, type Result } from '../../protocol.ts';
import { seesStorageLocation, type Principal } from '../../security/auth.ts';
import { corsHeaders } from '../../security/edge.ts';
import { ACCESS_POLICY, type Action } from '../../security/policy.ts';
import type { ApiContext, Handler, RouteMatch } from './context.ts';
import { sendEmpty, sendEncodedJson, sendJson, sendProblem, sendText } from './io.ts';
import { changeStatus, createOrder, deleteOrder, getOrder, getTrackedOrder, getTrackingToken, listOrders } from './orders.ts';
import { exportOrders } from './orders-csv.ts';
import { adjustStock, createProduct, deleteProduct, getProduct, listProducts, updateProduct } from './products.ts';
import { changeStatuses } from './bulk-status.ts';
import { buildOpenApiDocument, type RouteInfo } from './openapi.ts';
import { getPresence } from './presence.ts';
import { watcherKind } from '../ws/presence.ts';
import { getOrderEmails, showUnsubscribe, unsubscribe } from './emails.ts';
import type { RequestTarget } from './request-target.ts';
import { createWebhook, deleteWebhook, getWebhook, listWebhookDeliveries, listWebhooks, retryWebhookDelivery, rotateWebhookSecret, testWebhook, updateWebhook } from './webhooks.ts';

/** A handler, the action of the access table it is (which says who may), and how the index shows it. */
interface Endpoint {
  readonly handle: Handler;
  readonly action: Action;
  /** One line for the index at `/api`. */
  readonly what: string;
  /** What follows the method and URL in the index's curl line (a body, say). */
  readonly curlArgs?: string;
  /** An example query for this method's curl line (`?status=...`), without the `?`. */
  readonly exampleQuery?: string;
}

interface Route {
  readonly pattern: RegExp;
  /** Left out of the index at `/api` (the WebSocket address, which plain HTTP only learns is one). */
  readonly unlisted?: boolean;
  /** The path as the index shows it, with placeholders in capitals. */
  readonly path: string;
  readonly methods: Readonly<Record<string, Endpoint>>;
}

/**
 * On reads while what this instance sees of a shared history is cut off
 * (Redis unreachable): what it answers is what it had, and may miss writes
 * made through other instances since.
 */
export const STALE_HEADER = 'Liveorders-Stale';
const STALE_VALUE = 'storage unreachable; this answer may miss recent writes';

const JSON_BODY = `-H 'Content-Type: application/json' -d`;

const ROUTES: readonly Route[] = [
  { pattern: /^\/api\/?$/, path: '/api', methods: { GET: { handle: getIndex, action: 'readIndex', what: 'this index' } } },
  { pattern: /^\/api\/openapi\.json$/, path: '/api/openapi.json', methods: { GET: { handle: getOpenApi, action: 'readIndex', what: 'this API as an OpenAPI 3.1 document' } } },
  {
    // A trailing slash names the same collection (curl users type it).
    pattern: /^\/api\/orders\/?$/,
    path: '/api/orders',
    methods: {
      GET: { handle: listOrders, action: 'listOrders', what: 'orders, newest first; X-Total-Count, and a Link header to the next page; q= searches names and ids, createdAfter=/createdBefore= (ISO 8601) bound the creation time', exampleQuery: 'status=pending,processing&limit=50' },
      POST: { handle: createOrder, action: 'createOrder', what: 'create an order (Idempotency-Key makes retries safe); the answer carries its trackingToken', curlArgs: `${JSON_BODY} '{"customerName":"Ada","items":["laptop",{"name":"mouse","quantity":2,"price":19.99}]}'` },
    },
  },
  { pattern: /^\/api\/orders\.csv$/, path: '/api/orders.csv', methods: { GET: { handle: exportOrders, action: 'listOrders', what: 'the orders as CSV (status, q, createdAfter, createdBefore as for the list), streamed', exampleQuery: 'status=delivered&createdAfter=2026-12-01' } } },
  // Before the one-order route, which would read "status" as an order id.
  {
    pattern: /^\/api\/orders\/status$/,
    path: '/api/orders/status',
    methods: { POST: { handle: changeStatuses, action: 'changeStatuses', what: 'move up to 500 orders to one status, each its own change; one result per order (Idempotency-Key makes retries safe)', curlArgs: `${JSON_BODY} '{"orderIds":["ORDER_ID"],"status":"shipped"}'` } },
  },
  {
    pattern: /^\/api\/orders\/([^/]+)$/,
    path: '/api/orders/ORDER_ID',
    methods: {
      GET: { handle: getOrder, action: 'readOrder', what: 'one order, with its version as ETag' },
      DELETE: { handle: deleteOrder, action: 'deleteOrder', what: 'delete an order (If-Match honoured)' },
    },
  },
  {
    pattern: /^\/api\/orders\/([^/]+)\/status$/,
    path: '/api/orders/ORDER_ID/status',
    methods: {
      PUT: { handle: changeStatus, action: 'changeStatus', what: 'move an order along: pending, processing, shipped, delivered, or cancelled (If-Match honoured)', curlArgs: `${JSON_BODY} '{"status":"processing"}'` },
      PATCH: { handle: changeStatus, action: 'changeStatus', what: 'the same as PUT', curlArgs: `${JSON_BODY} '{"status":"shipped"}'` },
    },
  },
  { pattern: /^\/api\/orders\/([^/]+)\/presence$/, path: '/api/orders/ORDER_ID/presence', methods: { GET: { handle: getPresence, action: 'readPresence', what: 'how many watch an order now, by role (every instance\'s sockets with Redis)' } } },
  { pattern: /^\/api\/orders\/([^/]+)\/tracking-token$/, path: '/api/orders/ORDER_ID/tracking-token', methods: { GET: { handle: getTrackingToken, action: 'reissueTrackingToken', what: "an order's customer tracking token again" } } },
  { pattern: /^\/api\/orders\/([^/]+)\/emails$/, path: '/api/orders/ORDER_ID/emails', methods: { GET: { handle: getOrderEmails, action: 'readOrderEmails', what: 'what was emailed to the customer about the order, and when (sent, or given up with the reply)' } } },
  {
    pattern: /^\/api\/email\/unsubscribe\/([^/]+)$/,
    path: '/api/email/unsubscribe/UNSUBSCRIBE_TOKEN',
    methods: {
      GET: { handle: showUnsubscribe, action: 'unsubscribeEmail', what: "the page an email's unsubscribe link opens: it asks to confirm and changes nothing" },
      POST: { handle: unsubscribe, action: 'unsubscribeEmail', what: 'one-click unsubscribe (RFC 8058): no more emails about that order', curlArgs: "-d 'List-Unsubscribe=One-Click'" },
    },
  },
  { pattern: /^\/api\/track\/([^/]+)$/, path: '/api/track/TRACKING_TOKEN', methods: { GET: { handle: getTrackedOrder, action: 'trackOrder', what: 'the one order a tracking token opens (no other credential needed); the customer page is /track/TRACKING_TOKEN' } } },
  {
    pattern: /^\/api\/webhooks\/?$/,
    path: '/api/webhooks',
    methods: {
      GET: { handle: listWebhooks, action: 'readWebhooks', what: 'webhook endpoints with their state, backlog and last attempts' },
      POST: { handle: createWebhook, action: 'manageWebhooks', what: 'add a webhook endpoint (events optional, default all); the answer shows its whsec_ secret, once', curlArgs: `${JSON_BODY} '{"url":"https://example.com/hooks","events":["order.created","order.status_changed"]}'` },
    },
  },
  {
    pattern: /^\/api\/webhooks\/([^/]+)$/,
    path: '/api/webhooks/WEBHOOK_ID',
    methods: {
      GET: { handle: getWebhook, action: 'readWebhooks', what: 'one webhook endpoint' },
      PATCH: { handle: updateWebhook, action: 'manageWebhooks', what: 'change url, events, description or enabled (re-enabling resumes where it stopped)', curlArgs: `${JSON_BODY} '{"enabled":true}'` },
      DELETE: { handle: deleteWebhook, action: 'manageWebhooks', what: 'delete a webhook endpoint' },
    },
  },
  { pattern: /^\/api\/webhooks\/([^/]+)\/rotate-secret$/, path: '/api/webhooks/WEBHOOK_ID/rotate-secret', methods: { POST: { handle: rotateWebhookSecret, action: 'manageWebhooks', what: 'a new secret, shown once; the old one also signs for 24 hours' } } },
  { pattern: /^\/api\/webhooks\/([^/]+)\/test$/, path: '/api/webhooks/WEBHOOK_ID/test', methods: { POST: { handle: testWebhook, action: 'manageWebhooks', what: 'send a webhook.test event now; answers with the outcome' } } },
  { pattern: /^\/api\/webhooks\/([^/]+)\/deliveries$/, path: '/api/webhooks/WEBHOOK_ID/deliveries', methods: { GET: { handle: listWebhookDeliveries, action: 'readWebhooks', what: 'recent deliveries, newest first, with their attempts', exampleQuery: 'limit=20' } } },
  { pattern: /^\/api\/webhooks\/([^/]+)\/deliveries\/[^/]+\/retry$/, path: '/api/webhooks/WEBHOOK_ID/deliveries/DELIVERY_ID/retry', methods: { POST: { handle: retryWebhookDelivery, action: 'manageWebhooks', what: 'send a delivery again now' } } },
  {
    pattern: /^\/api\/products\/?$/,
    path: '/api/products',
    methods: {
      GET: { handle: listProducts, action: 'readProducts', what: 'the catalog: every product with its price and live stock, by SKU' },
      POST: { handle: createProduct, action: 'writeProducts', what: 'add a product (sku, name, priceCents, stock)', curlArgs: `${JSON_BODY} '{"sku":"MUG-1","name":"Mug","priceCents":1299,"stock":50}'` },
    },
  },
  {
    pattern: /^\/api\/products\/([^/]+)$/,
    path: '/api/products/PRODUCT_SKU',
    methods: {
      GET: { handle: getProduct, action: 'readProducts', what: 'one product, with its version as ETag' },
      PATCH: { handle: updateProduct, action: 'writeProducts', what: "change a product's name or priceCents (If-Match honoured)", curlArgs: `${JSON_BODY} '{"priceCents":1499}'` },
      DELETE: { handle: deleteProduct, action: 'writeProducts', what: 'remove a product (If-Match honoured)' },
    },
  },
  { pattern: /^\/api\/products\/([^/]+)\/stock$/, path: '/api/products/PRODUCT_SKU/stock', methods: { POST: { handle: adjustStock, action: 'writeProducts', what: 'add to or take from the stock, never below zero (If-Match honoured)', curlArgs: `${JSON_BODY} '{"delta":10}'` } } },
  { pattern: /^\/api\/stats$/, path: '/api/stats', methods: { GET: { handle: getStats, action: 'readStats', what: 'live numbers: orders by status, connections, events sent, seq' } } },
  { pattern: /^\/healthz$/, path: '/healthz', methods: { GET: { handle: getHealth, action: 'checkHealth', what: 'liveness' } } },
  { pattern: /^\/metrics$/, path: '/metrics', methods: { GET: { handle: getMetrics, action: 'readMetrics', what: 'Prometheus metrics (admins, METRICS_TOKEN, or loopback without tokens)' } } },
  { pattern: /^\/ws$/, path: '/ws', unlisted: true, methods: { GET: { handle: upgradeRequired, action: 'findWebSocket', what: 'the WebSocket address' } } },
];

/** Every route the router answers, in matching order (for the OpenAPI document and its test). */
export const ROUTE_TABLE: readonly RouteInfo[] = ROUTES.map((route) => ({
  path: route.path,
  pattern: route.pattern,
  unlisted: route.unlisted === true,
  methods: Object.entries(route.methods).map(([method, endpoint]) => ({ method, action: endpoint.action, what: endpoint.what })),
}));

/** Placeholders of a route's path as its metrics label writes them. */
const PLACEHOLDERS: Readonly<Record<string, string>> = { ORDER_ID: ':id', TRACKING_TOKEN: ':token' };

/** Each route's pattern name, its metrics label: `/api/orders/:id`, never a path as asked. */
const ROUTE_NAMES: ReadonlyMap<Route, string> = new Map(ROUTES.map((route) => [route, route.path.replace(/[A-Z_]+/g, (name) => PLACEHOLDERS[name] ?? `:${name.toLowerCase()}`)]));

/**
 * Whether the API owns `pathname` (anything under `/api/`, `/healthz`, `/metrics`).
 * @param pathname the request path
 */
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/api/') || pathname === '/api' || pathname === '/healthz' || pathname === '/ws' || pathname === '/metrics';
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
    tagRoute(res, ROUTE_NAMES.get(route)!);
    const method = req.method === 'HEAD' && headFollowsGet(route) ? 'GET' : (req.method ?? 'GET');
    const endpoint = route.methods[method];
    if (endpoint === undefined) {
      req.resume();
      const allow = allowHeader(route);
      if (method === 'OPTIONS') return sendEmpty(res, 204, { Allow: allow, ...(cors['Access-Control-Allow-Origin'] ? { 'Access-Control-Allow-Methods': allow } : {}) });
      return sendProblem(res, new ProtocolError('LO_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}`), { Allow: allow });
    }
    const id = decodeSegment(m[1]);
    const principal = admit(ctx, req, endpoint.action, id);
    // An identity provider's token is checked asynchronously (its keys may have to be fetched).
    if (principal instanceof Promise) return principal.then((admitted) => answer(ctx, req, res, { endpoint, method, url, id }, admitted));
    return answer(ctx, req, res, { endpoint, method, url, id }, principal);
  }
  req.resume();
  sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', `No API route ${url.pathname.slice(0, 200)}`));
}

/** Run the endpoint for an admitted request, or send why it was not. */
function answer(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, route: { readonly endpoint: Endpoint; readonly method: string; readonly url: RequestTarget; readonly id: string }, principal: Result<Principal>): Promise<void> | void {
  if (!principal.ok) {
    req.resume();
    return sendAccessProblem(req, res, principal.error);
  }
  if (route.method === 'GET' && ctx.staleReads()) res.setHeader(STALE_HEADER, STALE_VALUE);
  return route.endpoint.handle(ctx, req, res, { url: route.url, id: route.id, principal: principal.value });
}

/**
 * Who the request is, if the access table lets them do this: 401 without a
 * valid credential, 403 when the table says no, 429 past the write limit.
 * A promise when the credential is an identity provider's token.
 */
function admit(ctx: ApiContext, req: IncomingMessage, action: Action, id: string): Result<Principal> | Promise<Result<Principal>> {
  const { roles } = ACCESS_POLICY[action];
  if (roles === 'anyone') return { ok: true, value: { kind: 'open' } };
  const principal = roles === 'tracking' ? ctx.access.track(id) : ctx.access.authenticate(req.headers.authorization);
  if (principal instanceof Promise) return principal.then((p) => permit(ctx, req, action, id, p));
  return permit(ctx, req, action, id, principal);
}

/** The access table's (and the write limit's) answer for an authenticated request. */
function permit(ctx: ApiContext, req: IncomingMessage, action: Action, id: string, principal: Result<Principal>): Result<Principal> {
  if (!principal.ok) return principal;
  const tracking = ACCESS_POLICY[action].roles === 'tracking';
  const admitted = ctx.access.admit(principal.value, action, { orderId: tracking ? trackedOrder(principal.value) : id, address: req.socket.remoteAddress });
  return admitted.ok ? principal : admitted;
}

/** The order a tracking principal holds the token of. */
function trackedOrder(principal: Principal): string | undefined {
  return principal.kind === 'tracking' ? principal.orderId : undefined;
}

function sendAccessProblem(req: IncomingMessage, res: ServerResponse, error: ProtocolError): void {
  const headers: Record<string, string> = {};
  // RFC 6750: a token was presented and refused (bad, expired, unknown) -> invalid_token; none presented -> no error.
  if (error.code === 'LO_ERR_UNAUTHORIZED') headers['WWW-Authenticate'] = req.headers.authorization === undefined ? 'Bearer realm="liveorders"' : 'Bearer realm="liveorders", error="invalid_token"';
  if (error.details.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.details.retryAfterSeconds);
  sendProblem(res, error, headers);
}

/** `GET /ws` without an upgrade (curl, a browser tab): 426 saying how to connect. */
function upgradeRequired(_ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  const problem = new ProtocolError('LO_ERR_UPGRADE_REQUIRED', 'This is the WebSocket address: connect with a WebSocket client (npm run -s watch, or new WebSocket(url) in a page)');
  sendProblem(res, problem, { Upgrade: 'websocket' });
}

/** `GET /api/stats`, with the role the caller is seen as (open mode: admin), so the page knows whether to show the admin panel. */
function getStats(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, { principal }: RouteMatch): void {
  const kind = watcherKind(principal);
  const caller = kind === 'customer' ? 'viewer' : kind;
  sendJson(res, 200, { ...ctx.stats({ location: seesStorageLocation(principal) }), caller });
}

/** `GET /metrics`: the Prometheus text exposition. */
async function getMetrics(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (ctx.metrics === undefined) return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'This server keeps no metrics'));
  sendText(res, 200, await ctx.metrics.render(), { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
}

/** Liveness and readiness: 200 while this instance can serve writes, 503 when its storage cannot take them (reads still work). */
function getHealth(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  const health = ctx.health();
  sendJson(res, health.ready ? 200 : 503, { status: health.ready ? 'ok' : 'unavailable', ...health });
}

/**
 * `GET /api`: every route with a line of what it does and a curl line to
 * copy, addressed to the host the client used, with the Authorization
 * header when tokens are on. Pretty-printed: it is read by people.
 */
function getIndex(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): void {
  const base = `${req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost:8000'}`;
  const auth = ctx.access.enabled ? ` -H "Authorization: Bearer $LIVEORDERS_TOKEN"` : '';
  const routes = ROUTES.filter((route) => route.unlisted !== true).flatMap((route) =>
    Object.entries(route.methods).map(([method, endpoint]) => {
      const credential = typeof ACCESS_POLICY[endpoint.action].roles === 'string' ? '' : auth;
      const query = endpoint.exampleQuery === undefined ? '' : `?${endpoint.exampleQuery}`;
      const curl = `curl${method === 'GET' ? '' : ` -X ${method}`} '${base}${route.path}${query}'${credential}${endpoint.curlArgs === undefined ? '' : ` ${endpoint.curlArgs}`}`;
      return { method, path: route.path, what: endpoint.what, curl };
    }),
  );
  const index = {
    service: 'liveorders',
    auth: ctx.access.enabled ? 'Authorization: Bearer TOKEN on every route but /healthz, /api and /api/track' : 'open: no token needed (loopback only)',
    routes,
    openapi: `${base}/api/openapi.json`,
    websocket: { url: `${base.replace(/^http/, 'ws')}/ws`, watch: 'npm run -s watch', messages: `${CLIENT_MESSAGE_TYPES.join(', ')} (docs/protocol.md)` },
  };
  sendEncodedJson(res, 200, JSON.stringify(index, null, 2));
}

/** `GET /api/openapi.json`: built once per process from the route table. */
function getOpenApi(_ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  openApiJson ??= JSON.stringify(buildOpenApiDocument(ROUTE_TABLE));
  sendEncodedJson(res, 200, openApiJson);
}

let openApiJson: string | undefined;

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

function allowHeader(route: Route): string {
  const methods = Object.keys(route.methods);
  if (headFollowsGet(route)) methods.push('HEAD');
  return [...methods, 'OPTIONS'].join(', ');
}

/**
 * Whether `HEAD` may run the route's `GET`: only when that `GET` spends no
 * write allowance. `GET /api/orders/ID/tracking-token` does (it hands out a
 * capability), and HEAD must have no effect.
 */
function headFollowsGet(route: Route): boolean {
  const get = route.methods.GET;
  return get !== undefined && !ACCESS_POLICY[get.action].limited;
}
