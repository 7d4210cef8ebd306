/**
 * @module server
 * The thin adapter from HTTP and WebSocket to the store: builds the
 * `node:http` server, routes requests to the API or the page, hands upgrades
 * to the WebSocket endpoint, and wires store events to the event log and the
 * hub. Also owns the shutdown order that loses no acknowledged write.
 */

import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { AccessControl, hostNotAllowed } from './security/access.ts';
import { ConnectCache } from './fanout/connect-cache.ts';
import { isHostNameEntry, isLoopback } from './security/edge.ts';
import { DEFAULT_EVENT_LOG_CAPACITY, EventLog } from './fanout/ring.ts';
import { handleApiRequest, isApiPath, type ApiContext } from './transport/http/api.ts';
import { sendProblem, writeRawResponse } from './transport/http/io.ts';
import { DEFAULT_HIGH_WATER_MARK } from './transport/ws/client-socket.ts';
import { Hub, type FanOut, type HubOptions } from './fanout/hub.ts';
import { IdempotencyCache } from './store/idempotency.ts';
import { createLogger, type Logger } from './support/logger.ts';
import { createOrderIdGenerator } from './store/order-id.ts';
import { createPageHandler, type PageHandler } from './transport/http/page.ts';
import { CLOSE_CODES, MAX_PAYLOAD_BYTES, ProtocolError, ok, toWireError, type Result, type Role } from './protocol.ts';
import { parseRequestTarget } from './transport/http/request-target.ts';
import { MemoryOrderStore, type OrderStore } from './store.ts';
import { TrackingTokens } from './security/tracking.ts';
import { WsEndpoint } from './transport/ws/endpoint.ts';

/** Options for {@link createServer}. Every field has a default. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. @default 8000 */
  readonly port?: number;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Largest HTTP body or WebSocket frame accepted, in bytes. @default 65536 */
  readonly maxPayload?: number;
  /** Bytes queued to one socket, replies included, before it is dropped as too slow. @default 4 MiB */
  readonly highWaterMark?: number;
  /**
   * Messages one WebSocket client may send per second, on average (bursts of
   * four seconds' worth); a client past it is closed with 1008. @default 50
   */
  readonly messagesPerSecond?: number;
  /** Open WebSocket connections allowed; more are refused with 503. @default 20000 */
  readonly maxConnections?: number;
  /** WebSocket ping interval, in milliseconds; a peer silent for a whole interval is dropped. @default 30000 */
  readonly heartbeatIntervalMs?: number;
  /** Events kept for clients that reconnect with `?since=`. @default 10000 */
  readonly eventLogCapacity?: number;
  /** How long {@link LiveOrdersServer.close} waits for requests in flight and close handshakes, in milliseconds. @default 5000 */
  readonly shutdownTimeoutMs?: number;
  /** @default JSON lines to stderr at level info */
  readonly logger?: Logger;
  /** @default a new {@link MemoryOrderStore} */
  readonly store?: OrderStore;
  /** Serve the browser page at `/`. @default true */
  readonly servePage?: boolean;
  /** Compress WebSocket frames (permessage-deflate). Costs CPU per socket; worth it only on slow links. @default false */
  readonly perMessageDeflate?: boolean;
  /** Build the fan-out (the benchmarks' baselines use this). @default a {@link Hub} */
  readonly createFanOut?: (options: HubOptions) => FanOut;
  /** Role tokens as `[role, token]`. None: open mode, which may only bind to loopback. @default [] */
  readonly tokens?: readonly (readonly [Role, string])[];
  /** Allow open mode (no tokens) on a non-loopback address. Anyone who can reach the port can do anything. @default false */
  readonly allowOpenNetwork?: boolean;
  /** Extra origins whose pages may open WebSockets (loopback ones always may). @default [] */
  readonly allowedOrigins?: readonly string[];
  /**
   * Host names the service answers to besides loopback ones, lowercase, no
   * port. In open mode any other `Host` gets 421 (against DNS rebinding);
   * pages served from these names may open WebSockets. @default []
   */
  readonly allowedHosts?: readonly string[];
  /** Origins allowed by CORS on the REST API; `*` for any. @default [] (CORS off) */
  readonly corsOrigins?: readonly string[];
  /** Writes per client per minute when tokens are on. @default 600 */
  readonly writeRatePerMinute?: number;
  /** WebSocket connections per address when tokens are on. @default 100 */
  readonly connectionsPerAddress?: number;
  /** Apply the two limits above to loopback clients too. @default false */
  readonly limitLoopback?: boolean;
}

