/**
 * @module transport/http/api-context
 * The REST handlers' view of a live node: its projection and write path,
 * its catch-up and failure mapping, and the numbers `/api/stats` and
 * `/healthz` report.
 */

import type { LiveNode } from '../../node/live-node.ts';
import type { AccessControl } from '../../security/access.ts';
import type { StorageStats } from '../../store/ports.ts';
import { BulkReplays } from './bulk-replays.ts';
import type { ApiContext } from './context.ts';

/** What {@link apiContext} needs besides the node. */
export interface ApiContextOptions {
  readonly node: LiveNode;
  readonly access: AccessControl;
  /** Who watches each order (`GET /api/orders/ID/presence`): this instance's sockets, or every instance's with Redis. */
  readonly presence: ApiContext['presence'];
  /** Maximum request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Origins allowed by CORS. */
  readonly corsOrigins: readonly string[];
  /** The transports' own numbers for `/api/stats` (sockets, resumes). */
  readonly stats: () => Record<string, unknown>;
}

/**
 * The context every REST handler gets.
 * @param options the node, who may do what, and settings
 */
export function apiContext(options: ApiContextOptions): ApiContext {
  const { node, access } = options;
  const { projection, commands, hub } = node;
  const { log } = node.storage;
  const startedAt = Date.now();
  return {
    orders: projection,
    commands,
    catalog: node.catalog,
    maxBodyBytes: options.maxBodyBytes,
    access,
    corsOrigins: options.corsOrigins,
    stats: ({ location }) => ({
      orders: { total: projection.size, byStatus: projection.counts() },
      ...hub.stats(),
      ...options.stats(),
      seq: projection.seq,
      epoch: log.epoch,
      storage: location ? log.stats() : withoutLocation(log.stats()),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
    ...(node.shared ? { catchUp: () => node.catchUp() } : {}),
    staleReads: () => log.health().staleReads === true,
    health: () => {
      // What the storage says of itself, but not where its files or its Redis are: /healthz needs no credential.
      return { ...log.health(), seq: projection.seq, storage: withoutLocation(log.stats()) };
    },
    onCommandFailure: (error) => node.storageFailure(error),
    presence: options.presence,
    bulkReplays: new BulkReplays(),
  };
}

/**
 * Storage stats without where the storage is: no data folder path, no Redis
 * address or prefix, and of a failure only its code and time (the message of
 * a file system error names the file). For everyone but admins.
 */
function withoutLocation(stats: StorageStats): Record<string, unknown> {
  const { dataDir: _folder, redis: _redis, prefix: _prefix, failure, ...numbers } = stats;
  if (failure === undefined) return numbers;
  if (typeof failure !== 'object' || failure === null) return { ...numbers, failure };
  const { code, since } = failure as { code?: unknown; since?: unknown };
  return { ...numbers, failure: { code, since } };
}
