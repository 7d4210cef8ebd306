/**
 * @module server
 * The composition root: builds the local projection, the one write path,
 * the fan-out and the transports around an opened storage, and wires the
 * storage's event tail to everything this instance holds. Data flows one
 * way: transport -> commands -> backend commit -> event tail -> projection,
 * ring, hub -> sockets. Also owns the shutdown order that loses no
 * acknowledged write.
 */

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { ConnectCache } from './fanout/connect-cache.ts';
import { Hub, type FanOut, type HubOptions } from './fanout/hub.ts';
import { DEFAULT_OPTIONS, validateOptions, withoutUndefined, type ServerOptions } from './options.ts';
import { isProductEvent, type LogEvent } from './domain/events.ts';
import { CLOSE_CODES, ProtocolError, ok, toWireError, type Result, type Role } from './protocol.ts';
import { AccessControl, hostNotAllowed } from './security/access.ts';
import { isLoopback } from './security/edge.ts';
import { TrackingTokens } from './security/tracking.ts';
import { CATCH_UP_WAIT_MS, catchUpWithHead } from './store/catch-up.ts';
import { startCore } from './store/core.ts';
import { StorageUnavailableError } from './store/errors.ts';
import { EventRing } from './store/event-ring.ts';
import { memoryStorage } from './store/memory-log.ts';
import { createOrderIdGenerator } from './store/order-id.ts';
import type { Commands, OrderReader, Storage, StorageStats } from './store/ports.ts';
import { createLogger, type Logger } from './support/logger.ts';
import type { ApiContext } from './transport/http/context.ts';
import { InFlightRequests } from './transport/http/in-flight.ts';
import { sendProblem, writeRawResponse } from './transport/http/io.ts';
import { createPageHandler, type PageHandler } from './transport/http/page.ts';
import { RequestLog } from './transport/http/request-log.ts';
import { parseRequestTarget } from './transport/http/request-target.ts';
import { handleApiRequest, isApiPath } from './transport/http/router.ts';
import { WsEndpoint } from './transport/ws/endpoint.ts';
import type { ResumeCounts } from './transport/ws/sync.ts';

export { DEFAULT_OPTIONS, type ServerOptions } from './options.ts';

/** A running (or ready to run) service. */
export interface LiveOrdersServer {
  readonly http: Server;
  /** The local projection: every order this instance knows, as of its position. */
  readonly orders: OrderReader;
  /** The one write path (what HTTP and WebSocket commands go through). */
  readonly commands: Commands;
  readonly hub: FanOut;
  readonly storage: Storage;
  /** The open WebSocket connections. */
  readonly webSockets: ReadonlySet<WebSocket>;
  /** The epoch of the history this instance serves. */
  readonly epoch: string;
  /** Start listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /**
   * Swap the role tokens without a restart. Requests are checked against
   * the new tokens at once; sockets whose token is gone, or now grants
   * another role, are closed with 1008. Turning tokens on or off this way
   * is refused.
   * @param tokens the new role tokens, validated by `parseTokenList`
   * @returns how many sockets were closed, or why the tokens were refused
   */
  replaceTokens(tokens: readonly (readonly [Role, string])[]): Result<{ readonly closedSockets: number }, string>;
  /**
   * Shut down without losing an acknowledged write: stop accepting, let
   * requests in flight finish, deliver their events, close every socket with
   * 1001, then close the storage. Every socket is closed by `shutdownTimeoutMs`:
   * requests not finished by then (a body sent halfway) have their sockets
   * destroyed, and close handshakes not answered by then are cut.
   */
  close(): Promise<void>;
}

/** HTTP server timeouts, in milliseconds: one slow peer must not hold a socket forever. */
const HTTP_TIMEOUTS = { headers: 10_000, request: 30_000, keepAlive: 5_000 } as const;

/** How long a peer sent a close frame (slow, shutting down) has before its socket is destroyed, in milliseconds. */
const CLOSE_GRACE_MS = 2000;

