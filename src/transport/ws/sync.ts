/**
 * @module transport/ws/sync
 * Bringing a connection in sync with the store when it opens or changes its
 * view (what it watches): a snapshot, or on a resume exactly the events it missed. Each is taken against one
 * position of the local projection and the hub subscription starts from
 * that same position in the same synchronous step, so no event can slip
 * between them. A resume older than the local ring asks the backend's
 * history first (an await), then catches up from the ring explicitly.
 */

import type { ConnectCache } from '../../fanout/connect-cache.ts';
import type { FanOut } from '../../fanout/hub.ts';
import { isProductEvent, type LogEvent } from '../../domain/events.ts';
import {
  encodeEventAt,
  encodeEventsFrame,
  encodeServerMessage,
  viewKey,
  viewMatchesEvent,
  type Order,
  type OrderEvent,
  type Position,
  type ServerMessage,
  type SnapshotMessage,
  type View,
} from '../../protocol.ts';
import type { EventRing } from '../../store/event-ring.ts';
import type { EventSource, OrderReader } from '../../store/ports.ts';
import { seesCustomerContact } from '../../security/auth.ts';
import type { SessionSocket } from './client-socket.ts';
import type { Session } from './session-state.ts';

/** Missed events fetched from the backend's history at most, beyond the local ring; further back, a snapshot is cheaper. */
export const DEEP_REPLAY_MAX = 50_000;

/** What bringing a connection in sync reads. */
export interface SyncContext {
  /** The local projection. */
  readonly orders: OrderReader;
  /** Recent events, fed from the tail with the projection. */
  readonly ring: EventRing;
  /** The backend's history, for resumes older than the ring. */
  readonly source: EventSource;
  readonly hub: FanOut;
  /** Encoded snapshots and replays, reused until the projection moves. */
  readonly connectCache: ConnectCache;
  /** How reconnecting clients were served, for `/api/stats`. */
  readonly resumes: ResumeCounts;
  /**
   * With a shared history: wait (a bounded time) for the projection to
   * reach a seq a client saw on another instance. Resolves whether it did.
   */
  readonly catchUp?: (seq: number) => Promise<boolean>;
}

/** How reconnecting clients were served. */
export interface ResumeCounts {
  /** Resumed from the local ring. */
  fromRing: number;
  /** Resumed from the backend's history, then the ring. */
  fromHistory: number;
  /** Could not be resumed: sent a snapshot marked `reset`. */
  reset: number;
}

/** What a client asked for when it connected. */
export interface OpenRequest {
  readonly view: View;
  readonly limit: number;
  /** Where it left off, when it is reconnecting. */
  readonly resume?: Position;
}

/**
 * Build the snapshot of `view`: the newest `limit` orders in it, its total,
 * store-wide counts, and the position it reflects.
 * @param orders the projection
 * @param view what the client watches
 * @param limit most orders to include
 */
export function buildSnapshot(orders: OrderReader, view: View, limit: number): SnapshotMessage {
  const page = orders.list({ view, limit });
  const { seq, epoch } = orders.position;
  return { type: 'snapshot', seq, epoch, view, orders: page.orders, total: page.total, counts: orders.counts(), limit };
}

/**
 * Start a new connection: resume it when it names a position this epoch
 * still covers (sending `resumed` and exactly the missed events), otherwise
 * send a snapshot (marked `reset` when a resume was asked for).
 * @param ctx shared context
 * @param session the client
 * @param request view, snapshot size and where the client left off
 */
