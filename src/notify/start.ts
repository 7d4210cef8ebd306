/**
 * @module notify/start
 * The notifiers a server runs on its live node: webhooks and customer
 * emails, durable paced consumers of the tail, each attempt counted in the
 * metrics.
 */

import type { LiveNode } from '../node/live-node.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { TrackingTokens } from '../security/tracking.ts';
import type { Logger } from '../support/logger.ts';
import type { EmailAttempt } from './email/notifier.ts';
import { createEmailService, type EmailService } from './email/service.ts';
import type { EmailSettings } from './email/settings.ts';
import { webhookService } from './webhooks/compose.ts';
import type { WebhookOptions } from './webhooks/options.ts';
import type { WebhookService } from './webhooks/service.ts';

/** The server's options the notifiers read (see ServerOptions). */
export interface NotifierOptions {
  readonly webhooks?: WebhookOptions;
  readonly email?: EmailSettings;
  readonly onEmailAttempt?: (attempt: EmailAttempt) => void;
}

/** What the notifiers are built with, besides the node. */
export interface NotifierParts {
  readonly shopName: string;
  readonly tracking: TrackingTokens;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Webhooks and customer emails: durable paced consumers of the node's tail,
 * each attempt counted in the metrics.
 * @param node the live node
 * @param options the server's options (webhook and email settings, attempt callbacks)
 * @param parts shop name, tracking tokens, metrics, logger
 */
export function startNotifiers(node: LiveNode, options: NotifierOptions, parts: NotifierParts): { readonly webhooks: WebhookService | undefined; readonly emails: EmailService } {
  const { metrics, logger, tracking } = parts;
  // Each endpoint is a durable paced consumer of the node's tail (see compose.ts for Redis mode).
  const webhooks = webhookService(node, {
    ...options.webhooks,
    onAttempt: (attempt) => {
      metrics.countWebhookAttempt(attempt.result === 'delivered' ? 'delivered' : attempt.timedOut ? 'timeout' : attempt.status === null ? 'failed' : 'rejected');
      options.webhooks?.onAttempt?.(attempt);
    },
  }, logger, node.storage.dataDir);
  const emails = createEmailService({
    settings: options.email,
    shopName: parts.shopName,
    storage: node.storage,
    trackingToken: (orderId) => tracking.issue(orderId),
    logger,
    onAttempt: (attempt) => {
      metrics.countEmailAttempt(attempt.outcome);
      options.onEmailAttempt?.(attempt);
    },
  });
  // A durable paced consumer: its position is saved once a batch's emails were sent (or given up), so each is sent at least once.
  emails.start((spec, positions) => node.register(spec, positions));
  return { webhooks, emails };
}
