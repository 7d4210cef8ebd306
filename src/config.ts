/**
 * @module config
 * Server options from environment variables, for `npm start`. Each variable
 * maps to one {@link ServerOptions} field; a malformed value stops start-up
 * with a message naming it rather than being silently ignored.
 */

import { isLogLevel, type LogLevel } from './logger.ts';
import { fail, ok, type Result } from './protocol.ts';
import type { ServerOptions } from './server.ts';

/** Integer-valued variables and the option each sets. */
const INTEGER_VARIABLES = {
  PORT: 'port',
  MAX_CONNECTIONS: 'maxConnections',
  HEARTBEAT_INTERVAL_MS: 'heartbeatIntervalMs',
  EVENT_LOG_CAPACITY: 'eventLogCapacity',
  HIGH_WATER_MARK_BYTES: 'highWaterMark',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
} as const satisfies Record<string, keyof ServerOptions>;

/** What `npm start` runs with. */
export interface StartConfig {
  readonly options: ServerOptions;
  readonly logLevel: LogLevel;
}

/**
 * Read the configuration from `env`.
 * @param env usually `process.env`
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Result<StartConfig, string> {
  const options: Record<string, number | string | boolean> = {};
  for (const [variable, option] of Object.entries(INTEGER_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,15}$/.test(raw)) return fail(`${variable} must be a whole number, got "${raw}"`);
    options[option] = Number(raw);
  }
  if (env.HOST !== undefined && env.HOST !== '') options.host = env.HOST;
  const deflate = env.PER_MESSAGE_DEFLATE;
  if (deflate !== undefined && deflate !== '') {
    if (deflate !== '0' && deflate !== '1') return fail(`PER_MESSAGE_DEFLATE must be 0 or 1, got "${deflate}"`);
    options.perMessageDeflate = deflate === '1';
  }
  const level = env.LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) return fail(`LOG_LEVEL must be one of debug, info, warn, error, silent, got "${level}"`);
  return ok({ options: options as ServerOptions, logLevel: level });
}