/**
 * At shutdown, the part of `shutdownTimeoutMs` kept for the WebSocket close
 * handshakes (at most {@link CLOSE_GRACE_MS}): requests in flight get the
 * rest, so a request that never finishes (a body sent halfway) cannot push
 * the close handshakes past the deadline.
 */
const SHUTDOWN_CLOSE_SHARE = 1 / 4;

/**
 * Build the service around an opened storage. Validates options once;
 * nothing listens until `listen()`.
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const storage = options.storage ?? memoryStorage({ historyCapacity: opts.eventLogCapacity, onSinkError: (error) => logger.error('an event consumer failed', { error }) });
  const { log, initial } = storage;
  const startedAt = Date.now();

  const ring = new EventRing(opts.eventLogCapacity, initial.position.seq);
  const hubOptions: HubOptions = { onSendError: (_s, error) => logger.error('websocket send failed', { error }) };
  const hub = options.createFanOut?.(hubOptions) ?? new Hub(hubOptions);
  const tracking = new TrackingTokens(storage.trackingKey);
  // Everything this instance holds is fed from the tail, its own writes included: the projection, then the ring and the hub.
  const { projection, commands, catalog, stop: stopTail } = startCore(storage, {
    // Ids are made in runs whose tracking tokens are enciphered in one call (order-id.ts).
    newId: options.newId ?? createOrderIdGenerator({ onRun: (ids) => tracking.prepare(ids) }),
    onEvents: (events) => feed(ring, hub, events, logger),
    onReload: (state) => {
      // What was queued of the old history goes out first; then each socket gets a reset snapshot of the new one.
      hub.flush();
      ring.reset(state.position.seq);
      connectCache.clear();
      const sockets = ws.resetViews();
      logger.info('the history was replaced: sockets sent a reset snapshot', { epoch: state.position.epoch, seq: state.position.seq, sockets });
    },
  });
  const access = new AccessControl({
    tokens: opts.tokens,
    writeRatePerMinute: opts.writeRatePerMinute,
    connectionsPerAddress: opts.connectionsPerAddress,
    limitLoopback: opts.limitLoopback,
    orderExists: (orderId) => projection.get(orderId) !== undefined,
    tracking,
    allowedHosts: opts.allowedHosts,
  });
  if (!access.enabled && opts.allowOpenNetwork && !isLoopback(opts.host)) {
    logger.warn('open mode on a network address: anyone who can reach this port can read, change and delete every order', { host: opts.host });
  }

  const resumes: ResumeCounts = { fromRing: 0, fromHistory: 0, reset: 0 };
  const connectCache = new ConnectCache();
  const ws = new WsEndpoint({
    maxPayload: opts.maxPayload,
    maxConnections: opts.maxConnections,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    closeGraceMs: CLOSE_GRACE_MS,
    highWaterMark: opts.highWaterMark,
    messagesPerSecond: opts.messagesPerSecond,
    perMessageDeflate: opts.perMessageDeflate,
    sessions: {
      orders: projection, ring, source: log, hub, connectCache, resumes, commands, logger, access, onCommandFailure: storageFailure,
      // Another instance may be a little ahead of this one: a client coming from it waits for this tail, not for a reset.
      ...(storage.shared ? { catchUp: (seq: number) => projection.reachedWithin(seq, CATCH_UP_WAIT_MS) } : {}),
    },
    access,
    allowedOrigins: opts.allowedOrigins,
    allowedHosts: opts.allowedHosts,
    logger,
  });
  const api: ApiContext = {
    orders: projection,
    commands,
    catalog,
    maxBodyBytes: opts.maxPayload,
    access,
    corsOrigins: opts.corsOrigins,
    stats: ({ location }) => ({
      orders: { total: projection.size, byStatus: projection.counts() },
      ...hub.stats(),
      ...ws.stats(),
      resumes: { ...resumes },
      seq: projection.seq,
      epoch: log.epoch,
      storage: location ? log.stats() : withoutLocation(log.stats()),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
    ...(storage.shared ? { catchUp: () => catchUpWithHead(log, projection) } : {}),
    staleReads: () => log.health().staleReads === true,
    health: () => {
      // What the storage says of itself, but not where its files or its Redis are: /healthz needs no credential.
      return { ...log.health(), seq: projection.seq, storage: withoutLocation(log.stats()) };
    },
    onCommandFailure: storageFailure,
  };
  const page: PageHandler | undefined = opts.servePage ? createPageHandler({ logger, shopName: opts.shopName }) : undefined;

  const inFlight = new InFlightRequests();
  const requestLog = new RequestLog(logger);
  const handlerFailed = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    logger.error('request handler failed', { error, method: req.method, url: req.url });
    sendProblem(res, toWireError(error));
  };
  const http = createHttpServer((req, res) => {
    inFlight.track(res);
    requestLog.track(req, res);
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
    orders: projection,
    commands,
    hub,
    storage,
    webSockets: ws.sockets,
    get epoch() {
      return log.epoch;
    },
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
          logger.info('listening', { address: http.address(), storage: storage.mode, seq: projection.seq });
          resolve(http.address() as AddressInfo);
        });
      }),
    close: async () => {
      const deadline = Date.now() + opts.shutdownTimeoutMs;
      const requestsDeadline = deadline - Math.min(CLOSE_GRACE_MS, opts.shutdownTimeoutMs * SHUTDOWN_CLOSE_SHARE);
      const listenerClosed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
      // Keep-alive connections close as soon as they are idle; requests in flight may finish.
      const sweeper = setInterval(() => http.closeIdleConnections(), 25);
      http.closeIdleConnections();
      await inFlight.drained(Math.max(0, requestsDeadline - Date.now()));
      clearInterval(sweeper);
      // Requests still unfinished (a client that stopped sending its body) lose their sockets now.
      http.closeAllConnections();
      // Every write that was answered is in the projection, so its event was published: deliver them before saying goodbye.
      hub.flush();
      await ws.closeAll(CLOSE_CODES.goingAway, 'server shutting down', Math.max(0, deadline - Date.now()));
      await listenerClosed;
      stopTail();
      await log.close();
    },
  };
}

/**
 * Storage stats without where the storage is: no data folder path, no Redis
 * address or prefix, and of a failure only its code and time (the message of
 * a file system error names the file). For everyone but admins.
 */
