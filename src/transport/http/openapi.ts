/**
 * @module transport/http/openapi
 * The REST API as an OpenAPI 3.1 document (`GET /api/openapi.json`): the
 * paths come from the router's table, each method's operation from
 * {@link OPERATIONS} here, the shapes from {@link SCHEMAS}. A new route is
 * one entry in each table; a route without an operation fails the build of
 * the document (and its test).
 */

import { BULK_STATUS_MAX_ORDERS, ORDER_LIMITS, ORDER_STATUSES, PRODUCT_LIMITS, WATCHER_KINDS } from '../../protocol.ts';
import { ACCESS_POLICY, type Action } from '../../security/policy.ts';

/** One route of the router's table, as this document sees it. */
export interface RouteInfo {
  /** The path with placeholders in capitals (`/api/orders/ORDER_ID`). */
  readonly path: string;
  /** Matches the request paths this route answers. */
  readonly pattern: RegExp;
  /** Left out of the index at `/api` (the WebSocket address). */
  readonly unlisted: boolean;
  /** Each method with its access-table action and index line. */
  readonly methods: readonly { readonly method: string; readonly action: Action; readonly what: string }[];
}

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it) or any OpenAPI object: plain JSON. */
type Json = { readonly [key: string]: unknown };

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const integer = (minimum = 0): Json => ({ type: 'integer', minimum });
const counts = (keys: readonly string[]): Json => ({
  type: 'object',
  required: [...keys],
  properties: Object.fromEntries(keys.map((k) => [k, integer()])),
  additionalProperties: false,
});

