/**
 * @module hub
 * Fan-out of store events to WebSocket subscribers. Events are queued and
 * flushed once per event-loop turn: each event is serialised once, each
 * distinct view gets one message whose WebSocket frame is built once, and
 * those same bytes are written to every socket watching that view. Events
 * produced in the same turn (a burst of writes) share one frame per socket.
 */

import { prepareMessage, type OutgoingMessage } from './frame.ts';
import {
  CLOSE_CODES,
  encodeEvent,
  encodeEventsFrame,
  viewKey,
  viewMatchesEvent,
  type OrderEvent,
  type View,
} from './protocol.ts';

/** What the hub needs from a connection (a `ws` WebSocket fits; tests pass fakes). */
export interface Subscriber {
  /** Queue a message. The same buffers are handed to many subscribers: do not mutate them. */
  send(message: OutgoingMessage): void;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Close with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** Hub settings. */
export interface HubOptions {
  /**
   * Runs the flush after the current turn; `setImmediate` lets every request
   * parsed in this turn add its events first, without adding a timer delay.
   * @default setImmediate
   */
  readonly schedule?: (flush: () => void) => void;
  /**
   * A subscriber with more than this many bytes queued is closed with 1013
   * (it reads too slowly; it can reconnect and catch up). In bytes.
   * @default 4 MiB
   */
  readonly highWaterMark?: number;
  /** Told when a slow subscriber is dropped. */
  readonly onSlowSubscriber?: (subscriber: Subscriber, bufferedAmount: number) => void;
  /** Told when writing to a subscriber threw; the hub carries on with the others. */
  readonly onSendError?: (subscriber: Subscriber, error: unknown) => void;
}

/** Counters for `GET /api/stats`. */
export interface HubStats {
  readonly subscribers: number;
  /** Event deliveries: one event to one subscriber counts one. */
  readonly eventsSent: number;
  readonly framesSent: number;
  readonly slowSubscribersDropped: number;
}

/** Default {@link HubOptions.highWaterMark}, in bytes. */
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;

interface Membership {
  view: View;
  /** Cache key of the view: subscribers with equal keys share frames. */
  viewKey: string;
  /** Events up to this seq are already reflected in the subscriber's snapshot. */
  afterSeq: number;
}

/** A message prepared for one (view, starting point) pair during a flush. */
interface PreparedFrame {
  readonly message: OutgoingMessage | undefined;
  readonly eventCount: number;
}

/**
 * What the server needs from a fan-out. {@link Hub} is the one we ship; the
 * benchmarks plug in naive baselines through the same shape, and a
 * multi-instance transport can implement it too.
 */
export interface FanOut {
  readonly size: number;
  stats(): HubStats;
  subscribe(subscriber: Subscriber, view: View, afterSeq: number): void;
  unsubscribe(subscriber: Subscriber): void;
  publish(event: OrderEvent): void;
  /** Deliver whatever is queued now (shutdown calls this before closing sockets). */
  flush(): void;
}

/** Routes events to subscribers by view; see the module comment for the cost model. */
export class Hub implements FanOut {
  #members = new Map<Subscriber, Membership>();
  #pending: OrderEvent[] = [];
  #scheduled = false;
  #schedule: (flush: () => void) => void;
  #highWaterMark: number;
  #onSlow: HubOptions['onSlowSubscriber'];
  #onSendError: HubOptions['onSendError'];
  #eventsSent = 0;
  #framesSent = 0;
  #slowDropped = 0;

  /** @param options see {@link HubOptions} */
  constructor(options: HubOptions = {}) {
    this.#schedule = options.schedule ?? ((flush) => setImmediate(flush));
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#onSlow = options.onSlowSubscriber;
    this.#onSendError = options.onSendError;
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
      slowSubscribersDropped: this.#slowDropped,
    };
  }

  /**
   * Start (or change) what a subscriber receives. Call right after sending it a
   * snapshot taken at `afterSeq`, so queued events already in that snapshot are
   * not delivered twice.
   * @param subscriber the connection
   * @param view what it watches
   * @param afterSeq the seq of the snapshot it was just sent
   */
  subscribe(subscriber: Subscriber, view: View, afterSeq: number): void {
    this.#members.set(subscriber, { view, viewKey: viewKey(view), afterSeq });
  }

  /** @param subscriber a connection that closed */
  unsubscribe(subscriber: Subscriber): void {
    this.#members.delete(subscriber);
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

  /** Send every queued event now. Normally called by the scheduler. */
  flush(): void {
    this.#scheduled = false;
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    const encoded = events.map(encodeEvent);
    const frames = new Map<string, PreparedFrame>();
    for (const [subscriber, member] of this.#members) {
      const from = firstIndexAfter(events, member.afterSeq);
      const key = from === 0 ? member.viewKey : `${member.viewKey}@${from}`;
      let frame = frames.get(key);
      if (frame === undefined) {
        frame = prepareFrame(events, encoded, member.view, from);
        frames.set(key, frame);
      }
      if (frame.message !== undefined) this.#deliver(subscriber, frame);
    }
  }

  #deliver(subscriber: Subscriber, frame: PreparedFrame): void {
    const buffered = subscriber.bufferedAmount;
    if (buffered > this.#highWaterMark) {
      this.#members.delete(subscriber);
      this.#slowDropped++;
      this.#onSlow?.(subscriber, buffered);
      subscriber.close(CLOSE_CODES.tryAgainLater, 'slow consumer: too far behind, reconnect to resume');
      return;
    }
    try {
      subscriber.send(frame.message!);
      this.#framesSent++;
      this.#eventsSent += frame.eventCount;
    } catch (error) {
      this.#members.delete(subscriber);
      this.#onSendError?.(subscriber, error);
    }
  }
}

function prepareFrame(events: readonly OrderEvent[], encoded: readonly string[], view: View, from: number): PreparedFrame {
  const parts: string[] = [];
  for (let i = from; i < events.length; i++) {
    if (viewMatchesEvent(view, events[i]!)) parts.push(encoded[i]!);
  }
  if (parts.length === 0) return { message: undefined, eventCount: 0 };
  return { message: prepareMessage(encodeEventsFrame(parts)), eventCount: parts.length };
}

/** Index of the first event with seq > `afterSeq` (events are in seq order; usually 0). */
function firstIndexAfter(events: readonly OrderEvent[], afterSeq: number): number {
  if (events.length === 0 || events[0]!.seq > afterSeq) return 0;
  let i = 0;
  while (i < events.length && events[i]!.seq <= afterSeq) i++;
  return i;
}

