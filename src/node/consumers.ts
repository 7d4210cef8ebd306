/**
 * @module node/consumers
 * The named consumers of the event tail. Live consumers (the projection,
 * the history, the hub) take each batch in step with the tail, in the order
 * they were registered. Paced consumers (webhooks, emails, metrics) run at
 * their own speed: each is handed events in seq order, one batch at a time,
 * the next only once its handler has settled; a durable one saves its
 * position after each batch and is resumed from there on start. A slow
 * paced consumer never slows writes or fan-out: what it has not taken is
 * held up to a bound, and past it read back from the history later.
 */

import type { Position } from '../protocol/messages.ts';
import { isProductEvent, type LogEvent } from '../domain/events.ts';
import type { OrderEvent } from '../protocol/orders.ts';
import type { ConsumerPositions } from '../store/ports.ts';
import { checkConsumerName } from '../store/positions.ts';

/** A consumer that takes every batch as the tail delivers it, synchronously. */
export interface LiveConsumer {
  /** Names it in logs and errors. */
  readonly name: string;
  /** Take the next batch (seq order, gap-free). A throw is reported; the others still get the batch. */
  take(events: readonly LogEvent[]): void;
}

/** What a paced consumer is told when events it had not processed are no longer held anywhere. */
export interface MissedEvents {
  /** `trimmed`: compaction or stream trimming dropped them; `epoch`: the history it had a position in is gone. */
  readonly reason: 'trimmed' | 'epoch';
  /** Where it was. */
  readonly from: Position;
  /** Where it goes on from: the next event it gets follows this one. */
  readonly resumedAt: Position;
  /** How many events of the current history it will never be given. */
  readonly missed: number;
}

/** A consumer of the tail that runs at its own pace. */
export interface ConsumerSpec {
  /** Unique in the node; for a durable one, also where its position is kept (letters, digits and `._-`). */
  readonly name: string;
  /** Only the events it wants (the position still moves past the others). */
  readonly filter?: (event: OrderEvent) => boolean;
  /**
   * Process a batch, in seq order. The next batch waits until this settles;
   * a rejection is reported and the same batch is offered again later.
   */
  readonly handle: (events: readonly OrderEvent[]) => Promise<void> | void;
  /** Told before it goes on past events it will never get. */
  readonly onMissed?: (missed: MissedEvents) => Promise<void> | void;
  /** Save the position after each batch and resume from it on start. @default false */
  readonly durable?: boolean;
  /** Events per batch at most. @default 500 */
  readonly maxBatch?: number;
}

/** Where paced consumers read what they missed, and how far the tail is. */
export interface ConsumerSource {
  /** The position of the last event the live consumers took. */
  readonly position: Position;
  /**
   * The events after a position, oldest first, at most `limit`, or `'reset'`
   * when they are no longer held (or the position is from another epoch).
   */
  read(after: Position, limit: number): Promise<readonly LogEvent[] | 'reset'>;
}

/** Events a paced consumer may have waiting in memory; past it, it reads them back from the history. */
export const MAX_HELD_EVENTS = 10_000;

/** Events read back from the history at once. */
const READ_PAGE = 1000;

/** Default {@link ConsumerSpec.maxBatch}. */
const DEFAULT_MAX_BATCH = 500;

/** Waits after a failed handler or position save, in milliseconds: doubling from the first to the last. */
const RETRY_MS = { first: 100, last: 30_000 } as const;

