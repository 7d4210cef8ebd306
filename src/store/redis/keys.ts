/**
 * @module store/redis/keys
 * Where a Redis backend keeps its data. Every key carries the same hash
 * tag (`{prefix}`), so the one script that makes a write atomic touches
 * keys in one slot, as Redis Cluster requires of a script.
 */

/** The prefix keys get when `REDIS_PREFIX` is not set. */
export const DEFAULT_REDIS_PREFIX = 'liveorders';

/** The keys of one liveorders history in Redis. */
export interface RedisKeys {
  /** The epoch: a random id, set once; it is gone when Redis lost its data. */
  readonly epoch: string;
  /** The last seq given out (INCR). */
  readonly seq: string;
  /** The events, a stream whose entry ids are `0-<seq>`. */
  readonly events: string;
  /** Every order, by id: `<version>:<order JSON>`. */
  readonly orders: string;
  /** Every product, by SKU: `<version>:<product JSON>`. */
  readonly products: string;
  /** The tracking key, hex, set once. */
  readonly trackingKey: string;
  /** Written by a probe while Redis refuses writes for lack of memory, to learn when it takes them again. */
  readonly memoryProbe: string;
  /**
   * The key under which an idempotency key's record lives.
   * @param key the idempotency key, already scoped to the caller
   */
  idempotency(key: string): string;
  /**
   * The key under which a durable consumer's position lives.
   * @param name the consumer's name
   */
  consumer(name: string): string;
  /**
   * A key beside the history for anything else (leases): `side('consumer:x')` is `consumer('x')`.
   * @param name the key's name after the prefix
   */
  side(name: string): string;
}

/**
 * The keys under a prefix.
 * @param prefix names this history; instances with the same prefix share it
 */
export function redisKeys(prefix: string): RedisKeys {
  const tag = `{${prefix}}`;
  return {
    epoch: `${tag}:epoch`,
    seq: `${tag}:seq`,
    events: `${tag}:events`,
    orders: `${tag}:orders`,
    products: `${tag}:products`,
    trackingKey: `${tag}:tracking-key`,
    memoryProbe: `${tag}:memory-probe`,
    idempotency: (key) => `${tag}:idempotency:${key}`,
    consumer: (name) => `${tag}:consumer:${name}`,
    side: (name) => `${tag}:${name}`,
  };
}

/** A prefix is a name: letters, digits and `._-`, so it cannot hold the braces of a hash tag. */
export function isRedisPrefix(prefix: string): boolean {
  return /^[A-Za-z0-9._-]{1,64}$/.test(prefix);
}

/**
 * The stream entry id of a seq.
 * @param seq a seq (at least 1)
 */
export function entryId(seq: number): string {
  return `0-${seq}`;
}

/**
 * The seq of a stream entry id, or NaN when it is not one of ours.
 * @param id a stream entry id
 */
export function seqOfEntryId(id: string): number {
  return id.startsWith('0-') ? Number(id.slice(2)) : Number.NaN;
}
