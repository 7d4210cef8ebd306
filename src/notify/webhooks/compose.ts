/**
 * @module notify/webhooks/compose
 * The webhook service a server gets: on the live node, with the store and
 * settings it was given (files in DATA_DIR for the journal, memory
 * otherwise, and the defaults). With STORAGE=redis the endpoints are kept
 * beside the shared history (every instance reads and changes the same
 * ones) and one instance at a time, the holder of the webhook sender
 * lease, sends to all of them.
 */

import { join } from 'node:path';
import type { Logger } from '../../support/logger.ts';
import type { WebhookHost } from './host.ts';
import type { WebhookOptions } from './options.ts';
import { WebhookService } from './service.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from './settings.ts';
import { FileWebhookStore, MemoryWebhookStore, RedisWebhookStore, WEBHOOKS_FOLDER, type WebhookStore } from './store.ts';
import type { ConsumerPositions, SideKeys } from '../../store/ports.ts';

/** The node as the composition sees it: with the storage's side keys when the history is shared. */
export type ComposedWebhookHost = WebhookHost & { readonly shared: boolean; readonly storage: { readonly positions: ConsumerPositions; readonly sideKeys?: SideKeys } };

/**
 * Build the webhook service, or nothing where it cannot be correct (a
 * shared history whose storage has no side keys).
 * @param host the live node
 * @param options store, settings and attempt callback
 * @param logger where it logs (never a secret)
 * @param dataDir the journal's folder: endpoints and their secrets are kept in it, and survive kill -9; without one they live in memory, like the orders
 */
export function webhookService(host: ComposedWebhookHost, options: WebhookOptions | undefined, logger: Logger, dataDir?: string): WebhookService | undefined {
  const side = host.shared ? host.storage.sideKeys : undefined;
  if (host.shared && side === undefined) return undefined;
  return new WebhookService({
    host,
    store: options?.store ?? defaultStore(side, dataDir),
    ...(side === undefined ? {} : { shared: { side, positions: host.storage.positions } }),
    settings: options?.settings ?? DEFAULT_WEBHOOK_SETTINGS,
    logger: logger.child({ component: 'webhooks' }),
    ...(options?.onAttempt === undefined ? {} : { onAttempt: options.onAttempt }),
  });
}

/** Endpoints are kept where the orders are: beside the shared history, in DATA_DIR, or in this process. */
function defaultStore(side: SideKeys | undefined, dataDir: string | undefined): WebhookStore {
  if (side !== undefined) return new RedisWebhookStore(side);
  return dataDir === undefined ? new MemoryWebhookStore() : new FileWebhookStore(join(dataDir, WEBHOOKS_FOLDER));
}
