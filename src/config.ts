/**
 * @module config
 * Server options from environment variables, for `npm start`. Each variable
 * maps to one {@link ServerOptions} field; a malformed value stops start-up
 * with a message naming it rather than being silently ignored.
 */

import { readFileSync } from 'node:fs';
import { MIN_TOKEN_LENGTH, isStrongToken, parseTokenList } from './security/auth.ts';
import { DEFAULT_ROLE_CLAIM, parseRoleMap } from './security/claims.ts';
import { isHostNameEntry, isLoopback } from './security/edge.ts';
import type { JwtOptions } from './security/jwt.ts';
import { isLogLevel, type LogLevel } from './support/logger.ts';
import { fail, ok, type Result, type Role } from './protocol.ts';
import { SHOP_NAME_MAX, type ServerOptions } from './options.ts';
import { emailSettingsFromEnv } from './notify/email/settings.ts';
import { DEFAULT_DATA_DIR, MIN_TRACKING_SECRET_LENGTH, STORAGE_MODES, isRedisPrefix, type StorageOptions } from './store.ts';

/** Integer-valued variables and the option each sets. */
const INTEGER_VARIABLES = {
  PORT: 'port',
  MAX_CONNECTIONS: 'maxConnections',
  HEARTBEAT_INTERVAL_MS: 'heartbeatIntervalMs',
  EVENT_LOG_CAPACITY: 'eventLogCapacity',
  HIGH_WATER_MARK_BYTES: 'highWaterMark',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  WRITE_RATE_PER_MINUTE: 'writeRatePerMinute',
  CONNECTIONS_PER_ADDRESS: 'connectionsPerAddress',
  WS_MESSAGES_PER_SECOND: 'messagesPerSecond',
} as const satisfies Record<string, keyof ServerOptions>;

/** What `npm start` runs with. */
export interface StartConfig {
  readonly options: ServerOptions;
  /** Which backend, and its settings (see `openStorage`). */
  readonly storage: StorageOptions;
  readonly logLevel: LogLevel;
}

/**
 * Read the configuration from `env`.
 * @param env usually `process.env`
 */
export function configFromEnv(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): Result<StartConfig, string> {
  const options: Record<string, unknown> = {};
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
  for (const [variable, option] of [['LIVEORDERS_OPEN', 'allowOpenNetwork'], ['LIMIT_LOOPBACK', 'limitLoopback']] as const) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    if (raw !== '0' && raw !== '1') return fail(`${variable} must be 0 or 1, got "${raw}"`);
    options[option] = raw === '1';
  }
  for (const [variable, option] of [['ALLOWED_ORIGINS', 'allowedOrigins'], ['CORS_ORIGINS', 'corsOrigins']] as const) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const origins = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
    const bad = origins.find((o) => o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o));
    if (bad !== undefined) return fail(`${variable}: "${bad}" is not an origin like https://board.example.com`);
    options[option] = origins;
  }
  const shop = env.SHOP_NAME?.trim();
  if (shop !== undefined && shop !== '') {
    if (shop.length > SHOP_NAME_MAX || /[\u0000-\u001f\u007f]/.test(shop)) return fail(`SHOP_NAME must be at most ${SHOP_NAME_MAX} characters on one line, got "${shop.slice(0, 40)}…"`);
    options.shopName = shop;
  }
  const hosts = env.ALLOWED_HOSTS;
  if (hosts !== undefined && hosts !== '') {
    const names = hosts.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
    const bad = names.find((h) => !isHostNameEntry(h));
    if (bad !== undefined) return fail(`ALLOWED_HOSTS: "${bad}" is not a host name like orders.example.com (no scheme, no port)`);
    options.allowedHosts = names;
  }
  const email = emailSettingsFromEnv(env);
  if (!email.ok) return email;
  if (email.value !== undefined) options.email = email.value;
  const tokens = tokensFromEnv(env, readFile);
  if (!tokens.ok) return tokens;
  if (tokens.value.length > 0) options.tokens = tokens.value;
  const metricsToken = env.METRICS_TOKEN;
  if (metricsToken !== undefined && metricsToken !== '') {
    if (!isStrongToken(metricsToken)) return fail(`METRICS_TOKEN must be at least ${MIN_TOKEN_LENGTH} visible ASCII characters (no spaces)`);
    options.metricsToken = metricsToken;
  }
  const jwt = jwtFromEnv(env);
  if (!jwt.ok) return jwt;
  if (jwt.value !== undefined) options.jwt = jwt.value;
  const level = env.LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) return fail(`LOG_LEVEL must be one of debug, info, warn, error, silent, got "${level}"`);
  const storage = storageFromEnv(env);
  if (!storage.ok) return storage;
  return ok({ options: options as ServerOptions, storage: storage.value, logLevel: level });
}