export function openSession(ctx: SyncContext, session: Session, request: OpenRequest, waited = false): void {
  const { view, resume } = request;
  session.watching = { view, limit: request.limit };
  if (session.principal.kind === 'tracking') return openTrackingSession(ctx, session, request);
  if (resume === undefined) return startView(ctx, session, view, request.limit);
  if (resume.epoch !== ctx.orders.position.epoch) return startView(ctx, session, view, request.limit, true);
  if (resume.seq > ctx.orders.position.seq && ctx.catchUp !== undefined && !waited) return void resumeWhenCaughtUp(ctx, ctx.catchUp, session, request, resume.seq);
  const missed = ctx.ring.since(resume.seq);
  if (missed !== undefined) {
    ctx.resumes.fromRing++;
    return sendResumed(ctx, session, view, resume.seq, missed);
  }
  const gap = ctx.ring.oldestSeq - 1 - resume.seq;
  if (resume.seq > ctx.orders.position.seq || gap > DEEP_REPLAY_MAX) return startView(ctx, session, view, request.limit, true);
  void resumeFromHistory(ctx, session, request, resume, gap);
}

/**
 * A client that saw more of the shared history than this instance has
 * applied (it was connected to another instance that is ahead): wait for
 * the tail to bring this instance there, then resume as usual.
 */
async function resumeWhenCaughtUp(ctx: SyncContext, catchUp: (seq: number) => Promise<boolean>, session: Session, request: OpenRequest, seq: number): Promise<void> {
  session.snapshotInFlight = true;
  await catchUp(seq);
  session.snapshotInFlight = false;
  if (!session.socket.open) return;
  openSession(ctx, session, request, true);
  // openSession may have started a snapshot or a replay (which take the pending view when done).
  if ((session.snapshotInFlight as boolean) !== true) takePendingView(ctx, session);
}

/**
 * A resume the ring no longer covers: the backend's history up to where the
 * ring starts, then (after that await) the ring from there.
 */
async function resumeFromHistory(ctx: SyncContext, session: Session, request: OpenRequest, resume: Position, gap: number): Promise<void> {
  // Views asked for meanwhile wait, as they wait for a snapshot in flight.
  session.snapshotInFlight = true;
  let older: readonly LogEvent[] | 'reset';
  try {
    older = await ctx.source.replay(resume, gap);
  } catch {
    older = 'reset';
  }
  session.snapshotInFlight = false;
  if (!session.socket.open) return;
  const last = older === 'reset' || older.length === 0 ? undefined : older[older.length - 1]!.seq;
  const rest = last === undefined ? undefined : ctx.ring.since(last);
  if (older === 'reset' || rest === undefined || older.length !== gap) {
    startView(ctx, session, request.view, request.limit, true);
  } else {
    ctx.resumes.fromHistory++;
    sendResumed(ctx, session, request.view, resume.seq, [...older, ...rest]);
  }
  takePendingView(ctx, session);
}

/** `resumed`, the missed events of the view (encoded once for every client resuming from the same point), and the subscription. */
function sendResumed(ctx: SyncContext, session: Session, view: View, since: number, missed: readonly LogEvent[]): void {
  const { socket } = session;
  const { seq, epoch } = ctx.orders.position;
  const redacted = !seesCustomerContact(session.principal);
  send(socket, { type: 'resumed', epoch, since, seq, view });
  if (missed.some(isProductEvent)) {
    sendReplayWithProducts(socket, view, missed, redacted);
  } else {
    const replay = missed.filter((event): event is OrderEvent => viewMatchesEvent(view, event as OrderEvent));
    if (replay.length > 0) {
      socket.send(ctx.connectCache.get(`${viewKey(view)}|since ${since}|${redacted}`, seq, () => encodeEventsFrame(replay.map((event) => encodeEventAt(event, event.seq, redacted)))));
    }
  }
  ctx.hub.subscribe(socket, view, seq, 'store', redacted);
}

/**
 * A replay that crosses changes of the catalog: the events of the view in
 * frames, and each catalog change as the `productUpdated` it was live, in
 * seq order between them, so an unfiltered client sees no gap. Rare (the
 * catalog changes little), so not cached.
 */
