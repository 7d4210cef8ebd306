/**
 * @module notify/email/notifier
 * The email consumer of the event tail: for each event of an order with a
 * customer address, in a status `EMAIL_ON` lists, and not unsubscribed, one
 * email. A 4xx reply (or no reply) is retried after each delay of the retry
 * schedule, from the outbox (outbox.ts) so the next emails need not wait;
 * a 5xx one is given up at once. Every attempt is recorded per
 * order (what operators see) and reported through `onAttempt` (metrics).
 * `handle` settles only once each of its emails was sent, given up or kept
 * in the outbox, so a durable consumer position saved after it means at
 * least once.
 */

import type { Order, OrderEvent } from '../../protocol.ts';
import type { Logger } from '../../support/logger.ts';
import { composeEmail, type ComposedEmail } from './compose.ts';
import type { EmailLog, EmailRecord } from './email-log.ts';
import { OUTBOX_MAX, outboxKey, type Outbox, type OutboxEntry } from './outbox.ts';
import type { EmailSettings } from './settings.ts';
import type { MailTransport } from './smtp.ts';
import type { UnsubscribeList, UnsubscribeTokens } from './unsubscribe.ts';

/** The consumer's name: where its position is kept. */
export const EMAIL_CONSUMER_NAME = 'email';

/** Orders emailed to at once within a batch; one order's emails go one after another, in order. */
const PARALLEL_ORDERS = 4;


/** One attempt's outcome, for metrics. */
export interface EmailAttempt {
  readonly orderId: string;
  readonly status: string;
  /** `sent`; `retry` (a temporary refusal, tried again later); `failed` (given up). */
  readonly outcome: 'sent' | 'retry' | 'failed';
  /** The SMTP reply code, when the server gave one. */
  readonly code?: number;
}

/** What the consumer needs. */
export interface EmailNotifierOptions {
  readonly settings: EmailSettings;
  readonly shopName: string;
  readonly transport: MailTransport;
  /** The tracking token of an order (its link in the email). */
  readonly trackingToken: (orderId: string) => string;
  readonly unsubscribeTokens: UnsubscribeTokens;
  readonly unsubscribed: UnsubscribeList;
  readonly logger: Logger;
  /** Told of every attempt (metrics count them). */
  readonly onAttempt?: (attempt: EmailAttempt) => void;
  /** Where what was emailed is kept. */
  readonly log: EmailLog;
  /** Where emails wait for a retry, so the next ones need not; none: retries are waited out in line. */
  readonly outbox?: Outbox;
}

/** A consumer spec, as `LiveNode.register` takes it. */
export interface EmailConsumerSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly filter: (event: OrderEvent) => boolean;
  readonly handle: (events: readonly OrderEvent[]) => Promise<void>;
}

/** Sends the customer emails; see the module comment. */
export class EmailNotifier {
  readonly #options: EmailNotifierOptions;
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  /** The outbox's emails, by key, as this instance knows them. */
  readonly #waiting = new Map<string, OutboxEntry>();
  #retryTimer: NodeJS.Timeout | undefined;
  #retrying = false;
  #stopped = false;

  /** @param options see {@link EmailNotifierOptions} */
  constructor(options: EmailNotifierOptions) {
    this.#options = options;
  }

  /** The consumer to register with the node. */
  get spec(): EmailConsumerSpec {
    return { name: EMAIL_CONSUMER_NAME, durable: true, filter: (event) => this.wants(event), handle: (events) => this.handle(events) };
  }

  /**
   * Whether an event sends an email (unsubscribes are checked when sending).
   * @param event an event of the tail
   */
  wants(event: OrderEvent): boolean {
    return event.type !== 'order.deleted' && event.order.customerEmail !== undefined && this.#options.settings.on.has(event.order.status);
  }

