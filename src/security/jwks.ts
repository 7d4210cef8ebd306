/**
 * @module security/jwks
 * The identity provider's signing keys, fetched from its JWKS URL and kept
 * per (issuer, kid). The URL is fetched like anything from outside: bounded
 * in time and size, never following a redirect. A token naming a key not
 * held makes a new fetch, at most every {@link JWKS_REFETCH_INTERVAL_MS};
 * while the URL cannot be reached the keys already held keep working.
 */

import type { Logger } from '../support/logger.ts';

/** A new fetch for an unknown key is made at most this often, in milliseconds: a stream of forged kids must not turn us into a flood. */
export const JWKS_REFETCH_INTERVAL_MS = 30_000;

/** Keys older than this are fetched again when next used (a provider may have withdrawn one), in milliseconds. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/** How long one fetch may take, body included, in milliseconds. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;

/** Largest JWKS document read, in bytes. A real one holds a few keys in a few kilobytes. */
export const JWKS_MAX_BYTES = 256 * 1024;

/** Most keys taken from one document. */
const JWKS_MAX_KEYS = 100;

/** A public key as the JWKS gives it (RFC 7517): only what is needed here is named. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
  readonly [parameter: string]: unknown;
}

/** Settings for {@link JwksKeys}. */
export interface JwksOptions {
  /** Where the provider publishes its keys (https, or http to this machine). */
  readonly url: string;
  /** The issuer these keys sign for. */
  readonly issuer: string;
  readonly logger: Logger;
  /** @default {@link JWKS_REFETCH_INTERVAL_MS} */
  readonly refetchIntervalMs?: number;
  /** @default {@link JWKS_MAX_AGE_MS} */
  readonly maxAgeMs?: number;
}

/** Why a key could not be had. */
export type KeyMiss = 'unknown-key' | 'unreachable';

/** The signing keys of one issuer, fetched when needed. */
export class JwksKeys {
  readonly #options: JwksOptions;
  readonly #refetchIntervalMs: number;
  readonly #maxAgeMs: number;
  /** `issuer \n kid` -> key. */
  #keys = new Map<string, PublicJwk>();
  #fetchedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  /** Whether the last fetch failed (the next success says so in the log). */
  #failing = false;

  /** @param options where, for which issuer, how often */
  constructor(options: JwksOptions) {
    this.#options = options;
    this.#refetchIntervalMs = options.refetchIntervalMs ?? JWKS_REFETCH_INTERVAL_MS;
    this.#maxAgeMs = options.maxAgeMs ?? JWKS_MAX_AGE_MS;
  }

  /** How many keys are held. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * The key `kid`: the one held, or after a fetch when it is not held (or
   * the keys are old) and the last fetch is long enough ago.
   * @param kid the key id a token names
   * @returns the key, or why there is none
   */
  async key(kid: string): Promise<PublicJwk | KeyMiss> {
    // A fetch under way (the first, say) answers this call too.
    if (this.#inFlight !== undefined) await this.#inFlight;
    const now = Date.now();
    const mayFetch = now - this.#attemptedAt >= this.#refetchIntervalMs;
    const name = `${this.#options.issuer}\n${kid}`;
    if (mayFetch && (!this.#keys.has(name) || now - this.#fetchedAt >= this.#maxAgeMs)) await this.#refresh();
    return this.#keys.get(name) ?? (this.#failing ? 'unreachable' : 'unknown-key');
  }

  /** Fetch the document once, for every caller waiting on it. */
  #refresh(): Promise<void> {
    this.#inFlight ??= this.#fetch().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    this.#attemptedAt = Date.now();
    const { url, issuer, logger } = this.#options;
    try {
      const keys = parseJwks(await fetchUntrusted(url));
      this.#keys = new Map(keys.map((key) => [`${issuer}\n${key.kid}`, key]));
      this.#fetchedAt = Date.now();
      if (this.#failing) logger.info('JWKS reachable again', { url, keys: keys.length });
      else logger.debug('JWKS fetched', { url, keys: keys.length, kids: keys.map((k) => k.kid) });
      this.#failing = false;
    } catch (error) {
      this.#failing = true;
      const cached = this.#keys.size;
      const next = Math.round(this.#refetchIntervalMs / 1000);
      logger.warn(`JWKS unreachable: ${cached === 0 ? 'no keys yet, identity provider tokens are refused' : `the ${cached} cached key(s) keep working`}; next try in ${next} s at the earliest`, {
        url,
        error: (error as Error).message,
        cachedKeys: cached,
      });
    }
  }
}

/**
 * The signing keys in a JWKS document: those with a `kid` and a key type,
 * not marked for encryption only.
 * @param document the parsed JSON
 */
export function parseJwks(document: unknown): PublicJwk[] {
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new Error('the answer is not a JWKS (a JSON object with "keys")');
  }
  const keys: PublicJwk[] = [];
  for (const candidate of (document as { keys: unknown[] }).keys.slice(0, JWKS_MAX_KEYS)) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) continue;
    const key = candidate as Record<string, unknown>;
    if (typeof key.kid !== 'string' || typeof key.kty !== 'string' || (key.use !== undefined && key.use !== 'sig')) continue;
    // Only public material: a document that carries a private part is misconfigured, and its key is not used.
    if ('d' in key || key.kty === 'oct') continue;
    keys.push(key as PublicJwk);
  }
  return keys;
}

/**
 * GET a JSON document from a server we do not control: within
 * {@link JWKS_FETCH_TIMEOUT_MS}, at most {@link JWKS_MAX_BYTES}, and not
 * following redirects (a redirect could lead anywhere, and it is the
 * configured URL that is trusted).
 * @param url the URL
 */
export async function fetchUntrusted(url: string): Promise<unknown> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new Error(`answered ${response.status}, a redirect, which is not followed: set AUTH_JWKS_URL to the final address`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`answered ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > JWKS_MAX_BYTES) {
    await response.body?.cancel();
    throw new Error(`the answer is ${declared} bytes, more than the ${JWKS_MAX_BYTES} accepted`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > JWKS_MAX_BYTES) {
        await reader.cancel();
        throw new Error(`the answer is more than the ${JWKS_MAX_BYTES} bytes accepted`);
      }
      chunks.push(value);
    }
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new Error('the answer is not JSON');
  }
}