/**
 * The storage settings: the backend, and the tracking secret.
 * @param env usually `process.env`
 */
function storageFromEnv(env: NodeJS.ProcessEnv): Result<StorageOptions, string> {
  const secret = env.TRACKING_SECRET;
  if (secret !== undefined && secret !== '' && secret.length < MIN_TRACKING_SECRET_LENGTH) {
    return fail(`TRACKING_SECRET must be at least ${MIN_TRACKING_SECRET_LENGTH} characters (e.g. the output of openssl rand -hex 24)`);
  }
  const mode = env.STORAGE === undefined || env.STORAGE === '' ? STORAGE_MODES[0] : env.STORAGE;
  if (!(STORAGE_MODES as readonly string[]).includes(mode)) {
    return fail(`STORAGE must be one of ${STORAGE_MODES.join(', ')}, got "${mode}" (journal keeps every order in DATA_DIR; memory keeps nothing across restarts; redis shares orders between instances through REDIS_URL)`);
  }
  const redis = redisFromEnv(env, mode);
  if (!redis.ok) return redis;
  const compact = env.COMPACT_AFTER_BYTES;
  if (compact !== undefined && compact !== '' && !/^\d{4,15}$/.test(compact)) return fail(`COMPACT_AFTER_BYTES must be a whole number of bytes (at least 1000), got "${compact}"`);
  const preallocate = env.PREALLOCATE_BYTES;
  if (preallocate !== undefined && preallocate !== '' && !/^\d{1,15}$/.test(preallocate)) return fail(`PREALLOCATE_BYTES must be a whole number of bytes, got "${preallocate}"`);
  return ok({
    mode: mode as StorageOptions['mode'],
    ...(mode === 'journal' ? { dataDir: env.DATA_DIR === undefined || env.DATA_DIR === '' ? DEFAULT_DATA_DIR : env.DATA_DIR } : {}),
    ...(compact === undefined || compact === '' ? {} : { compactAfterBytes: Number(compact) }),
    ...(preallocate === undefined || preallocate === '' ? {} : { preallocateBytes: Number(preallocate) }),
    ...(secret === undefined || secret === '' ? {} : { trackingSecret: secret }),
    ...redis.value,
  });
}

/** The Redis settings, in Redis mode (and a mistake named when they are set for another mode). */
function redisFromEnv(env: NodeJS.ProcessEnv, mode: string): Result<Pick<StorageOptions, 'redisUrl' | 'redisPrefix' | 'streamLength' | 'redisCommandTimeoutMs'>, string> {
  const { REDIS_URL: url, REDIS_PREFIX: prefix, REDIS_STREAM_LENGTH: length, REDIS_COMMAND_TIMEOUT_MS: timeout } = env;
  if (mode !== 'redis') {
    // Set without STORAGE, REDIS_URL most likely means instances meant to share orders: better refuse than run apart.
    const forgotten = (env.STORAGE === undefined || env.STORAGE === '') && url !== undefined && url !== '';
    return forgotten ? fail(`REDIS_URL is set but STORAGE is not: set STORAGE=redis to share orders through Redis (or STORAGE=${mode} to keep them here)`) : ok({});
  }
  if (url !== undefined && url !== '' && !/^rediss?:\/\/[^\s]+$/.test(url)) return fail(`REDIS_URL must look like redis://host:6379 (or rediss:// for TLS), got "${url}"`);
  if (prefix !== undefined && prefix !== '' && !isRedisPrefix(prefix)) return fail(`REDIS_PREFIX must be 1 to 64 letters, digits, dots, dashes or underscores, got "${prefix}"`);
  if (length !== undefined && length !== '' && !/^\d{3,9}$/.test(length)) return fail(`REDIS_STREAM_LENGTH must be a whole number of events (at least 100), got "${length}"`);
  if (timeout !== undefined && timeout !== '' && !/^\d{3,6}$/.test(timeout)) return fail(`REDIS_COMMAND_TIMEOUT_MS must be a whole number of milliseconds (at least 100), got "${timeout}"`);
  return ok({
    ...(url === undefined || url === '' ? {} : { redisUrl: url }),
    ...(timeout === undefined || timeout === '' ? {} : { redisCommandTimeoutMs: Number(timeout) }),
    ...(prefix === undefined || prefix === '' ? {} : { redisPrefix: prefix }),
    ...(length === undefined || length === '' ? {} : { streamLength: Number(length) }),
  });
}

