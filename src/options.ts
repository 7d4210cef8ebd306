/**
 * @module options
 * The options of {@link createServer}, their defaults, and their check at
 * start: every field has a default, and a bad value stops start-up with a
 * message naming it.
 */

import type { EmailSettings } from './notify/email/settings.ts';
import type { EmailAttempt } from './notify/email/notifier.ts';
import type { FanOut, HubOptions } from './fanout/hub.ts';
import { MAX_PAYLOAD_BYTES, type Role } from './protocol.ts';
import { isHostNameEntry, isLoopback } from './security/edge.ts';
import { MIN_TOKEN_LENGTH, isStrongToken } from './security/auth.ts';
import type { JwtOptions } from './security/jwt.ts';
import { DEFAULT_RING_CAPACITY } from './store/event-ring.ts';
import type { Storage } from './store/ports.ts';
import type { Logger } from './support/logger.ts';
import type { WebhookOptions } from './notify/webhooks/options.ts';
import { DEFAULT_HIGH_WATER_MARK } from './transport/ws/client-socket.ts';

/** Options for `createServer`. Every field has a default. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. @default 8000 */
  readonly port?: number;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Largest HTTP body or WebSocket frame accepted, in bytes. @default 65536 */
  readonly maxPayload?: number;
  /** Bytes queued to one socket, replies included, before it is dropped as too slow. @default 4 MiB */
  readonly highWaterMark?: number;
  /**
   * Messages one WebSocket client may send per second, on average (bursts of
   * four seconds' worth); a client past it is closed with 1008. @default 50
   */
  readonly messagesPerSecond?: number;
  /** Open WebSocket connections allowed; more are refused with 503. @default 20000 */
  readonly maxConnections?: number;
  /** WebSocket ping interval, in milliseconds; a peer silent for a whole interval is dropped. @default 30000 */
  readonly heartbeatIntervalMs?: number;
  /** Events kept in memory for clients that reconnect with `?since=` (older ones come from storage, when it keeps them). @default 10000 */
  readonly eventLogCapacity?: number;
  /** How long {@link LiveOrdersServer.close} waits for requests in flight and close handshakes, in milliseconds. @default 5000 */
  readonly shutdownTimeoutMs?: number;
  /** @default JSON lines to stderr at level info */
  readonly logger?: Logger;
  /** Where orders are kept, opened and loaded (see `openStorage`). @default a new memory backend */
  readonly storage?: Storage;
  /** New order ids. @default UUID v7, made in runs whose tracking tokens are enciphered in one call */
  readonly newId?: () => string;
  /** Serve the browser page at `/`. @default true */
  readonly servePage?: boolean;
  /** Compress WebSocket frames (permessage-deflate). Costs CPU per socket; worth it only on slow links. @default false */
  readonly perMessageDeflate?: boolean;
  /** Outgoing webhooks: where endpoints are kept, how they are sent, who counts attempts. @default a memory store, the default settings */
  readonly webhooks?: WebhookOptions;
  /** Build the fan-out (the benchmarks' baselines use this). @default a {@link Hub} */
  readonly createFanOut?: (options: HubOptions) => FanOut;
  /** Role tokens as `[role, token]`. None: open mode, which may only bind to loopback. @default [] */
  readonly tokens?: readonly (readonly [Role, string])[];
  /** Allow open mode (no tokens) on a non-loopback address. Anyone who can reach the port can do anything. @default false */
  readonly allowOpenNetwork?: boolean;
  /** Extra origins whose pages may open WebSockets (loopback ones always may). @default [] */
  readonly allowedOrigins?: readonly string[];
  /**
   * Host names the service answers to besides loopback ones, lowercase, no
   * port. In open mode any other `Host` gets 421 (against DNS rebinding);
   * pages served from these names may open WebSockets. @default []
   */
  readonly allowedHosts?: readonly string[];
  /** Origins allowed by CORS on the REST API; `*` for any. @default [] (CORS off) */
  readonly corsOrigins?: readonly string[];
  /** Writes per client per minute when tokens are on. @default 600 */
  readonly writeRatePerMinute?: number;
  /** WebSocket connections per address when tokens are on. @default 100 */
  readonly connectionsPerAddress?: number;
  /** Apply the two limits above to loopback clients too. @default false */
  readonly limitLoopback?: boolean;
  /** The shop's name, shown on the customer tracking page (`SHOP_NAME`). @default '' (the page says "Order tracking") */
  readonly shopName?: string;
  /**
   * Accept access tokens (JWTs) from this identity provider too (`AUTH_JWKS_URL`
   * and the other `AUTH_` variables). Turns authentication on, with or without role tokens. @default none
   */
  readonly jwt?: JwtOptions;
  /**
   * A bearer token that opens `GET /metrics` and nothing else (`METRICS_TOKEN`),
   * for a Prometheus server; at least 24 visible ASCII characters. @default none
   */
  readonly metricsToken?: string;
  /** Customer emails (`SMTP_URL` and the rest, notify/email/settings.ts); none: nothing is sent. */
  readonly email?: EmailSettings;
  /** Told of every email attempt (sent, retry, failed): for metrics. */
  readonly onEmailAttempt?: (attempt: EmailAttempt) => void;
}

