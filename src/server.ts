/**
 * @module server
 * The composition root: the HTTP and WebSocket transports around one live
 * node (src/node/live-node.ts), which owns the core, the history and the
 * consumers of the tail. Also owns the shutdown order that loses no
 * acknowledged write.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { ConnectCache } from './fanout/connect-cache.ts';
import { Hub, type FanOut } from './fanout/hub.ts';
import { LiveNode } from './node/live-node.ts';
import { DEFAULT_OPTIONS, validateOptions, withoutUndefined, type ServerOptions } from './options.ts';
import { CLOSE_CODES, ok, type Result, type Role } from './protocol.ts';
import { AccessControl } from './security/access.ts';
import { isLoopback } from './security/edge.ts';
import { TrackingTokens } from './security/tracking.ts';
import { memoryStorage } from './store/memory-log.ts';
import type { Commands, OrderReader, Storage } from './store/ports.ts';
import { createLogger } from './support/logger.ts';
import { apiContext } from './transport/http/api-context.ts';
import { createHttpListener, listenOn, type HttpListener } from './transport/http/listener.ts';
import { createPageHandler } from './transport/http/page.ts';
import { WsEndpoint } from './transport/ws/endpoint.ts';
import type { ResumeCounts } from './transport/ws/views.ts';

export { DEFAULT_OPTIONS, type ServerOptions } from './options.ts';

/** A running (or ready to run) service. */
export interface LiveOrdersServer {
  readonly http: Server;
  /** The live node: core, history, hub and the consumers of the tail (register paced ones here). */
  readonly node: LiveNode;
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
  /** Swap the role tokens without a restart (sockets whose token is gone or changed role get 1008; on/off is refused); how many sockets were closed. */
  replaceTokens(tokens: readonly (readonly [Role, string])[]): Result<{ readonly closedSockets: number }, string>;
  /** Shut down without losing an acknowledged write (see {@link shutdown}), within `shutdownTimeoutMs`. */
  close(): Promise<void>;
}

/** How long a peer sent a close frame (slow, shutting down) has before its socket is destroyed, in milliseconds. */
const CLOSE_GRACE_MS = 2000;

/**
 * Build the service around an opened storage (options validated once; nothing listens until `listen()`).
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const storage = options.storage ?? memoryStorage({ historyCapacity: opts.eventLogCapacity, onSinkError: (error) => logger.error('an event consumer failed', { error }) });
  const hubOptions = { onSendError: (_s: unknown, error: unknown) => logger.error('websocket send failed', { error }) };
  const tracking = new TrackingTokens(storage.trackingKey);
  const node = new LiveNode(storage, {
    historyCapacity: opts.eventLogCapacity,
    hub: options.createFanOut?.(hubOptions) ?? new Hub(hubOptions),
    logger,
    onNewIds: (ids) => tracking.prepare(ids),
    ...(options.newId === undefined ? {} : { newId: options.newId }),
  });
  const { projection, hub, commands } = node;
  const access = new AccessControl({ ...opts, orderExists: (orderId) => projection.get(orderId) !== undefined, tracking });
  if (!access.enabled && opts.allowOpenNetwork && !isLoopback(opts.host)) {
    logger.warn('open mode on a network address: anyone who can reach this port can read, change and delete every order', { host: opts.host });
  }
  const resumes: ResumeCounts = { fromRing: 0, fromHistory: 0, reset: 0 };
  const ws = new WsEndpoint({
    ...opts,
    closeGraceMs: CLOSE_GRACE_MS,
    sessions: {
      orders: projection, ring: node.history, source: storage.log, hub, connectCache: new ConnectCache(), resumes, commands, logger, access, onCommandFailure: (error) => node.storageFailure(error),
      // Another instance may be a little ahead of this one: a client coming from it waits for this tail, not for a reset.
      ...(node.shared ? { catchUp: (seq: number) => node.catchUp(seq) } : {}),
    },
    access,
    logger,
  });
  const api = apiContext({ node, access, maxBodyBytes: opts.maxPayload, corsOrigins: opts.corsOrigins, stats: () => ({ ...ws.stats(), resumes: { ...resumes } }) });
  const page = opts.servePage ? createPageHandler({ logger }) : undefined;
  const { http, inFlight } = createHttpListener(api, page, (req, socket, head, url) => ws.handleUpgrade(req, socket, head, url), logger);
  const close = (): Promise<void> => shutdown({ http, inFlight, node, ws }, opts.shutdownTimeoutMs);
  const replaceTokens: LiveOrdersServer['replaceTokens'] = (tokens) => {
    const replaced = access.replaceTokens(tokens);
    if (!replaced.ok) return replaced;
    const closedSockets = ws.closeRevoked();
    logger.info('role tokens replaced', { tokens: tokens.length, closedSockets });
    return ok({ closedSockets });
  };
  const listen = async (): Promise<AddressInfo> => {
    const address = await listenOn(http, opts.port, opts.host);
    logger.info('listening', { address, storage: storage.mode, seq: projection.seq });
    return address;
  };
  return { http, node, orders: projection, commands, hub, storage, webSockets: ws.sockets, epoch: storage.log.epoch, listen, replaceTokens, close };
}

/**
 * Stop accepting, let requests in flight finish, deliver what the hub
 * holds, close every socket with 1001, stop the node (paced consumers save
 * their positions), then close the storage; within `timeoutMs`.
 */
async function shutdown(parts: { readonly http: Server; readonly inFlight: HttpListener['inFlight']; readonly node: LiveNode; readonly ws: WsEndpoint }, timeoutMs: number): Promise<void> {
  const { http, inFlight, node, ws } = parts;
  const deadline = Date.now() + timeoutMs;
  const listenerClosed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
  // Keep-alive connections close as soon as they are idle; requests in flight may finish.
  const sweeper = setInterval(() => http.closeIdleConnections(), 25);
  http.closeIdleConnections();
  await inFlight.drained(timeoutMs);
  clearInterval(sweeper);
  http.closeAllConnections();
  // Every write that was answered is in the projection, so its event was published: deliver them before saying goodbye.
  node.hub.flush();
  await ws.closeAll(CLOSE_CODES.goingAway, 'server shutting down', Math.max(CLOSE_GRACE_MS, deadline - Date.now()));
  await listenerClosed;
  await node.stop();
  await node.storage.log.close();
}