/** The shapes the API sends and takes, as JSON Schemas. */
export const SCHEMAS: Readonly<Record<string, Json>> = {
  OrderStatus: { type: 'string', enum: [...ORDER_STATUSES] },
  OrderId: { type: 'string', pattern: UUID, description: 'UUID v7: sorts by creation time' },
  OrderItem: {
    type: 'object',
    required: ['name', 'quantity'],
    properties: {
      name: { type: 'string', maxLength: ORDER_LIMITS.itemNameMaxLength },
      quantity: { type: 'integer', minimum: 1, maximum: ORDER_LIMITS.quantityMax },
      price: { type: 'number', minimum: 0, maximum: ORDER_LIMITS.priceMax, description: 'unit price, at most two decimals' },
    },
    additionalProperties: false,
  },
  StatusHistoryEntry: {
    type: 'object',
    required: ['status', 'at'],
    properties: { status: ref('OrderStatus'), at: { type: 'string', format: 'date-time' } },
    additionalProperties: false,
  },
  Order: {
    type: 'object',
    required: ['id', 'customerName', 'items', 'status', 'history', 'version', 'createdAt', 'updatedAt'],
    properties: {
      id: ref('OrderId'),
      customerName: { type: 'string', maxLength: ORDER_LIMITS.customerNameMaxLength },
      customerEmail: { type: 'string', maxLength: ORDER_LIMITS.customerEmailMaxLength, description: 'one bare address; only operators and admins (and open mode) are sent it: viewers and tracking links never' },
      items: { type: 'array', items: ref('OrderItem'), maxItems: ORDER_LIMITS.itemsMax, description: 'empty for an order of catalog lines alone' },
      lines: { type: 'array', items: ref('OrderLine'), minItems: 1, maxItems: PRODUCT_LIMITS.linesMax, description: 'products from the catalog, each at its unit price when the order was created' },
      total: { type: 'number', minimum: 0, description: 'sum of quantity × price over items and lines; present only when every item has a price' },
      status: ref('OrderStatus'),
      history: { type: 'array', items: ref('StatusHistoryEntry'), minItems: 1 },
      version: { type: 'integer', minimum: 1, description: 'grows by 1 with every change; the ETag, and what If-Match takes' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    additionalProperties: false,
  },
  // Filled in below: the order's fields and its tracking token.
  CreatedOrder: {},
  TrackingToken: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
  CreateOrderInput: {
    type: 'object',
    required: ['customerName'],
    anyOf: [{ required: ['items'] }, { required: ['lines'] }],
    properties: {
      customerName: { type: 'string', minLength: 1, maxLength: ORDER_LIMITS.customerNameMaxLength },
      customerEmail: { type: 'string', format: 'email', maxLength: ORDER_LIMITS.customerEmailMaxLength },
      items: {
        type: 'array',
        minItems: 1,
        maxItems: ORDER_LIMITS.itemsMax,
        items: { oneOf: [{ type: 'string', minLength: 1, maxLength: ORDER_LIMITS.itemNameMaxLength, description: 'an item of quantity 1' }, ref('OrderItem')] },
        description: '1 or more, or none beside lines',
      },
      lines: { type: 'array', minItems: 1, maxItems: PRODUCT_LIMITS.linesMax, items: ref('OrderLineInput'), description: 'priced from the catalog and their stock reserved, all or nothing (409 LO_ERR_OUT_OF_STOCK with shortages)' },
    },
    additionalProperties: false,
  },
  Sku: { type: 'string', pattern: PRODUCT_LIMITS.skuPattern.source },
  Product: {
    type: 'object',
    required: ['sku', 'name', 'priceCents', 'stock', 'version', 'createdAt', 'updatedAt'],
    properties: {
      sku: ref('Sku'),
      name: { type: 'string', maxLength: PRODUCT_LIMITS.nameMaxLength },
      priceCents: { type: 'integer', minimum: 0, maximum: PRODUCT_LIMITS.priceCentsMax },
      stock: { type: 'integer', minimum: 0, maximum: PRODUCT_LIMITS.stockMax, description: 'units that can still be ordered' },
      version: { type: 'integer', minimum: 1, description: 'grows by 1 with every change, reservations included; the ETag' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    additionalProperties: false,
  },
  ProductList: { type: 'array', items: ref('Product') },
  OrderLine: {
    type: 'object',
    required: ['sku', 'name', 'quantity', 'unitPriceCents'],
    properties: { sku: ref('Sku'), name: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, unitPriceCents: { type: 'integer', minimum: 0 } },
    additionalProperties: false,
  },
  OrderLineInput: {
    type: 'object',
    required: ['sku', 'quantity'],
    properties: { sku: ref('Sku'), quantity: { type: 'integer', minimum: 1, maximum: PRODUCT_LIMITS.stockMax } },
    additionalProperties: false,
  },
  CreateProductInput: {
    type: 'object',
    required: ['sku', 'name', 'priceCents'],
    properties: {
      sku: ref('Sku'),
      name: { type: 'string', minLength: 1, maxLength: PRODUCT_LIMITS.nameMaxLength },
      priceCents: { type: 'integer', minimum: 0, maximum: PRODUCT_LIMITS.priceCentsMax },
      stock: { type: 'integer', minimum: 0, maximum: PRODUCT_LIMITS.stockMax, default: 0 },
    },
    additionalProperties: false,
  },
  UpdateProductInput: {
    type: 'object',
    minProperties: 1,
    properties: { name: { type: 'string', minLength: 1, maxLength: PRODUCT_LIMITS.nameMaxLength }, priceCents: { type: 'integer', minimum: 0, maximum: PRODUCT_LIMITS.priceCentsMax } },
    additionalProperties: false,
  },
  StockChangeInput: {
    type: 'object',
    required: ['delta'],
    properties: { delta: { type: 'integer', minimum: -PRODUCT_LIMITS.stockMax, maximum: PRODUCT_LIMITS.stockMax, not: { const: 0 }, description: 'added to the stock; the stock never goes below 0 (409 LO_ERR_OUT_OF_STOCK)' } },
    additionalProperties: false,
  },
  StatusChangeInput: { type: 'object', required: ['status'], properties: { status: ref('OrderStatus') }, additionalProperties: false },
  BulkStatusInput: {
    type: 'object',
    required: ['orderIds', 'status'],
    properties: {
      orderIds: { type: 'array', items: ref('OrderId'), minItems: 1, maxItems: BULK_STATUS_MAX_ORDERS, uniqueItems: true },
      status: ref('OrderStatus'),
      expectedVersions: {
        type: 'object',
        description: 'by order id: the version it must still be at for its change to apply (412 otherwise), as If-Match does for one order',
        additionalProperties: { type: 'integer', minimum: 1 },
      },
    },
    additionalProperties: false,
  },
  BulkStatusAnswer: {
    type: 'object',
    required: ['status', 'changed', 'failed', 'results'],
    properties: {
      status: ref('OrderStatus'),
      changed: integer(),
      failed: integer(),
      results: {
        type: 'array',
        description: 'one per order id, in the order given',
        items: {
          type: 'object',
          required: ['id', 'status'],
          properties: {
            id: ref('OrderId'),
            status: { type: 'integer', enum: [200, 404, 409, 412, 503], description: 'what a request for this order alone would have answered' },
            order: ref('Order'),
            error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } }, additionalProperties: false },
          },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  EmailRecord: {
    type: 'object',
    required: ['status', 'messageId', 'outcome', 'at', 'attempts'],
    properties: {
      status: ref('OrderStatus'),
      messageId: { type: 'string' },
      outcome: { type: 'string', enum: ['sent', 'failed'] },
      at: { type: 'string', format: 'date-time' },
      attempts: integer(1),
      reply: { type: 'string', description: "the SMTP server's reply when given up, e.g. 550 mailbox unavailable" },
    },
    additionalProperties: false,
  },
  OrderEmails: {
    type: 'object',
    required: ['orderId', 'enabled', 'emails'],
    properties: { orderId: ref('OrderId'), enabled: { type: 'boolean', description: 'whether SMTP_URL is set' }, emails: { type: 'array', items: ref('EmailRecord') } },
    additionalProperties: false,
  },
  TrackingTokenAnswer: {
    type: 'object',
    required: ['orderId', 'trackingToken'],
    properties: { orderId: ref('OrderId'), trackingToken: ref('TrackingToken') },
    additionalProperties: false,
  },
  PresenceAnswer: {
    type: 'object',
    required: ['orderId', 'watching', 'scope'],
    properties: {
      orderId: ref('OrderId'),
      watching: counts(WATCHER_KINDS),
      scope: { enum: ['instance', 'cluster'], description: 'instance: the counts are of the sockets of the instance that answered (memory or journal storage, or Redis unreachable); cluster: of every live instance sharing the Redis history' },
    },
    additionalProperties: false,
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details, with the error code and its machine-readable details',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', pattern: '^urn:liveorders:problem:' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { type: 'string', pattern: '^LO_ERR_' },
      requestId: { type: 'string', description: 'the X-Request-Id of the request, as in the server log' },
      errors: { type: 'array', items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      allowed: { type: 'array', items: ref('OrderStatus') },
      currentVersion: integer(1),
      currentStatus: ref('OrderStatus'),
      retryAfterSeconds: integer(),
      shortages: {
        type: 'array',
        description: 'LO_ERR_OUT_OF_STOCK: every product short of what was asked',
        items: { type: 'object', required: ['sku', 'requested', 'available'], properties: { sku: ref('Sku'), requested: integer(1), available: integer() }, additionalProperties: false },
      },
    },
  },
  Stats: {
    type: 'object',
    required: ['orders', 'connections', 'connectionsByRole', 'slowSubscribersDropped', 'seq', 'epoch', 'storage', 'uptimeSeconds', 'caller'],
    properties: {
      orders: { type: 'object', required: ['total', 'byStatus'], properties: { total: integer(), byStatus: counts(ORDER_STATUSES) } },
      connections: integer(),
      connectionsByRole: counts(WATCHER_KINDS),
      slowSubscribersDropped: integer(),
      floodingClientsClosed: integer(),
      subscribers: integer(),
      eventsSent: integer(),
      framesSent: integer(),
      seq: integer(),
      epoch: { type: 'string' },
      storage: { type: 'object', required: ['mode'], properties: { mode: { type: 'string', enum: ['memory', 'journal', 'redis'] } }, description: 'what the backend reports; where it is (paths, addresses) for admins only' },
      uptimeSeconds: integer(),
      caller: { type: 'string', enum: ['admin', 'operator', 'viewer'], description: 'the role the caller is seen as (open mode: admin)' },
    },
  },
  Health: {
    type: 'object',
    required: ['status', 'ready'],
    properties: { status: { type: 'string', enum: ['ok', 'unavailable'] }, ready: { type: 'boolean' }, seq: integer(), reason: { type: 'string' } },
  },
  Index: {
    type: 'object',
    required: ['service', 'routes', 'openapi'],
    properties: {
      service: { const: 'liveorders' },
      auth: { type: 'string' },
      routes: {
        type: 'array',
        items: { type: 'object', required: ['method', 'path', 'what', 'curl'], properties: { method: { type: 'string' }, path: { type: 'string' }, what: { type: 'string' }, curl: { type: 'string' } } },
      },
      openapi: { type: 'string', format: 'uri' },
      websocket: { type: 'object' },
    },
  },
};

{
  const order = SCHEMAS.Order as { required: string[]; properties: Json };
  (SCHEMAS as Record<string, Json>).CreatedOrder = {
    type: 'object',
    description: 'The order and its secret customer tracking token',
    required: [...order.required, 'trackingToken'],
    properties: { ...order.properties, trackingToken: ref('TrackingToken') },
    additionalProperties: false,
  };
}

{
  const attempt: Json = {
    type: 'object',
    required: ['at', 'status', 'durationMs'],
    properties: { at: { type: 'string', format: 'date-time' }, status: { type: ['integer', 'null'], description: 'the HTTP status, or null when no answer came' }, error: { type: 'string' }, durationMs: integer() },
    additionalProperties: false,
  };
  const endpointProperties: Json = {
    id: ref('WebhookId'),
    url: { type: 'string', format: 'uri' },
    events: { type: 'array', items: ref('WebhookEventType') },
    description: { type: 'string', maxLength: 500 },
    enabled: { type: 'boolean' },
    disabledReason: { type: 'string', enum: ['manual', 'gone', 'failing', 'backlog'], description: 'manual: PATCH; gone: the endpoint answered 410; failing: no success for WEBHOOK_DISABLE_AFTER_HOURS; backlog: more than WEBHOOK_MAX_BACKLOG events behind' },
    secretHint: { type: 'string', description: "the secret's first characters" },
    createdAt: { type: 'string', format: 'date-time' },
    lastSuccessAt: { type: ['string', 'null'], format: 'date-time' },
    consecutiveFailures: integer(),
    backlog: { ...integer(), description: 'events committed that it has not been through yet' },
    missedEvents: { ...integer(), description: 'events the history no longer held when it got to them' },
    lastAttempts: {
      type: 'array',
      items: { type: 'object', required: ['id', 'type', 'state', 'status', 'at'], properties: { id: { type: 'string' }, type: { type: 'string' }, seq: integer(), state: { type: 'string' }, status: { type: ['integer', 'null'] }, at: { type: 'string', format: 'date-time' } } },
    },
  };
  const endpointRequired = ['id', 'url', 'events', 'description', 'enabled', 'secretHint', 'createdAt', 'lastSuccessAt', 'consecutiveFailures', 'backlog', 'missedEvents', 'lastAttempts'];
  Object.assign(SCHEMAS as Record<string, Json>, {
    WebhookId: { type: 'string', pattern: '^ep_[A-Za-z0-9_-]+$' },
    WebhookEventType: { type: 'string', enum: ['order.created', 'order.status_changed', 'order.deleted'] },
    WebhookInput: {
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string', format: 'uri', maxLength: 2000, description: 'http or https; refused (422) when it resolves to a private, loopback, link-local or metadata address' }, events: { type: 'array', items: ref('WebhookEventType'), minItems: 1, description: 'default: all' }, description: { type: 'string', maxLength: 500 } },
      additionalProperties: false,
    },
    WebhookPatch: {
      type: 'object',
      properties: { url: { type: 'string', format: 'uri', maxLength: 2000 }, events: { type: 'array', items: ref('WebhookEventType'), minItems: 1 }, description: { type: 'string', maxLength: 500 }, enabled: { type: 'boolean', description: 'true resumes where it stopped' } },
      additionalProperties: false,
    },
    WebhookEndpoint: { type: 'object', required: endpointRequired, properties: endpointProperties, additionalProperties: false },
    WebhookEndpointList: { type: 'array', items: ref('WebhookEndpoint') },
    WebhookEndpointWithSecret: {
      type: 'object',
      description: 'The only answers that show the whole secret: a create and a rotation',
      required: [...endpointRequired, 'secret'],
      properties: { ...endpointProperties, secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]+=*$' } },
      additionalProperties: false,
    },
    WebhookSendAnswer: {
      type: 'object',
      required: ['id', 'delivered', 'status', 'durationMs'],
      properties: { id: { type: 'string', description: 'the webhook-id' }, delivered: { type: 'boolean' }, status: { type: ['integer', 'null'] }, error: { type: 'string' }, durationMs: integer() },
      additionalProperties: false,
    },
    WebhookDeliveryList: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'state', 'attempts'],
        properties: { id: { type: 'string', description: 'the webhook-id' }, type: { type: 'string' }, seq: integer(1), orderId: ref('OrderId'), state: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'array', items: attempt } },
        additionalProperties: false,
      },
    },
    WebhookEvent: {
      type: 'object',
      description: 'The body of every webhook (Standard Webhooks 1.0: webhook-id, webhook-timestamp and webhook-signature headers; docs/protocol.md)',
      required: ['type', 'timestamp', 'data'],
      properties: {
        type: { type: 'string', enum: ['order.created', 'order.status_changed', 'order.deleted', 'webhook.test'] },
        timestamp: { type: 'string', format: 'date-time' },
        data: { type: 'object', properties: { seq: integer(1), order: ref('Order'), previousStatus: ref('OrderStatus'), endpointId: ref('WebhookId') } },
      },
    },
  });
}

/** What one method of one path documents beyond the router's table. */
interface Operation {
  readonly operationId: string;
  /** Path placeholders and query parameters. */
  readonly parameters?: readonly Json[];
  /** The schema the JSON body must match. */
  readonly body?: string;
  /** Whether it takes `Idempotency-Key`. */
  readonly idempotent?: boolean;
  /** Whether it takes `If-Match`. */
  readonly ifMatch?: boolean;
  /** A form body instead of JSON: its one field and the value it must have. */
  readonly form?: readonly [field: string, value: string];
  /** Success status and the schema of its body (`null`: no body; a media type other than JSON as `text/csv`). */
  readonly ok: readonly [status: number, schema: string | null, mediaType?: string];
  /** Error statuses beyond those every route may give. */
  readonly errors: readonly number[];
}

const SKU: Json = { name: 'sku', in: 'path', required: true, schema: ref('Sku') };
const ORDER_ID: Json = { name: 'orderId', in: 'path', required: true, schema: ref('OrderId') };
const TRACKING_TOKEN: Json = { name: 'trackingToken', in: 'path', required: true, schema: ref('TrackingToken') };
const WEBHOOK_ID: Json = { name: 'webhookId', in: 'path', required: true, schema: { type: 'string' } };
const DELIVERY_ID: Json = { name: 'deliveryId', in: 'path', required: true, description: 'the webhook-id', schema: { type: 'string' } };
const UNSUBSCRIBE_TOKEN: Json = { name: 'unsubscribeToken', in: 'path', required: true, description: "from an email's List-Unsubscribe link", schema: { type: 'string', maxLength: 80 } };
const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({ name, in: 'query', required: false, description, schema });
const SEARCH: readonly Json[] = [
  query('status', 'comma-separated statuses'),
  query('q', 'search names and ids'),
  query('createdAfter', 'ISO 8601', { type: 'string', format: 'date-time' }),
  query('createdBefore', 'ISO 8601', { type: 'string', format: 'date-time' }),
];

/** Each route's methods, keyed `METHOD /path` as the router's table spells the path. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'GET /api': { operationId: 'getIndex', ok: [200, 'Index'], errors: [] },
  'GET /api/openapi.json': { operationId: 'getOpenApi', ok: [200, null, 'application/json'], errors: [] },
  'GET /api/orders': {
    operationId: 'listOrders',
    parameters: [...SEARCH, query('limit', 'page size', integer(1)), query('cursor', 'from the Link header of the page before')],
    ok: [200, 'OrderList'],
    errors: [400],
  },
  'POST /api/orders': { operationId: 'createOrder', body: 'CreateOrderInput', idempotent: true, ok: [201, 'CreatedOrder'], errors: [400, 404, 409, 413, 415, 422] },
  'GET /api/orders.csv': { operationId: 'exportOrders', parameters: SEARCH, ok: [200, null, 'text/csv'], errors: [400] },
  'POST /api/orders/status': { operationId: 'changeStatuses', body: 'BulkStatusInput', idempotent: true, ok: [200, 'BulkStatusAnswer'], errors: [400, 413, 415, 422] },
  'GET /api/orders/ORDER_ID': { operationId: 'getOrder', parameters: [ORDER_ID], ok: [200, 'Order'], errors: [404, 503] },
  'DELETE /api/orders/ORDER_ID': { operationId: 'deleteOrder', parameters: [ORDER_ID], ifMatch: true, ok: [204, null], errors: [404, 412] },
  'PUT /api/orders/ORDER_ID/status': { operationId: 'putStatus', parameters: [ORDER_ID], body: 'StatusChangeInput', ifMatch: true, ok: [200, 'Order'], errors: [400, 404, 409, 412, 413, 415] },
  'PATCH /api/orders/ORDER_ID/status': { operationId: 'patchStatus', parameters: [ORDER_ID], body: 'StatusChangeInput', ifMatch: true, ok: [200, 'Order'], errors: [400, 404, 409, 412, 413, 415] },
  'GET /api/orders/ORDER_ID/presence': { operationId: 'getPresence', parameters: [ORDER_ID], ok: [200, 'PresenceAnswer'], errors: [404] },
  'GET /api/orders/ORDER_ID/emails': { operationId: 'getOrderEmails', parameters: [ORDER_ID], ok: [200, 'OrderEmails'], errors: [404] },
  'GET /api/email/unsubscribe/UNSUBSCRIBE_TOKEN': { operationId: 'showUnsubscribe', parameters: [UNSUBSCRIBE_TOKEN], ok: [200, null, 'text/html'], errors: [404] },
  'POST /api/email/unsubscribe/UNSUBSCRIBE_TOKEN': { operationId: 'unsubscribe', parameters: [UNSUBSCRIBE_TOKEN], form: ['List-Unsubscribe', 'One-Click'], ok: [200, null, 'text/html'], errors: [400, 404, 413] },
  'GET /api/orders/ORDER_ID/tracking-token': { operationId: 'getTrackingToken', parameters: [ORDER_ID], ok: [200, 'TrackingTokenAnswer'], errors: [404] },
  'GET /api/track/TRACKING_TOKEN': { operationId: 'trackOrder', parameters: [TRACKING_TOKEN], ok: [200, 'Order'], errors: [404] },
  'GET /api/products': { operationId: 'listProducts', ok: [200, 'ProductList'], errors: [] },
  'POST /api/products': { operationId: 'createProduct', body: 'CreateProductInput', ok: [201, 'Product'], errors: [400, 409, 413, 415] },
  'GET /api/products/PRODUCT_SKU': { operationId: 'getProduct', parameters: [SKU], ok: [200, 'Product'], errors: [404] },
  'PATCH /api/products/PRODUCT_SKU': { operationId: 'updateProduct', parameters: [SKU], body: 'UpdateProductInput', ifMatch: true, ok: [200, 'Product'], errors: [400, 404, 412, 413, 415] },
  'DELETE /api/products/PRODUCT_SKU': { operationId: 'deleteProduct', parameters: [SKU], ifMatch: true, ok: [204, null], errors: [404, 412] },
  'POST /api/products/PRODUCT_SKU/stock': { operationId: 'adjustStock', parameters: [SKU], body: 'StockChangeInput', ifMatch: true, ok: [200, 'Product'], errors: [400, 404, 409, 412, 413, 415] },
  'GET /api/stats': { operationId: 'getStats', ok: [200, 'Stats'], errors: [] },
  'GET /healthz': { operationId: 'getHealth', ok: [200, 'Health'], errors: [503] },
  // Prometheus text exposition (version 0.0.4); 404 when the server keeps no metrics.
  'GET /metrics': { operationId: 'getMetrics', ok: [200, null, 'text/plain'], errors: [404] },
  'GET /api/webhooks': { operationId: 'listWebhooks', ok: [200, 'WebhookEndpointList'], errors: [404] },
  'POST /api/webhooks': { operationId: 'createWebhook', body: 'WebhookInput', ok: [201, 'WebhookEndpointWithSecret'], errors: [400, 404, 413, 415, 422] },
  'GET /api/webhooks/WEBHOOK_ID': { operationId: 'getWebhook', parameters: [WEBHOOK_ID], ok: [200, 'WebhookEndpoint'], errors: [404] },
  'PATCH /api/webhooks/WEBHOOK_ID': { operationId: 'updateWebhook', parameters: [WEBHOOK_ID], body: 'WebhookPatch', ok: [200, 'WebhookEndpoint'], errors: [400, 404, 413, 415, 422] },
  'DELETE /api/webhooks/WEBHOOK_ID': { operationId: 'deleteWebhook', parameters: [WEBHOOK_ID], ok: [204, null], errors: [404] },
  'POST /api/webhooks/WEBHOOK_ID/rotate-secret': { operationId: 'rotateWebhookSecret', parameters: [WEBHOOK_ID], ok: [200, 'WebhookEndpointWithSecret'], errors: [404] },
  'POST /api/webhooks/WEBHOOK_ID/test': { operationId: 'testWebhook', parameters: [WEBHOOK_ID], ok: [200, 'WebhookSendAnswer'], errors: [404] },
  'GET /api/webhooks/WEBHOOK_ID/deliveries': { operationId: 'listWebhookDeliveries', parameters: [WEBHOOK_ID, query('limit', 'at most this many, newest first (1 to 100, default 50)', integer(1))], ok: [200, 'WebhookDeliveryList'], errors: [400, 404] },
  'POST /api/webhooks/WEBHOOK_ID/deliveries/DELIVERY_ID/retry': { operationId: 'retryWebhookDelivery', parameters: [WEBHOOK_ID, DELIVERY_ID], ok: [200, 'WebhookSendAnswer'], errors: [404] },
  'GET /ws': { operationId: 'findWebSocket', ok: [426, 'Problem', 'application/problem+json'], errors: [] },
};

/** Placeholders as the router's table spells them, and as OpenAPI paths do. */
const PLACEHOLDERS: Readonly<Record<string, string>> = { ORDER_ID: '{orderId}', TRACKING_TOKEN: '{trackingToken}', PRODUCT_SKU: '{sku}', UNSUBSCRIBE_TOKEN: '{unsubscribeToken}', WEBHOOK_ID: '{webhookId}', DELIVERY_ID: '{deliveryId}' };

/**
 * A router path as an OpenAPI path (`/api/orders/ORDER_ID` → `/api/orders/{orderId}`).
 * @param path the path as the router's table spells it
 */
export function openApiPath(path: string): string {
  return path.replace(/[A-Z_]{4,}/g, (name) => PLACEHOLDERS[name] ?? name);
}

/** Problems any route may answer besides its own: a method it does not take, a Host it does not serve, a bug. */
const COMMON_ERRORS = [405, 421, 500] as const;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 201: 'Created', 204: 'No content', 400: 'Invalid request', 401: 'No valid token', 403: 'The role may not do this',
  404: 'Not found', 405: 'Method not allowed', 409: 'Conflict: an illegal status transition, too little stock (shortages), or a SKU taken', 412: 'Version mismatch', 413: 'Body too large',
  415: 'Not JSON', 421: 'Host not served', 422: 'Idempotency key reused with another request', 426: 'Upgrade required',
  429: 'Too many writes', 500: 'Internal error (logged on the server)', 503: 'Storage unavailable or not ready',
};

