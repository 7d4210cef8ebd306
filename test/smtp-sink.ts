/**
 * A real SMTP server on an ephemeral port (smtp-server) that parses what it
 * is sent (mailparser) and refuses recipients as a test says: a 451 for the
 * first N tries, or a 550 always.
 */

import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

/** How the sink answers RCPT TO for an address. */
export type RecipientRule = { readonly kind: 'temporary'; times: number } | { readonly kind: 'permanent' };

/** The running sink. */
export interface SmtpSink {
  readonly port: number;
  readonly url: string;
  /** Every email accepted, parsed, in arrival order. */
  readonly received: ParsedMail[];
  /** RCPT TO tries per address. */
  readonly tries: Map<string, number>;
  /** Rules per recipient address. */
  readonly rules: Map<string, RecipientRule>;
  /** Resolves once `predicate` holds over what was received. */
  until(predicate: (mails: readonly ParsedMail[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** An SMTP error with a reply code, as smtp-server sends it. */
function refusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * Start a sink on 127.0.0.1, port 0.
 * @param options `delayMs`: how long it takes to accept each email (a slow server)
 */
export async function startSmtpSink(options: { readonly delayMs?: number } = {}): Promise<SmtpSink> {
  const received: ParsedMail[] = [];
  const tries = new Map<string, number>();
  const rules = new Map<string, RecipientRule>();
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const list = waiters;
    waiters = [];
    for (const w of list) w();
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      const to = address.address;
      tries.set(to, (tries.get(to) ?? 0) + 1);
      const rule = rules.get(to);
      if (rule?.kind === 'permanent') return callback(refusal(550, 'mailbox unavailable'));
      if (rule?.kind === 'temporary' && rule.times > 0) {
        rule.times--;
        return callback(refusal(451, 'try again later'));
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      simpleParser(stream).then(
        (mail) => {
          setTimeout(() => {
            received.push(mail);
            callback();
            wake();
          }, options.delayMs ?? 0);
        },
        (error: Error) => callback(error),
      );
    },
  });
  // A client killed mid-session resets its connection: expected in these tests, not a failure of the sink.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    tries,
    rules,
    async until(predicate, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${received.length} emails`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