function withoutLocation(stats: StorageStats): Record<string, unknown> {
  const { dataDir: _folder, redis: _redis, prefix: _prefix, failure, ...numbers } = stats;
  if (failure === undefined) return numbers;
  if (typeof failure !== 'object' || failure === null) return { ...numbers, failure };
  const { code, since } = failure as { code?: unknown; since?: unknown };
  return { ...numbers, failure: { code, since } };
}

/**
 * What a client is told when storage could not take its write: 503 with
 * `Retry-After` (nothing was committed; reads still work). Anything else is
 * a bug, answered as an internal error.
 */
function storageFailure(error: unknown): ProtocolError {
  if (!(error instanceof StorageUnavailableError)) return toWireError(error);
  const detail = error.outcomeUnknown
    ? 'The storage did not confirm this write: it may have been applied. Retry it with the same Idempotency-Key (or If-Match), or read the order to see'
    : 'The storage cannot take writes right now; nothing was changed. Try again later';
  return new ProtocolError('LO_ERR_UNAVAILABLE', detail, { retryAfterSeconds: error.retryAfterSeconds });
}

/**
 * One batch from the tail, after the projection: the replay ring and the
 * hub. A consumer that throws is logged; it does not stop the other, nor
 * undo a commit that was made (its writer still gets its answer).
 */
function feed(ring: EventRing, hub: FanOut, events: readonly LogEvent[], logger: Logger): void {
  try {
    for (const event of events) ring.append(event);
  } catch (error) {
    logger.error('the replay ring failed to take events', { error });
  }
  try {
    for (const event of events) if (!isProductEvent(event)) hub.publish(event);
  } catch (error) {
    logger.error('the fan-out failed to take events', { error });
  }
}

/**
 * Route a request to the API or the page. Not `async`, nor is
 * handleApiRequest: an async layer wraps the handler's promise in one more,
 * resolved through two extra microtasks. Each level hands back the
 * handler's own promise, or nothing when the handler has finished.
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
