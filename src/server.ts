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
import { Hub, type FanOut, type HubOptions } from './fanout/hub.ts';
import { LiveNode } from './node/live-node.ts';
import { webhookService } from './notify/webhooks/compose.ts';
import type { WebhookService } from './notify/webhooks/service.ts';
import { FanOutLagSampler } from './observe/fanout-lag.ts';
import { Metrics } from './observe/metrics.ts';
import { SentMessages } from './observe/sent-messages.ts';
import { DEFAULT_OPTIONS, validateOptions, withoutUndefined, type ServerOptions } from './options.ts';
import { CLOSE_CODES, ok, type Result, type Role } from './protocol.ts';
import { AccessControl } from './security/access.ts';
import { isLoopback } from './security/edge.ts';
import { TrackingTokens } from './security/tracking.ts';
import { createEmailService } from './notify/email/service.ts';
import { memoryStorage } from './store/memory-log.ts';
import type { Commands, OrderReader, Storage } from './store/ports.ts';
import { createLogger } from './support/logger.ts';
import { apiContext } from './transport/http/api-context.ts';
import { createHttpListener, listenOn, type HttpListener } from './transport/http/listener.ts';
import { createPageHandler } from './transport/http/page.ts';
import { WsEndpoint } from './transport/ws/endpoint.ts';
import { Presence } from './transport/ws/presence.ts';
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
 * Build the service around an opened storage (options validated once; nothing listens until `listen()`).
 * @param options see {@link ServerOptions}
 */
export function createServer(options: ServerOptions = {}): LiveOrdersServer {
  const opts = { ...DEFAULT_OPTIONS, ...withoutUndefined(options) };
  validateOptions(opts);
  const logger = options.logger ?? createLogger();
  const storage = options.storage ?? memoryStorage({ historyCapacity: opts.eventLogCapacity, onSinkError: (error) => logger.error('an event consumer failed', { error }) });
  // Read when scraped, from counts the endpoint, the sessions and the projection keep anyway.
  const sentMessages = new SentMessages();
  const metrics = new Metrics({
    connectionsByRole: () => ws.connectionsByRole(),
    messagesSent: () => sentMessages.counts(),
    resumes: () => resumes,
    slowClientsDropped: () => ws.stats().slowSubscribersDropped,
    ordersByStatus: () => projection.counts(),
  });
  const fanOutLag = new FanOutLagSampler(metrics);
  const hubOptions: HubOptions = {
    onSendError: (_s, error) => logger.error('websocket send failed', { error }),
    onFlushed: (events) => fanOutLag.flushed(events),
  };
  const tracking = new TrackingTokens(storage.trackingKey);
  const node = new LiveNode(storage, {
    historyCapacity: opts.eventLogCapacity,
    hub: options.createFanOut?.(hubOptions) ?? new Hub(hubOptions),
    logger,
    onNewIds: (ids) => tracking.prepare(ids),
    onAppend: (seconds) => metrics.observeAppend(seconds),
    ...(options.newId === undefined ? {} : { newId: options.newId }),
  });
  // A consumer of the tail like the others: it notes when an event came, the hub's flush closes the sample.
  node.addLive(fanOutLag);
  const { projection, hub, commands } = node;
  // Each endpoint is a durable paced consumer of the node's tail; none in Redis mode yet (see compose.ts).
  const webhooks = webhookService(node, { ...options.webhooks, onAttempt: (attempt) => {
    metrics.countWebhookAttempt(attempt.result === 'delivered' ? 'delivered' : attempt.timedOut ? 'timeout' : attempt.status === null ? 'failed' : 'rejected');
    options.webhooks?.onAttempt?.(attempt);
  } }, logger, storage.dataDir);
  const emails = createEmailService({
    settings: options.email,
    shopName: opts.shopName,
    storage,
    trackingToken: (orderId) => tracking.issue(orderId),
    logger,
    onAttempt: (attempt) => {
      metrics.countEmailAttempt(attempt.outcome);
      options.onEmailAttempt?.(attempt);
    },
  });
  // A durable paced consumer: its position is saved once a batch's emails were sent (or given up), so each is sent at least once.
  emails.start((spec, positions) => node.register(spec, positions));
  const access = new AccessControl({
    ...opts,
    orderExists: (orderId) => projection.get(orderId) !== undefined,
    tracking,
    ...(options.jwt === undefined ? {} : { jwt: options.jwt, logger }),
  });
  if (!access.enabled && opts.allowOpenNetwork && !isLoopback(opts.host)) {
    logger.warn('open mode on a network address: anyone who can reach this port can read, change and delete every order', { host: opts.host });
  }
  const resumes: ResumeCounts = { fromRing: 0, fromHistory: 0, reset: 0 };
  const presence = new Presence();
  const connectCache = new ConnectCache();
  const ws = new WsEndpoint({
    ...opts,
    closeGraceMs: CLOSE_GRACE_MS,
    sessions: {
      orders: projection, ring: node.history, source: storage.log, hub, connectCache, resumes, commands, logger, access, onCommandFailure: (error) => node.storageFailure(error), presence,
      // Another instance may be a little ahead of this one: a client coming from it waits for this tail, not for a reset.
      ...(node.shared ? { catchUp: (seq: number) => node.catchUp(seq) } : {}),
    },
    access,
    logger,
    sent: sentMessages,
  });
  node.onReload((state) => {
    // Everything derived from the old history goes: cached connect snapshots, and each socket's view (a reset snapshot).
    connectCache.clear();
    const sockets = ws.resetViews();
    logger.info('the history was replaced: sockets sent a reset snapshot', { epoch: state.position.epoch, seq: state.position.seq, sockets });
  });
  const api = { ...apiContext({ node, access, presence, maxBodyBytes: opts.maxPayload, corsOrigins: opts.corsOrigins, stats: () => ({ ...ws.stats(), resumes: { ...resumes } }) }), metrics, emails, ...(webhooks === undefined ? {} : { webhooks }) };
  const page = opts.servePage ? createPageHandler({ logger, shopName: opts.shopName }) : undefined;
  const { http, inFlight } = createHttpListener(api, page, (req, socket, head, url) => ws.handleUpgrade(req, socket, head, url), logger, metrics.http);
  const close = async (): Promise<void> => {
    // Waits before an email retry end now, so the node's stop does not wait for them; those emails go again on the next start.
    await emails.stop();
    await shutdown({ http, inFlight, node, ws, webhooks }, opts.shutdownTimeoutMs);
    emails.close();
  };
  const replaceTokens: LiveOrdersServer['replaceTokens'] = (tokens) => {
    const replaced = access.replaceTokens(tokens);
    if (!replaced.ok) return replaced;
    const closedSockets = ws.closeRevoked();
    logger.info('role tokens replaced', { tokens: tokens.length, closedSockets });
    return ok({ closedSockets });
  };
  const listen = async (): Promise<AddressInfo> => {
    // Endpoints are loaded and their consumers started before the first request can ask about them.
    await webhooks?.start();
    const address = await listenOn(http, opts.port, opts.host);
    logger.info('listening', { address, storage: storage.mode, seq: projection.seq });
    return address;
  };
  return {
    http,
    node,
    orders: projection,
    commands,
    hub,
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
