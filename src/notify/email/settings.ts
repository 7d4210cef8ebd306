/**
 * @module notify/email/settings
 * What the customer emails need to know, read from the environment:
 * `SMTP_URL`, `MAIL_FROM`, `PUBLIC_URL`, `EMAIL_ON`, `EMAIL_RETRY_SCHEDULE`.
 */

import { ORDER_STATUSES, fail, ok, type OrderStatus, type Result } from '../../protocol.ts';

/** How the emails are sent, or that they are not (no `SMTP_URL`). */
export interface EmailSettings {
  /** `smtp://user:pass@host:587` or `smtps://…`; never logged (it may hold a password). */
  readonly smtpUrl: string;
  /** The From header, e.g. `"Shop" <orders@example.com>`. */
  readonly from: string;
  /** The bare address of {@link from}: the domain of Message-IDs and the mailto of List-Unsubscribe. */
  readonly fromAddress: string;
  /** The base of links in emails (`https://shop.example.com`), without a trailing slash. */
  readonly publicUrl: string;
  /** The statuses whose events send an email; `pending` is the order received. */
  readonly on: ReadonlySet<OrderStatus>;
  /** Seconds to wait before each retry of a 4xx (temporary) refusal; past the last one the email is given up. */
  readonly retrySchedule: readonly number[];
}

/** Statuses that send an email unless `EMAIL_ON` says otherwise. */
export const DEFAULT_EMAIL_ON: readonly OrderStatus[] = ['pending', 'shipped', 'delivered', 'cancelled'];

/** Default `EMAIL_RETRY_SCHEDULE`: a minute, five, half an hour, two hours. */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [60, 300, 1800, 7200];

/** Retries at most, and the longest wait before one, in seconds: a schedule is a few steps, not a flood. */
const RETRY_LIMITS = { steps: 20, seconds: 86_400 } as const;

/** A bare address inside `MAIL_FROM`: `"Shop" <a@b>` or `a@b`. */
const FROM_PATTERN = /^(?:[^<>\r\n]*<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>|([^<>\s@",;]+@[^<>\s@",;]+\.[^<>\s@",;]+))$/;

/**
 * Read the email settings from the environment.
 * @param env the environment
 * @returns `undefined` when `SMTP_URL` is unset (nothing is sent), or why a setting is wrong
 */
export function emailSettingsFromEnv(env: NodeJS.ProcessEnv): Result<EmailSettings | undefined, string> {
  const smtpUrl = env.SMTP_URL?.trim() ?? '';
  if (smtpUrl === '') return ok(undefined);
  let parsed: URL;
  try {
    parsed = new URL(smtpUrl);
  } catch {
    return fail('SMTP_URL must be a URL such as smtp://user:pass@host:587 or smtps://user:pass@host:465');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') return fail(`SMTP_URL must start with smtp:// or smtps://, got ${parsed.protocol}//`);
  const from = env.MAIL_FROM?.trim() ?? '';
  const address = FROM_PATTERN.exec(from);
  if (address === null) return fail('MAIL_FROM must be one sender on one line, e.g. "Shop" <orders@example.com>, when SMTP_URL is set');
  const publicUrl = (env.PUBLIC_URL?.trim() ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(publicUrl)) return fail('PUBLIC_URL must be the http(s) address customers reach this service at (the base of links in emails), when SMTP_URL is set');
  const on = parseStatuses(env.EMAIL_ON);
  if (!on.ok) return on;
  const retrySchedule = parseRetrySchedule(env.EMAIL_RETRY_SCHEDULE);
  if (!retrySchedule.ok) return retrySchedule;
  return ok({ smtpUrl, from, fromAddress: address[1] ?? address[2]!, publicUrl, on: on.value, retrySchedule: retrySchedule.value });
}

function parseStatuses(raw: string | undefined): Result<ReadonlySet<OrderStatus>, string> {
  if (raw === undefined || raw.trim() === '') return ok(new Set(DEFAULT_EMAIL_ON));
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((s) => !(ORDER_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0) return fail(`EMAIL_ON must list statuses among ${ORDER_STATUSES.join(', ')}; "${bad[0]!.slice(0, 40)}" is not one`);
  return ok(new Set(names as OrderStatus[]));
}

/**
 * Parse `EMAIL_RETRY_SCHEDULE`: seconds before each retry, comma-separated.
 * @param raw the setting
 */
export function parseRetrySchedule(raw: string | undefined): Result<readonly number[], string> {
  if (raw === undefined || raw.trim() === '') return ok(DEFAULT_RETRY_SCHEDULE);
  const steps = raw.split(',').map((s) => s.trim());
  if (steps.length > RETRY_LIMITS.steps || steps.some((s) => !/^\d+(\.\d+)?$/.test(s) || Number(s) > RETRY_LIMITS.seconds)) {
    return fail(`EMAIL_RETRY_SCHEDULE must be up to ${RETRY_LIMITS.steps} numbers of seconds (each at most ${RETRY_LIMITS.seconds}), comma-separated, e.g. 60,300,1800`);
  }
  return ok(steps.map(Number));
}
