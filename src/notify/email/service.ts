/**
 * @module notify/email/service
 * Customer emails as the server sees them: on (with `SMTP_URL`) or off,
 * what was emailed per order, and one-click unsubscribe. Says once at
 * start-up which it is.
 */

import type { ConsumerPositions, Storage } from '../../store/ports.ts';
import { SenderLease } from '../lease.ts';
import { FileOutbox, MemoryOutbox, RedisOutbox, type Outbox } from './outbox.ts';
import type { Logger } from '../../support/logger.ts';
import { EMAIL_CONSUMER_NAME, EmailNotifier, type EmailAttempt, type EmailConsumerSpec } from './notifier.ts';
import { FileEmailLog, MemoryEmailLog, RedisEmailLog, type EmailLog, type EmailRecord } from './email-log.ts';
import type { EmailSettings } from './settings.ts';
import { openSmtpTransport, type MailTransport } from './smtp.ts';
import { FileUnsubscribeList, MemoryUnsubscribeList, RedisUnsubscribeList, UnsubscribeTokens, type UnsubscribeList } from './unsubscribe.ts';

/** What the HTTP routes and the composition need of the emails. */
export interface EmailService {
  /** Whether emails are sent at all (`SMTP_URL` set). */
  readonly enabled: boolean;
  /** The consumer, when enabled. */
  readonly notifier: EmailNotifier | undefined;
  /** What was emailed about an order. */
  emailsFor(orderId: string): Promise<readonly EmailRecord[]>;
  /**
   * Stop emails about the order a link's token names.
   * @returns the order id, or `undefined` when the token is not one of ours
   */
  unsubscribe(token: string): Promise<string | undefined>;
  /** Whether a link's token is one of ours (the confirm page). */
  checkUnsubscribe(token: string): string | undefined;
  /**
   * Start sending, as a durable consumer of the tail; with a shared history
   * only while this instance holds the email sender lease.
   * @param register the node's `register`
   */
  start(register: Register): void;
  /** Stop sending: waits before retries end (that batch is sent again from the saved position), the lease is given up. */
  stop(): Promise<void>;
  /** Close the SMTP connections (after the node stopped its consumers). */
  close(): void;
}

/** What {@link createEmailService} needs. */
export interface EmailServiceOptions {
  readonly settings: EmailSettings | undefined;
  readonly shopName: string;
  readonly storage: Storage;
  readonly trackingToken: (orderId: string) => string;
  readonly logger: Logger;
  readonly onAttempt?: (attempt: EmailAttempt) => void;
}

/**
 * Build the email side of a server. nodemailer is imported only when
 * `settings` is given; the import starts now and the first send waits for it.
 * @param options see {@link EmailServiceOptions}
 */
export function createEmailService(options: EmailServiceOptions): EmailService {
  const { settings, storage, logger } = options;
  const tokens = new UnsubscribeTokens(storage.trackingKey);
  const unsubscribed = unsubscribeListFor(storage);
  if (settings === undefined) {
    logger.info('customer emails are off: set SMTP_URL (with MAIL_FROM and PUBLIC_URL) to send them');
    return {
      enabled: false,
      notifier: undefined,
      emailsFor: async () => [],
      unsubscribe: async (token) => {
        const orderId = tokens.orderFor(token);
        if (orderId !== undefined) await unsubscribed.add(orderId);
        return orderId;
      },
      checkUnsubscribe: (token) => tokens.orderFor(token),
      start: () => {},
      stop: async () => {},
      close: () => {},
    };
  }
  const url = new URL(settings.smtpUrl);
  logger.info('customer emails are on', { smtp: `${url.protocol}//${url.hostname}${url.port === '' ? '' : `:${url.port}`}`, on: [...settings.on], publicUrl: settings.publicUrl });
  const opening = openSmtpTransport(settings.smtpUrl);
  // A failed import is reported by the first send that waits for it.
  opening.catch(() => undefined);
  const transport: MailTransport = {
    send: async (email) => (await opening).send(email),
    close: () => void opening.then((t) => t.close(), () => undefined),
  };
  let running: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
  const notifier = new EmailNotifier({
    settings,
    shopName: options.shopName,
    transport,
    trackingToken: options.trackingToken,
    unsubscribeTokens: tokens,
    unsubscribed,
    outbox: outboxFor(storage),
    log: emailLogFor(storage),
    logger,
    ...(options.onAttempt === undefined ? {} : { onAttempt: options.onAttempt }),
  });
  return {
    enabled: true,
    notifier,
    emailsFor: (orderId) => notifier.emailsFor(orderId),
    unsubscribe: async (token) => {
      const orderId = tokens.orderFor(token);
      if (orderId !== undefined) await unsubscribed.add(orderId);
      return orderId;
    },
    checkUnsubscribe: (token) => tokens.orderFor(token),
    start: (register) => {
      running = runConsumer(notifier, register, storage, logger);
    },
    stop: async () => {
      notifier.interrupt();
      await (await running)?.();
    },
    close: () => transport.close(),
  };
}

/** The node's `register`: a paced consumer, with the positions it saves to. */
export type Register = (spec: EmailConsumerSpec, positions?: ConsumerPositions) => Promise<() => Promise<void>>;

/**
 * Register the consumer: at once on a history of its own; behind the sender
 * lease on a shared one (one instance sends; a successor takes over within
 * the lease's time). Resolves with what stops it.
 */
async function runConsumer(notifier: EmailNotifier, register: Register, storage: Storage, logger: Logger): Promise<(() => Promise<void>) | undefined> {
  const side = storage.sideKeys;
  if (!storage.shared || side === undefined) {
    try {
      const stop = await register(notifier.spec);
      await notifier.startRetries();
      return stop;
    } catch (error) {
      logger.error('customer emails could not start', { error });
      return undefined;
    }
  }
  let stopConsumer: (() => Promise<void>) | undefined;
  const lease = new SenderLease({
    side,
    positions: storage.positions,
    name: EMAIL_CONSUMER_NAME,
    logger,
    onAcquired: async (positions) => {
      notifier.resume();
      stopConsumer = await register(notifier.spec, positions);
      // What the previous holder left waiting is this instance's to retry now.
      await notifier.startRetries();
    },
    onLost: async () => {
      notifier.interrupt();
      const stop = stopConsumer;
      stopConsumer = undefined;
      await stop?.();
    },
  });
  lease.start();
  return () => lease.stop();
}

/** What was emailed is kept where the orders are. */
function emailLogFor(storage: Storage): EmailLog {
  if (storage.dataDir !== undefined) return FileEmailLog.open(storage.dataDir);
  if (storage.sideKeys !== undefined) return new RedisEmailLog(storage.sideKeys);
  return new MemoryEmailLog();
}

/** Emails waiting for a retry are kept where the orders are, as unsubscribes are. */
function outboxFor(storage: Storage): Outbox {
  if (storage.dataDir !== undefined) return FileOutbox.open(storage.dataDir);
  if (storage.sideKeys !== undefined) return new RedisOutbox(storage.sideKeys);
  return new MemoryOutbox();
}

/** Unsubscribes are kept where the orders are: DATA_DIR for the journal, a set beside the history in Redis, this process in memory mode. */
function unsubscribeListFor(storage: Storage): UnsubscribeList {
  if (storage.dataDir !== undefined) return FileUnsubscribeList.open(storage.dataDir);
  if (storage.sideKeys !== undefined) return new RedisUnsubscribeList(storage.sideKeys);
  return new MemoryUnsubscribeList();
}
