/**
 * @module ws-session
 * One WebSocket client: its snapshot on connect, and its messages (`ping`,
 * `subscribe`, `createOrder`, `updateStatus`). Callable without a network:
 * tests hand {@link handleClientMessage} a fake {@link SessionSocket}.
 */

import type { AccessControl } from '../../security/access.ts';
import type { Principal } from '../../security/auth.ts';
import type { SessionSocket } from './client-socket.ts';
import type { ConnectCache } from '../../fanout/connect-cache.ts';
import type { EventLog } from '../../fanout/ring.ts';
import type { FanOut } from '../../fanout/hub.ts';
import type { Logger } from '../../support/logger.ts';
import {
  SNAPSHOT_LIMITS,
  assertNever,
  encodeEvent,
  encodeEventsFrame,
  encodeServerMessage,
  parseClientMessage,
  viewKey,
  viewMatchesEvent,
  toWireError,
  type AckMessage,
  type ClientMessage,
  type ErrorMessage,
  type Order,
  ProtocolError,
  type ResumePoint,
  type ServerMessage,
  type SnapshotMessage,
  type View,
} from '../../protocol.ts';
import type { OrderStore } from '../../store.ts';

export type { SessionSocket } from './client-socket.ts';

/** One connected client: its socket, who it is, and where it connects from. */
export interface Session {
  readonly socket: SessionSocket;
  readonly principal: Principal;
  readonly address?: string;
  /** Set while a snapshot is queued but not yet written: the next one waits for it. */
  snapshotInFlight?: boolean;
  /** The latest view asked for while a snapshot was in flight; a newer `subscribe` replaces it. */
  pendingView?: { readonly view: View; readonly limit: number };
}

/** Shared by every session. */
export interface SessionContext {
  readonly store: OrderStore;
  readonly hub: FanOut;
  /** Recent events, for clients that reconnect with `?since=`. */
  readonly eventLog: EventLog;
  /** Encoded snapshots and missed events, reused until the store changes. */
  readonly connectCache: ConnectCache;
  readonly serverId: string;
  readonly logger: Logger;
  /** Who may do what over the socket (the same rules as HTTP). */
  readonly access: AccessControl;
}

/**
 * Build the snapshot of `view`: the newest `limit` orders in it, its total,
 * store-wide counts, and the seq it reflects.
 * @param ctx store and server id
 * @param view what the client watches
 * @param limit most orders to include
 */
export function buildSnapshot(ctx: Pick<SessionContext, 'store' | 'serverId'>, view: View, limit: number): SnapshotMessage {
  const page = ctx.store.list({ view, limit });
  return {
    type: 'snapshot',
    seq: ctx.store.seq,
    serverId: ctx.serverId,
    view,
    orders: page.orders,
    total: page.total,
    counts: ctx.store.counts(),
    limit,
  };
}

/**
 * Start a new connection: resume it when it names a seq the event log still
 * covers on this server run (sending `resumed` and exactly the missed events),
 * otherwise send a snapshot (marked `reset` when a resume was asked for).
 * @param ctx shared context
 * @param session the client
 * @param request view, snapshot size and where the client left off
 */
export function openSession(ctx: SessionContext, session: Session, request: { view: View; limit: number; resume?: ResumePoint }): void {
  const { view, resume } = request;
  const { socket } = session;
  if (session.principal.kind === 'tracking') return openTrackingSession(ctx, session, request);
  const missed = resume !== undefined && resume.serverId === ctx.serverId ? ctx.eventLog.since(resume.since) : undefined;
  if (resume === undefined || missed === undefined) {
    startView(ctx, session, view, request.limit, resume !== undefined);
    return;
  }
  const seq = ctx.store.seq;
  send(socket, { type: 'resumed', serverId: ctx.serverId, since: resume.since, seq, view });
  const replay = missed.filter((event) => viewMatchesEvent(view, event));
  if (replay.length > 0) {
    // Clients cut off together come back with the same resume point: encode their missed events once.
    socket.send(ctx.connectCache.get(`${viewKey(view)}|since ${resume.since}`, seq, () => encodeEventsFrame(replay.map(encodeEvent))));
  }
  ctx.hub.subscribe(socket, view, seq);
}

/**
 * A customer's connection to its one order. Its sequence numbers are the
 * order's own positions ({@link orderPosition}), not the store's, so it
 * learns nothing about other orders. A resume with nothing new is
 * `resumed`; anything else gets the order as it is now, which for one order
 * is as exact as a replay.
 */
function openTrackingSession(ctx: SessionContext, session: Session, request: { view: View; limit: number; resume?: ResumePoint }): void {
  const { view, resume } = request;
  const order = view.orderId === undefined ? undefined : ctx.store.get(view.orderId);
  if (resume !== undefined && order !== undefined && resume.serverId === ctx.serverId && resume.since === order.version) {
    send(session.socket, { type: 'resumed', serverId: ctx.serverId, since: resume.since, seq: order.version, view });
    ctx.hub.subscribe(session.socket, view, ctx.store.seq, 'order');
    return;
  }
  startView(ctx, session, view, request.limit);
}

/**
 * Send a fresh snapshot of `view` and route later events to the socket.
 * The snapshot goes first and the hub skips queued events it already
 * reflects, so the client sees every change exactly once. A tracking
 * session's snapshot counts only its own order and carries its order's
 * position: store-wide numbers are not the customer's business.
 *
 * At most one snapshot per connection is queued and not yet written: a
 * `subscribe` that comes while one is waits, and a newer one replaces it, so
 * a client asking for thousands of views gets them one at a time, only as
 * fast as it reads.
 * @param ctx shared context
 * @param session the client
 * @param view what it watches
 * @param limit most orders in the snapshot
 * @param reset mark the snapshot as replacing a resume that could not be honoured
 */
