/**
 * @module store/core
 * What every instance builds on its storage, whatever the backend: the
 * projection, fed from the log's tail from the position it was loaded at,
 * and the one write path over them. The server adds its own consumers of
 * the same batches (the replay ring, the hub); tests and benchmarks use it
 * as it is.
 */

import type { LogEvent } from '../domain/events.ts';
import { CatalogCommands } from './catalog-commands.ts';
import { OrderCommands } from './commands.ts';
import { StorageUnavailableError } from './errors.ts';
import type { LoadedState, Storage } from './ports.ts';
import { OrderProjection } from './projection.ts';

/** Options for {@link startCore}. */
export interface CoreOptions {
  /** New order ids. */
  readonly newId: () => string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Given each batch after the projection has applied it. */
  readonly onEvents?: (events: readonly LogEvent[]) => void;
  /** Told after the projection started over from a replaced history (see `OrderLog.onReload`). */
  readonly onReload?: (state: LoadedState) => void;
}

/** A projection kept up to date from the tail, and the commands over it. */
export interface Core {
  readonly projection: OrderProjection;
  readonly commands: OrderCommands;
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
  const { onEvents } = options;
  const stop = storage.log.tail(storage.initial.position.seq, (events) => {
    projection.apply(events);
    onEvents?.(events);
  });
  storage.log.onReload?.((state) => {
    projection.reset(state, new StorageUnavailableError('EHISTORYLOST', 'the history this write was committed to was lost before this instance applied it', { outcomeUnknown: true }));
    options.onReload?.(state);
  });
  const commands = new OrderCommands({ log: storage.log, projection, newId: options.newId, ...(options.now === undefined ? {} : { now: options.now }) });
  const catalog = new CatalogCommands(storage.log, projection, options.now);
  return { projection, commands, catalog, stop };
}

