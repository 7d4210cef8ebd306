/**
 * @module store
 * Storage: the ports the rest of the service is written against
 * (store/ports.ts), the backends (memory, journal, Redis) and what they
 * share, and the choice of backend. The application core over them is in
 * src/node.ts. See store/ports.ts for how a
 * write flows.
 */

import { createHash } from 'node:crypto';
import { openJournalStorage } from './store/journal/open.ts';
import { memoryStorage, type MemoryLogOptions } from './store/memory-log.ts';
import type { Storage, StorageMode } from './store/ports.ts';
import { DEFAULT_REDIS_PREFIX } from './store/redis/keys.ts';
import { DEFAULT_REDIS_URL, openRedisStorage } from './store/redis/open.ts';
import { createLogger, type Logger } from './support/logger.ts';

export type * from './store/ports.ts';
export { MemoryLog, memoryStorage } from './store/memory-log.ts';
export { withSeq } from './store/with-seq.ts';
export { StorageUnavailableError } from './store/errors.ts';
export { MemoryPositions } from './store/positions.ts';
export { StorageStartError } from './store/journal/files.ts';
export { JournalLog } from './store/journal/journal-log.ts';
export { openJournalStorage } from './store/journal/open.ts';
export { DEFAULT_REDIS_PREFIX, isRedisPrefix } from './store/redis/keys.ts';
export { DEFAULT_REDIS_URL, DEFAULT_STREAM_LENGTH, openRedisStorage } from './store/redis/open.ts';

/** The storage modes, `journal` first: what `npm start` uses when `STORAGE` is not set. */
export const STORAGE_MODES = ['journal', 'memory', 'redis'] as const satisfies readonly StorageMode[];

/** Where `npm start` keeps its data when `DATA_DIR` is not set. */
export const DEFAULT_DATA_DIR = './data';

/** Shortest accepted `TRACKING_SECRET`: guessing it must be hopeless. */
export const MIN_TRACKING_SECRET_LENGTH = 24;

/** What {@link openStorage} needs. */
export interface StorageOptions {
  readonly mode: StorageMode;
  /**
   * Tracking links are made with a key derived from this, so they outlive a
   * restart and work on every instance. Without it the backend keeps a key of
   * its own (memory: a new one per process).
   */
  readonly trackingSecret?: string;
  /** Told when a tail's consumer throws. */
  readonly onSinkError?: (error: unknown) => void;
  /** Events kept in memory for replays (a memory backend has no others; the journal reads older ones from disk). @default 10000 */
  readonly historyCapacity?: number;
  /** The journal's data folder. @default ./data */
  readonly dataDir?: string;
  /** The journal compacts once the journal since its last snapshot passes this many bytes. @default 64 MiB */
  readonly compactAfterBytes?: number;
  /** Space the journal allocates ahead of its writes (0: none). @default 4 MiB */
  readonly preallocateBytes?: number;
  /** Redis: where it is. @default redis://127.0.0.1:6379 */
  readonly redisUrl?: string;
  /** Redis: names the shared history (instances with the same URL and prefix share it). @default liveorders */
  readonly redisPrefix?: string;
  /** Redis: stream entries kept at least, for resumes from any instance. @default 100000 */
  readonly streamLength?: number;
  /** Redis: how long a command may wait for its answer, in milliseconds (then 503, and not ready). @default 5000 */
  readonly redisCommandTimeoutMs?: number;
  /** Where the backend reports (a torn record cut off, compactions, disk failures). @default JSON lines on stderr */
  readonly logger?: Logger;
}

/**
 * Open the configured backend and load what an instance starts from.
 * @param options the backend and its settings
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const configuredKey = options.trackingSecret === undefined ? undefined : trackingKeyFrom(options.trackingSecret);
  const logOptions: MemoryLogOptions = {
    ...(options.onSinkError === undefined ? {} : { onSinkError: options.onSinkError }),
    ...(options.historyCapacity === undefined ? {} : { historyCapacity: options.historyCapacity }),
  };
  const onSinkError = options.onSinkError ?? ((error: unknown) => setImmediate(() => { throw error; }));
  switch (options.mode) {
    case 'memory':
      return memoryStorage(logOptions, configuredKey);
    case 'journal':
      return openJournalStorage({
        dir: options.dataDir ?? DEFAULT_DATA_DIR,
        logger: options.logger ?? createLogger(),
        onSinkError,
        ...(options.historyCapacity === undefined ? {} : { historyCapacity: options.historyCapacity }),
        ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
        ...(options.preallocateBytes === undefined ? {} : { preallocateBytes: options.preallocateBytes }),
        ...(configuredKey === undefined ? {} : { trackingKey: configuredKey }),
      });
    case 'redis':
      return openRedisStorage({
        url: options.redisUrl ?? DEFAULT_REDIS_URL,
        prefix: options.redisPrefix ?? DEFAULT_REDIS_PREFIX,
        logger: options.logger ?? createLogger(),
        onSinkError,
        ...(options.streamLength === undefined ? {} : { streamLength: options.streamLength }),
        ...(options.redisCommandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.redisCommandTimeoutMs }),
        ...(options.historyCapacity === undefined ? {} : { historyCapacity: options.historyCapacity }),
        ...(configuredKey === undefined ? {} : { trackingKey: configuredKey }),
      });
    default:
      throw new RangeError(`storage mode ${String(options.mode)} is not available`);
  }
}

/**
 * The 16-byte tracking key a secret stands for.
 * @param secret `TRACKING_SECRET`, at least {@link MIN_TRACKING_SECRET_LENGTH} characters
 */
export function trackingKeyFrom(secret: string): Buffer {
  return createHash('sha256').update(`liveorders tracking key\0${secret}`).digest().subarray(0, 16);
}
