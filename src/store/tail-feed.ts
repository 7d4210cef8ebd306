/**
 * @module store/tail-feed
 * Delivery of committed events to an in-process backend's tails: in `seq`
 * order, each exactly once, batched per microtask, and never inside the
 * append that committed them. A sink that throws is reported and keeps its
 * place; the append, and every other sink, go on.
 */

import type { LogEvent } from '../domain/events.ts';
import type { EventSink } from './ports.ts';

/** One registered tail. */
interface Tail {
  readonly sink: EventSink;
  /** The seq of the last event it was given. */
  delivered: number;
}

/** Where a backend's committed events go. */
export class TailFeed {
  readonly #tails = new Set<Tail>();
  readonly #history: (after: number) => readonly LogEvent[] | undefined;
  readonly #onSinkError: (error: unknown) => void;
  #pending: LogEvent[] = [];
  #scheduled = false;

  /**
   * @param history the events after a seq that the backend still holds (`undefined` when it no longer holds them all)
   * @param onSinkError told when a sink throws
   */
  constructor(history: (after: number) => readonly LogEvent[] | undefined, onSinkError: (error: unknown) => void) {
    this.#history = history;
    this.#onSinkError = onSinkError;
  }

  /**
   * Start delivering to `sink` every event after `after`: what the backend
   * holds now, then each as it commits.
   * @param after the last seq the sink already has
   * @param head the backend's last committed seq now
   * @param sink where events go
   * @throws {RangeError} when the events after `after` are no longer held
   */
  add(after: number, head: number, sink: EventSink): () => void {
    const backlog = after >= head ? [] : this.#history(after);
    if (backlog === undefined) throw new RangeError(`events after seq ${after} are no longer held; load the state first`);
    const tail: Tail = { sink, delivered: after };
    this.#tails.add(tail);
    if (backlog.length > 0) queueMicrotask(() => this.#give(tail, backlog));
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
    const first = events[0]!.seq;
    if (first > tail.delivered + 1) {
      const backlog = this.#history(tail.delivered);
      if (backlog === undefined) {
        this.#onSinkError(new RangeError(`a tail fell behind the history held (at seq ${tail.delivered}, next ${first})`));
        this.#tails.delete(tail);
        return;
      }
      events = backlog;
    }
    const fresh = first > tail.delivered ? events : events.filter((e) => e.seq > tail.delivered);
    if (fresh.length === 0) return;
    tail.delivered = fresh[fresh.length - 1]!.seq;
    try {
      tail.sink(fresh);
    } catch (error) {
      this.#onSinkError(error);
    }
  }
}
