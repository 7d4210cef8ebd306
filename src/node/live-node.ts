/**
 * @module node/live-node
 * The live node: what an instance is, whatever serves it. It starts the
 * core on an opened storage and owns the one in-memory event history of
 * the process, the registry of named consumers of the tail (the projection,
 * the history and the hub; paced ones such as webhooks next), the one
 * `catchUp`, the mapping of storage failures to wire errors, and the
 * tracking-token hook on new ids. Data flows one way: commands -> backend
 * commit -> tail -> consumers, this instance's own writes included.
 */

import type { FanOut } from '../fanout/hub.ts';
import type { ProtocolError } from '../protocol/errors.ts';
import type { Position } from '../protocol/messages.ts';
import { isProductEvent, type LogEvent } from '../domain/events.ts';
import { EventRing } from '../store/event-ring.ts';
import type { ConsumerPositions, LoadedState, Storage } from '../store/ports.ts';
import type { Logger } from '../support/logger.ts';
import { CATCH_UP_WAIT_MS, catchUpWithHead } from './catch-up.ts';
import type { CatalogCommands } from './catalog-commands.ts';
import type { OrderCommands } from './commands.ts';
import type { ConsumerSource, ConsumerSpec, LiveConsumer, TailConsumers } from './consumers.ts';
import { startCore } from './core.ts';
import { createOrderIdGenerator } from './order-id.ts';
import type { OrderProjection } from './projection.ts';
import { storageFailure } from './storage-failure.ts';

/** What a {@link LiveNode} is built with. */
export interface LiveNodeOptions {
  /** Recent events kept in memory, for resumes and paced consumers that fell a little behind. */
  readonly historyCapacity: number;
  /** The local hub: this instance's subscribers. */
  readonly hub: FanOut;
  readonly logger: Logger;
  /** New order ids. @default time-ordered ids, made in runs */
  readonly newId?: () => string;
  /** Sees each run of new ids before the first is handed out (tracking tokens are enciphered in one call per run). */
  readonly onNewIds?: (ids: Buffer) => void;
  /** Told how long each append to the storage's log took, in seconds (the metrics). */
  readonly onAppend?: (seconds: number) => void;
}

/** Told after the node started over from a replaced history, once its own parts have (see {@link LiveNode.onReload}). */
export type NodeReloadListener = (state: LoadedState) => void;

/** One instance's core, history, hub and consumers, around one storage. */
export class LiveNode implements ConsumerSource {
  readonly storage: Storage;
  /** Every order this instance knows, as of its position. */
  readonly projection: OrderProjection;
  /** The one write path. */
  readonly commands: OrderCommands;
  /** The product catalog: reads from the projection, writes through the same log. */
  readonly catalog: CatalogCommands;
  /** The one in-memory history of recent events. */
  readonly history: EventRing;
  readonly hub: FanOut;
  readonly #consumers: TailConsumers;
  readonly #stopTail: () => void;
  readonly #reloadListeners: NodeReloadListener[] = [];
  readonly #logger: Logger;

  /**
   * Load the projection and follow the storage's tail: the projection, then
   * the history, then the hub take each batch; paced consumers after them.
   * @param storage an opened storage
   * @param options history size, hub, logging, ids
   */
  constructor(storage: Storage, options: LiveNodeOptions) {
    this.storage = storage;
    this.hub = options.hub;
    this.history = new EventRing(options.historyCapacity, storage.initial.position.seq);
    const { logger } = options;
    this.#logger = logger;
    const core = startCore(storage, {
      // Ids are made in runs whose tracking tokens are enciphered in one call (order-id.ts).
      newId: options.newId ?? createOrderIdGenerator(options.onNewIds === undefined ? {} : { onRun: options.onNewIds }),
      onConsumerError: (name, error) => logger.error('an event consumer failed', { consumer: name, error }),
      onReload: (state) => this.#reloaded(state),
      ...(options.onAppend === undefined ? {} : { onAppend: options.onAppend }),
    });
    this.projection = core.projection;
    this.commands = core.commands;
    this.catalog = core.catalog;
    this.#consumers = core.consumers;
    this.#stopTail = core.stop;
    this.#consumers.addLive({ name: 'history', take: (events) => { for (const event of events) this.history.append(event); } });
    // The catalog's own events are not order events: the hub fans out orders only.
    this.#consumers.addLive({ name: 'hub', take: (events) => { for (const event of events) publishTo(this.hub, event); } });
  }

