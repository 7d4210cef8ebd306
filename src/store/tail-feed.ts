/**
 * @module store/tail-feed
 * Delivery of committed events to an in-process backend's tails: in `seq`
 * order, each exactly once, batched per microtask, and never inside the
 * append that committed them. A sink that throws is reported and keeps its
 * place; the append, and every other sink, go on. A tail that starts (or
 * falls) behind is first given what it missed: from the backend's memory
 * at once, or read back from its durable history (a backend that keeps no
 * events in memory), holding what commits meanwhile until it is there.
 */

import type { LogEvent } from '../domain/events.ts';
import type { EventSink } from './ports.ts';

/**
 * The events after a seq, at most `limit`: at once, or `undefined` when
 * they are no longer held; or a read of the durable history, `'reset'` when
 * it no longer holds them.
 */
export type TailHistory = (after: number, limit: number) => readonly LogEvent[] | undefined | Promise<readonly LogEvent[] | 'reset'>;

/** Events read back from a durable history at once, at most. */
const READ_BACK_PAGE = 1000;

/** One registered tail. */
interface Tail {
  readonly sink: EventSink;
  /** The seq of the last event it was given. */
  delivered: number;
  /** Set while what it missed is read back: what commits meanwhile waits here. */
  held: LogEvent[] | undefined;
}

/** Where a backend's committed events go. */
export class TailFeed {
  readonly #tails = new Set<Tail>();
  readonly #history: TailHistory;
  readonly #onSinkError: (error: unknown) => void;
  #pending: LogEvent[] = [];
  #scheduled = false;

  /**
   * @param history the events after a seq that the backend still holds
   * @param onSinkError told when a sink throws, or a tail could not be given what it missed
   */
  constructor(history: TailHistory, onSinkError: (error: unknown) => void) {
    this.#history = history;
    this.#onSinkError = onSinkError;
  }

  /**
   * Start delivering to `sink` every event after `after`: what the backend
   * holds now, then each as it commits.
   * @param after the last seq the sink already has
   * @param head the backend's last committed seq now
   * @param sink where events go
   * @throws {RangeError} when the events after `after` are known at once to be no longer held
   */
  add(after: number, head: number, sink: EventSink): () => void {
    const tail: Tail = { sink, delivered: after, held: undefined };
    if (after < head) {
      const backlog = this.#history(after, head - after);
      if (backlog === undefined) throw new RangeError(`events after seq ${after} are no longer held; load the state first`);
      if (backlog instanceof Promise) {
        tail.held = [];
        void this.#readBack(tail, head, backlog);
      } else if (backlog.length > 0) queueMicrotask(() => this.#give(tail, backlog));
    }
    this.#tails.add(tail);
    return () => this.#tails.delete(tail);
  }

  /**
   * Queue a committed event for every tail.
   * @param event the next committed event
   */
  push(event: LogEvent): void {
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /**
   * The history was replaced (a shared backend lost its history and loaded
   * it again): events queued and not yet given are dropped, and every tail
   * goes on from `after`, the seq the new history was loaded at.
   * @param after the seq the reloaded state is as of
   */
  restart(after: number): void {
    this.#pending = [];
    for (const tail of this.#tails) tail.delivered = after;
  }

  #flush(): void {
    this.#scheduled = false;
    const events = this.#pending;
    this.#pending = [];
    for (const tail of this.#tails) this.#give(tail, events);
  }

  /** Give a tail the events it has not had yet, in order; the backlog first if these start past it. */
  #give(tail: Tail, events: readonly LogEvent[]): void {
    if (!this.#tails.has(tail) || events.length === 0) return;
    if (tail.held !== undefined) {
      tail.held.push(...events);
      return;
    }
    const first = events[0]!.seq;
    if (first > tail.delivered + 1) {
      const backlog = this.#history(tail.delivered, first - 1 - tail.delivered);
      if (backlog === undefined) return this.#drop(tail, new RangeError(`a tail fell behind the history held (at seq ${tail.delivered}, next ${first})`));
      if (backlog instanceof Promise) {
        tail.held = [...events];
        void this.#readBack(tail, first - 1, backlog);
        return;
      }
      this.#hand(tail, backlog);
    }
    this.#hand(tail, events);
  }

  /** Hand a tail the events of `events` it has not had. */
  #hand(tail: Tail, events: readonly LogEvent[]): void {
    const fresh = events.length > 0 && events[0]!.seq > tail.delivered ? events : events.filter((e) => e.seq > tail.delivered);
    if (fresh.length === 0) return;
    tail.delivered = fresh[fresh.length - 1]!.seq;
    try {
      tail.sink(fresh);
    } catch (error) {
      this.#onSinkError(error);
    }
  }

  /** Read back what a tail missed, up to `upTo`, page by page; then what was held meanwhile. */
  async #readBack(tail: Tail, upTo: number, first: Promise<readonly LogEvent[] | 'reset'>): Promise<void> {
    let page: Promise<readonly LogEvent[] | 'reset'> | undefined = first;
    while (page !== undefined) {
      let events: readonly LogEvent[] | 'reset';
      try {
        events = await page;
      } catch (error) {
        return this.#drop(tail, error);
      }
      if (!this.#tails.has(tail)) return;
      if (events === 'reset' || events.length === 0) return this.#drop(tail, new RangeError(`events after seq ${tail.delivered} are no longer held`));
      this.#hand(tail, events);
      page = tail.delivered < upTo ? Promise.resolve(this.#history(tail.delivered, Math.min(READ_BACK_PAGE, upTo - tail.delivered)) ?? 'reset') : undefined;
    }
    const held = tail.held ?? [];
    tail.held = undefined;
    this.#give(tail, held);
  }

  #drop(tail: Tail, error: unknown): void {
    this.#tails.delete(tail);
    this.#onSinkError(error);
  }
}
