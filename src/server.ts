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
import { Hub, type FanOut, type HubOptions } from './fanout/hub.ts';
import { LiveNode } from './node/live-node.ts';
import { startNotifiers } from './notify/start.ts';
import type { WebhookService } from './notify/webhooks/service.ts';
import { FanOutLagSampler } from './observe/fanout-lag.ts';
import { Metrics } from './observe/metrics.ts';
import { SentMessages } from './observe/sent-messages.ts';
import { DEFAULT_OPTIONS, validateOptions, withoutUndefined, type ServerOptions } from './options.ts';
import { CLOSE_CODES, ok, type Result, type Role } from './protocol.ts';
import { AccessControl } from './security/access.ts';
import { isLoopback } from './security/edge.ts';
import { TrackingTokens } from './security/tracking.ts';
import { memoryStorage } from './store/memory-log.ts';
import type { Commands, OrderReader, Storage } from './store/ports.ts';
import { createLogger, type Logger } from './support/logger.ts';
import { apiContext } from './transport/http/api-context.ts';
import { createHttpListener, listenOn, type HttpListener } from './transport/http/listener.ts';
import { createPageHandler } from './transport/http/page.ts';
import { CLOSE_GRACE_MS, webSocketTransport } from './transport/ws/compose.ts';
import type { WsEndpoint } from './transport/ws/endpoint.ts';
import { startPresence } from './transport/ws/shared-presence.ts';
import type { ResumeCounts } from './transport/ws/sync.ts';

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
  /** This server's metrics (`GET /metrics`); webhook and email senders count their attempts here. */
  readonly metrics: Metrics;
  /** The open WebSocket connections. */
  readonly webSockets: ReadonlySet<WebSocket>;
  /** The epoch of the history this instance serves. */
  readonly epoch: string;
  /** Start listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** Swap the role tokens without a restart (sockets whose token is gone or changed role get 1008; on/off is refused); how many sockets were closed. */
  replaceTokens(tokens: readonly (readonly [Role, string])[]): Result<{ readonly closedSockets: number }, string>;
  /** Shut down without losing an acknowledged write (see {@link shutdown}); every socket is closed by `shutdownTimeoutMs`. */
  close(): Promise<void>;
}


/**
 * At shutdown, the part of `shutdownTimeoutMs` kept for the WebSocket close
 * handshakes (at most {@link CLOSE_GRACE_MS}): requests in flight get the
 * rest, so a request that never finishes (a body sent halfway) cannot push
 * the close handshakes past the deadline.
 */
const SHUTDOWN_CLOSE_SHARE = 1 / 4;

