/**
 * @module notify/webhooks/endpoint-worker
 * One endpoint's durable consumer of the tail. It is handed events in seq
 * order, a batch at a time; the position moves past a batch only once
 * every event of it is delivered (or given up after the last retry), so a
 * crash sends again only what was in hand. Events of one order go one
 * after another; different orders of a batch go side by side, a few at a
 * time. Retries wait on the schedule, with jitter, or as long as
 * `Retry-After` asks; a 410, failing for too long, or too big a backlog
 * disable the endpoint, and the position stays where it was, so
 * re-enabling resumes there.
 */

import type { OrderEvent } from '../../protocol.ts';
import { attemptDelivery, type AttemptContext } from './attempt.ts';
import { MAX_CONNECTIONS_PER_ENDPOINT } from './send.ts';
import type { DisabledReason, WebhookEndpoint } from './model.ts';
import { webhookBody, webhookId, webhookType } from './payload.ts';
import type { WebhookHost } from './host.ts';
import type { ConsumerPositions } from '../../store/ports.ts';

/** Orders of one batch in flight to an endpoint at once: one per kept connection. */
const MAX_IN_FLIGHT_PER_ENDPOINT = MAX_CONNECTIONS_PER_ENDPOINT;

/** Events handed over at once: what a crash may send twice at most. */
const MAX_BATCH = 64;

/** Jitter on each wait: up to this share of it, either way. */
const JITTER = 0.2;

/** What a worker needs from the service that runs it. */
export interface WorkerContext extends AttemptContext {
  readonly host: WebhookHost;
  /** Where its position is saved (the lease holder's fenced positions with a shared history); the storage's otherwise. */
  readonly positions?: ConsumerPositions;
  /** With a shared history: whether this instance may still send (it surely holds the sender lease); checked before each attempt. */
  readonly holding?: () => boolean;
  /** Disable the endpoint (the service stops this worker). */
  readonly disable: (endpoint: WebhookEndpoint, reason: DisabledReason) => void;
  /** Told of events the history no longer held when this endpoint got to them. */
  readonly onMissed: (endpoint: WebhookEndpoint, missed: number) => void;
}

/** Thrown out of a batch when the endpoint was disabled or the worker stopped: the position stays. */
class WorkerStopped extends Error {
  constructor() {
    super('the webhook endpoint was disabled or stopped; its position stays where it was');
    this.name = 'WorkerStopped';
  }
}

/**
 * The consumer name of an endpoint.
 * @param endpointId the endpoint's id
 */
export function consumerName(endpointId: string): string {
  return `webhook.${endpointId}`;
}

/** Delivers the tail to one endpoint. */
export class EndpointWorker {
  readonly endpoint: WebhookEndpoint;
  readonly #ctx: WorkerContext;
  readonly #abort = new AbortController();
  #stopConsumer: (() => Promise<void>) | undefined;
  /** The start in progress or done: a stop waits for it, so no position is saved after a stop resolved. */
  #starting: Promise<void> | undefined;
  #lastSeq: number;
  #watchdog: NodeJS.Timeout | undefined;
  /** The backlog past which it is disabled: the bound, plus what it had when it (re)started, so re-enabling leaves room to catch up. */
  readonly #maxBacklog: number;

  /**
   * @param ctx the service's settings and callbacks
   * @param endpoint the endpoint (changes to it apply from the next event)
   * @param lastSeq the last seq it has been through
   */
  constructor(ctx: WorkerContext, endpoint: WebhookEndpoint, lastSeq: number) {
    this.#ctx = ctx;
    this.endpoint = endpoint;
    this.#lastSeq = lastSeq;
    this.#maxBacklog = ctx.settings.maxBacklog + this.backlog;
  }

