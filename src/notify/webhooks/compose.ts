/**
 * @module notify/webhooks/compose
 * The webhook service a server gets: on the live node, with the store and
 * settings it was given (a memory store and the defaults otherwise). With
 * STORAGE=redis there is none yet: instances would each keep their own
 * endpoints and each send every event, so the routes say webhooks are not
 * available rather than send copies.
 */

import { join } from 'node:path';
import type { Logger } from '../../support/logger.ts';
import type { WebhookHost } from './host.ts';
import type { WebhookOptions } from './options.ts';
import { WebhookService } from './service.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from './settings.ts';
import { FileWebhookStore, MemoryWebhookStore, WEBHOOKS_FOLDER } from './store.ts';

/**
 * Build the webhook service, or nothing where it cannot be correct.
 * @param host the live node
 * @param options store, settings and attempt callback
 * @param logger where it logs (never a secret)
 * @param dataDir the journal's folder: endpoints and their secrets are kept in it, and survive kill -9; without one they live in memory, like the orders
 */
export function webhookService(host: WebhookHost & { readonly shared: boolean }, options: WebhookOptions | undefined, logger: Logger, dataDir?: string): WebhookService | undefined {
  if (host.shared && options?.store === undefined) return undefined;
  return new WebhookService({
    host,
    store: options?.store ?? (dataDir === undefined ? new MemoryWebhookStore() : new FileWebhookStore(join(dataDir, WEBHOOKS_FOLDER))),
    settings: options?.settings ?? DEFAULT_WEBHOOK_SETTINGS,
    logger: logger.child({ component: 'webhooks' }),
    ...(options?.onAttempt === undefined ? {} : { onAttempt: options.onAttempt }),
  });
}