/** The `AUTH_` variables: the identity provider whose JWTs are accepted. */
const AUTH_VARIABLES = ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_ROLE_CLAIM', 'AUTH_ROLE_MAP'] as const;

/**
 * The identity provider, when `AUTH_JWKS_URL` is set: its issuer and the
 * audience are required too (without them a token the provider made for
 * any other application would do), and the keys must come over https (or
 * http from this machine): whoever can change them can sign any token.
 * @param env usually `process.env`
 */
export function jwtFromEnv(env: NodeJS.ProcessEnv): Result<JwtOptions | undefined, string> {
  const value = (name: (typeof AUTH_VARIABLES)[number]): string => (env[name] ?? '').trim();
  const url = value('AUTH_JWKS_URL');
  if (url === '') {
    const stray = AUTH_VARIABLES.find((name) => value(name) !== '');
    return stray === undefined ? ok(undefined) : fail(`${stray} is set but AUTH_JWKS_URL is not: set AUTH_JWKS_URL to the identity provider's JWKS address to accept its tokens`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(`AUTH_JWKS_URL must be a URL like https://sso.example.com/realms/shop/protocol/openid-connect/certs, got "${url.slice(0, 200)}"`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed.hostname))) {
    return fail('AUTH_JWKS_URL must be https:// (http:// only to this machine): whoever can change the keys can sign any token');
  }
  const issuer = value('AUTH_ISSUER');
  const audience = value('AUTH_AUDIENCE');
  if (issuer === '') return fail('AUTH_ISSUER is required with AUTH_JWKS_URL: the "iss" of the provider\'s tokens (for Keycloak https://HOST/realms/REALM)');
  if (audience === '') return fail('AUTH_AUDIENCE is required with AUTH_JWKS_URL: the "aud" tokens for this service carry (the client id, or the API identifier in Auth0)');
  const roleMap = parseRoleMap(value('AUTH_ROLE_MAP'));
  if (!roleMap.ok) return fail(`AUTH_ROLE_MAP: ${roleMap.error}`);
  const roleClaim = value('AUTH_ROLE_CLAIM');
  return ok({ jwksUrl: url, issuer, audience, roleClaim: roleClaim === '' ? DEFAULT_ROLE_CLAIM : roleClaim, roleMap: roleMap.value });
}

/**
 * Role tokens from LIVEORDERS_TOKENS and/or the file named by
 * LIVEORDERS_TOKENS_FILE (read again on every call: `npm start` reloads it on SIGHUP).
 * @param env usually `process.env`
 * @param readFile reads the tokens file
 */
export function tokensFromEnv(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): Result<[Role, string][], string> {
  let text = env.LIVEORDERS_TOKENS ?? '';
  const file = env.LIVEORDERS_TOKENS_FILE;
  if (file !== undefined && file !== '') {
    try {
      text += `\n${readFile(file)}`;
    } catch (error) {
      return fail(`LIVEORDERS_TOKENS_FILE: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  const parsed = parseTokenList(text);
  return parsed.ok ? parsed : fail(`LIVEORDERS_TOKENS: ${parsed.error}`);
}