  /** The last event every live consumer has taken, and its epoch. */
  get position(): Position {
    return this.projection.position;
  }

  /** Other instances write to the same history. */
  get shared(): boolean {
    return this.storage.shared;
  }

  /** The names of the tail's consumers, in the order they take a batch. */
  get consumers(): readonly string[] {
    return this.#consumers.names;
  }

  /**
   * The events after a position: from the in-memory history when it still
   * holds them all, else from the backend's durable history, once.
   * @param after the last event had
   * @param limit at most this many
   */
  read(after: Position, limit: number): Promise<readonly LogEvent[] | 'reset'> {
    if (after.epoch !== this.storage.log.epoch) return Promise.resolve('reset');
    const recent = this.history.since(after.seq, limit);
    return recent === undefined ? this.storage.log.replay(after, limit) : Promise.resolve(recent);
  }

  /**
   * Add a live consumer: it takes each batch in step with the tail,
   * synchronously, after the projection, the history, the hub and any added
   * before it. For cheap work only (a metric's sample); anything that waits
   * on I/O is a paced consumer ({@link register}).
   * @param consumer its name and what it does with a batch
   */
  addLive(consumer: LiveConsumer): void {
    this.#consumers.addLive(consumer);
  }

  /**
   * Register a paced consumer (webhooks, emails, metrics). A durable one
   * goes on from the position it saved last; a new one starts at the
   * current position.
   * @param spec its name, filter, handler and options
   * @param positions where a durable one keeps its position (a lease holder passes positions fenced by its lease) @default the storage's
   * @returns a function that stops it, after the batch in hand
   */
  register(spec: ConsumerSpec, positions: ConsumerPositions = this.storage.positions): Promise<() => Promise<void>> {
    return this.#consumers.addPaced(spec, this, positions);
  }

  /**
   * Reading your own writes across instances (shared histories only; false
   * at once otherwise): wait until the projection has `seq`, or, without
   * one, everything committed anywhere until now; within
   * {@link CATCH_UP_WAIT_MS}. Resolves whether it got there.
   * @param seq a seq another instance is known to have
   */
  catchUp(seq?: number): Promise<boolean> {
    if (!this.storage.shared) return Promise.resolve(false);
    return seq === undefined ? catchUpWithHead(this.storage.log, this.projection) : this.projection.reachedWithin(seq, CATCH_UP_WAIT_MS);
  }

  /**
   * The wire error for a command that storage failed.
   * @param error what the command rejected with
   */
  storageFailure(error: unknown): ProtocolError {
    return storageFailure(error);
  }

  /**
   * Be told when the history was replaced (a shared backend lost it, then
   * recovered in place onto a new epoch, or loaded a trimmed-past one
   * again): after the projection, the history, the hub and the paced
   * consumers have started over from the new state. The transports reset
   * what they derived from the old one here (caches, every socket's view).
   * @param listener takes the state loaded again
   */
  onReload(listener: NodeReloadListener): void {
    this.#reloadListeners.push(listener);
  }

  /** The projection has started over from `state` (core.ts): everything else in the node does too. */
  #reloaded(state: LoadedState): void {
    // What the hub queued of the old history goes out first; then each listener resets its own (sockets get a reset snapshot).
    this.hub.flush();
    this.history.reset(state.position.seq);
    this.#consumers.reload();
    for (const listener of this.#reloadListeners) {
      try {
        listener(state);
      } catch (error) {
        this.#logger.error('a reload listener failed', { error });
      }
    }
  }

  /** Stop following the tail, and every paced consumer after the batch in hand (its position saved). */
  async stop(): Promise<void> {
    this.#stopTail();
    await this.#consumers.stop();
  }
}

/**
 * One event to the hub: an order's to the sockets whose view it matches,
 * and every product it changed as a `productUpdated` to every staff socket.
 * @param hub the fan-out
 * @param event an event of the log
 */
function publishTo(hub: FanOut, event: LogEvent): void {
  if (isProductEvent(event)) {
    hub.publishProduct?.(event.type === 'product.deleted' ? { type: 'productUpdated', seq: event.seq, product: event.product, deleted: true } : { type: 'productUpdated', seq: event.seq, product: event.product });
    return;
  }
  hub.publish(event);
  if (event.products !== undefined) for (const product of event.products) hub.publishProduct?.({ type: 'productUpdated', seq: event.seq, product });
}