  /** Events committed that it has not been through. */
  get backlog(): number {
    return Math.max(0, this.#ctx.host.position.seq - this.#lastSeq);
  }

  /** The last seq it has been through. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Register its consumer: it goes on from the position saved last. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    // Past its bound the backlog disables the endpoint even while an attempt hangs until its timeout.
    this.#watchdog = setInterval(() => {
      if (this.endpoint.enabled && this.backlog > this.#maxBacklog) this.#ctx.disable(this.endpoint, 'backlog');
    }, BACKLOG_CHECK_MS);
    this.#watchdog.unref();
    this.#stopConsumer = await this.#ctx.host.register({
      name: consumerName(this.endpoint.id),
      durable: true,
      maxBatch: MAX_BATCH,
      handle: (events) => this.#handle(events),
      onMissed: (missed) => this.#ctx.onMissed(this.endpoint, missed.missed),
    }, this.#ctx.positions);
    if (this.#abort.signal.aborted) await this.#stopConsumer();
  }

  /** Stop: attempts in flight are cut, waits end, the position stays after the last batch done; nothing saves it once this resolves. */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog);
    this.#abort.abort();
    // A first start saves where it starts: a stop during the start must not resolve before that save.
    await this.#starting?.catch(() => undefined);
    await this.#stopConsumer?.();
    this.#ctx.sender.closePool(this.endpoint.id);
  }

  async #handle(events: readonly OrderEvent[]): Promise<void> {
    this.#checkRunning();
    const wanted = events.filter((event) => (this.endpoint.events as readonly string[]).includes(webhookType(event)));
    const byOrder = new Map<string, OrderEvent[]>();
    for (const event of wanted) {
      const list = byOrder.get(event.order.id);
      if (list === undefined) byOrder.set(event.order.id, [event]);
      else list.push(event);
    }
    const queues = [...byOrder.values()];
    const lane = async (): Promise<void> => {
      for (let queue = queues.shift(); queue !== undefined; queue = queues.shift()) {
        for (const event of queue) await this.#deliver(event);
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(MAX_IN_FLIGHT_PER_ENDPOINT, queues.length) }, lane));
    const failed = lanes.find((lane): lane is PromiseRejectedResult => lane.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    this.#lastSeq = events[events.length - 1]!.seq;
  }

  /** Deliver one event: at once, then on the retry schedule; the last failure marks it failed and goes on. */
  async #deliver(event: OrderEvent): Promise<void> {
    const { settings, deliveries, now } = this.#ctx;
    const id = webhookId(this.endpoint.id, this.#ctx.host.position.epoch, event.seq);
    const delivery = deliveries.open(this.endpoint.id, { id, type: webhookType(event), seq: event.seq, orderId: event.order.id, state: 'pending', attempts: [], body: webhookBody(event, new Date(now())) });
    if (delivery.state === 'delivered') return; // a manual retry got it there already
    for (let retry = 0; ; retry++) {
      this.#checkRunning();
      const last = retry >= settings.retryScheduleMs.length;
      const result = await attemptDelivery(this.#ctx, this.endpoint, delivery, retry === 0 ? 'first' : 'retry', this.#abort.signal, last, this.endpoint.id);
      this.#checkRunning();
      if (result.status !== null && result.status >= 200 && result.status < 300) return;
      if (result.status === 410) return this.#disable('gone');
      if (this.endpoint.failingSince !== undefined && now() - this.endpoint.failingSince > settings.disableAfterMs) return this.#disable('failing');
      if (last) return;
      const wait = result.retryAfterMs ?? withJitter(settings.retryScheduleMs[retry]!);
      await this.#sleep(wait);
    }
  }

  #disable(reason: DisabledReason): never {
    this.#ctx.disable(this.endpoint, reason);
    throw new WorkerStopped();
  }

  /** Throw out of the batch when stopped, disabled or no longer the sender; disable when the backlog is past its bound. */
  #checkRunning(): void {
    // The lease may run out before its loss stops this worker (the event loop was busy): no attempt after that.
    if (this.#abort.signal.aborted || !this.endpoint.enabled || this.#ctx.holding?.() === false) throw new WorkerStopped();
    if (this.backlog > this.#maxBacklog) this.#disable('backlog');
  }

  /** Wait, ending early on stop (a disable stops the worker too). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }
}

/** How often a worker looks at its backlog, whatever it is doing (waiting for an answer or a retry), in milliseconds. */
const BACKLOG_CHECK_MS = 1000;

/** A wait moved by up to {@link JITTER} of itself, so endpoints recovering together do not retry in step. */
function withJitter(ms: number): number {
  return Math.max(0, Math.round(ms * (1 - JITTER + 2 * JITTER * Math.random())));
}