/**
 * Build the service around an opened storage (options validated once; nothing listens until `listen()`).
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const storage = options.storage ?? memoryStorage({ historyCapacity: opts.eventLogCapacity, onSinkError: (error) => logger.error('an event consumer failed', { error }) });
  const tracking = new TrackingTokens(storage.trackingKey);
  // Read when scraped, from counts the endpoint, the sessions and the projection keep anyway.
  const sentMessages = new SentMessages();
  const resumes: ResumeCounts = { fromRing: 0, fromHistory: 0, reset: 0 };
  const metrics = new Metrics({
    connectionsByRole: () => ws.connectionsByRole(),
    messagesSent: () => sentMessages.counts(),
    resumes: () => resumes,
    slowClientsDropped: () => ws.stats().slowSubscribersDropped,
    ordersByStatus: () => node.projection.counts(),
  });
  const node = startNode(storage, options, { historyCapacity: opts.eventLogCapacity, tracking, metrics, logger });
  const { webhooks, emails } = startNotifiers(node, options, { shopName: opts.shopName, tracking, metrics, logger });
  const access = new AccessControl({
    ...opts,
    orderExists: (orderId) => node.projection.get(orderId) !== undefined,
    tracking,
    ...(options.jwt === undefined ? {} : { jwt: options.jwt, logger }),
  });
  if (!access.enabled && opts.allowOpenNetwork && !isLoopback(opts.host)) {
    logger.warn('open mode on a network address: anyone who can reach this port can read, change and delete every order', { host: opts.host });
  }
  // With Redis, shared among the instances (this one's counts expire if it dies).
  const presence = startPresence(storage.sideKeys, logger);
  const ws = webSocketTransport(node, { ...opts, access, presence: presence.local, resumes, sentMessages, logger });
  const api = { ...apiContext({ node, access, presence, maxBodyBytes: opts.maxPayload, corsOrigins: opts.corsOrigins, stats: () => ({ ...ws.stats(), resumes: { ...resumes } }) }), metrics, emails, ...(webhooks === undefined ? {} : { webhooks }) };
  const page = opts.servePage ? createPageHandler({ logger, shopName: opts.shopName }) : undefined;
  const { http, inFlight } = createHttpListener(api, page, (req, socket, head, url) => ws.handleUpgrade(req, socket, head, url), logger, metrics.http);
  const close = async (): Promise<void> => {
    // Waits before an email retry end now, so the node's stop does not wait for them; those emails go again on the next start.
    // Other instances stop counting this one's sockets now, rather than when its alive key runs out.
    await Promise.all([emails.stop(), presence.stop()]);
    await shutdown({ http, inFlight, node, ws, webhooks }, opts.shutdownTimeoutMs);
    emails.close();
  };
  const listen = async (): Promise<AddressInfo> => {
    // Endpoints are loaded and their consumers started before the first request can ask about them.
    await webhooks?.start();
    const address = await listenOn(http, opts.port, opts.host);
    logger.info('listening', { address, storage: storage.mode, seq: node.projection.seq });
    return address;
  };
  const replaceTokens = (tokens: readonly (readonly [Role, string])[]): ReturnType<LiveOrdersServer['replaceTokens']> => {
    const replaced = access.replaceTokens(tokens);
    if (!replaced.ok) return replaced;
    const closedSockets = ws.closeRevoked();
    logger.info('role tokens replaced', { tokens: tokens.length, closedSockets });
    return ok({ closedSockets });
  };
  return {
    http,
    node,
    orders: node.projection,
    commands: node.commands,
    hub: node.hub,
    storage,
    metrics,
    webSockets: ws.sockets,
    // Moves when a lost history is recovered in place.
    get epoch() {
      return storage.log.epoch;
    },
    listen,
    replaceTokens,
    close,
  };
}

/** What the node is built with, besides the storage. */
interface NodeParts {
  readonly historyCapacity: number;
  readonly tracking: TrackingTokens;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * The live node on the storage, its hub, and the fan-out lag sampler as one
 * more live consumer of its tail.
 */
function startNode(storage: Storage, options: ServerOptions, parts: NodeParts): LiveNode {
  const { metrics, logger, tracking } = parts;
  const fanOutLag = new FanOutLagSampler(metrics);
  const hubOptions: HubOptions = {
    onSendError: (_s, error) => logger.error('websocket send failed', { error }),
    onFlushed: (events) => fanOutLag.flushed(events),
  };
  const node = new LiveNode(storage, {
    historyCapacity: parts.historyCapacity,
    hub: options.createFanOut?.(hubOptions) ?? new Hub(hubOptions),
    logger,
    onNewIds: (ids) => tracking.prepare(ids),
    onAppend: (seconds) => metrics.observeAppend(seconds),
    ...(options.newId === undefined ? {} : { newId: options.newId }),
  });
  // A consumer of the tail like the others: it notes when an event came, the hub's flush closes the sample.
  node.addLive(fanOutLag);
  return node;
}

/**
 * Stop accepting, let requests in flight finish, deliver what the hub
 * holds, close every socket with 1001, stop the node (paced consumers save
 * their positions), then close the storage; within `timeoutMs`.
 */
async function shutdown(parts: { readonly http: Server; readonly inFlight: HttpListener['inFlight']; readonly node: LiveNode; readonly ws: WsEndpoint; readonly webhooks: WebhookService | undefined }, timeoutMs: number): Promise<void> {
  const { http, inFlight, node, ws, webhooks } = parts;
  const deadline = Date.now() + timeoutMs;
  const requestsDeadline = deadline - Math.min(CLOSE_GRACE_MS, timeoutMs * SHUTDOWN_CLOSE_SHARE);
  const listenerClosed = new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve()));
  // Keep-alive connections close as soon as they are idle; requests in flight may finish.
  const sweeper = setInterval(() => http.closeIdleConnections(), 25);
  http.closeIdleConnections();
  await inFlight.drained(Math.max(0, requestsDeadline - Date.now()));
  clearInterval(sweeper);
  // Requests still unfinished (a client that stopped sending its body) lose their sockets now.
  http.closeAllConnections();
  // Every write that was answered is in the projection, so its event was published: deliver them before saying goodbye.
  node.hub.flush();
  await ws.closeAll(CLOSE_CODES.goingAway, 'server shutting down', Math.max(0, deadline - Date.now()));
  await listenerClosed;
  // Attempts in flight are cut (their events go again on start, with the same webhook-id); positions stay saved.
  await webhooks?.close();
  await node.stop();
  await node.storage.log.close();
}