/** A paced consumer's loop: hold, read back, hand over, save. */
class PacedConsumer {
  readonly spec: ConsumerSpec;
  readonly #source: ConsumerSource;
  readonly #positions: ConsumerPositions | undefined;
  readonly #onError: (name: string, error: unknown) => void;
  #position: Position;
  #held: LogEvent[] = [];
  #wake: (() => void) | undefined;
  #stopped = false;
  #retryMs: number = RETRY_MS.first;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Ends a wait before a retry early (on stop). */
  #endRetry: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(spec: ConsumerSpec, source: ConsumerSource, from: Position, positions: ConsumerPositions | undefined, onError: (name: string, error: unknown) => void) {
    this.spec = spec;
    this.#source = source;
    this.#position = from;
    this.#positions = positions;
    this.#onError = onError;
    this.done = this.#run();
  }

  /** The last event processed (and saved, when durable). */
  get position(): Position {
    return this.#position;
  }

  /** Events from the tail; never waits. */
  offer(events: readonly LogEvent[]): void {
    if (this.#stopped) return;
    // Too far behind: forget them; the gap is read back from the history when it gets there.
    if (this.#held.length + events.length > MAX_HELD_EVENTS) this.#held = [];
    else for (const event of events) this.#held.push(event);
    this.#wakeUp();
  }

  /**
   * The history was replaced: what it holds of the old one will never be
   * valid; it goes on past the new history's events it never had (told
   * with `onMissed`, reason `epoch`) once the batch in hand has settled.
   */
  reload(): void {
    this.#held = [];
    this.#wakeUp();
  }

  /** Stop after the batch in hand (its position saved). */
  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#endRetry?.();
    this.#wakeUp();
    return this.done;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      // Saved in, or processing when the node moved to, another history: its events are gone.
      if (this.#position.epoch !== this.#source.position.epoch) {
        await this.#skip('epoch', this.#source.position.seq);
        continue;
      }
      let first = 0;
      while (first < this.#held.length && this.#held[first]!.seq <= this.#position.seq) first++;
      if (first > 0) this.#held.splice(0, first);
      const next = this.#held[0];
      const upTo = next === undefined ? this.#source.position.seq : next.seq - 1;
      if (this.#position.seq < upTo) await this.#readBack(upTo);
      else if (next !== undefined) await this.#process(this.#takeHeld());
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** The held events that follow the position, up to a batch. */
  #takeHeld(): LogEvent[] {
    const max = this.spec.maxBatch ?? DEFAULT_MAX_BATCH;
    let count = 1;
    while (count < this.#held.length && count < max && this.#held[count]!.seq === this.#held[count - 1]!.seq + 1) count++;
    return this.#held.slice(0, count);
  }

  async #readBack(upTo: number): Promise<void> {
    let page: readonly LogEvent[] | 'reset';
    try {
      page = await this.#source.read(this.#position, Math.min(READ_PAGE, upTo - this.#position.seq));
    } catch (error) {
      return this.#failed(error);
    }
    if (page === 'reset' || page.length === 0) return this.#skip('trimmed', upTo);
    await this.#process(page);
  }

  /** Go on past events no longer held, telling the consumer how many. */
  async #skip(reason: MissedEvents['reason'], to: number): Promise<void> {
    const resumedAt: Position = { seq: to, epoch: this.#source.position.epoch };
    const missed: MissedEvents = { reason, from: this.#position, resumedAt, missed: reason === 'epoch' ? to : to - this.#position.seq };
    try {
      await this.spec.onMissed?.(missed);
    } catch (error) {
      this.#onError(this.spec.name, error);
    }
    await this.#advance(resumedAt);
  }

  async #process(events: readonly LogEvent[]): Promise<void> {
    // Paced consumers react to orders; the catalog's own events only move their position on.
    const orders = events.filter((event): event is OrderEvent => !isProductEvent(event));
    const wanted = this.spec.filter === undefined ? orders : orders.filter(this.spec.filter);
    try {
      if (wanted.length > 0) await this.spec.handle(wanted);
    } catch (error) {
      return this.#failed(error);
    }
    // The epoch these events belong to: the node may have moved to another history while they were handled.
    await this.#advance({ seq: events[events.length - 1]!.seq, epoch: this.#position.epoch });
  }

  /** Move (and save) the position; a save that fails is retried before anything else is handed over. */
  async #advance(position: Position): Promise<void> {
    this.#position = position;
    while (this.#positions !== undefined) {
      try {
        await this.#positions.save(this.spec.name, position);
        break;
      } catch (error) {
        await this.#failed(error);
        if (this.#stopped) return;
      }
    }
    this.#retryMs = RETRY_MS.first;
  }

  /** Report, then wait before trying again (less and less often). */
  async #failed(error: unknown): Promise<void> {
    this.#onError(this.spec.name, error);
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      this.#retryTimer = setTimeout(resolve, this.#retryMs);
      this.#endRetry = resolve;
    });
    this.#endRetry = undefined;
    this.#retryMs = Math.min(RETRY_MS.last, this.#retryMs * 2);
  }
}

/** The node's registry of named consumers. */
export class TailConsumers {
  readonly #live: LiveConsumer[] = [];
  readonly #paced = new Map<string, PacedConsumer>();
  readonly #onError: (name: string, error: unknown) => void;

  /** @param onError told when a consumer throws or rejects, with its name */
  constructor(onError: (name: string, error: unknown) => void) {
    this.#onError = onError;
  }

  /** The names of the consumers, live ones first, in the order they take a batch. */
  get names(): readonly string[] {
    return [...this.#live.map((c) => c.name), ...this.#paced.keys()];
  }

  /**
   * Add a live consumer; it takes batches after those added before it.
   * @param consumer its name and what it does with a batch
   */
  addLive(consumer: LiveConsumer): void {
    this.#refuseTaken(consumer.name);
    this.#live.push(consumer);
  }

  /**
   * Start a paced consumer: from its saved position when durable (or from
   * `source.position` when it has none), else from `source.position`.
   * @param spec what it is and does
   * @param source where it reads what it missed
   * @param positions where a durable one keeps its position
   * @returns a function that stops it, after the batch in hand
   */
  async addPaced(spec: ConsumerSpec, source: ConsumerSource, positions: ConsumerPositions): Promise<() => Promise<void>> {
    checkConsumerName(spec.name);
    this.#refuseTaken(spec.name);
    let start = spec.durable === true ? await positions.load(spec.name) : undefined;
    if (spec.durable === true && start === undefined) {
      // A first start saves where it starts: a crash before its first batch is done must resume
      // from here, not from wherever the tail is by the next start (the events between would be skipped).
      start = source.position;
      await positions.save(spec.name, start);
    }
    this.#refuseTaken(spec.name);
    const consumer = new PacedConsumer(spec, source, start ?? source.position, spec.durable === true ? positions : undefined, this.#onError);
    this.#paced.set(spec.name, consumer);
    return async () => {
      await consumer.stop();
      if (this.#paced.get(spec.name) === consumer) this.#paced.delete(spec.name);
    };
  }

  /**
   * One batch from the tail: every live consumer in turn, then every paced one's queue.
   * @param events the batch, in seq order
   */
  deliver(events: readonly LogEvent[]): void {
    for (const consumer of this.#live) {
      try {
        consumer.take(events);
      } catch (error) {
        this.#onError(consumer.name, error);
      }
    }
    for (const consumer of this.#paced.values()) consumer.offer(events);
  }

  /**
   * The history was replaced (a shared backend lost it and loaded it again):
   * each paced consumer drops what it holds of the old one and is told what
   * it missed of the new one.
   */
  reload(): void {
    for (const consumer of this.#paced.values()) consumer.reload();
  }

  /** Stop every paced consumer, each after the batch in hand. */
  async stop(): Promise<void> {
    await Promise.all([...this.#paced.values()].map((consumer) => consumer.stop()));
    this.#paced.clear();
  }

  #refuseTaken(name: string): void {
    if (this.#live.some((c) => c.name === name) || this.#paced.has(name)) throw new RangeError(`a consumer named ${name} is registered already`);
  }
}
