/**
 * @module security/jwt
 * Access tokens from an identity provider: a JWT is verified with `jose`
 * (loaded only when a JWKS is configured) against the provider's keys
 * (jwks.ts): RS256, ES256 or EdDSA only, the configured issuer and
 * audience, `exp` and `nbf` with a leeway for clocks that differ. What it
 * grants is read from its role claim (claims.ts).
 */

import type { JWK, JWTHeaderParameters, JWTPayload } from 'jose';
import { fail, ok, type Result, type Role } from '../protocol.ts';
import type { Logger } from '../support/logger.ts';
import { DEFAULT_ROLE_CLAIM, rolesFromClaims, type RoleMap } from './claims.ts';
import { JwksKeys, type PublicJwk } from './jwks.ts';

/**
 * The only signature algorithms accepted. Never `none`, and never an HMAC
 * one: with a public key as the "secret", anyone could sign.
 */
export const JWT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/** Clock leeway for `exp` and `nbf`, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** The key type (and curve) each accepted algorithm signs with. */
const KEY_TYPES: Readonly<Record<(typeof JWT_ALGORITHMS)[number], { readonly kty: string; readonly crv?: string }>> = {
  RS256: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
};

/** The shape of a compact JWS: three base64url parts. */
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** How an identity provider's tokens are checked (`AUTH_*` variables). */
export interface JwtOptions {
  /** `AUTH_JWKS_URL`: where the provider publishes its signing keys. */
  readonly jwksUrl: string;
  /** `AUTH_ISSUER`: the `iss` every token must carry. */
  readonly issuer: string;
  /** `AUTH_AUDIENCE`: a value the token's `aud` must hold. */
  readonly audience: string;
  /** `AUTH_ROLE_CLAIM`: the claim (or dotted path) holding role names. @default 'role' */
  readonly roleClaim?: string;
  /** `AUTH_ROLE_MAP`: provider role name -> our role. @default none: the names are ours */
  readonly roleMap?: RoleMap;
  /** Leeway for `exp` and `nbf`, in seconds; not an environment variable (tests shorten it). @default 30 */
  readonly clockToleranceSeconds?: number;
  /** Least time between two fetches of the keys, in milliseconds; not an environment variable (tests shorten it). @default 30000 */
  readonly jwksRefetchIntervalMs?: number;
}

/** What a verified token says. */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string;
  /** Our roles it grants (possibly none). */
  readonly roles: readonly Role[];
  /** When it stops being accepted: `exp` plus the leeway, in milliseconds since 1970. */
  readonly expiresAt: number;
  /** Its `exp`, in seconds since 1970. */
  readonly exp: number;
}

type Jose = typeof import('jose');

/** A token's refusal, in words for the client. */
class Refusal extends Error {}

/**
 * Whether a bearer token has the shape of a JWT (only those are sent to the verifier).
 * @param token a presented token
 */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWT.test(token);
}

/** Checks identity provider tokens. */
export class JwtVerifier {
  readonly #options: JwtOptions;
  readonly #keys: JwksKeys;
  readonly #logger: Logger;
  readonly #toleranceSeconds: number;
  #jose: Promise<Jose> | undefined;
  /** Imported keys, per key and algorithm (a key is imported once). */
  readonly #imported = new WeakMap<PublicJwk, Map<string, Promise<CryptoKey | Uint8Array>>>();

  /**
   * @param options the provider's settings
   * @param logger where key fetches and outages are told
   */
  constructor(options: JwtOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#toleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    this.#keys = new JwksKeys({
      url: options.jwksUrl,
      issuer: options.issuer,
      logger,
      ...(options.jwksRefetchIntervalMs === undefined ? {} : { refetchIntervalMs: options.jwksRefetchIntervalMs }),
    });
  }

  /** The leeway for `exp` and `nbf`, in seconds. */
  get clockToleranceSeconds(): number {
    return this.#toleranceSeconds;
  }

  /**
   * Verify a token: its signature by a key of the provider, the algorithm,
   * issuer, audience, `exp`, `nbf` and subject.
   * @param token a compact JWT
   * @returns what it says, or why it is refused (a sentence for the client)
   */
  async verify(token: string): Promise<Result<VerifiedToken, string>> {
    if (!looksLikeJwt(token)) return fail('The token is not valid');
    const jose = await (this.#jose ??= import('jose'));
    const { issuer, audience, roleClaim, roleMap } = this.#options;
    try {
      const { payload } = await jose.jwtVerify(token, (header) => this.#keyFor(jose, header), {
        issuer,
        audience,
        algorithms: [...JWT_ALGORITHMS],
        clockTolerance: this.#toleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      return ok(verified(payload, issuer, rolesFromClaims(payload, roleClaim ?? DEFAULT_ROLE_CLAIM, roleMap ?? new Map()), this.#toleranceSeconds));
    } catch (error) {
      const reason = refusalReason(error);
      this.#logger.debug('identity provider token refused', { reason });
      return fail(reason);
    }
  }

  /** The key a token's header names, imported for its algorithm, which must fit the key's type. */
  async #keyFor(jose: Jose, header: JWTHeaderParameters): Promise<CryptoKey | Uint8Array> {
    if (typeof header.kid !== 'string' || header.kid === '') throw new Refusal('The token names no signing key (kid)');
    const alg = header.alg as (typeof JWT_ALGORITHMS)[number];
    const found = await this.#keys.key(header.kid);
    if (found === 'unreachable') throw new Refusal('The identity provider\'s keys cannot be fetched now and this token\'s key is not among those held; try again later');
    if (found === 'unknown-key') throw new Refusal('The token is signed with a key the identity provider does not publish');
    const type = KEY_TYPES[alg];
    if (found.kty !== type.kty || (type.crv !== undefined && found.crv !== type.crv) || (found.alg !== undefined && found.alg !== alg)) {
      throw new Refusal(`The token's algorithm ${alg} does not fit its key`);
    }
    let perAlg = this.#imported.get(found);
    if (perAlg === undefined) this.#imported.set(found, (perAlg = new Map()));
    let key = perAlg.get(alg);
    if (key === undefined) perAlg.set(alg, (key = jose.importJWK(found as JWK, alg)));
    return key;
  }
}

function verified(payload: JWTPayload, issuer: string, roles: readonly Role[], toleranceSeconds: number): VerifiedToken {
  // jwtVerify required both: `exp` a number, `sub` a string.
  const exp = payload.exp as number;
  return { issuer, subject: payload.sub as string, roles, exp, expiresAt: (exp + toleranceSeconds) * 1000 };
}

/** Why jose refused a token, in words for the client (never a stack, never the token). */
function refusalReason(error: unknown): string {
  if (error instanceof Refusal) return error.message;
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `The token's signature algorithm is not accepted (only ${JWT_ALGORITHMS.join(', ')})`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The token\'s signature does not verify';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      switch (claim) {
        case 'nbf':
          return 'The token is not valid yet';
        case 'iss':
          return 'The token is from another issuer';
        case 'aud':
          return 'The token is for another audience';
        case 'exp':
        case 'sub':
          return `The token has no valid "${claim}" claim`;
        default:
          return `The token's "${String(claim).slice(0, 50)}" claim is not valid`;
      }
    default:
      return 'The token is not valid';
  }
}
