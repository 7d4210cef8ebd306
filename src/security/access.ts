/**
 * @module security/access
 * Access for HTTP and WebSocket: who is asking (role token, identity
 * provider JWT, tracking token, or open mode), whether the one access
 * table (policy.ts) lets them, and how often. Handlers ask it; they never
 * look at tokens or roles themselves.
 */

import type { IncomingMessage } from 'node:http';
import { bearerToken, SecretToken, TokenRegistry, type Principal } from './auth.ts';
import { isAllowedHost, isLoopback } from './edge.ts';
import { ProtocolError, WS_BEARER_PREFIX, fail, ok, type Result, type Role } from '../protocol.ts';
import { createLogger, type Logger } from '../support/logger.ts';
import { JwtVerifier, looksLikeJwt, type JwtOptions, type VerifiedToken } from './jwt.ts';
import { ACCESS_POLICY, permits, type AccessRule, type Action } from './policy.ts';
import { RateLimiter } from './rate-limit.ts';
import { TrackingTokens } from './tracking.ts';

/** Settings for {@link AccessControl}. */
export interface AccessOptions {
  /** Role tokens; none means open mode. */
  readonly tokens: readonly (readonly [Role, string])[];
  /** Writes allowed per client per minute when tokens are on. */
  readonly writeRatePerMinute: number;
  /** WebSocket connections allowed per address when tokens are on. */
  readonly connectionsPerAddress: number;
  /** Apply the limits to loopback clients too (off: the demo, tests and benchmarks run there). */
  readonly limitLoopback: boolean;
  /** Whether an order with this id exists: a tracking token opens only a live order. */
  readonly orderExists: (orderId: string) => boolean;
  /** @default tokens under a fresh key */
  readonly tracking?: TrackingTokens;
  /** Host names open mode answers besides loopback ones (`ALLOWED_HOSTS`). @default [] */
  readonly allowedHosts?: readonly string[];
  /** Accept access tokens from this identity provider too; turns authentication on. @default none */
  readonly jwt?: JwtOptions;
  /** Where the identity provider's key fetches and outages are told. @default silent */
  readonly logger?: Logger;
  /** A bearer token that opens the metrics and nothing else (`METRICS_TOKEN`). @default none */
  readonly metricsToken?: string;
}

/**
 * Who a request is: at once for a role token, a tracking token or open mode;
 * later for an identity provider's token, whose keys may have to be fetched.
 */
export type Authentication = Result<Principal> | Promise<Result<Principal>>;

const OPEN: Principal = { kind: 'open' };
const SCRAPER: Principal = { kind: 'scraper' };

/** Authentication, authorisation and abuse limits. */
export class AccessControl {
  readonly tracking: TrackingTokens;
  #tokens: TokenRegistry;
  readonly #jwt: JwtVerifier | undefined;
  readonly #writes: RateLimiter;
  readonly #options: AccessOptions;
  readonly #metricsToken: SecretToken | undefined;
  #lastHost: string | undefined = '';
  #lastHostAdmitted = false;

  /** @param options tokens and limits */
  constructor(options: AccessOptions) {
    this.#options = options;
    this.tracking = options.tracking ?? new TrackingTokens();
    this.#tokens = new TokenRegistry(options.tokens);
    this.#jwt = options.jwt === undefined ? undefined : new JwtVerifier(options.jwt, options.logger ?? createLogger({ level: 'silent' }));
    this.#writes = new RateLimiter({ perMinute: options.writeRatePerMinute });
    this.#metricsToken = options.metricsToken === undefined ? undefined : new SecretToken(options.metricsToken);
  }

  /** Whether authentication is on: role tokens are configured, or an identity provider is (or both). */
  get enabled(): boolean {
    return this.#tokens.enabled || this.#jwt !== undefined;
  }

