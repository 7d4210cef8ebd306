/**
 * @module notify/webhooks/payload
 * What a webhook carries: the event's type as subscribers name it, the
 * JSON body, and the `webhook-id`, derived from the endpoint and the
 * event's place in the history so that it is the same on every retry and
 * after a restart (the receiver's idempotency key).
 */

import { createHash } from 'node:crypto';
import type { OrderEvent } from '../../protocol.ts';
import type { WebhookEventType } from './model.ts';

/**
 * The webhook type of an order event.
 * @param event an event of the tail
 */
export function webhookType(event: OrderEvent): WebhookEventType {
  return event.type === 'order.updated' ? 'order.status_changed' : event.type;
}

/**
 * The `webhook-id` of an event sent to an endpoint: stable, and unique per
 * endpoint, history (epoch) and seq.
 * @param endpointId the endpoint
 * @param epoch the history the event belongs to
 * @param seq the event's seq
 */
export function webhookId(endpointId: string, epoch: string, seq: number): string {
  const digest = createHash('sha256').update(`${endpointId}\n${epoch}\n${seq}`).digest('base64url').slice(0, 22);
  return `msg_${digest}`;
}

/**
 * The body: `{ type, timestamp, data: { seq, order, previousStatus? } }`.
 * `timestamp` is when the change was made (for a delete, when it is first sent).
 * @param event the event
 * @param now the time to use when the event carries none
 */
export function webhookBody(event: OrderEvent, now: Date): string {
  const timestamp = event.type === 'order.deleted' ? now.toISOString() : event.order.updatedAt;
  const data = event.type === 'order.updated' ? { seq: event.seq, order: event.order, previousStatus: event.previousStatus } : { seq: event.seq, order: event.order };
  return JSON.stringify({ type: webhookType(event), timestamp, data });
}
