/**
 * @module transport/ws/endpoint
 * The WebSocket side of the server: which upgrades are accepted (path, view,
 * resume point, connection limit), each connection's lifecycle, heartbeats
 * that drop peers which stopped answering, and closing everyone on shutdown.
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { hostNotAllowed, type AccessControl } from '../../security/access.ts';
import type { Principal } from '../../security/auth.ts';
import { ClientSocket } from './client-socket.ts';
import { isAllowedOrigin } from '../../security/edge.ts';
import { writeRawProblem } from '../http/io.ts';
import { RepeatedLog, type Logger } from '../../support/logger.ts';
import type { ConnectionRole } from '../../observe/metrics.ts';
import type { SentMessages } from '../../observe/sent-messages.ts';
import { CLOSE_CODES, ProtocolError, WS_BEARER_PREFIX, WS_SUBPROTOCOL, parseResumePoint, parseViewRequest, type Result } from '../../protocol.ts';
import type { RequestTarget } from '../http/request-target.ts';
import { TokenBucket } from '../../security/rate-limit.ts';
import { handleClientMessage, type Session, type SessionContext } from './session.ts';
import type { PresenceCounts } from '../../protocol.ts';
import { watcherKind } from './presence.ts';
import { openSession, resetView } from './sync.ts';
import { armExpiry, disarmExpiry } from './token-expiry.ts';

/** Settings; `createServer` fills every one. */
export interface WsEndpointOptions {
  /** Largest frame accepted, in bytes; bigger ones close the connection with 1009. */
  readonly maxPayload: number;
  /** Upgrades past this many open connections are refused with 503. */
  readonly maxConnections: number;
  /** How often every connection is pinged, in milliseconds; one that has not answered the previous ping is dropped. */
  readonly heartbeatIntervalMs: number;
  /** After a close frame is sent (slow consumer, shutdown), how long the peer has before the socket is destroyed, in milliseconds. */
  readonly closeGraceMs: number;
  /** Bytes queued to one socket, replies included, before it is dropped as too slow. */
  readonly highWaterMark: number;
  /** Messages one client may send per second, on average; past a burst of {@link MESSAGE_BURST_SECONDS} seconds' worth it is closed with 1008. */
  readonly messagesPerSecond: number;
  /** Compress frames with permessage-deflate. */
  readonly perMessageDeflate: boolean;
  readonly sessions: SessionContext;
  /** Authentication and per-address limits (shared with HTTP). */
  readonly access: AccessControl;
  /** Extra origins whose pages may connect; loopback ones always may. */
  readonly allowedOrigins: readonly string[];
  /** Configured host names: pages served from them may connect too. */
  readonly allowedHosts: readonly string[];
  readonly logger: Logger;
  /** Counts every message sent, by type, for the metrics. @default not counted */
  readonly sent?: SentMessages;
}

/** Paths that accept a WebSocket upgrade: `/ws`, and `/` for the original demo's clients. */
export const WS_PATHS: ReadonlySet<string> = new Set(['/ws', '/']);

/** A client may send this many seconds' worth of messages at once before its rate applies. */
export const MESSAGE_BURST_SECONDS = 4;

/** Counters for `GET /api/stats`. */
export interface WsEndpointStats {
  readonly connections: number;
  /** Open connections by role (customers: tracking pages; open mode counts as admin). */
  readonly connectionsByRole: PresenceCounts;
  /** Sockets closed because they read too slowly (1013). */
  readonly slowSubscribersDropped: number;
  /** Sockets closed because they sent messages too fast (1008). */
  readonly floodingClientsClosed: number;
}

/** The set of live WebSocket connections and the rules for joining it. */
export class WsEndpoint {
  readonly #options: WsEndpointOptions;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  /** Each open socket's session: who it is, for re-checking after a token reload. */
  readonly #sessions = new WeakMap<WebSocket, Session>();
  /** Sockets that answered (or were opened) since the last heartbeat. */
  readonly #alive = new WeakSet<WebSocket>();
  readonly #heartbeat: NodeJS.Timeout;
  /** Open connections per peer address, for the per-address limit. */
  readonly #perAddress = new Map<string, number>();
  /** Warnings any client can trigger at will, written a few times per minute at most. */
  readonly #clientWarnings: RepeatedLog;
  #nextId = 1;
  #accepting = true;
  #slowDropped = 0;
  /** Open connections by who they are, for the metrics. */
  readonly #byRole: Record<ConnectionRole, number> = { admin: 0, operator: 0, viewer: 0, customer: 0, open: 0 };
  #floodsClosed = 0;