/** A running (or ready to run) service. */
export interface LiveOrdersServer {
  readonly http: Server;
  readonly store: OrderStore;
  readonly hub: FanOut;
  /** The open WebSocket connections. */
  readonly webSockets: ReadonlySet<WebSocket>;
  /** Identifies this run in snapshots. */
  readonly serverId: string;
  /** Start listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /**
   * Swap the role tokens without a restart (which would lose the in-memory
   * orders). Requests are checked against the new tokens at once; sockets
   * whose token is gone, or now grants another role, are closed with 1008.
   * Turning tokens on or off this way is refused.
   * @param tokens the new role tokens, validated by `parseTokenList`
   * @returns how many sockets were closed, or why the tokens were refused
   */
  replaceTokens(tokens: readonly (readonly [Role, string])[]): Result<{ readonly closedSockets: number }, string>;
  /**
   * Shut down without losing an acknowledged write: stop accepting, let
   * requests in flight finish, deliver their events, then close every socket
   * with 1001. Bounded by `shutdownTimeoutMs`.
   */
  close(): Promise<void>;
}

/** Defaults for {@link ServerOptions}. */
export const DEFAULT_OPTIONS: Readonly<Required<Omit<ServerOptions, 'logger' | 'store' | 'createFanOut'>>> = {
  tokens: [],
  allowOpenNetwork: false,
  allowedOrigins: [],
  allowedHosts: [],
  corsOrigins: [],
  writeRatePerMinute: 600,
  connectionsPerAddress: 100,
  limitLoopback: false,
  port: 8000,
  host: '127.0.0.1',
  maxPayload: MAX_PAYLOAD_BYTES,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  messagesPerSecond: 50,
  maxConnections: 20_000,
  heartbeatIntervalMs: 30_000,
  eventLogCapacity: DEFAULT_EVENT_LOG_CAPACITY,
  shutdownTimeoutMs: 5000,
  servePage: true,
  perMessageDeflate: false,
};

/** HTTP server timeouts, in milliseconds: one slow peer must not hold a socket forever. */
const HTTP_TIMEOUTS = { headers: 10_000, request: 30_000, keepAlive: 5_000 } as const;

/** How long a peer sent a close frame (slow, shutting down) has before its socket is destroyed, in milliseconds. */
const CLOSE_GRACE_MS = 2000;

/**
 * Build the service. Validates options once; nothing listens until `listen()`.
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const tracking = new TrackingTokens();
  // Ids are made in runs whose tracking tokens are enciphered in one call (order-id.ts).
  const store = options.store ?? new MemoryOrderStore({ newId: createOrderIdGenerator({ onRun: (ids) => tracking.prepare(ids) }) });
  const serverId = randomUUID();
  const startedAt = Date.now();
  const hubOptions: HubOptions = {
    onSendError: (_s, error) => logger.error('websocket send failed', { error }),
  };
  const hub = options.createFanOut?.(hubOptions) ?? new Hub(hubOptions);
  const access = new AccessControl({
    tokens: opts.tokens,
    writeRatePerMinute: opts.writeRatePerMinute,
    connectionsPerAddress: opts.connectionsPerAddress,
    limitLoopback: opts.limitLoopback,
    orderExists: (orderId) => store.get(orderId) !== undefined,
    tracking,
    allowedHosts: opts.allowedHosts,
  });
  if (!access.enabled && opts.allowOpenNetwork && !isLoopback(opts.host)) {
    logger.warn('open mode on a network address: anyone who can reach this port can read, change and delete every order', { host: opts.host });
  }
  const eventLog = new EventLog(opts.eventLogCapacity);
  store.onEvent((event) => {
    eventLog.append(event);
    hub.publish(event);
  });

  const ws = new WsEndpoint({
    maxPayload: opts.maxPayload,
    maxConnections: opts.maxConnections,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    closeGraceMs: CLOSE_GRACE_MS,
    highWaterMark: opts.highWaterMark,
    messagesPerSecond: opts.messagesPerSecond,
    perMessageDeflate: opts.perMessageDeflate,
    sessions: { store, hub, eventLog, connectCache: new ConnectCache(), serverId, logger, access },
    access,
    allowedOrigins: opts.allowedOrigins,
    allowedHosts: opts.allowedHosts,
    logger,
  });
  const api: ApiContext = {
    store,
    idempotency: new IdempotencyCache(),
    maxBodyBytes: opts.maxPayload,
    access,
    corsOrigins: opts.corsOrigins,
    stats: () => ({
      orders: { total: store.size, byStatus: store.counts() },
      ...hub.stats(),
      ...ws.stats(),
      seq: store.seq,
      serverId,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  };
  const page: PageHandler | undefined = opts.servePage ? createPageHandler({ logger }) : undefined;

  const inFlight = new InFlightRequests();
  const handlerFailed = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    logger.error('request handler failed', { error, method: req.method, url: req.url });
    sendProblem(res, toWireError(error));
  };
  const http = createHttpServer((req, res) => {
    inFlight.track(res);
    try {
      handleRequest(api, page, req, res)?.catch((error: unknown) => handlerFailed(req, res, error));
    } catch (error) {
      handlerFailed(req, res, error);
    }
  });
  http.headersTimeout = HTTP_TIMEOUTS.headers;
  http.requestTimeout = HTTP_TIMEOUTS.request;
  http.keepAliveTimeout = HTTP_TIMEOUTS.keepAlive;
  http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    logger.debug('bad HTTP from client', { error: error.message, code: error.code });
    if (error.code === 'HPE_HEADER_OVERFLOW') return writeRawResponse(socket, 431, 'Request Header Fields Too Large');
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return writeRawResponse(socket, 408, 'Request Timeout');
    writeRawResponse(socket, 400, 'Bad Request');
  });
  http.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const url = parseRequestTarget(req.url);
    if (url === undefined) return writeRawResponse(socket, 400, 'Bad Request');
    ws.handleUpgrade(req, socket, head, url);
  });

  return {
    http,
    store,
    hub,
    webSockets: ws.sockets,
    serverId,
    replaceTokens: (tokens) => {
      const replaced = access.replaceTokens(tokens);
      if (!replaced.ok) return replaced;
      const closedSockets = ws.closeRevoked();
      logger.info('role tokens replaced', { tokens: tokens.length, closedSockets });
      return ok({ closedSockets });
    },
    listen: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(opts.port, opts.host, () => {
          http.off('error', reject);
          logger.info('listening', { address: http.address() });
          resolve(http.address() as AddressInfo);
        });
      }),
    close: async () => {
      const deadline = Date.now() + opts.shutdownTimeoutMs;
      const listenerClosed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      // Keep-alive connections close as soon as they are idle; requests in flight may finish.
      const sweeper = setInterval(() => http.closeIdleConnections(), 25);
      http.closeIdleConnections();
      await inFlight.drained(opts.shutdownTimeoutMs);
      clearInterval(sweeper);
      http.closeAllConnections();
      // Every write that was answered has emitted its event: deliver them before saying goodbye.
      hub.flush();
      await ws.closeAll(CLOSE_CODES.goingAway, 'server shutting down', Math.max(CLOSE_GRACE_MS, deadline - Date.now()));
      await listenerClosed;
    },
  };
}

/**
 * Route a request to the API or the page. Not `async`, nor is
 * handleApiRequest: an async layer wraps the handler's promise in one more,
 * resolved through two extra microtasks (a create took five promises and six
 * microtasks, now three and two). Each level hands back the handler's own
 * promise, or nothing when the handler has finished.
 */
