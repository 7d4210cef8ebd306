/**
 * @module observe/metrics
 * The Prometheus metrics of one server, in a registry of their own (never
 * prom-client's global one: tests run many servers in one process). Most
 * are read when scraped from counts the hub, the WebSocket endpoint and the
 * projection keep anyway, so the hot paths pay nothing for them; only HTTP
 * requests, storage appends, sampled fan-out lag and webhook and email
 * attempts are counted as they happen.
 */

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ORDER_STATUSES, type OrderStatus } from '../domain/statuses.ts';
import type { HttpMetrics } from './http-metrics.ts';
import { RequestMetrics } from './http-metrics.ts';

/** Prefix of every metric of ours (the default ones keep prom-client's names). */
export const METRIC_PREFIX = 'liveorders_';

/** The content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** How a webhook delivery attempt ended. */
export const WEBHOOK_OUTCOMES = ['delivered', 'rejected', 'failed', 'timeout'] as const;
/** One of {@link WEBHOOK_OUTCOMES}. */
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** How an attempt to send a customer email ended: sent; `retry`, a temporary (4xx) refusal tried again later; `failed`, given up. */
export const EMAIL_OUTCOMES = ['sent', 'retry', 'failed'] as const;
/** One of {@link EMAIL_OUTCOMES}. */
export type EmailOutcome = (typeof EMAIL_OUTCOMES)[number];

/** How a reconnecting client was served: from the in-memory ring, from the backend's history, or with a fresh snapshot. */
export const RESUME_OUTCOMES = ['ring', 'history', 'reset'] as const;

/** Who a WebSocket is, as a label: a role, `customer` (a tracking token), or `open` (no tokens configured). */
export const CONNECTION_ROLES = ['admin', 'operator', 'viewer', 'customer', 'open'] as const;
/** One of {@link CONNECTION_ROLES}. */
export type ConnectionRole = (typeof CONNECTION_ROLES)[number];

/** Kinds of message the server sends over WebSocket, as a label. */
export const SENT_MESSAGE_TYPES = ['snapshot', 'events', 'resumed', 'ack', 'error', 'pong', 'refreshed', 'productUpdated', 'other'] as const;
/** One of {@link SENT_MESSAGE_TYPES}. */
export type SentMessageType = (typeof SENT_MESSAGE_TYPES)[number];

/**
 * Default metrics whose cost grows with every open socket: at each scrape
 * they list every libuv handle (`process._getActiveHandles()`), every
 * active resource (`process.getActiveResourcesInfo()`) or every file
 * descriptor (`readdirSync('/proc/self/fd')`), which with 20,000 sockets
 * costs the event loop tens of milliseconds. Open sockets are
 * `liveorders_websocket_connections`.
 */
export const PER_HANDLE_METRICS = ['nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total', 'process_open_fds'] as const;

/** Seconds: storage appends take from tens of microseconds (memory) to tens of milliseconds (an fsync on a slow disk). */
const APPEND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Seconds from an event leaving the tail to its frame written to the last socket that gets it. */
const FANOUT_LAG_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the scrape-time metrics are read from: counts the server keeps anyway. */
export interface MetricsSources {
  /** Open WebSocket connections by who they are. */
  connectionsByRole(): Readonly<Record<ConnectionRole, number>>;
  /** Messages sent over WebSocket so far, by kind (event frames from the hub included). */
  messagesSent(): Readonly<Record<SentMessageType, number>>;
  /** Resumes served so far, by how. */
  resumes(): { readonly fromRing: number; readonly fromHistory: number; readonly reset: number };
  /** Sockets dropped so far because they read too slowly. */
  slowClientsDropped(): number;
  /** Orders this instance's projection holds, by status. */
  ordersByStatus(): Readonly<Record<OrderStatus, number>>;
}

/**
 * What the webhook and email senders call, one attempt at a time. Outcomes
 * are a fixed set: no label ever carries an endpoint's URL, an address or an id.
 */
export interface AttemptMetrics {
  /** @param outcome how one webhook delivery attempt ended */
  countWebhookAttempt(outcome: WebhookOutcome): void;
  /** @param outcome how one email attempt ended */
  countEmailAttempt(outcome: EmailOutcome): void;
}

/** Where storage append times are told. */
export interface AppendMetrics {
  /** @param seconds how long one append to the backend's log took, committed or not */
  observeAppend(seconds: number): void;
}

/** Where sampled fan-out lags are told. */
export interface FanOutLagMetrics {
  /** @param seconds from an event leaving the tail to its frame written to the last socket */
  observeFanOutLag(seconds: number): void;
}