/**
 * The document for the routes in `routes`.
 * @param routes the router's table
 * @throws when a route's method has no entry in {@link OPERATIONS}
 */
export function buildOpenApiDocument(routes: readonly RouteInfo[]): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const item: Record<string, Json> = {};
    for (const { method, action, what } of route.methods) {
      const operation = OPERATIONS[`${method} ${route.path}`];
      if (operation === undefined) throw new Error(`the OpenAPI document has no operation for ${method} ${route.path}`);
      item[method.toLowerCase()] = operationObject(operation, action, what);
    }
    paths[openApiPath(route.path)] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'liveorders',
      version: '1',
      description: 'Real-time order tracking. Live updates come over the WebSocket at /ws (docs/protocol.md); this document covers the REST API.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/' }],
    paths,
    // What this service sends (issue 26): one POST per event to each subscribed endpoint.
    webhooks: {
      orderEvent: {
        post: {
          summary: 'An order change (or a test), signed to Standard Webhooks 1.0',
          parameters: [
            { name: 'webhook-id', in: 'header', required: true, description: 'the same across retries and restarts: the idempotency key', schema: { type: 'string' } },
            { name: 'webhook-timestamp', in: 'header', required: true, description: 'seconds since 1970', schema: { type: 'string' } },
            { name: 'webhook-signature', in: 'header', required: true, description: 'space-separated v1,BASE64 HMAC-SHA256 signatures of ID.TIMESTAMP.BODY (two during a rotation)', schema: { type: 'string' } },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookEvent') } } },
          responses: { '200': { description: 'any 2xx: delivered' }, '410': { description: 'disables the endpoint' } },
        },
      },
    },
    components: {
      schemas: { ...SCHEMAS, OrderList: { type: 'array', items: ref('Order') } },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A role token (admin, operator, viewer), or a JWT of the identity provider (AUTH_JWKS_URL) whose role claim grants one; none in open mode. METRICS_TOKEN opens /metrics and nothing else',
        },
      },
    },
  };
}

