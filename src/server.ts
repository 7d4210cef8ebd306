/**
 * @module server
 * The thin adapter from HTTP and WebSocket to the store: builds the
 * `node:http` server, routes requests to the API or the page, upgrades
 * `/ws` (and `/`, for the original demo's clients) to WebSockets, and wires
 * store events to the hub.
 */

import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleApiRequest, isApiPath, type ApiContext } from './http-api.ts';
import { sendProblem } from './http-io.ts';
import { DEFAULT_EVENT_LOG_CAPACITY, EventLog } from './event-log.ts';
import { Hub, DEFAULT_HIGH_WATER_MARK } from './hub.ts';
import { IdempotencyCache } from './idempotency.ts';
import { createLogger, type Logger } from './logger.ts';
import { createPageHandler, type PageHandler } from './page.ts';
import { CLOSE_CODES, MAX_PAYLOAD_BYTES, parseResumePoint, parseViewRequest, toWireError } from './protocol.ts';
import { MemoryOrderStore, type OrderStore } from './store.ts';
import { handleClientMessage, openSession, type SessionContext, type SessionSocket } from './ws-session.ts';

/** Options for {@link createServer}. Every field has a default. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. @default 8000 */
  readonly port?: number;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Largest HTTP body or WebSocket frame accepted, in bytes. @default 65536 */
  readonly maxPayload?: number;
  /** Bytes queued to one socket before it is dropped as too slow. @default 4 MiB */
  readonly highWaterMark?: number;
  /** Events kept for clients that reconnect with `?since=`. @default 10000 */
  readonly eventLogCapacity?: number;
  /** How long {@link LiveOrdersServer.close} waits for requests in flight, in milliseconds. @default 5000 */
  readonly shutdownTimeoutMs?: number;
  /** @default JSON lines to stderr at level info */
  readonly logger?: Logger;
  /** @default a new {@link MemoryOrderStore} */
  readonly store?: OrderStore;
  /** Serve the browser page at `/`. @default true */
  readonly servePage?: boolean;
}

/** A running (or ready to run) service. */
export interface LiveOrdersServer {
  readonly http: Server;
  readonly store: OrderStore;
  readonly hub: Hub;
  /** Identifies this run in snapshots. */
  readonly serverId: string;
  /** Start listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** Stop accepting, close sockets with 1001, let requests in flight finish (up to the timeout). */
  close(): Promise<void>;
}

/** Defaults for {@link ServerOptions}. */
export const DEFAULT_OPTIONS: Readonly<Required<Omit<ServerOptions, 'logger' | 'store'>>> = {
  port: 8000,
  host: '127.0.0.1',
  maxPayload: MAX_PAYLOAD_BYTES,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  eventLogCapacity: DEFAULT_EVENT_LOG_CAPACITY,
  shutdownTimeoutMs: 5000,
  servePage: true,
};

/** Paths that accept a WebSocket upgrade: `/ws`, and `/` for the original demo's clients. */
const WS_PATHS: ReadonlySet<string> = new Set(['/ws', '/']);

/** HTTP server timeouts, in milliseconds: one slow peer must not hold a socket forever. */
const HTTP_TIMEOUTS = { headers: 10_000, request: 30_000, keepAlive: 5_000 } as const;

