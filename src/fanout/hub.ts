/**
 * @module fanout/hub
 * Fan-out of store events to WebSocket subscribers. Events are queued and
 * flushed once per event-loop turn: each event is serialised once, each
 * distinct view gets one message whose WebSocket frame is built once, and
 * those same bytes are written to every socket watching that view. Events
 * produced in the same turn (a burst of writes) share one frame per socket.
 * Subscribers are grouped by view, and views of one order are indexed by its
 * id, so a flush costs O(events + wide views + subscribers that get a frame),
 * not O(subscribers): a thousand customers each tracking their own order cost
 * an event about what one of them does. Subscribers who may not see
 * customers' email addresses (viewers, tracking links) are groups of their
 * own, sent an encoding without them: at most one more encoding per event.
 */

import { prepareMessage, type OutgoingMessage } from './frame.ts';
import { encodeEventAt, encodeEventsFrame, encodeServerMessage, type ProductUpdatedMessage, orderPosition, viewKey, viewMatchesEvent, type OrderEvent, type View } from '../protocol.ts';

/** What the hub needs from a connection (tests pass fakes). */
export interface Subscriber {
  /**
   * Queue a message. The same buffers are handed to many subscribers: do
   * not mutate them.
   * @returns false when the connection took nothing and will take nothing
   *   more: it is closing, or it fell too far behind and was dropped as slow
   */
  send(message: OutgoingMessage): boolean;
}

/**
 * Which sequence numbers a subscriber is sent: the store-wide `seq`, or
 * each event's position in its own order's history ({@link orderPosition}),
 * for customers tracking one order.
 */
export type Positions = 'store' | 'order';

/** Hub settings. */
export interface HubOptions {
  /**
   * Runs the flush after the current turn; `setImmediate` lets every request
   * parsed in this turn add its events first, without adding a timer delay.
   * @default setImmediate
   */
  readonly schedule?: (flush: () => void) => void;
  /** Told when writing to a subscriber threw; the hub carries on with the others. */
  readonly onSendError?: (subscriber: Subscriber, error: unknown) => void;
  /** Told after a flush that wrote at least one frame, with the events it carried (the metrics time the fan-out with it). */
  readonly onFlushed?: (events: readonly OrderEvent[]) => void;
}

/** Counters for `GET /api/stats`. */
export interface HubStats {
  readonly subscribers: number;
  /** Event deliveries: one event to one subscriber counts one. */
  readonly eventsSent: number;
  readonly framesSent: number;
}

/** Subscribers with equal views: they get the same frames. */
interface ViewGroup {
  readonly view: View;
  readonly positions: Positions;
  /** Sent orders without `customerEmail`. */
  readonly redacted: boolean;
  /** {@link viewKey} of the view, and the positions. */
  readonly key: string;
  readonly members: Set<Membership>;
}

interface Membership {
  readonly subscriber: Subscriber;
  readonly group: ViewGroup;
  /** Events up to this seq are already reflected in the subscriber's snapshot. */
  readonly afterSeq: number;
}

/** The encodings an event may get in a flush: store positions with or without email addresses, or order positions (always without). */
type EncodingKind = 'store' | 'storeRedacted' | 'order';

/** A message prepared for one view during a flush. */
interface PreparedFrame {
  readonly message: OutgoingMessage | undefined;
  readonly eventCount: number;
}

/** The events of one flush, each encoded at most once per kind of position, and only if some view wants it. */
interface FlushBatch {
  readonly events: readonly OrderEvent[];
  readonly encoded: Record<EncodingKind, (string | undefined)[]>;
}

/**
 * What the server needs from a fan-out. {@link Hub} is the one we ship; the
 * benchmarks plug in naive baselines through the same shape, and a
 * multi-instance transport can implement it too.
 */
export interface FanOut {
  readonly size: number;
  stats(): HubStats;
  subscribe(subscriber: Subscriber, view: View, afterSeq: number, positions?: Positions, redacted?: boolean): void;
  unsubscribe(subscriber: Subscriber): void;
  publish(event: OrderEvent): void;
  /**
   * Tell every staff subscriber (store positions) that a product changed,
   * after every event queued before it.
   * @param update the message
   */
  publishProduct?(update: ProductUpdatedMessage): void;
  /** Deliver whatever is queued now (shutdown calls this before closing sockets). */
  flush(): void;
}

