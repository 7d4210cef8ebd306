/**
 * @module notify/webhooks/attempt
 * One signed attempt at a delivery, recorded: the Standard Webhooks
 * headers, the send, the attempt added to the delivery's history, the
 * endpoint's success and failure counts, and the outcome told to whoever
 * counts them (metrics).
 */

import type { Delivery, WebhookEndpoint } from './model.ts';
import type { DeliveryLog } from './delivery-log.ts';
import type { AttemptResult } from './send.ts';
import type { Sender } from './sender-thread.ts';
import type { WebhookSettings } from './settings.ts';
import { signatureHeader } from './signature.ts';

/** What the attempt callback is told, once per attempt. */
export interface AttemptOutcome {
  readonly endpointId: string;
  /** The `webhook-id`. */
  readonly webhookId: string;
  readonly type: string;
  /** `delivered` (2xx), or `failed` with the status (null: no answer). */
  readonly result: 'delivered' | 'failed';
  readonly status: number | null;
  /** No answer came within the timeout. */
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** Which kind of attempt: from the tail, a retry of it, a manual retry, or a test. */
  readonly kind: 'first' | 'retry' | 'manual' | 'test';
}

/** What an attempt needs around it. */
export interface AttemptContext {
  readonly settings: WebhookSettings;
  readonly deliveries: DeliveryLog;
  /** Makes the attempts (the sender thread). */
  readonly sender: Sender;
  /** Keep the endpoint's changed counts. */
  readonly saveEndpoint: (endpoint: WebhookEndpoint) => void;
  readonly onAttempt?: (outcome: AttemptOutcome) => void;
  readonly now: () => number;
}

/**
 * Sign and send a delivery once, and record how it went.
 * @param ctx settings, log and callbacks
 * @param endpoint where to
 * @param delivery what
 * @param kind which kind of attempt this is
 * @param signal ends it early
 * @param finalIfFailed mark the delivery failed (not pending) when this attempt fails
 * @param pool the kept connections to use (the endpoint's worker has one); none: a connection for this attempt only
 */
export async function attemptDelivery(ctx: AttemptContext, endpoint: WebhookEndpoint, delivery: Delivery, kind: AttemptOutcome['kind'], signal: AbortSignal | undefined, finalIfFailed: boolean, pool?: string): Promise<AttemptResult> {
  const startedAt = ctx.now();
  const timestamp = Math.floor(startedAt / 1000);
  const secrets = endpoint.previousSecret !== undefined && endpoint.previousSecret.until > startedAt ? [endpoint.secret, endpoint.previousSecret.secret] : [endpoint.secret];
  const result = await ctx.sender.send({
    url: endpoint.url,
    headers: { 'webhook-id': delivery.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets, delivery.id, timestamp, delivery.body) },
    body: delivery.body,
    timeoutMs: ctx.settings.timeoutMs,
    allowPrivate: ctx.settings.allowPrivate,
    ...(signal === undefined ? {} : { signal }),
  }, pool);
  const delivered = result.status !== null && result.status >= 200 && result.status < 300;
  if (signal?.aborted === true && !delivered) return result;
  const state = delivered ? 'delivered' : finalIfFailed ? 'failed' : delivery.state === 'delivered' ? 'delivered' : 'pending';
  ctx.deliveries.record(endpoint.id, delivery, { at: new Date(startedAt).toISOString(), status: result.status, ...(result.error === undefined ? {} : { error: result.error }), durationMs: result.durationMs }, state);
  if (kind !== 'test') {
    if (delivered) {
      endpoint.lastSuccessAt = new Date(ctx.now()).toISOString();
      endpoint.consecutiveFailures = 0;
      delete endpoint.failingSince;
    } else {
      endpoint.consecutiveFailures += 1;
      endpoint.failingSince ??= startedAt;
    }
    ctx.saveEndpoint(endpoint);
  }
  ctx.onAttempt?.({ endpointId: endpoint.id, webhookId: delivery.id, type: delivery.type, result: delivered ? 'delivered' : 'failed', status: result.status, timedOut: result.timedOut === true, durationMs: result.durationMs, kind });
  return result;
}
