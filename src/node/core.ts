/**
 * @module node/core
 * What every instance builds on its storage, whatever the backend: the
 * projection, fed from the log's tail from the position it was loaded at,
 * as the first of the tail's named consumers, and the one write path over
 * it. The live node adds its own consumers (the history, the hub, paced
 * ones); tests and benchmarks use the core as it is.
 */

import type { LogEvent } from '../domain/events.ts';
import { StorageUnavailableError } from '../store/errors.ts';
import type { LoadedState, Storage } from '../store/ports.ts';
import { CatalogCommands } from './catalog-commands.ts';
import { OrderCommands } from './commands.ts';
import { TailConsumers } from './consumers.ts';
import { OrderProjection } from './projection.ts';

/** Options for {@link startCore}. */
export interface CoreOptions {
  /** New order ids. */
  readonly newId: () => string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Given each batch after the projection has applied it (a live consumer named `events`). */
  readonly onEvents?: (events: readonly LogEvent[]) => void;
  /** Told after the projection started over from a replaced history (see `OrderLog.onReload`). */
  readonly onReload?: (state: LoadedState) => void;
  /** Told how long each append to the log took, in seconds (the metrics). */
  readonly onAppend?: (seconds: number) => void;
  /** Told when a consumer throws or rejects. @default rethrown on a later turn */
  readonly onConsumerError?: (name: string, error: unknown) => void;
}

/** A projection kept up to date from the tail, the commands over it, and the tail's consumers. */
export interface Core {
  readonly projection: OrderProjection;
  readonly commands: OrderCommands;
  /** The named consumers of the tail, the projection first. */
  readonly consumers: TailConsumers;
  /** The catalog's reads and writes, over the same log and projection. */
  readonly catalog: CatalogCommands;
  /** Stop following the tail. */
  stop(): void;
}

/**
 * Load the projection from the storage and follow its tail.
 * @param storage an opened storage
 * @param options ids, clock, and who else takes each batch
 */
export function startCore(storage: Storage, options: CoreOptions): Core {
  const projection = new OrderProjection(storage.initial);
  const consumers = new TailConsumers(options.onConsumerError ?? ((_name, error) => setImmediate(() => { throw error; })));
  consumers.addLive({ name: 'projection', take: (events) => projection.apply(events) });
  if (options.onEvents !== undefined) consumers.addLive({ name: 'events', take: options.onEvents });
  const stop = storage.log.tail(storage.initial.position.seq, (events) => consumers.deliver(events));
  storage.log.onReload?.((state) => {
    projection.reset(state, new StorageUnavailableError('EHISTORYLOST', 'the history this write was committed to was lost before this instance applied it', { outcomeUnknown: true }));
    options.onReload?.(state);
  });
  const commands = new OrderCommands({ log: storage.log, projection, newId: options.newId, ...(options.now === undefined ? {} : { now: options.now }), ...(options.onAppend === undefined ? {} : { onAppend: options.onAppend }) });
  const catalog = new CatalogCommands(storage.log, projection, options.now);
  return { projection, commands, catalog, consumers, stop };
}