export function startView(ctx: SessionContext, session: Session, view: View, limit: number, reset = false): void {
  if (session.snapshotInFlight === true) {
    session.pendingView = { view, limit };
    return;
  }
  const seq = ctx.store.seq;
  const tracking = session.principal.kind === 'tracking';
  const key = `${viewKey(view)}|${limit}|${reset}|${tracking}`;
  const snapshot = ctx.connectCache.get(key, seq, () => {
    const built = buildSnapshot(ctx, view, limit);
    const position = tracking ? { seq: built.orders[0]?.version ?? 0, counts: countsOf(built.orders) } : {};
    return encodeServerMessage(reset ? { ...built, ...position, reset: true } : { ...built, ...position });
  });
  // Subscribed at the snapshot's seq before it is sent: the write's callback may start the next view.
  ctx.hub.subscribe(session.socket, view, seq, tracking ? 'order' : 'store');
  session.snapshotInFlight = true;
  const sent = session.socket.send(snapshot, () => {
    session.snapshotInFlight = false;
    const next = session.pendingView;
    if (next === undefined || !session.socket.open) return;
    session.pendingView = undefined;
    startView(ctx, session, next.view, next.limit);
  });
  if (!sent) {
    session.snapshotInFlight = false;
    ctx.hub.unsubscribe(session.socket);
  }
}

function countsOf(orders: readonly Order[]): SnapshotMessage['counts'] {
  const counts = { pending: 0, processing: 0, shipped: 0, delivered: 0, cancelled: 0 };
  for (const order of orders) counts[order.status]++;
  return counts;
}

/**
 * Handle one text frame from a client. Never throws: a bad message gets an
 * `error` message and the connection stays open.
 * @param ctx shared context
 * @param socket the client
 * @param text the frame
 */
export function handleClientMessage(ctx: SessionContext, session: Session, text: string): void {
  const parsed = parseClientMessage(text);
  if (!parsed.ok) {
    send(session.socket, errorMessage(parsed.error));
    return;
  }
  const message = parsed.value;
  try {
    const refused = checkAccess(ctx, session, message);
    if (refused !== undefined) {
      send(session.socket, errorMessage(refused, requestIdOf(message)));
      return;
    }
    dispatch(ctx, session, message);
  } catch (error) {
    ctx.logger.error('client message handler failed', { error, type: message.type });
    send(session.socket, errorMessage(toWireError(error), requestIdOf(message)));
  }
}

/** The socket obeys the same rules as HTTP: writes need the write permission; a tracking socket cannot widen its view. */
function checkAccess(ctx: SessionContext, session: Session, message: ClientMessage): ProtocolError | undefined {
  const { principal } = session;
  switch (message.type) {
    case 'ping':
      return undefined;
    case 'subscribe':
      if (principal.kind === 'tracking' && message.orderId !== principal.orderId) {
        return new ProtocolError('LO_ERR_FORBIDDEN', 'A tracking connection can only watch its own order');
      }
      return undefined;
    case 'createOrder':
    case 'updateStatus': {
      const allowed = ctx.access.authorize(principal, 'write');
      if (!allowed.ok) return allowed.error;
      const limited = ctx.access.limitWrite(principal, session.address);
      return limited.ok ? undefined : limited.error;
    }
    default:
      return assertNever(message);
  }
}

function dispatch(ctx: SessionContext, session: Session, message: ClientMessage): void {
  const { socket } = session;
  switch (message.type) {
    case 'ping':
      send(socket, message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id });
      return;
    case 'subscribe': {
      const view: View = {
        ...(message.orderId === undefined ? {} : { orderId: message.orderId }),
        ...(message.statuses === undefined ? {} : { statuses: message.statuses }),
      };
      startView(ctx, session, view, message.limit ?? SNAPSHOT_LIMITS.default);
      return;
    }
    case 'createOrder': {
      const result = ctx.store.create(message.order);
      if (!result.ok) return send(socket, errorMessage(result.error, message.requestId));
      const trackingToken = ctx.access.tracking.issue(result.value.order.id);
      send(socket, { ...ack(result.value.order, message.requestId), trackingToken });
      return;
    }
    case 'updateStatus': {
      const result = ctx.store.changeStatus(message.orderId, message.status, message.expectedVersion);
      send(socket, result.ok ? ack(result.value.order, message.requestId) : errorMessage(result.error, message.requestId));
      return;
    }
    default:
      assertNever(message);
  }
}

/** One-off messages (snapshots, answers) go to one socket: `ws` frames them. */
function send(socket: SessionSocket, message: ServerMessage): void {
  socket.send({ payload: Buffer.from(encodeServerMessage(message)) });
}

function ack(order: Order, requestId: string | undefined): AckMessage {
  return requestId === undefined ? { type: 'ack', order } : { type: 'ack', requestId, order };
}

function errorMessage(error: ProtocolError, requestId?: string): ErrorMessage {
  const errors = error.details.errors;
  return {
    type: 'error',
    code: error.code,
    message: error.message,
    ...(requestId === undefined ? {} : { requestId }),
    ...(errors === undefined ? {} : { errors }),
  };
}

function requestIdOf(message: ClientMessage): string | undefined {
  return 'requestId' in message ? message.requestId : undefined;
}