/** One server's metrics and the registry that renders them. */
export class Metrics implements AttemptMetrics, AppendMetrics, FanOutLagMetrics {
  readonly registry = new Registry();
  /** What the HTTP layer records each request into. */
  readonly http: HttpMetrics;
  readonly #append: Histogram;
  readonly #fanOutLag: Histogram;
  readonly #webhookAttempts: Counter<'outcome'>;
  readonly #emailAttempts: Counter<'outcome'>;
  #defaultsStarted = false;

  /** @param sources where the scrape-time metrics are read */
  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: `${METRIC_PREFIX}websocket_connections`,
      help: 'Open WebSocket connections, by role (admin, operator, viewer; customer: a tracking token; open: no tokens configured)',
      labelNames: ['role'],
      registers,
      collect() {
        const counts = sources.connectionsByRole();
        for (const role of CONNECTION_ROLES) this.set({ role }, counts[role]);
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}messages_sent_total`,
      help: 'Messages sent over WebSocket, by type (events: one frame of events to one socket)',
      labelNames: ['type'],
      registers,
      collect() {
        const counts = sources.messagesSent();
        this.reset();
        for (const type of SENT_MESSAGE_TYPES) this.inc({ type }, counts[type]);
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}resumes_total`,
      help: 'Reconnecting clients served, by outcome: ring (replayed from memory), history (replayed from storage), reset (a fresh snapshot)',
      labelNames: ['outcome'],
      registers,
      collect() {
        const { fromRing, fromHistory, reset } = sources.resumes();
        this.reset();
        this.inc({ outcome: 'ring' }, fromRing);
        this.inc({ outcome: 'history' }, fromHistory);
        this.inc({ outcome: 'reset' }, reset);
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}slow_clients_dropped_total`,
      help: 'WebSockets closed with 1013 because they read too slowly',
      registers,
      collect() {
        this.reset();
        this.inc(sources.slowClientsDropped());
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}orders`,
      help: 'Orders this instance knows, by status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = sources.ordersByStatus();
        for (const status of ORDER_STATUSES) this.set({ status }, counts[status]);
      },
    });
    this.#append = new Histogram({
      name: `${METRIC_PREFIX}storage_append_duration_seconds`,
      help: "Time one append to the storage backend's log took, committed or refused",
      buckets: APPEND_BUCKETS,
      registers,
    });
    this.#fanOutLag = new Histogram({
      name: `${METRIC_PREFIX}fanout_lag_seconds`,
      help: 'Sampled: from a committed event leaving the tail to its frame written to the last socket that gets it',
      buckets: FANOUT_LAG_BUCKETS,
      registers,
    });
    this.#webhookAttempts = new Counter({
      name: `${METRIC_PREFIX}webhook_attempts_total`,
      help: `Webhook delivery attempts, by outcome (${WEBHOOK_OUTCOMES.join(', ')})`,
      labelNames: ['outcome'],
      registers,
    });
    this.#emailAttempts = new Counter({
      name: `${METRIC_PREFIX}email_attempts_total`,
      help: `Customer email attempts, by outcome (${EMAIL_OUTCOMES.join(', ')})`,
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome is shown from the start, at zero: a rate over a series that appears late reads wrong.
    for (const outcome of WEBHOOK_OUTCOMES) this.#webhookAttempts.inc({ outcome }, 0);
    for (const outcome of EMAIL_OUTCOMES) this.#emailAttempts.inc({ outcome }, 0);
    this.http = new RequestMetrics(registers);
  }

  countWebhookAttempt(outcome: WebhookOutcome): void {
    // Typed callers cannot pass anything else; an untyped one must not put a URL or an id in a label.
    this.#webhookAttempts.inc({ outcome: (WEBHOOK_OUTCOMES as readonly string[]).includes(outcome) ? outcome : 'failed' });
  }

  countEmailAttempt(outcome: EmailOutcome): void {
    this.#emailAttempts.inc({ outcome: (EMAIL_OUTCOMES as readonly string[]).includes(outcome) ? outcome : 'failed' });
  }

  observeAppend(seconds: number): void {
    this.#append.observe(seconds);
  }

  observeFanOutLag(seconds: number): void {
    this.#fanOutLag.observe(seconds);
  }

  /**
   * The whole exposition, as Prometheus scrapes it. The process and Node
   * metrics start with the first scrape: a server nobody scrapes (tests
   * start hundreds) keeps no GC observer or event-loop monitor for them.
   */
  render(): Promise<string> {
    if (!this.#defaultsStarted) {
      this.#defaultsStarted = true;
      collectDefaultMetrics({ register: this.registry });
      for (const name of PER_HANDLE_METRICS) this.registry.removeSingleMetric(name);
    }
    return this.registry.metrics();
  }
}