/** Longest shop name shown on the tracking page. */
export const SHOP_NAME_MAX = 100;

/** Defaults for {@link ServerOptions}. */
export const DEFAULT_OPTIONS: Readonly<Required<Omit<ServerOptions, 'logger' | 'storage' | 'createFanOut' | 'newId' | 'jwt' | 'metricsToken' | 'email' | 'onEmailAttempt' | 'webhooks'>>> = {
  tokens: [],
  allowOpenNetwork: false,
  allowedOrigins: [],
  allowedHosts: [],
  corsOrigins: [],
  writeRatePerMinute: 600,
  connectionsPerAddress: 100,
  limitLoopback: false,
  shopName: '',
  port: 8000,
  host: '127.0.0.1',
  maxPayload: MAX_PAYLOAD_BYTES,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  messagesPerSecond: 50,
  maxConnections: 20_000,
  heartbeatIntervalMs: 30_000,
  eventLogCapacity: DEFAULT_RING_CAPACITY,
  shutdownTimeoutMs: 5000,
  servePage: true,
  perMessageDeflate: false,
};

/** `{ port: undefined }` means "use the default", not "no port". */
export function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function validateOptions(opts: typeof DEFAULT_OPTIONS & Pick<ServerOptions, 'jwt' | 'metricsToken'>): void {
  const integer = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  };
  integer('port', opts.port, 0, 65535);
  integer('maxPayload', opts.maxPayload, 1024);
  integer('highWaterMark', opts.highWaterMark, 1);
  integer('maxConnections', opts.maxConnections, 1);
  integer('heartbeatIntervalMs', opts.heartbeatIntervalMs, 10);
  integer('eventLogCapacity', opts.eventLogCapacity, 1);
  integer('shutdownTimeoutMs', opts.shutdownTimeoutMs, 0);
  integer('writeRatePerMinute', opts.writeRatePerMinute, 1);
  integer('connectionsPerAddress', opts.connectionsPerAddress, 1);
  integer('messagesPerSecond', opts.messagesPerSecond, 1);
  if (opts.shopName.length > SHOP_NAME_MAX || /[\u0000-\u001f\u007f]/.test(opts.shopName)) {
    throw new RangeError(`shopName must be at most ${SHOP_NAME_MAX} characters without control characters`);
  }
  if (opts.metricsToken !== undefined) {
    if (!isStrongToken(opts.metricsToken)) throw new RangeError(`metricsToken must be at least ${MIN_TOKEN_LENGTH} visible ASCII characters`);
    // It is checked before role tokens: one that equals a role token would take that role away.
    if (opts.tokens.some(([, token]) => token === opts.metricsToken)) throw new RangeError('metricsToken must differ from every role token');
  }
  const badHost = opts.allowedHosts.find((h) => !isHostNameEntry(h));
  if (badHost !== undefined) throw new RangeError(`allowedHosts: "${badHost}" is not a lowercase host name without a port`);
  // Safe by default: without tokens, only this machine may talk to the service.
  if (opts.tokens.length === 0 && opts.jwt === undefined && !opts.allowOpenNetwork && !isLoopback(opts.host)) {
    throw new RangeError(
      `refusing to listen on ${opts.host} without tokens: set LIVEORDERS_TOKENS (e.g. "admin:<24+ random characters>") ` +
        'or LIVEORDERS_TOKENS_FILE, or set LIVEORDERS_OPEN=1 to let anyone who can reach the port do anything',
    );
  }
}
