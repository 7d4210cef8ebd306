/**
 * @module notify/webhooks/model
 * What a webhook endpoint and a delivery are, as kept in storage and as
 * the API shows them (the secret in full only on creation and rotation).
 */

import { secretHint } from './signature.ts';

/** The event types an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = ['order.created', 'order.status_changed', 'order.deleted'] as const;

/** One of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The type of the event `POST /api/webhooks/ID/test` sends. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Why an endpoint is disabled. */
export type DisabledReason = 'manual' | 'gone' | 'failing' | 'backlog';

/** An endpoint as stored. */
export interface WebhookEndpoint {
  readonly id: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  enabled: boolean;
  disabledReason?: DisabledReason;
  secret: string;
  /** The secret before the last rotation, and until when (epoch ms) it still signs. */
  previousSecret?: { readonly secret: string; readonly until: number };
  readonly createdAt: string;
  lastSuccessAt?: string;
  consecutiveFailures: number;
  /** When the current run of failures began (epoch ms). */
  failingSince?: number;
  /** Events the history no longer held when this endpoint got to them (never silently: counted and logged). */
  missedEvents: number;
}

/** One attempt at a delivery. */
export interface DeliveryAttempt {
  readonly at: string;
  readonly status: number | null;
  readonly error?: string;
  readonly durationMs: number;
}

/** A delivery: one event to one endpoint, with its attempts. */
export interface Delivery {
  /** The `webhook-id`. */
  readonly id: string;
  readonly type: string;
  /** The event's seq (absent for a test event). */
  readonly seq?: number;
  readonly orderId?: string;
  state: 'pending' | 'delivered' | 'failed';
  readonly attempts: DeliveryAttempt[];
  /** The body sent (kept so a retry sends the same). */
  readonly body: string;
}

/** An endpoint as `GET` shows it. */
export interface EndpointView {
  readonly id: string;
  readonly url: string;
  readonly events: readonly WebhookEventType[];
  readonly description: string;
  readonly enabled: boolean;
  readonly disabledReason?: DisabledReason;
  /** The secret's first characters. */
  readonly secretHint: string;
  readonly createdAt: string;
  readonly lastSuccessAt: string | null;
  readonly consecutiveFailures: number;
  /** Events committed that this endpoint has not been through yet. */
  readonly backlog: number;
  readonly missedEvents: number;
  /** The last few deliveries' outcomes, newest first (what the page shows). */
  readonly lastAttempts: readonly { readonly id: string; readonly type: string; readonly seq?: number; readonly state: string; readonly status: number | null; readonly at: string }[];
}

/**
 * The API's view of an endpoint.
 * @param endpoint as stored
 * @param backlog events not yet gone through
 * @param recent its recent deliveries, oldest first
 */
export function endpointView(endpoint: WebhookEndpoint, backlog: number, recent: readonly Delivery[]): EndpointView {
  const lastAttempts = recent
    .filter((delivery) => delivery.attempts.length > 0)
    .slice(-5)
    .reverse()
    .map((delivery) => {
      const last = delivery.attempts[delivery.attempts.length - 1]!;
      return { id: delivery.id, type: delivery.type, ...(delivery.seq === undefined ? {} : { seq: delivery.seq }), state: delivery.state, status: last.status, at: last.at };
    });
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    ...(endpoint.disabledReason === undefined ? {} : { disabledReason: endpoint.disabledReason }),
    secretHint: secretHint(endpoint.secret),
    createdAt: endpoint.createdAt,
    lastSuccessAt: endpoint.lastSuccessAt ?? null,
    consecutiveFailures: endpoint.consecutiveFailures,
    backlog: Math.max(0, backlog),
    missedEvents: endpoint.missedEvents,
    lastAttempts,
  };
}

/**
 * A delivery as the API shows it (without the body).
 * @param delivery as kept
 */
export function deliveryView(delivery: Delivery): Omit<Delivery, 'body'> {
  const { body: _body, ...view } = delivery;
  return view;
}