function sendReplayWithProducts(socket: SessionSocket, view: View, missed: readonly LogEvent[], redacted: boolean): void {
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 0) socket.send({ payload: Buffer.from(encodeEventsFrame(run)) });
    run = [];
  };
  for (const event of missed) {
    if (!isProductEvent(event)) {
      if (viewMatchesEvent(view, event)) run.push(encodeEventAt(event, event.seq, redacted));
      continue;
    }
    flush();
    send(socket, event.type === 'product.deleted' ? { type: 'productUpdated', seq: event.seq, product: event.product, deleted: true } : { type: 'productUpdated', seq: event.seq, product: event.product });
  }
  flush();
}

/**
 * A customer's connection to its one order. Its sequence numbers are the
 * order's own positions (`orderPosition`), not the store's, so it learns
 * nothing about other orders. A resume with nothing new is `resumed`;
 * anything else gets the order as it is now, which for one order is as
 * exact as a replay.
 */
function openTrackingSession(ctx: SyncContext, session: Session, request: OpenRequest): void {
  const { view, resume } = request;
  const order = view.orderId === undefined ? undefined : ctx.orders.get(view.orderId);
  const { seq, epoch } = ctx.orders.position;
  if (resume !== undefined && order !== undefined && resume.epoch === epoch && resume.seq === order.version) {
    send(session.socket, { type: 'resumed', epoch, since: resume.seq, seq: order.version, view });
    ctx.hub.subscribe(session.socket, view, seq, 'order');
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
export function startView(ctx: SyncContext, session: Session, view: View, limit: number, reset = false): void {
  session.watching = { view, limit };
  if (session.snapshotInFlight === true) {
    // A reset still owed is kept when a newer view replaces the pending one.
    session.pendingView = reset || session.pendingView?.reset === true ? { view, limit, reset: true } : { view, limit };
    return;
  }
  const { seq } = ctx.orders.position;
  const tracking = session.principal.kind === 'tracking';
  const redacted = !seesCustomerContact(session.principal);
  if (reset) ctx.resumes.reset++;
  const key = `${viewKey(view)}|${limit}|${reset}|${tracking}|${redacted}`;
  const snapshot = ctx.connectCache.get(key, seq, () => {
    const built = buildSnapshot(ctx.orders, view, limit);
    const position = tracking ? { seq: built.orders[0]?.version ?? 0, counts: countsOf(built.orders) } : {};
    return encodeServerMessage(reset ? { ...built, ...position, reset: true } : { ...built, ...position }, redacted);
  });
  // Subscribed at the snapshot's seq before it is sent: the write's callback may start the next view.
  ctx.hub.subscribe(session.socket, view, seq, tracking ? 'order' : 'store', redacted);
  session.snapshotInFlight = true;
  const sent = session.socket.send(snapshot, () => {
    session.snapshotInFlight = false;
    takePendingView(ctx, session);
  });
  if (!sent) {
    session.snapshotInFlight = false;
    ctx.hub.unsubscribe(session.socket);
  }
}

/** Start the view a client asked for while it waited, if it asked. */
function takePendingView(ctx: SyncContext, session: Session): void {
  const next = session.pendingView;
  if (next === undefined || !session.socket.open) return;
  session.pendingView = undefined;
  startView(ctx, session, next.view, next.limit, next.reset === true);
}

/**
 * The history was replaced (Redis lost it and the instance loaded it
 * again): send the client a fresh snapshot of what it watches, marked
 * `reset`, and route events to it from that snapshot's seq.
 * @param ctx shared context
 * @param session the client
 */
export function resetView(ctx: SyncContext, session: Session): void {
  const watching = session.watching;
  if (watching === undefined || !session.socket.open) return;
  startView(ctx, session, watching.view, watching.limit, true);
}

function countsOf(orders: readonly Order[]): SnapshotMessage['counts'] {
  const counts = { pending: 0, processing: 0, shipped: 0, delivered: 0, cancelled: 0 };
  for (const order of orders) counts[order.status]++;
  return counts;
}

/**
 * One-off messages (snapshots, answers) go to one socket: `ws` frames them.
 * @param socket the client
 * @param message what to send
 */
export function send(socket: SessionSocket, message: ServerMessage): void {
  socket.send({ payload: Buffer.from(encodeServerMessage(message)) });
}
