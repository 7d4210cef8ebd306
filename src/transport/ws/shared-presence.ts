/**
 * @module transport/ws/shared-presence
 * Presence across instances sharing a Redis history. Each instance keeps,
 * per order its sockets watch, one field of the hash `presence:ORDER_ID`
 * (field: its instance id; value: its counts by kind), written when its
 * counts for that order change (coalesced: at most once per flush period),
 * and proves it is alive with a key `presence-alive:INSTANCE_ID` that it
 * renews and that expires on its own when the instance dies. A read sums
 * the fields of live instances (one HGETALL, one MGET), this instance's
 * own counts taken from memory, and deletes dead instances' fields lazily.
 * Without shared keys (memory, journal) presence stays per instance.
 */

import { randomUUID } from 'node:crypto';
import { WATCHER_KINDS, type PresenceCounts } from '../../protocol.ts';
import type { SideKeys } from '../../store/ports.ts';
import type { Logger } from '../../support/logger.ts';
import { noWatchers, Presence } from './presence.ts';

/** How long an instance counts after its last renewal, in milliseconds: a killed instance stops counting within this. */
export const PRESENCE_ALIVE_TTL_MS = 5_000;

/** Renewals per alive time: renewing at a third leaves two chances before it runs out. */
const RENEWALS_PER_TTL = 3;

/** At most one write per order per this many milliseconds: a burst of joins and leaves is one write. */
export const PRESENCE_FLUSH_MS = 250;

/**
 * How long an order's hash outlives its last write, in milliseconds: what is
 * left of instances that died while nobody read the order goes with it.
 * Live instances rewrite their fields well before (a third of it).
 */
const ENTRY_TTL_MS = 10 * 60_000;

/** Delete a dead instance's field only if it still holds what the reader saw (the instance may have come back and written since). */
const DELETE_IF_SAME_SCRIPT = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) else return 0 end";

/** What `GET /api/orders/ID/presence` answers besides the order id. */
export interface PresenceReading {
  readonly watching: PresenceCounts;
  /** `instance`: the sockets of the instance that answered; `cluster`: those of every live instance on the shared history. */
  readonly scope: 'instance' | 'cluster';
}

/** Reads presence for the HTTP API. */
export interface PresenceReader {
  /** @param orderId an order id */
  read(orderId: string): PresenceReading | Promise<PresenceReading>;
}

/** Presence as the composition holds it: the sockets' counts, how to read them, and how to stop. */
export interface PresenceService extends PresenceReader {
  /** This instance's sockets (the WebSocket endpoint updates it). */
  readonly local: Presence;
  /** Stop sharing (no-op per instance): this instance's counts stop counting at once. */
  stop(): Promise<void>;
}

/** Timings, for tests. */
export interface SharedPresenceOptions {
  /** @default {@link PRESENCE_ALIVE_TTL_MS} */
  readonly aliveTtlMs?: number;
  /** @default {@link PRESENCE_FLUSH_MS} */
  readonly flushMs?: number;
}

/**
 * Presence for a storage: shared through its side keys when it has them (Redis), else this instance's own.
 * @param sideKeys the storage's keys beside a shared history, if any
 * @param logger where failed writes are reported
 * @param options timings
 */
export function startPresence(sideKeys: SideKeys | undefined, logger: Logger, options: SharedPresenceOptions = {}): PresenceService {
  if (sideKeys === undefined) {
    const local = new Presence();
    return { local, read: (orderId) => ({ watching: local.counts(orderId), scope: 'instance' }), stop: () => Promise.resolve() };
  }
  const shared = new SharedPresence(sideKeys, logger, options);
  shared.start();
  return shared;
}

/** Presence across instances; see the module comment. */
export class SharedPresence implements PresenceService {
  readonly local: Presence;
  /** This instance's field in every order's hash. */
  readonly instanceId = randomUUID();
  readonly #side: SideKeys;
  readonly #logger: Logger;
  readonly #aliveTtlMs: number;
  readonly #flushMs: number;
  readonly #aliveKey: string;
  /** Orders whose counts changed since the last write. */
  readonly #dirty = new Set<string>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing = false;
  /** The last flush failed (Redis away): the next waits a renewal period, not a flush period. */
  #backingOff = false;
  #renewTimer: NodeJS.Timeout | undefined;
  #rewriteTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Makes each written value unique, so a lazy delete never takes a newer write of the same counts. */
  #writes = 0;

