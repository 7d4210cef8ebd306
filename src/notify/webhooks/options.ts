/**
 * @module notify/webhooks/options
 * What the server is given for webhooks: where endpoints are kept, the
 * settings, and a callback told of every attempt (metrics).
 */

import type { AttemptOutcome } from './attempt.ts';
import type { WebhookSettings } from './settings.ts';
import type { WebhookStore } from './store.ts';

/** Webhook options of `createServer`. */
export interface WebhookOptions {
  /** Where endpoints, secrets and recent deliveries are kept. @default in memory */
  readonly store?: WebhookStore;
  /** @default {@link DEFAULT_WEBHOOK_SETTINGS} */
  readonly settings?: WebhookSettings;
  /** Told of every attempt's outcome. */
  readonly onAttempt?: (outcome: AttemptOutcome) => void;
}