  /** @param options see {@link WsEndpointOptions} */
  constructor(options: WsEndpointOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: options.perMessageDeflate,
      clientTracking: false,
      // Select our protocol name, never echo the one that carries a token.
      handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    });
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatIntervalMs);
    this.#heartbeat.unref();
    this.#clientWarnings = new RepeatedLog(options.logger);
  }

  /** Connection counters. */
  stats(): WsEndpointStats {
    const { open, ...byRole } = this.#byRole;
    // Open mode can do all an admin can, so the stats count it as one (the metrics keep it apart).
    const connectionsByRole: PresenceCounts = { ...byRole, admin: byRole.admin + open };
    return { connections: this.#sockets.size, connectionsByRole, slowSubscribersDropped: this.#slowDropped, floodingClientsClosed: this.#floodsClosed };
  }

  /** Open connections by who they are (a copy). */
  connectionsByRole(): Readonly<Record<ConnectionRole, number>> {
    return { ...this.#byRole };
  }

  /** Open connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /** The open connections (read-only, e.g. for fault-injection tests). */
  get sockets(): ReadonlySet<WebSocket> {
    return this.#sockets;
  }

  /**
   * Accept or refuse an HTTP upgrade. Refusals are problem+json answers, as
   * REST errors are: 404 for other paths, 400 for a bad view or resume point
   * (naming each bad parameter), 503 when full or shutting down.
   * @param req the upgrade request
   * @param socket its socket
   * @param head the first bytes after the headers
   * @param url the parsed request URL
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: RequestTarget): void {
    socket.on('error', destroyOnError);
    const refuse = (error: ProtocolError, headers?: Record<string, string>): void => writeRawProblem(socket, error, req.url, headers);
    if (!WS_PATHS.has(url.pathname)) return refuse(new ProtocolError('LO_ERR_NOT_FOUND', 'The WebSocket endpoint is /ws'));
    if (!this.#accepting) return refuse(new ProtocolError('LO_ERR_UNAVAILABLE', 'The server is shutting down; reconnect in a moment'));
    if (!this.#options.access.admitsHost(req.headers.host)) return refuse(hostNotAllowed(req.headers.host));
    // Against cross-site WebSocket hijacking: a page from another site cannot open a socket with our users' browsers.
    if (!isAllowedOrigin(req.headers.origin, this.#options.allowedOrigins, this.#options.allowedHosts)) {
      return refuse(new ProtocolError('LO_ERR_FORBIDDEN', 'This Origin may not open a WebSocket here; list it in ALLOWED_ORIGINS'));
    }
    if (this.#sockets.size >= this.#options.maxConnections) {
      this.#clientWarnings.warn('refusing websocket: connection limit reached', { limit: this.#options.maxConnections });
      return refuse(new ProtocolError('LO_ERR_UNAVAILABLE', 'Too many connections; retry later'));
    }
    const address = req.socket.remoteAddress ?? '';
    if (!this.#options.access.connectionAllowed(address, this.#perAddress.get(address) ?? 0)) {
      return refuse(new ProtocolError('LO_ERR_RATE_LIMITED', 'Too many connections from this address'));
    }
    const principal = this.#options.access.authenticateUpgrade(req, url);
    // An identity provider's token is checked asynchronously (its keys may have to be fetched).
    if (principal instanceof Promise) {
      principal.then(
        (who) => this.#accept(req, socket, head, url, address, who),
        (error: unknown) => {
          this.#options.logger.error('websocket authentication failed', { error });
          refuse(new ProtocolError('LO_ERR_INTERNAL', 'The credential could not be checked; try again'));
        },
      );
      return;
    }
    this.#accept(req, socket, head, url, address, principal);
  }

  /** The rest of an upgrade, once who it is is known. */
  #accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: RequestTarget, address: string, principal: Result<Principal>): void {
    // The peer may have left, or shutdown begun, while the token was checked.
    if (socket.destroyed) return;
    const refuse = (error: ProtocolError, headers?: Record<string, string>): void => writeRawProblem(socket, error, req.url, headers);
    if (!this.#accepting) return refuse(new ProtocolError('LO_ERR_UNAVAILABLE', 'The server is shutting down; reconnect in a moment'));
    if (!principal.ok) return refuse(principal.error, principal.error.code === 'LO_ERR_UNAUTHORIZED' ? { 'WWW-Authenticate': bearerChallenge(req) } : undefined);
    const initial = parseViewRequest(viewQuery(url.searchParams));
    if (!initial.ok) return refuse(initial.error);
    const resume = parseResumePoint(url.searchParams.get('since'), url.searchParams.get('epoch'));
    if (!resume.ok) return refuse(resume.error);
    const who = principal.value;
    // A tracking socket sees its one order, whatever the URL asked for.
    const view = who.kind === 'tracking' ? { ...initial.value.view, orderId: who.orderId } : initial.value.view;
    const admitted = this.#options.access.admit(who, 'watchOrders', { ...(view.orderId === undefined ? {} : { orderId: view.orderId }), address });
    if (!admitted.ok) return refuse(admitted.error);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', destroyOnError);
      const session = this.#track(ws, who, address);
      // A customer on the tracking page watches its order for as long as the socket is open.
      if (who.kind === 'tracking') this.#options.sessions.presence.set(session, who.orderId);
      openSession(this.#options.sessions, session, {
        view,
        limit: initial.value.limit,
        ...(resume.value === undefined ? {} : { resume: resume.value }),
      });
    });
  }

  /**
   * Refuse new upgrades, close every connection with `code`, and resolve once
   * all are closed (or were destroyed after `timeoutMs`).
   * @param code close code, e.g. 1001
   * @param reason close reason
   * @param timeoutMs how long peers get to answer the close frame
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.#accepting = false;
    clearInterval(this.#heartbeat);
    const closed = [...this.#sockets].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    for (const ws of this.#sockets) this.#sessions.get(ws)?.socket.close(code, reason);
    const timer = setTimeout(() => {
      for (const ws of this.#sockets) ws.terminate();
    }, timeoutMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }

  /**
   * Close, with 1008, every connection whose credential no longer admits it
   * (its role token was removed or now grants another role).
   * @returns how many were closed
   */
  closeRevoked(): number {
    let closed = 0;
    for (const ws of this.#sockets) {
      const session = this.#sessions.get(ws);
      if (session === undefined || this.#options.access.stillAdmits(session.principal)) continue;
      session.socket.close(CLOSE_CODES.policyViolation, 'token revoked');
      closed++;
    }
    return closed;
  }

  /**
   * The history was replaced: send every connection a fresh snapshot of
   * its view, marked `reset`.
   * @returns how many connections were sent one
   */
  resetViews(): number {
    let sent = 0;
    for (const ws of this.#sockets) {
      const session = this.#sessions.get(ws);
      if (session === undefined) continue;
      resetView(this.#options.sessions, session);
      sent++;
    }
    return sent;
  }

  #track(ws: WebSocket, principal: Principal, address: string): Session {
    const connection = this.#nextId++;
    const role = connectionRole(principal);
    this.#byRole[role]++;
    this.#sockets.add(ws);
    this.#alive.add(ws);
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    const subscriber = new ClientSocket(ws, {
      highWaterMark: this.#options.highWaterMark,
      closeGraceMs: this.#options.closeGraceMs,
      ...(this.#options.sent === undefined ? {} : { sent: this.#options.sent }),
      onSlow: (buffered) => {
        this.#slowDropped++;
        this.#clientWarnings.warn('dropping slow websocket client', { buffered, conn: connection });
      },
    });
    const session: Session = { socket: subscriber, principal, address };
    const messages = new TokenBucket(this.#options.messagesPerSecond * MESSAGE_BURST_SECONDS, Date.now());
    this.#sessions.set(ws, session);
    armExpiry(session);
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('error', (error: Error & { code?: string }) => {
      this.#clientWarnings.warn('websocket error', { error: error.message, code: error.code, conn: connection });
      ws.terminate();
    });
    ws.on('close', () => {
      disarmExpiry(session);
      this.#sockets.delete(ws);
      this.#byRole[role]--;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
      this.#options.sessions.hub.unsubscribe(subscriber);
      this.#options.sessions.presence.set(session, undefined);
    });
    ws.on('message', (data, isBinary) => {
      this.#alive.add(ws); // any traffic proves the peer is there
      // Once the server has decided to close, whatever else the peer sent (in the same TCP write,
      // or while ignoring the close frame) is not acted on.
      if (!subscriber.open) return;
      if (isBinary) {
        subscriber.close(CLOSE_CODES.unsupportedData, 'binary frames are not supported; send JSON text');
        return;
      }
      const { messagesPerSecond } = this.#options;
      if (messages.take(Date.now(), messagesPerSecond * MESSAGE_BURST_SECONDS, messagesPerSecond / 1000) > 0) {
        this.#floodsClosed++;
        this.#clientWarnings.warn('closing websocket client that sends too many messages', { conn: connection });
        subscriber.close(CLOSE_CODES.policyViolation, `too many messages: at most ${messagesPerSecond} per second`);
        return;
      }
      handleClientMessage(this.#options.sessions, session, data.toString());
    });
    return session;
  }

  /** Drop connections that did not answer the previous ping, then ping the rest. */
  #beat(): void {
    for (const ws of this.#sockets) {
      if (!this.#alive.has(ws)) {
        this.#options.logger.info('dropping websocket that stopped answering pings');
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }
}

/**
 * Who a connection is, as a metrics label: its role (a signed-in user's
 * highest), `customer` for a tracking token, `open` without tokens. The
 * same mapping as presence and the stats' caller ({@link watcherKind}),
 * with open mode kept apart.
 */
function connectionRole(principal: Principal): ConnectionRole {
  // A scraper opens no socket (the access table lets it read the metrics only); labelled as main's metrics did.
  return principal.kind === 'open' || principal.kind === 'scraper' ? 'open' : watcherKind(principal);
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

/** RFC 6750: a token was presented and refused (bad, expired, unknown) -> invalid_token; none presented -> no error. */
function bearerChallenge(req: IncomingMessage): string {
  const offered = req.headers['sec-websocket-protocol'] ?? '';
  const presented = req.headers.authorization !== undefined || offered.includes(WS_BEARER_PREFIX);
  return presented ? 'Bearer realm="liveorders", error="invalid_token"' : 'Bearer realm="liveorders"';
}

function destroyOnError(this: Duplex): void {
  // The peer went away mid-handshake; there is no one to answer.
  this.destroy();
}