/** Routes events to subscribers by view; see the module comment for the cost model. */
export class Hub implements FanOut {
  #members = new Map<Subscriber, Membership>();
  /** Every group, by view key. */
  #groups = new Map<string, ViewGroup>();
  /** Groups whose view has no order id: they may want any event. */
  #wideGroups = new Set<ViewGroup>();
  /** Groups whose view names one order, by that order's id. */
  #orderGroups = new Map<string, Set<ViewGroup>>();
  #pending: OrderEvent[] = [];
  #scheduled = false;
  #schedule: (flush: () => void) => void;
  #onSendError: HubOptions['onSendError'];
  #onFlushed: HubOptions['onFlushed'];
  #eventsSent = 0;
  #framesSent = 0;

  /** @param options see {@link HubOptions} */
  constructor(options: HubOptions = {}) {
    this.#schedule = options.schedule ?? ((flush) => setImmediate(flush));
    this.#onSendError = options.onSendError;
    this.#onFlushed = options.onFlushed;
  }

  /** Number of subscribers. */
  get size(): number {
    return this.#members.size;
  }

  /** Delivery counters. */
  stats(): HubStats {
    return {
      subscribers: this.#members.size,
      eventsSent: this.#eventsSent,
      framesSent: this.#framesSent,
    };
  }

  /**
   * Start (or change) what a subscriber receives. Call right after sending it a
   * snapshot taken at `afterSeq`, so queued events already in that snapshot are
   * not delivered twice.
   * @param subscriber the connection
   * @param view what it watches
   * @param afterSeq the seq of the snapshot it was just sent
   * @param positions the sequence numbers it is sent: store-wide, or its order's own
   * @param redacted send it orders without `customerEmail` (always so with order positions: those are customers)
   */
  subscribe(subscriber: Subscriber, view: View, afterSeq: number, positions: Positions = 'store', redacted = false): void {
    this.unsubscribe(subscriber);
    const hidden = redacted || positions === 'order';
    const key = positions === 'order' ? `${viewKey(view)}|order` : hidden ? `${viewKey(view)}|redacted` : viewKey(view);
    const group = this.#groups.get(key) ?? this.#addGroup(view, positions, hidden, key);
    const membership: Membership = { subscriber, group, afterSeq };
    group.members.add(membership);
    this.#members.set(subscriber, membership);
  }

  /** @param subscriber a connection that closed (or any other: then nothing happens) */
  unsubscribe(subscriber: Subscriber): void {
    const membership = this.#members.get(subscriber);
    if (membership === undefined) return;
    this.#members.delete(subscriber);
    const group = membership.group;
    group.members.delete(membership);
    if (group.members.size === 0) this.#removeGroup(group);
  }

  /**
   * Queue an event for the next flush.
   * @param event an event from the store, in seq order
   */
  publish(event: OrderEvent): void {
    // With nobody subscribed there is no one to tell; a later subscriber's snapshot already has it.
    if (this.#members.size === 0) return;
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => this.flush());
  }