/**
 * Build the service. Validates options once; nothing listens until `listen()`.
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const store = options.store ?? new MemoryOrderStore();
  const serverId = randomUUID();
  const startedAt = Date.now();
  const hub = new Hub({
    highWaterMark: opts.highWaterMark,
    onSlowSubscriber: (_s, buffered) => logger.warn('dropping slow websocket client', { buffered }),
    onSendError: (_s, error) => logger.error('websocket send failed', { error }),
  });
  const eventLog = new EventLog(opts.eventLogCapacity);
  store.onEvent((event) => {
    eventLog.append(event);
    hub.publish(event);
  });

  const sessions: SessionContext = { store, hub, eventLog, serverId, logger };
  const api: ApiContext = {
    store,
    idempotency: new IdempotencyCache(),
    maxBodyBytes: opts.maxPayload,
    stats: () => ({
      orders: { total: store.size, byStatus: store.counts() },
      connections: sockets.size,
      ...hub.stats(),
      seq: store.seq,
      serverId,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  };
  const page: PageHandler | undefined = opts.servePage ? createPageHandler({ logger }) : undefined;

  const http = createHttpServer((req, res) => {
    handleRequest(api, page, req, res).catch((error: unknown) => {
      logger.error('request handler failed', { error, method: req.method, url: req.url });
      sendProblem(res, toWireError(error));
    });
  });
  http.headersTimeout = HTTP_TIMEOUTS.headers;
  http.requestTimeout = HTTP_TIMEOUTS.request;
  http.keepAliveTimeout = HTTP_TIMEOUTS.keepAlive;
  http.on('clientError', (error, socket) => {
    logger.debug('bad HTTP from client', { error: (error as Error).message });
    rejectUpgrade(socket, 400, 'Bad Request');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false, clientTracking: false });
  const sockets = new Set<WebSocket>();
  let nextConnectionId = 1;

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', onUpgradeSocketError);
    const url = parseRequestUrl(req);
    if (url === undefined || !WS_PATHS.has(url.pathname)) return rejectUpgrade(socket, 404, 'Not Found');
    const initial = parseViewRequest(viewQuery(url.searchParams));
    if (!initial.ok) return rejectUpgrade(socket, 400, 'Bad Request', initial.error.message);
    const resume = parseResumePoint(url.searchParams.get('since'), url.searchParams.get('server'));
    if (!resume.ok) return rejectUpgrade(socket, 400, 'Bad Request', resume.error.message);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onUpgradeSocketError);
      const log = logger.child({ conn: nextConnectionId++ });
      sockets.add(ws);
      const subscriber = adaptSocket(ws);
      ws.on('error', (error) => {
        log.warn('websocket error', { error: error.message });
        ws.terminate();
      });
      ws.on('close', () => {
        sockets.delete(ws);
        hub.unsubscribe(subscriber);
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          ws.close(CLOSE_CODES.unsupportedData, 'binary frames are not supported; send JSON text');
          return;
        }
        handleClientMessage(sessions, subscriber, data.toString());
      });
      openSession(sessions, subscriber, { ...initial.value, ...(resume.value === undefined ? {} : { resume: resume.value }) });
    });
  });

  return {
    http,
    store,
    hub,
    serverId,
    listen: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(opts.port, opts.host, () => {
          http.off('error', reject);
          logger.info('listening', { address: http.address() });
          resolve(http.address() as AddressInfo);
        });
      }),
    close: () => closeGracefully(http, sockets, opts.shutdownTimeoutMs),
  };
}

async function handleRequest(api: ApiContext, page: PageHandler | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = parseRequestUrl(req);
  if (url === undefined) {
    req.resume();
    return sendProblem(res, toWireError(new Error('unparseable URL')));
  }
  if (isApiPath(url.pathname) || page === undefined) return handleApiRequest(api, req, res, url);
  return page(req, res, url);
}

/** The hub writes Buffers; `ws` would send those as binary frames unless told otherwise. */
function adaptSocket(ws: WebSocket): SessionSocket {
  return {
    send: (frame) => ws.send(frame, { binary: false }),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    close: (code, reason) => ws.close(code, reason),
  };
}

/** `?status=a,b&order=ID&limit=N` on the WebSocket URL chooses the initial view. */
function viewQuery(params: URLSearchParams): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  const status = params.get('status');
  if (status !== null) query.statuses = status.split(',').filter((s) => s !== '');
  const order = params.get('order');
  if (order !== null) query.orderId = order;
  const limit = params.get('limit');
  if (limit !== null) query.limit = /^\d{1,5}$/.test(limit) ? Number(limit) : limit;
  return query;
}

function parseRequestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    // Request targets like "//" or raw spaces do not parse; the caller answers 400/404.
    return undefined;
  }
}

/** Answer a refused upgrade (or a broken request) with a plain HTTP status and close the socket. */
function rejectUpgrade(socket: Duplex, status: number, title: string, detail = title): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${detail}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

function onUpgradeSocketError(this: Duplex): void {
  // The peer went away mid-handshake; nothing to answer.
  this.destroy();
}

async function closeGracefully(http: Server, sockets: Set<WebSocket>, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  for (const ws of sockets) ws.close(CLOSE_CODES.goingAway, 'server shutting down');
  http.closeIdleConnections();
  const timer = setTimeout(() => {
    http.closeAllConnections();
    for (const ws of sockets) ws.terminate();
  }, timeoutMs);
  await closed;
  clearTimeout(timer);
}

/** `{ port: undefined }` means "use the default", not "no port". */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOptions(opts: typeof DEFAULT_OPTIONS): void {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${opts.port}`);
  }
  if (!Number.isInteger(opts.maxPayload) || opts.maxPayload < 1024) {
    throw new RangeError(`maxPayload must be an integer >= 1024 bytes, got ${opts.maxPayload}`);
  }
  if (!(opts.highWaterMark > 0)) throw new RangeError(`highWaterMark must be > 0 bytes, got ${opts.highWaterMark}`);
}