  /**
   * @param side keys beside the shared history
   * @param logger where failed writes are reported
   * @param options timings
   */
  constructor(side: SideKeys, logger: Logger, options: SharedPresenceOptions = {}) {
    this.#side = side;
    this.#logger = logger;
    this.#aliveTtlMs = options.aliveTtlMs ?? PRESENCE_ALIVE_TTL_MS;
    this.#flushMs = options.flushMs ?? PRESENCE_FLUSH_MS;
    this.#aliveKey = side.key(aliveName(this.instanceId));
    this.local = new Presence((orderId) => this.#changed(orderId));
  }

  /** Say this instance is alive now and keep saying it; rewrite its fields before their hashes expire. */
  start(): void {
    void this.#renew();
    this.#rewriteTimer = setInterval(() => this.#rewriteAll(), ENTRY_TTL_MS / RENEWALS_PER_TTL).unref();
  }

  /** Stop writing and drop the alive key: other instances stop counting this one's sockets at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#renewTimer);
    clearInterval(this.#rewriteTimer);
    await this.#side.send(['DEL', this.#aliveKey]).catch(() => undefined);
  }

  /**
   * Every live instance's watchers of `orderId`; this instance's alone (scope `instance`) when Redis cannot be read.
   * @param orderId an order id
   */
  async read(orderId: string): Promise<PresenceReading> {
    const own = this.local.counts(orderId);
    try {
      const hashKey = this.#side.key(entryName(orderId));
      const others = fieldPairs(await this.#side.send(['HGETALL', hashKey])).filter(([instance]) => instance !== this.instanceId);
      if (others.length === 0) return { watching: own, scope: 'cluster' };
      const alive = await this.#side.send(['MGET', ...others.map(([instance]) => this.#side.key(aliveName(instance)))]);
      const aliveFlags = Array.isArray(alive) ? alive : [];
      others.forEach(([instance, value], i) => {
        if (aliveFlags[i] === null || aliveFlags[i] === undefined) {
          void this.#side.send(['EVAL', DELETE_IF_SAME_SCRIPT, '1', hashKey, instance, value]).catch(() => undefined);
          return;
        }
        const counts = parseCounts(value);
        if (counts !== undefined) for (const kind of WATCHER_KINDS) own[kind] += counts[kind];
      });
      return { watching: own, scope: 'cluster' };
    } catch (error) {
      this.#logger.warn('presence: cannot read other instances\' counts; answering this instance\'s', { error });
      return { watching: this.local.counts(orderId), scope: 'instance' };
    }
  }

  #changed(orderId: string): void {
    if (this.#stopped) return;
    this.#dirty.add(orderId);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#flushing || this.#dirty.size === 0 || this.#stopped) return;
    this.#flushTimer = setTimeout(() => void this.#flush(), this.#backingOff ? this.#aliveTtlMs / RENEWALS_PER_TTL : this.#flushMs);
    this.#flushTimer.unref();
  }

  async #flush(): Promise<void> {
    this.#flushTimer = undefined;
    this.#flushing = true;
    const orders = [...this.#dirty];
    this.#dirty.clear();
    try {
      const failed = (await Promise.all(orders.map((orderId) => this.#write(orderId)))).filter((written) => !written).length;
      this.#backingOff = failed > 0;
      // One line per flush, not per order: written again on the next flush.
      if (failed > 0) this.#logger.warn('presence: cannot write this instance\'s counts', { orders: failed });
    } finally {
      this.#flushing = false;
      this.#scheduleFlush();
    }
  }

  /** Write this instance's counts for one order (or remove its field when none watch); false if it could not (marked to go again). */
  async #write(orderId: string): Promise<boolean> {
    if (this.#stopped) return true;
    const key = this.#side.key(entryName(orderId));
    const counts = this.local.counts(orderId);
    try {
      if (WATCHER_KINDS.every((kind) => counts[kind] === 0)) {
        await this.#side.send(['HDEL', key, this.instanceId]);
        return true;
      }
      await this.#side.send(['HSET', key, this.instanceId, JSON.stringify({ ...counts, w: ++this.#writes })]);
      await this.#side.send(['PEXPIRE', key, String(ENTRY_TTL_MS)]);
      return true;
    } catch {
      this.#dirty.add(orderId);
      return false;
    }
  }

  /** Renew the alive key; when it had run out (Redis away, a long pause), others may have deleted our fields: write them all again. */
  async #renew(): Promise<void> {
    if (this.#stopped) return;
    try {
      const before = await this.#side.send(['SET', this.#aliveKey, '1', 'PX', String(this.#aliveTtlMs), 'GET']);
      if (before === null) this.#rewriteAll();
    } catch (error) {
      this.#logger.warn('presence: cannot renew this instance\'s alive key', { error });
    }
    if (!this.#stopped) this.#renewTimer = setTimeout(() => void this.#renew(), this.#aliveTtlMs / RENEWALS_PER_TTL).unref();
  }

  #rewriteAll(): void {
    for (const orderId of this.local.watched()) this.#changed(orderId);
  }
}

/** The hash of an order's counts per instance. */
function entryName(orderId: string): string {
  return `presence:${orderId}`;
}

/** The key that says an instance is alive. */
function aliveName(instanceId: string): string {
  return `presence-alive:${instanceId}`;
}

/** HGETALL's flat reply as [field, value] pairs (strings only). */
function fieldPairs(reply: unknown): [string, string][] {
  if (!Array.isArray(reply)) return [];
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const field: unknown = reply[i];
    const value: unknown = reply[i + 1];
    if (typeof field === 'string' && typeof value === 'string') pairs.push([field, value]);
  }
  return pairs;
}

/** One instance's counts from its field's value; undefined for what another program may have written there. */
function parseCounts(value: string): PresenceCounts | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const counts = noWatchers();
  for (const kind of WATCHER_KINDS) {
    const n: unknown = (parsed as Record<string, unknown>)[kind];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return undefined;
    counts[kind] = n;
  }
  return counts;
}
