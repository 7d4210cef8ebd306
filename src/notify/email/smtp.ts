/**
 * @module notify/email/smtp
 * The one pooled SMTP transport, made with nodemailer, which is loaded only
 * here and only when `SMTP_URL` is set (as node-redis is only in Redis mode).
 */

import type { ComposedEmail } from './compose.ts';

/** What the email consumer sends through (tests use a real SMTP server behind the same transport). */
export interface MailTransport {
  /** Send one email; rejects with the server's reply (`responseCode`, `response`) when refused. */
  send(email: ComposedEmail): Promise<void>;
  /** Close the pooled connections. */
  close(): void;
}

/** Connections kept open to the SMTP server at most. */
export const SMTP_POOL_CONNECTIONS = 4;

/** How long to wait for the server to connect, greet and answer, in milliseconds. */
const SMTP_TIMEOUTS_MS = { connection: 30_000, greeting: 30_000, socket: 60_000 } as const;

/**
 * Open the pooled transport for `smtpUrl`.
 * @param smtpUrl `smtp://…` or `smtps://…`
 */
export async function openSmtpTransport(smtpUrl: string): Promise<MailTransport> {
  const { createTransport } = await import('nodemailer');
  const url = new URL(smtpUrl);
  const transporter = createTransport({
    pool: true,
    maxConnections: SMTP_POOL_CONNECTIONS,
    host: url.hostname,
    port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
    secure: url.protocol === 'smtps:',
    ...(url.username === '' ? {} : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    connectionTimeout: SMTP_TIMEOUTS_MS.connection,
    greetingTimeout: SMTP_TIMEOUTS_MS.greeting,
    socketTimeout: SMTP_TIMEOUTS_MS.socket,
    // nodemailer must not read files or URLs named in a message: ours never name any.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(email) {
      await transporter.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        headers: { ...email.headers },
      });
    },
    close: () => transporter.close(),
  };
}