function handleRequest(api: ApiContext, page: PageHandler | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> | void {
  if (!api.access.admitsHost(req.headers.host)) {
    req.resume();
    return sendProblem(res, hostNotAllowed(req.headers.host));
  }
  const url = parseRequestTarget(req.url);
  if (url === undefined) {
    req.resume();
    return sendProblem(res, new ProtocolError('LO_ERR_NOT_FOUND', 'The request target is not a path this server knows'));
  }
  if (isApiPath(url.pathname) || page === undefined) return handleApiRequest(api, req, res, url);
  return page(req, res, url);
}

/** Counts requests whose responses have not finished, so shutdown can wait for them. */
class InFlightRequests {
  #count = 0;
  #waiters: (() => void)[] = [];

  track(res: ServerResponse): void {
    this.#count++;
    // One listener shared by every response ('close' fires once): no closure or once-wrapper per request.
    res.on('close', this.#finished);
  }

  readonly #finished = (): void => {
    this.#count--;
    if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
  };

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** `{ port: undefined }` means "use the default", not "no port". */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOptions(opts: typeof DEFAULT_OPTIONS): void {
  const integer = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  };
  integer('port', opts.port, 0, 65535);
  integer('maxPayload', opts.maxPayload, 1024);
  integer('highWaterMark', opts.highWaterMark, 1);
  integer('maxConnections', opts.maxConnections, 1);
  integer('heartbeatIntervalMs', opts.heartbeatIntervalMs, 10);
  integer('eventLogCapacity', opts.eventLogCapacity, 1);
  integer('shutdownTimeoutMs', opts.shutdownTimeoutMs, 0);
  integer('writeRatePerMinute', opts.writeRatePerMinute, 1);
  integer('connectionsPerAddress', opts.connectionsPerAddress, 1);
  integer('messagesPerSecond', opts.messagesPerSecond, 1);
  const badHost = opts.allowedHosts.find((h) => !isHostNameEntry(h));
  if (badHost !== undefined) throw new RangeError(`allowedHosts: "${badHost}" is not a lowercase host name without a port`);
  // Safe by default: without tokens, only this machine may talk to the service.
  if (opts.tokens.length === 0 && !opts.allowOpenNetwork && !isLoopback(opts.host)) {
    throw new RangeError(
      `refusing to listen on ${opts.host} without tokens: set LIVEORDERS_TOKENS (e.g. "admin:<24+ random characters>") ` +
        'or LIVEORDERS_TOKENS_FILE, or set LIVEORDERS_OPEN=1 to let anyone who can reach the port do anything',
    );
  }
}
