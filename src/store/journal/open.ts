/**
 * @module store/journal/open
 * Opening a data folder: create it if needed, lock it for this process,
 * read its identity, snapshot and journal, and continue appending where it
 * ends. Any step that cannot be done refuses to start with a message that
 * says what to do; nothing that could not be read is overwritten.
 */

import type { Logger } from '../../support/logger.ts';
import type { Storage } from '../ports.ts';
import { folderIdentity, prepareFolder } from './files.ts';
import { JournalLog } from './journal-log.ts';
import { loadJournal } from './load.ts';
import { lockFolder } from './lock.ts';
import { JournalPositions } from './positions.ts';

/** Options for {@link openJournalStorage}. */
export interface JournalStorageOptions {
  /** The data folder; created if missing. */
  readonly dir: string;
  /** Events kept in memory for replays (older ones are read from the journal). @default 10000 */
  readonly historyCapacity?: number;
  /** Start a compaction once the journal since the last snapshot passes this many bytes. @default 64 MiB */
  readonly compactAfterBytes?: number;
  /** Space allocated ahead of the journal's writes (0: none). @default 4 MiB */
  readonly preallocateBytes?: number;
  /** The tracking key from configuration; otherwise the folder's own. */
  readonly trackingKey?: Buffer;
  readonly logger: Logger;
  /** Told when a tail's consumer throws. */
  readonly onSinkError: (error: unknown) => void;
}

/**
 * Open (or create) a journal in a data folder.
 * @param options the folder and settings
 */
export async function openJournalStorage(options: JournalStorageOptions): Promise<Storage> {
  const { dir, logger } = options;
  await prepareFolder(dir);
  const lock = await lockFolder(dir, { logger });
  try {
    const { identity, created } = await folderIdentity(dir);
    const started = Date.now();
    const loaded = await loadJournal(dir, { epoch: identity.epoch, historyCapacity: options.historyCapacity ?? 10_000 });
    for (const tail of loaded.torn) {
      logger.warn('a segment ended in a record cut short (a crash during a write) with nothing valid after it; it was cut off', { ...tail, seq: loaded.seq });
    }
    logger.info(created ? 'new data folder' : 'journal loaded', { dir, seq: loaded.seq, orders: loaded.orders.size, snapshot: loaded.snapshot?.name ?? null, segments: loaded.segments.length, ms: Date.now() - started });
    const log = await JournalLog.continue(
      {
        dir,
        epoch: identity.epoch,
        logger,
        onSinkError: options.onSinkError,
        ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
        ...(options.preallocateBytes === undefined ? {} : { preallocateBytes: options.preallocateBytes }),
      },
      loaded,
      lock,
    );
    return {
      mode: 'journal',
      shared: false,
      log,
      initial: { orders: [...loaded.orders.values()], products: [...loaded.products.values()], position: { seq: loaded.seq, epoch: identity.epoch } },
      trackingKey: options.trackingKey ?? identity.trackingKey,
      positions: new JournalPositions(dir),
      dataDir: dir,
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
