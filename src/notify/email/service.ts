/**
 * @module notify/email/service
 * Customer emails as the server sees them: on (with `SMTP_URL`) or off,
 * what was emailed per order, and one-click unsubscribe. Says once at
 * start-up which it is.
 */

import type { Storage } from '../../store/ports.ts';
import type { Logger } from '../../support/logger.ts';
import { EmailNotifier, type EmailAttempt, type EmailRecord } from './notifier.ts';
import type { EmailSettings } from './settings.ts';
import { openSmtpTransport, type MailTransport } from './smtp.ts';
import { FileUnsubscribeList, MemoryUnsubscribeList, UnsubscribeTokens, type UnsubscribeList } from './unsubscribe.ts';

/** What the HTTP routes and the composition need of the emails. */
export interface EmailService {
  /** Whether emails are sent at all (`SMTP_URL` set). */
  readonly enabled: boolean;
  /** The consumer, when enabled. */
  readonly notifier: EmailNotifier | undefined;
  /** What was emailed about an order. */
  emailsFor(orderId: string): readonly EmailRecord[];
  /**
   * Stop emails about the order a link's token names.
   * @returns the order id, or `undefined` when the token is not one of ours
   */
  unsubscribe(token: string): Promise<string | undefined>;
  /** Whether a link's token is one of ours (the confirm page). */
  checkUnsubscribe(token: string): string | undefined;
  /** End waits before retries: the batch in hand then fails and is sent again from the saved position. */
  interrupt(): void;
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
      emailsFor: () => [],
      unsubscribe: async (token) => {
        const orderId = tokens.orderFor(token);
        if (orderId !== undefined) await unsubscribed.add(orderId);
        return orderId;
      },
      checkUnsubscribe: (token) => tokens.orderFor(token),
      interrupt: () => {},
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
  const notifier = new EmailNotifier({
    settings,
    shopName: options.shopName,
    transport,
    trackingToken: options.trackingToken,
    unsubscribeTokens: tokens,
    unsubscribed,
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
    interrupt: () => notifier.interrupt(),
    close: () => transport.close(),
  };
}

/** Unsubscribes are kept where the orders are: DATA_DIR for the journal, this process otherwise (see the README for Redis). */
function unsubscribeListFor(storage: Storage): UnsubscribeList {
  const dataDir = storage.log.stats().dataDir;
  if (storage.mode === 'journal' && typeof dataDir === 'string') return FileUnsubscribeList.open(dataDir);
  return new MemoryUnsubscribeList();
}