  /**
   * Swap the role tokens (a configuration reload): requests are checked
   * against the new ones from now on. Turning tokens on or off this way is
   * refused: it changes who may reach the service at all, so it takes a restart.
   * @param tokens the new role tokens, validated by `parseTokenList`
   */
  replaceTokens(tokens: readonly (readonly [Role, string])[]): Result<void, string> {
    const next = new TokenRegistry(tokens);
    // With an identity provider configured, authentication stays on whatever the role tokens are.
    if (this.#jwt === undefined && next.enabled !== this.#tokens.enabled) {
      return fail(this.#tokens.enabled ? 'no tokens left: that would open the service to everyone; restart to do that' : 'tokens cannot be turned on by a reload; restart with them');
    }
    this.#tokens = next;
    return ok(undefined);
  }

  /**
   * Whether someone admitted earlier would still be admitted: for a role token,
   * that it is still configured with the same role. (An identity provider's
   * token holds until it expires: its socket is closed then.)
   * @param principal who was admitted
   */
  stillAdmits(principal: Principal): boolean {
    return principal.kind !== 'role' || this.#tokens.holds(principal.digest, principal.role);
  }

  /**
   * Whether a request (or upgrade) naming this `Host` may be answered. In
   * open mode only loopback names and `ALLOWED_HOSTS` are: anything else is
   * how a DNS-rebinding page would reach us. With tokens on, the tokens guard
   * every request and any name may be used.
   * @param host the Host header
   */
  admitsHost(host: string | undefined): boolean {
    if (this.enabled) return true;
    // Nearly every request names the same host: remember the last answer.
    if (host !== this.#lastHost) {
      this.#lastHost = host;
      this.#lastHostAdmitted = isAllowedHost(host, this.#options.allowedHosts ?? []);
    }
    return this.#lastHostAdmitted;
  }

  /**
   * Who an HTTP request is: open mode, the role of its `Authorization: Bearer`
   * token, or the user its identity provider token names (then a promise).
   * @param authorization the Authorization header
   */
  authenticate(authorization: string | undefined): Authentication {
    if (this.#metricsToken !== undefined && authorization !== undefined) {
      // Checked first, in open mode too: it lets a Prometheus server on another host read the metrics.
      const token = bearerToken(authorization);
      if (token !== undefined && this.#metricsToken.matches(token)) return ok(SCRAPER);
    }
    if (!this.enabled) return ok(OPEN);
    if (authorization === undefined) return fail(unauthorized('Send "Authorization: Bearer TOKEN"'));
    return this.#bearer(bearerToken(authorization));
  }

  /**
   * Check the token a socket's `refresh` message brings: an identity
   * provider token, valid, of the same user, still allowed to watch.
   * @param current who the socket is now
   * @param token the fresh token
   * @returns the principal the socket goes on as
   */
  async refresh(current: Principal, token: string): Promise<Result<Principal>> {
    if (current.kind !== 'user' || this.#jwt === undefined) {
      return fail(new ProtocolError('LO_ERR_FORBIDDEN', 'Only a connection opened with an identity provider token can be refreshed; this one does not expire'));
    }
    const next = await this.#userFor(token);
    if (!next.ok) return next;
    const user = next.value;
    if (user.kind !== 'user' || user.subject !== current.subject || user.issuer !== current.issuer) {
      return fail(new ProtocolError('LO_ERR_FORBIDDEN', 'A refresh must bring a token of the same user (subject); sign in again on a new connection to change user'));
    }
    const watch = this.admit(user, 'watchOrders');
    return watch.ok ? ok(user) : watch;
  }

  /**
   * Who a WebSocket upgrade is: a tracking token (`?track=`) opens one order;
   * otherwise a role token from `Authorization: Bearer` or, for browsers, the
   * `liveorders.bearer.TOKEN` subprotocol.
   * @param req the upgrade request
   * @param url its URL (a transport's parsed request target; only its query is read)
   */
  authenticateUpgrade(req: IncomingMessage, url: { readonly searchParams: URLSearchParams }): Authentication {
    const track = url.searchParams.get('track');
    if (track !== null) return this.#trackingFor(track);
    if (!this.enabled) return ok(OPEN);
    if (req.headers.authorization !== undefined) return this.authenticate(req.headers.authorization);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const carried = offered.find((p) => p.startsWith(WS_BEARER_PREFIX));
    if (carried === undefined) return fail(unauthorized('Send "Authorization: Bearer TOKEN" or the liveorders.bearer.TOKEN subprotocol'));
    return this.#bearer(carried.slice(WS_BEARER_PREFIX.length));
  }

  /**
   * The principal a tracking token stands for.
   * @param token a presented tracking token
   */
  track(token: string): Result<Principal> {
    return this.#trackingFor(token);
  }

  /**
   * Whether `principal` may do `action` now: 403 when the access table says
   * no, 429 when the action counts against a write allowance that is spent.
   * @param principal who
   * @param action what, as the access table names it
   * @param target the order it concerns, if any, and the peer address (for the write allowance)
   */
  admit(principal: Principal, action: Action, target: { readonly orderId?: string; readonly address?: string | undefined } = {}): Result<void> {
    const rule: AccessRule = ACCESS_POLICY[action];
    if (!permits(principal, action, target.orderId)) return fail(forbidden(principal, rule));
    if (principal.kind === 'open' && rule.loopbackWhenOpen === true && !isLoopback(target.address)) {
      return fail(new ProtocolError('LO_ERR_FORBIDDEN', `Without tokens only this machine may ${rule.what}; from elsewhere, set METRICS_TOKEN and send it as a bearer token`));
    }
    return rule.limited ? this.#limitWrite(principal, target.address) : ok(undefined);
  }

  /** Count one write against its sender's allowance (only when tokens are on). */
  #limitWrite(principal: Principal, address: string | undefined): Result<void> {
    if (!this.#limits(address)) return ok(undefined);
    const key = principal.kind === 'role' ? principal.name : principal.kind === 'user' ? `user:${principal.issuer} ${principal.subject}` : `addr:${address ?? '?'}`;
    const decision = this.#writes.take(key);
    if (decision.ok) return ok(undefined);
    return fail(new ProtocolError('LO_ERR_RATE_LIMITED', `Too many writes; retry in ${decision.retryAfterSeconds} s`, { retryAfterSeconds: decision.retryAfterSeconds }));
  }

  /**
   * Whether one more WebSocket from `address` is allowed, given how many it has open.
   * @param address the peer address
   * @param open connections it has open now
   */
  connectionAllowed(address: string | undefined, open: number): boolean {
    return !this.#limits(address) || open < this.#options.connectionsPerAddress;
  }

  #limits(address: string | undefined): boolean {
    return this.enabled && (this.#options.limitLoopback || !isLoopback(address));
  }

  /** A role token, else (when a provider is configured) an identity provider token. */
  #bearer(token: string | undefined): Authentication {
    const found = token === undefined ? undefined : this.#tokens.lookup(token);
    if (found !== undefined) return ok({ kind: 'role', role: found.role, name: found.name, digest: found.digest });
    if (token === undefined || this.#jwt === undefined || !looksLikeJwt(token)) return fail(unauthorized('The token is not valid'));
    return this.#userFor(token);
  }

  async #userFor(token: string): Promise<Result<Principal>> {
    if (this.#jwt === undefined) return fail(unauthorized('The token is not valid'));
    const verified = await this.#jwt.verify(token);
    return verified.ok ? ok(userOf(verified.value)) : fail(unauthorized(verified.error));
  }

  #trackingFor(token: string): Result<Principal> {
    const orderId = this.tracking.orderFor(token);
    if (orderId === undefined || !this.#options.orderExists(orderId)) return fail(new ProtocolError('LO_ERR_NOT_FOUND', 'No order has this tracking token'));
    return ok({ kind: 'tracking', orderId });
  }
}

/** The answer to a request whose Host open mode does not serve. */
export function hostNotAllowed(host: string | undefined): ProtocolError {
  const name = (host ?? '').slice(0, 100);
  return new ProtocolError('LO_ERR_HOST_NOT_ALLOWED', `This service does not answer to the host name "${name}"; use localhost, or list the name in ALLOWED_HOSTS`);
}

function forbidden(principal: Principal, rule: AccessRule): ProtocolError {
  if (principal.kind === 'tracking') {
    const detail = rule.ownOrder ? 'A tracking token opens its own order only' : `A tracking token may not ${rule.what}`;
    return new ProtocolError('LO_ERR_FORBIDDEN', detail);
  }
  if (principal.kind === 'scraper') return new ProtocolError('LO_ERR_FORBIDDEN', `METRICS_TOKEN opens the metrics only; it may not ${rule.what}`);
  const who = principal.kind === 'role' ? `The ${principal.role} role` : principal.kind === 'user' ? userRoles(principal.roles) : 'This client';
  return new ProtocolError('LO_ERR_FORBIDDEN', `${who} may not ${rule.what}`);
}

function userRoles(roles: readonly Role[]): string {
  if (roles.length === 0) return 'A token that grants none of this service\'s roles (see AUTH_ROLE_CLAIM and AUTH_ROLE_MAP)';
  return `The ${roles.join(' and ')} role${roles.length === 1 ? '' : 's'}`;
}

function userOf(token: VerifiedToken): Principal {
  return { kind: 'user', issuer: token.issuer, subject: token.subject, roles: token.roles, expiresAt: token.expiresAt, exp: token.exp };
}

function unauthorized(detail: string): ProtocolError {
  return new ProtocolError('LO_ERR_UNAUTHORIZED', detail);
}