function operationObject(operation: Operation, action: Action, what: string): Json {
  const rule = ACCESS_POLICY[action];
  const authenticated = typeof rule.roles !== 'string';
  const [status, schema, mediaType] = operation.ok;
  const responses: Record<string, Json> = { [status]: response(status, schema, mediaType) };
  const errors = new Set<number>([...operation.errors, ...COMMON_ERRORS]);
  if (authenticated) for (const s of [401, 403]) errors.add(s);
  if (rule.limited) errors.add(429);
  if (operation.body !== undefined || operation.ifMatch === true) errors.add(503);
  for (const s of [...errors].sort((a, b) => a - b)) responses[s] = response(s, 'Problem', 'application/problem+json');
  const parameters: Json[] = [...(operation.parameters ?? [])];
  if (operation.idempotent === true) {
    parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'a retry with the same key gets the first answer again', schema: { type: 'string', minLength: 1, maxLength: 255 } });
  }
  if (operation.ifMatch === true) parameters.push({ name: 'If-Match', in: 'header', required: false, description: "the order's ETag", schema: { type: 'string' } });
  parameters.push({ name: 'X-Request-Id', in: 'header', required: false, description: 'kept when 1 to 64 of [A-Za-z0-9_.:-], else one is made; echoed in the answer', schema: { type: 'string', pattern: '^[\\w.:-]{1,64}$' } });
  return {
    operationId: operation.operationId,
    summary: what,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: ref(operation.body) } } } }),
    ...(operation.form === undefined ? {} : { requestBody: formBody(operation.form) }),
    responses,
    security: authenticated ? [{ bearer: [] }] : [],
    'x-access': { action, roles: rule.roles },
  };
}

/** A one-field form body, as a form or as multipart/form-data (RFC 8058 one-click unsubscribe sends either). */
function formBody([field, value]: readonly [string, string]): Json {
  const schema = { type: 'object', required: [field], properties: { [field]: { const: value } } };
  return { required: true, content: { 'application/x-www-form-urlencoded': { schema }, 'multipart/form-data': { schema } } };
}

/** The challenge of a 401 (RFC 6750), with a role token or an identity provider's JWT alike. */
const WWW_AUTHENTICATE: Json = {
  description: 'Bearer realm="liveorders"; with error="invalid_token" when a token was sent and refused (unknown, expired, signed by a key the identity provider does not publish)',
  required: true,
  schema: { type: 'string', pattern: '^Bearer realm="liveorders"' },
};

function response(status: number, schema: string | null, mediaType = 'application/json'): Json {
  const description = STATUS_TEXT[status] ?? 'Answer';
  const headers = {
    'X-Request-Id': { description: "the request's id", schema: { type: 'string' } },
    ...(status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE } : {}),
  };
  if (schema === null) return mediaType === 'application/json' && status === 204 ? { description, headers } : { description, headers, content: { [mediaType]: {} } };
  return { description, headers, content: { [mediaType]: { schema: ref(schema) } } };
}
