/**
 * @module security/auth
 * Who is asking (what they may do is the access table's, policy.ts). Role tokens come from configuration
 * (never a default); customer tracking tokens are derived per order (tracking.ts). With no
 * role tokens configured the service is open (and `createServer` then only
 * binds to loopback unless told otherwise). Tokens are compared in constant time.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { MAX_BEARER_LENGTH, ROLES, fail, ok, type Result, type Role } from '../protocol.ts';

/** Who a request or connection is. */
export type Principal =
  /** No tokens are configured: the local demo, everything allowed. */
  | { readonly kind: 'open' }
  | {
      readonly kind: 'role';
      readonly role: Role;
      readonly name: string;
      /** SHA-256 of the token used, so a reload can tell whether it still holds. */
      readonly digest: Buffer;
    }
  /** A customer holding one order's tracking token: that order, read only. */
  | { readonly kind: 'tracking'; readonly orderId: string }
  /** A Prometheus server holding `METRICS_TOKEN`: the metrics, nothing else. */
  | { readonly kind: 'scraper' }
  /** Someone signed in with the identity provider (a verified JWT, security/jwt.ts): its roles, until it expires. */
  | {
      readonly kind: 'user';
      readonly issuer: string;
      readonly subject: string;
      /** Possibly none: a valid token without any of our roles may do only what needs no role. */
      readonly roles: readonly Role[];
      /** When the token stops being accepted, in milliseconds since 1970 (a socket is closed then). */
      readonly expiresAt: number;
      /** The token's `exp`, in seconds since 1970. */
      readonly exp: number;
    };

/**
 * Whether `principal` may see where the data lives (the data folder's path,
 * Redis's address and prefix, the full text of a storage failure) in
 * `/api/stats`: admins, and everyone in open mode (which has no roles).
 * Viewers and operators see the numbers only: a path tells them nothing they
 * need and tells an attacker how the host is laid out.
 * @param principal who asks
 */
export function seesStorageLocation(principal: Principal): boolean {
  switch (principal.kind) {
    case 'open':
      return true;
    case 'role':
      return principal.role === 'admin';
    case 'user':
      return principal.roles.includes('admin');
    case 'tracking':
    case 'scraper':
      return false;
  }
}

/**
 * Whether `principal` may see customers' contact details (`customerEmail`):
 * those who run the orders (operators, admins, and everyone in open mode).
 * Viewers and tracking-link holders get orders without it: a tracking link
 * is shared, forwarded and screenshotted.
 * @param principal who asks
 */
export function seesCustomerContact(principal: Principal): boolean {
  switch (principal.kind) {
    case 'open':
      return true;
    case 'role':
      return principal.role !== 'viewer';
    case 'user':
      return principal.roles.includes('admin') || principal.roles.includes('operator');
    case 'tracking':
    case 'scraper':
      return false;
  }
}

/** Shortest accepted role token: guessing one must be hopeless. */
export const MIN_TOKEN_LENGTH = 24;

/** A configured role token. */
interface RoleToken {
  readonly role: Role;
  /** SHA-256 of the token: fixed length for timingSafeEqual, and the secret is not kept in memory as is. */
  readonly digest: Buffer;
  /** Position in the configuration, for logs ("token #2"), never the token itself. */
  readonly name: string;
}

/** The configured role tokens. Empty means open mode. */
export class TokenRegistry {
  readonly #tokens: readonly RoleToken[];

  /** @param entries `[role, token]` pairs, validated by {@link parseTokenList} */
  constructor(entries: readonly (readonly [Role, string])[]) {
    this.#tokens = entries.map(([role, token], i) => ({ role, digest: digest(token), name: `token #${i + 1} (${role})` }));
  }

  /** Whether any role token is configured (otherwise the service is open). */
  get enabled(): boolean {
    return this.#tokens.length > 0;
  }

  /**
   * Whether the token with this digest is configured, with this role.
   * @param tokenDigest SHA-256 of a token, as {@link RoleToken.digest}
   * @param role the role it granted
   */
  holds(tokenDigest: Buffer, role: Role): boolean {
    return this.#tokens.some((t) => t.role === role && timingSafeEqual(t.digest, tokenDigest));
  }

  /**
   * The role a bearer token grants, comparing against every configured token
   * in constant time (no early exit, so timing reveals nothing).
   * @param token the presented token
   */
  lookup(token: string): RoleToken | undefined {
    const presented = digest(token);
    let found: RoleToken | undefined;
    for (const candidate of this.#tokens) {
      if (timingSafeEqual(presented, candidate.digest) && found === undefined) found = candidate;
    }
    return found;
  }
}

/**
 * Parse role tokens as configured: entries `role:token`, separated by commas
 * or newlines; `#` starts a comment line. Refuses unknown roles, short or
 * duplicate tokens, so a typo cannot silently open or lock the service.
 * @param text the environment variable's or file's content
 */
export function parseTokenList(text: string): Result<[Role, string][], string> {
  const entries: [Role, string][] = [];
  const seen = new Set<string>();
  const parts = text.split(/[\n,]/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
  for (const [i, part] of parts.entries()) {
    const colon = part.indexOf(':');
    const role = colon < 0 ? '' : part.slice(0, colon).trim();
    const token = colon < 0 ? '' : part.slice(colon + 1).trim();
    if (!(ROLES as readonly string[]).includes(role)) return fail(`entry ${i + 1}: expected role:token with role one of ${ROLES.join(', ')}`);
    if (token.length < MIN_TOKEN_LENGTH) return fail(`entry ${i + 1}: a token must be at least ${MIN_TOKEN_LENGTH} characters`);
    if (!/^[\x21-\x7e]+$/.test(token)) return fail(`entry ${i + 1}: a token must be visible ASCII without spaces`);
    if (seen.has(token)) return fail(`entry ${i + 1}: the same token is listed twice`);
    seen.add(token);
    entries.push([role as Role, token]);
  }
  return ok(entries);
}

/**
 * The token in an `Authorization: Bearer TOKEN` header, if that is what it holds.
 * @param header the raw header
 */
export function bearerToken(header: string | undefined): string | undefined {
  const m = BEARER_HEADER.exec(header ?? '');
  return m?.[1];
}

/** `Bearer TOKEN`, the token up to {@link MAX_BEARER_LENGTH} visible ASCII characters (a provider's JWT runs to kilobytes). */
const BEARER_HEADER = new RegExp(`^Bearer +([\\x21-\\x7e]{1,${MAX_BEARER_LENGTH}})\\s*$`, 'i');

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Whether `token` will do as a bearer secret: at least {@link MIN_TOKEN_LENGTH}
 * visible ASCII characters, so guessing it is hopeless and it fits a header.
 * @param token a configured secret
 */
export function isStrongToken(token: string): boolean {
  return token.length >= MIN_TOKEN_LENGTH && token.length <= MAX_BEARER_LENGTH && /^[\x21-\x7e]+$/.test(token);
}

/**
 * One secret compared in constant time (`METRICS_TOKEN`): what is compared
 * are SHA-256 digests, of equal length whatever was presented.
 */
export class SecretToken {
  readonly #digest: Buffer;

  /** @param token the configured secret */
  constructor(token: string) {
    this.#digest = digest(token);
  }

  /**
   * Whether `presented` is the secret.
   * @param presented a token from a request
   */
  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.#digest);
  }
}