  publishProduct(update: ProductUpdatedMessage): void {
    if (this.#members.size === 0) return;
    // Queued events go first, so no client sees a product's stock before the order that moved it.
    this.flush();
    const frame: PreparedFrame = { message: prepareMessage(encodeServerMessage(update)), eventCount: 0 };
    for (const member of [...this.#members.values()]) {
      if (member.group.positions === 'store' && member.afterSeq < update.seq) this.#deliver(member.subscriber, frame);
    }
  }

  /** Send every queued event now. Normally called by the scheduler. */
  flush(): void {
    this.#scheduled = false;
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    const framesBefore = this.#framesSent;
    const batch: FlushBatch = { events, encoded: { store: new Array<string | undefined>(events.length), storeRedacted: [], order: [] } };
    if (this.#wideGroups.size > 0) {
      const all = events.map((_, i) => i);
      for (const group of this.#wideGroups) this.#deliverToGroup(group, batch, all);
    }
    if (this.#orderGroups.size > 0) {
      for (const [orderId, indexes] of indexesByOrder(events)) {
        const groups = this.#orderGroups.get(orderId);
        if (groups === undefined) continue;
        for (const group of groups) this.#deliverToGroup(group, batch, indexes);
      }
    }
    if (this.#framesSent !== framesBefore) this.#onFlushed?.(events);
  }

  /**
   * Send one group the events at `indexes` that its view wants: one frame
   * shared by every member, and a frame of its own for a member whose snapshot
   * already has some of them (it subscribed during this turn).
   */
  #deliverToGroup(group: ViewGroup, batch: FlushBatch, indexes: readonly number[]): void {
    const shared = prepareFrame(group, batch, indexes);
    // When no event is for this view, no later starting point can find one either.
    if (shared.message === undefined) return;
    const firstSeq = batch.events[indexes[0]!]!.seq;
    let late: Map<number, PreparedFrame> | undefined;
    for (const member of group.members) {
      if (member.afterSeq < firstSeq) {
        this.#deliver(member.subscriber, shared);
        continue;
      }
      late ??= new Map();
      let frame = late.get(member.afterSeq);
      if (frame === undefined) {
        frame = prepareFrame(group, batch, indexes.filter((i) => batch.events[i]!.seq > member.afterSeq));
        late.set(member.afterSeq, frame);
      }
      if (frame.message !== undefined) this.#deliver(member.subscriber, frame);
    }
  }

  #deliver(subscriber: Subscriber, frame: PreparedFrame): void {
    try {
      if (!subscriber.send(frame.message!)) {
        // Closing, or dropped as too slow by its own guard: nothing more goes to it.
        this.unsubscribe(subscriber);
        return;
      }
      this.#framesSent++;
      this.#eventsSent += frame.eventCount;
    } catch (error) {
      this.unsubscribe(subscriber);
      this.#onSendError?.(subscriber, error);
    }
  }

  #addGroup(view: View, positions: Positions, redacted: boolean, key: string): ViewGroup {
    const group: ViewGroup = { view, positions, redacted, key, members: new Set() };
    this.#groups.set(key, group);
    if (view.orderId === undefined) {
      this.#wideGroups.add(group);
    } else {
      const groups = this.#orderGroups.get(view.orderId);
      if (groups === undefined) this.#orderGroups.set(view.orderId, new Set([group]));
      else groups.add(group);
    }
    return group;
  }

  #removeGroup(group: ViewGroup): void {
    this.#groups.delete(group.key);
    const orderId = group.view.orderId;
    if (orderId === undefined) {
      this.#wideGroups.delete(group);
      return;
    }
    const groups = this.#orderGroups.get(orderId);
    groups?.delete(group);
    if (groups?.size === 0) this.#orderGroups.delete(orderId);
  }
}

/** The events at `indexes` that the group's view wants, as one frame (encoding each event the first time any view wants it). */
function prepareFrame(group: ViewGroup, batch: FlushBatch, indexes: readonly number[]): PreparedFrame {
  const parts: string[] = [];
  const kind: EncodingKind = group.positions === 'order' ? 'order' : group.redacted ? 'storeRedacted' : 'store';
  const encoded = batch.encoded[kind];
  for (const i of indexes) {
    const event = batch.events[i]!;
    if (!viewMatchesEvent(group.view, event)) continue;
    parts.push((encoded[i] ??= kind === 'order' ? encodeEventAt(event, orderPosition(event), true) : encodeEventAt(event, event.seq, group.redacted)));
  }
  if (parts.length === 0) return NO_FRAME;
  return { message: prepareMessage(encodeEventsFrame(parts)), eventCount: parts.length };
}

const NO_FRAME: PreparedFrame = { message: undefined, eventCount: 0 };

/** Indexes of the events about each order, in seq order. */
function indexesByOrder(events: readonly OrderEvent[]): Map<string, number[]> {
  const byOrder = new Map<string, number[]>();
  for (let i = 0; i < events.length; i++) {
    const id = events[i]!.order.id;
    const indexes = byOrder.get(id);
    if (indexes === undefined) byOrder.set(id, [i]);
    else indexes.push(i);
  }
  return byOrder;
}