  /**
   * Send the emails of a batch: orders in parallel (a few), each order's in seq order.
   * Rejects when stopped before all were settled (they are sent again later).
   * @param events wanted events, in seq order
   */
  async handle(events: readonly OrderEvent[]): Promise<void> {
    const byOrder = new Map<string, OrderEvent[]>();
    for (const event of events) {
      if (!this.wants(event)) continue;
      const list = byOrder.get(event.order.id);
      if (list === undefined) byOrder.set(event.order.id, [event]);
      else list.push(event);
    }
    const queues = [...byOrder.values()];
    const workers = Array.from({ length: Math.min(PARALLEL_ORDERS, queues.length) }, async () => {
      for (let queue = queues.shift(); queue !== undefined; queue = queues.shift()) {
        for (const event of queue) await this.#emailOnce(event);
      }
    });
    await Promise.all(workers);
    if (this.#stopped) throw new Error('email consumer stopped before its batch was sent');
  }

  /**
   * What was emailed about an order, oldest first.
   * @param orderId the order
   */
  emailsFor(orderId: string): Promise<readonly EmailRecord[]> {
    return this.#options.log.list(orderId);
  }

  /**
   * Stop: waits before retries end now and nothing more is sent; the batch
   * in hand rejects, so its position is not saved and its emails go again
   * on the next start (their Message-IDs mark any repeat).
   */
  interrupt(): void {
    this.#stopped = true;
    this.#endWaits();
  }

  /** Send again after {@link interrupt} (this instance took the sender lease back). */
  resume(): void {
    this.#stopped = false;
  }

  #endWaits(): void {
    clearTimeout(this.#retryTimer);
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.#timers.clear();
  }

  async #emailOnce(event: OrderEvent): Promise<void> {
    const order = event.order;
    if (order.customerEmail === undefined || this.#stopped || (await this.#options.unsubscribed.has(order.id))) return;
    const email = this.#compose(order);
    for (let attempt = 1; ; attempt++) {
      const delay = await this.#try(order, email, attempt);
      if (delay === undefined) return;
      const outbox = this.#options.outbox;
      if (outbox !== undefined && this.#waiting.size < OUTBOX_MAX) {
        // Kept before the position moves past this event: a crash loses nothing, and the next emails need not wait.
        const entry: OutboxEntry = { key: outboxKey(order), order, attempts: attempt, due: Date.now() + delay * 1000 };
        await outbox.put(entry);
        this.#waiting.set(entry.key, entry);
        this.#scheduleRetries();
        return;
      }
      // The outbox is full (or there is none): wait here, which holds the next emails back.
      await this.#sleep(delay * 1000);
      if (this.#stopped) return;
    }
  }

  /**
   * One try at an email: recorded when sent or given up.
   * @returns the seconds to wait before the next try, or `undefined` when done (sent or given up)
   */
  async #try(order: Order, email: ComposedEmail, attempt: number): Promise<number | undefined> {
    const at = (): string => new Date().toISOString();
    try {
      await this.#options.transport.send(email);
      this.#attempted({ orderId: order.id, status: order.status, outcome: 'sent' });
      this.#record(order.id, { status: order.status, messageId: email.messageId, outcome: 'sent', at: at(), attempts: attempt });
      return undefined;
    } catch (error) {
      const { code, reply } = smtpReply(error);
      const delay = this.#options.settings.retrySchedule[attempt - 1];
      if ((code !== undefined && code >= 500) || delay === undefined) {
        this.#attempted({ orderId: order.id, status: order.status, outcome: 'failed', ...(code === undefined ? {} : { code }) });
        this.#options.logger.warn('customer email given up', { order: order.id, status: order.status, attempts: attempt, reply });
        this.#record(order.id, { status: order.status, messageId: email.messageId, outcome: 'failed', at: at(), attempts: attempt, reply });
        return undefined;
      }
      this.#attempted({ orderId: order.id, status: order.status, outcome: 'retry', ...(code === undefined ? {} : { code }) });
      return delay;
    }
  }

  #compose(order: Order): ComposedEmail {
    const { settings, shopName } = this.#options;
    return composeEmail(
      { ...order, customerEmail: order.customerEmail ?? '' },
      {
        shopName,
        from: settings.from,
        fromAddress: settings.fromAddress,
        trackingUrl: `${settings.publicUrl}/track/${this.#options.trackingToken(order.id)}`,
        unsubscribeUrl: `${settings.publicUrl}/api/email/unsubscribe/${this.#options.unsubscribeTokens.issue(order.id)}`,
      },
    );
  }

  /**
   * Start trying the emails of the outbox again when due (this instance
   * sends now: at start, or on taking the sender lease).
   */
  async startRetries(): Promise<void> {
    const outbox = this.#options.outbox;
    if (outbox === undefined) return;
    this.#waiting.clear();
    for (const entry of await outbox.load()) this.#waiting.set(entry.key, entry);
    this.#scheduleRetries();
  }

  /** Arm the timer for the earliest due email. */
  #scheduleRetries(): void {
    if (this.#stopped || this.#retrying) return;
    clearTimeout(this.#retryTimer);
    let due = Infinity;
    for (const entry of this.#waiting.values()) due = Math.min(due, entry.due);
    if (due === Infinity) return;
    this.#retryTimer = setTimeout(() => void this.#retryDue(), Math.max(0, due - Date.now()));
  }

  /** Try the due emails of the outbox, a few orders at a time. */
  async #retryDue(): Promise<void> {
    const outbox = this.#options.outbox;
    if (outbox === undefined || this.#stopped) return;
    this.#retrying = true;
    try {
      const now = Date.now();
      const due = [...this.#waiting.values()].filter((entry) => entry.due <= now);
      const workers = Array.from({ length: Math.min(PARALLEL_ORDERS, due.length) }, async () => {
        for (let entry = due.shift(); entry !== undefined && !this.#stopped; entry = due.shift()) await this.#retryOne(outbox, entry);
      });
      await Promise.all(workers);
    } catch (error) {
      this.#options.logger.error('customer email retries failed', { error });
    } finally {
      this.#retrying = false;
      this.#scheduleRetries();
    }
  }

  async #retryOne(outbox: Outbox, entry: OutboxEntry): Promise<void> {
    const { order } = entry;
    const delay = (await this.#options.unsubscribed.has(order.id)) ? undefined : await this.#try(order, this.#compose(order), entry.attempts + 1);
    if (delay === undefined) {
      this.#waiting.delete(entry.key);
      await outbox.remove(entry.key);
      return;
    }
    const next: OutboxEntry = { ...entry, attempts: entry.attempts + 1, due: Date.now() + delay * 1000 };
    this.#waiting.set(entry.key, next);
    await outbox.put(next);
  }

  #attempted(attempt: EmailAttempt): void {
    try {
      this.#options.onAttempt?.(attempt);
    } catch (error) {
      this.#options.logger.error('onAttempt failed', { error });
    }
  }

  /** Keep what happened; a record that cannot be kept is reported, and the email still counts as done. */
  #record(orderId: string, record: EmailRecord): void {
    this.#options.log.add(orderId, record).catch((error: unknown) => this.#options.logger.warn('could not keep an email record', { order: orderId, error }));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#timers.add(entry);
    });
  }
}

/** The server's reply in an SMTP error: its code and first line (no addresses or credentials beyond what the server said). */
function smtpReply(error: unknown): { code?: number; reply: string } {
  const { responseCode, response, message } = (error ?? {}) as { responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof responseCode === 'number' ? responseCode : undefined;
  const text = typeof response === 'string' ? response : typeof message === 'string' ? message : 'no reply';
  const reply = text.split(/\r?\n/)[0]!.slice(0, 200);
  return code === undefined ? { reply } : { code, reply };
}
