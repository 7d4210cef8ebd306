/**
 * @module notify/webhooks/settings
 * The webhook settings and where they come from: `WEBHOOK_RETRY_SCHEDULE`,
 * `WEBHOOK_TIMEOUT_MS`, `WEBHOOK_DISABLE_AFTER_HOURS`,
 * `WEBHOOK_MAX_BACKLOG`, `WEBHOOK_ALLOW_PRIVATE`.
 */

import { fail, ok, type Result } from '../../protocol.ts';

/** How webhooks are sent. */
export interface WebhookSettings {
  /** The waits before each retry, in milliseconds; after the last, a delivery is marked failed. */
  readonly retryScheduleMs: readonly number[];
  readonly timeoutMs: number;
  /** An endpoint failing for longer than this is disabled. */
  readonly disableAfterMs: number;
  /** Events an endpoint may be behind; past it, it is disabled with reason `backlog`. */
  readonly maxBacklog: number;
  /** Whether private, loopback and link-local targets are allowed. */
  readonly allowPrivate: boolean;
}

/** Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;

/** The defaults. */
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  retryScheduleMs: DEFAULT_RETRY_SCHEDULE_SECONDS.map((seconds) => seconds * 1000),
  timeoutMs: 15_000,
  disableAfterMs: 72 * 3600_000,
  maxBacklog: 100_000,
  allowPrivate: false,
};

/**
 * Read the settings from the environment.
 * @param env the environment
 * @returns the settings, or a sentence saying which variable is wrong
 */
export function webhookSettingsFromEnv(env: NodeJS.ProcessEnv): Result<WebhookSettings, string> {
  const set = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  let settings = DEFAULT_WEBHOOK_SETTINGS;
  const schedule = set('WEBHOOK_RETRY_SCHEDULE');
  if (schedule !== undefined) {
    const parts = schedule.split(',').map((part) => part.trim());
    if (parts.length > 50 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part) || Number(part) > 7 * 86_400)) {
      return fail(`WEBHOOK_RETRY_SCHEDULE must be the seconds before each retry, comma-separated (e.g. 5,300,1800), got "${schedule.slice(0, 100)}"`);
    }
    settings = { ...settings, retryScheduleMs: parts.map((part) => Math.round(Number(part) * 1000)) };
  }
  const timeout = set('WEBHOOK_TIMEOUT_MS');
  if (timeout !== undefined) {
    if (!/^\d{2,7}$/.test(timeout)) return fail(`WEBHOOK_TIMEOUT_MS must be a whole number of milliseconds (at least 10), got "${timeout.slice(0, 100)}"`);
    settings = { ...settings, timeoutMs: Number(timeout) };
  }
  const hours = set('WEBHOOK_DISABLE_AFTER_HOURS');
  if (hours !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(hours) || Number(hours) <= 0) return fail(`WEBHOOK_DISABLE_AFTER_HOURS must be a positive number of hours, got "${hours.slice(0, 100)}"`);
    settings = { ...settings, disableAfterMs: Number(hours) * 3600_000 };
  }
  const backlog = set('WEBHOOK_MAX_BACKLOG');
  if (backlog !== undefined) {
    if (!/^\d{1,9}$/.test(backlog) || Number(backlog) < 1) return fail(`WEBHOOK_MAX_BACKLOG must be a whole number of events (at least 1), got "${backlog.slice(0, 100)}"`);
    settings = { ...settings, maxBacklog: Number(backlog) };
  }
  const allow = set('WEBHOOK_ALLOW_PRIVATE');
  if (allow !== undefined) {
    if (allow !== '0' && allow !== '1') return fail(`WEBHOOK_ALLOW_PRIVATE must be 0 or 1, got "${allow.slice(0, 100)}"`);
    settings = { ...settings, allowPrivate: allow === '1' };
  }
  return ok(settings);
}
