/**
 * @module notify/webhooks/store
 * Where endpoints (with their secrets) and their recent deliveries are
 * kept: in memory for STORAGE=memory, as files in the data folder for the
 * journal (each replaced atomically: temp file, fsync, rename, so kill -9
 * leaves the old copy or the new one; writes of one file are coalesced:
 * the latest state is written once the write before it is done), and in
 * Redis beside the history for STORAGE=redis (shared by the instances).
 */

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder, writeFileAtomically } from '../../store/journal/files.ts';
import type { SideKeys } from '../../store/ports.ts';
import { KEPT_DELIVERIES, mergeDelivery } from './delivery-merge.ts';
import type { Delivery, WebhookEndpoint } from './model.ts';

/** Everything kept, as loaded at start. */
export interface StoredWebhooks {
  readonly endpoints: readonly WebhookEndpoint[];
  readonly deliveries: ReadonlyMap<string, readonly Delivery[]>;
}

/** Where webhooks are kept. */
export interface WebhookStore {
  load(): Promise<StoredWebhooks>;
  /** Keep an endpoint as it is now; durable once this resolves. */
  saveEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** Forget an endpoint and its deliveries. */
  deleteEndpoint(id: string): Promise<void>;
  /**
   * Keep an endpoint's recent deliveries as they are now: `all` of them
   * (oldest first), of which `changed` changed since the last save. A store
   * shared by instances saves only `changed`, each merged with the copy it
   * holds, so what other instances saved stays.
   */
  saveDeliveries(endpointId: string, all: readonly Delivery[], changed: readonly Delivery[]): Promise<void>;
}

/** Kept in this process only, like the orders of STORAGE=memory. */
export class MemoryWebhookStore implements WebhookStore {
  readonly #endpoints = new Map<string, string>();
  readonly #deliveries = new Map<string, string>();

  load(): Promise<StoredWebhooks> {
    const endpoints = [...this.#endpoints.values()].map((text) => JSON.parse(text) as WebhookEndpoint);
    const deliveries = new Map([...this.#deliveries].map(([id, text]) => [id, JSON.parse(text) as Delivery[]]));
    return Promise.resolve({ endpoints, deliveries });
  }

  saveEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    this.#endpoints.set(endpoint.id, JSON.stringify(endpoint));
    return Promise.resolve();
  }

  deleteEndpoint(id: string): Promise<void> {
    this.#endpoints.delete(id);
    this.#deliveries.delete(id);
    return Promise.resolve();
  }

  saveDeliveries(endpointId: string, all: readonly Delivery[]): Promise<void> {
    if (this.#endpoints.has(endpointId)) this.#deliveries.set(endpointId, JSON.stringify(all));
    return Promise.resolve();
  }
}

/** The folder of the data folder webhooks are kept in. */
export const WEBHOOKS_FOLDER = 'webhooks';

const ENDPOINT_FILE = /^endpoint-([A-Za-z0-9_-]+)\.json$/;

/** Files in a folder of the data folder (`DATA_DIR/webhooks`). */
export class FileWebhookStore implements WebhookStore {
  readonly #dir: string;
  /** Per file: the write in progress, and the contents to write after it. */
  readonly #writes = new Map<string, { tail: Promise<void>; next: string | undefined }>();

  /** @param dir the folder (made by the first save: a data folder without webhooks gets no empty folder) */
  constructor(dir: string) {
    this.#dir = dir;
  }

  async load(): Promise<StoredWebhooks> {
    const endpoints: WebhookEndpoint[] = [];
    const deliveries = new Map<string, Delivery[]>();
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { endpoints, deliveries };
      throw error;
    }
    for (const name of names.sort()) {
      // A temp file is a write a crash cut short: the file it was to replace is whole.
      if (name.endsWith('.tmp')) {
        await unlink(join(this.#dir, name));
        continue;
      }
      const id = ENDPOINT_FILE.exec(name)?.[1];
      if (id === undefined) continue;
      endpoints.push(JSON.parse(await readFile(join(this.#dir, name), 'utf8')) as WebhookEndpoint);
      try {
        deliveries.set(id, JSON.parse(await readFile(join(this.#dir, `deliveries-${id}.json`), 'utf8')) as Delivery[]);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return { endpoints, deliveries };
  }

  saveEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    // It holds the secret: readable by this user only.
    return this.#write(`endpoint-${endpoint.id}.json`, JSON.stringify(endpoint), 0o600);
  }

  async deleteEndpoint(id: string): Promise<void> {
    for (const name of [`endpoint-${id}.json`, `deliveries-${id}.json`]) {
      await this.#writes.get(name)?.tail.catch(() => undefined);
      this.#writes.delete(name);
      await unlink(join(this.#dir, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await syncFolder(this.#dir);
  }

  saveDeliveries(endpointId: string, all: readonly Delivery[]): Promise<void> {
    return this.#write(`deliveries-${endpointId}.json`, JSON.stringify(all), 0o600);
  }

  /** Write the latest contents of a file, one write per file at a time. */
  #write(name: string, text: string, mode: number): Promise<void> {
    const entry = this.#writes.get(name) ?? { tail: Promise.resolve(), next: undefined };
    const queued = entry.next !== undefined;
    entry.next = text;
    // A write not started yet takes the latest contents when it starts.
    if (queued) return entry.tail;
    entry.tail = entry.tail
      .catch(() => undefined)
      .then(async () => {
        const latest = entry.next!;
        entry.next = undefined;
        await mkdir(this.#dir, { recursive: true, mode: 0o700 });
        await writeFileAtomically(this.#dir, name, [Buffer.from(latest)], mode);
      });
    this.#writes.set(name, entry);
    return entry.tail;
  }
}

/**
 * Beside a shared Redis history, so every instance sees the same endpoints,
 * secrets and recent deliveries: the endpoints in a hash
 * (`webhooks:endpoints`, one field per endpoint, each save replaces one
 * whole); each endpoint's deliveries in a hash of its own
 * (`webhooks:deliveries:ID`, one field per delivery id) with an index in
 * the order they were first saved (`webhooks:delivery-order:ID`, bounded
 * to {@link KEPT_DELIVERIES}). An instance saves the deliveries it
 * changed, each merged with the copy Redis holds (and saved only if that
 * copy did not change meanwhile, else merged again), so records made on
 * any instance stay. Instances re-read with {@link RedisWebhookStore.load}.
 * A deleted endpoint's id is kept in a set (`webhooks:deleted`), so a late
 * save by an instance that has not re-read yet cannot bring it back.
 */
export class RedisWebhookStore implements WebhookStore {
  readonly #side: SideKeys;
  readonly #endpointsKey: string;
  readonly #deletedKey: string;

  /** @param side keys beside the history */
  constructor(side: SideKeys) {
    this.#side = side;
    this.#endpointsKey = side.key('webhooks:endpoints');
    this.#deletedKey = side.key('webhooks:deleted');
  }

  async load(): Promise<StoredWebhooks> {
    const endpoints = pairs(await this.#side.send(['HGETALL', this.#endpointsKey])).map(([, text]) => JSON.parse(text) as WebhookEndpoint);
    endpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const keys = endpoints.flatMap((endpoint) => [this.#deliveriesKey(endpoint.id), this.#orderKey(endpoint.id)]);
    const reply = endpoints.length === 0 ? [] : await this.#side.send(['EVAL', LOAD_DELIVERIES_SCRIPT, String(keys.length), ...keys]);
    const lists: unknown[] = Array.isArray(reply) ? reply : [];
    const deliveries = new Map<string, Delivery[]>();
    endpoints.forEach((endpoint, i) => {
      const texts = strings(lists[i]);
      if (texts.length > 0) deliveries.set(endpoint.id, texts.map((text) => JSON.parse(text) as Delivery));
    });
    return { endpoints, deliveries };
  }

  async saveEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.#side.send(['EVAL', SAVE_UNLESS_DELETED_SCRIPT, '2', this.#deletedKey, this.#endpointsKey, endpoint.id, JSON.stringify(endpoint)]);
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.#side.send(['EVAL', DELETE_SCRIPT, '4', this.#deletedKey, this.#endpointsKey, this.#deliveriesKey(id), this.#orderKey(id), id]);
  }

  async saveDeliveries(endpointId: string, _all: readonly Delivery[], changed: readonly Delivery[]): Promise<void> {
    let pending = changed;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_MERGE_ROUNDS) throw new Error(`webhook deliveries of endpoint ${endpointId} changed on other instances during ${MAX_MERGE_ROUNDS} saves in a row`);
      const held = await this.#side.send(['HMGET', this.#deliveriesKey(endpointId), ...pending.map((delivery) => delivery.id)]);
      const expected = Array.isArray(held) ? held.map((text: unknown) => (typeof text === 'string' ? text : '')) : pending.map(() => '');
      const merged = pending.map((delivery, i) => (expected[i] === '' ? delivery : mergedCopy(JSON.parse(expected[i]!) as Delivery, delivery)));
      const args = merged.flatMap((delivery, i) => [delivery.id, expected[i]!, JSON.stringify(delivery)]);
      // Only while the endpoint exists: a late save must not bring back a deleted endpoint's deliveries.
      const reply = await this.#side.send(['EVAL', SAVE_DELIVERIES_SCRIPT, '3', this.#endpointsKey, this.#deliveriesKey(endpointId), this.#orderKey(endpointId), endpointId, String(KEPT_DELIVERIES), String(Date.now()), ...args]);
      const conflicts = new Set(strings(reply));
      pending = pending.filter((delivery) => conflicts.has(delivery.id));
    }
  }

  #deliveriesKey(endpointId: string): string {
    return this.#side.key(`webhooks:deliveries:${endpointId}`);
  }

  #orderKey(endpointId: string): string {
    return this.#side.key(`webhooks:delivery-order:${endpointId}`);
  }
}

/** Saves of one delivery list that may find it changed by another instance in a row before giving up (each merges again). */
const MAX_MERGE_ROUNDS = 5;

/** A merged copy, leaving both given ones as they are. */
function mergedCopy(held: Delivery, ours: Delivery): Delivery {
  const copy: Delivery = { ...held, attempts: [...held.attempts] };
  mergeDelivery(copy, ours);
  return copy;
}

/** Save an endpoint unless it was deleted (ids are random: a deleted one never comes back by a create). */
const SAVE_UNLESS_DELETED_SCRIPT = "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) return 1 else return 0 end";
/** Forget an endpoint and its deliveries, and remember that it was deleted. */
const DELETE_SCRIPT = "redis.call('SADD', KEYS[1], ARGV[1]) redis.call('HDEL', KEYS[2], ARGV[1]) redis.call('DEL', KEYS[3], KEYS[4]) return 1";
/** Endpoints' deliveries (KEYS: each one's hash and index), each list in the order they were first saved. */
const LOAD_DELIVERIES_SCRIPT = `local lists = {}
for k = 1, #KEYS, 2 do
  local ids = redis.call('ZRANGE', KEYS[k + 1], 0, -1)
  local out = {}
  for i = 1, #ids do
    local text = redis.call('HGET', KEYS[k], ids[i])
    if text then out[#out + 1] = text end
  end
  lists[#lists + 1] = out
end
return lists`;
/**
 * Save deliveries of an endpoint that is kept (ARGV: endpoint id, how many
 * to keep, the time, then id, the copy the saver merged with ('' for none)
 * and the merged copy, per delivery): each only if the copy held is still
 * the one merged with; a new one joins the index after every one there
 * (at the time given, or just after the newest), in the order given. The
 * oldest beyond the bound go. Answers the ids held copies changed meanwhile.
 */
const SAVE_DELIVERIES_SCRIPT = `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {} end
local score = tonumber(ARGV[3])
local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 0.001 end
local conflicts = {}
for i = 4, #ARGV, 3 do
  local held = redis.call('HGET', KEYS[2], ARGV[i]) or ''
  if held == ARGV[i + 1] then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    if redis.call('ZADD', KEYS[3], 'NX', score, ARGV[i]) == 1 then score = score + 0.001 end
  else
    conflicts[#conflicts + 1] = ARGV[i]
  end
end
local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[2])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[3], 0, extra - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, extra - 1)
end
return conflicts`;

/** A reply that is a list of strings (anything else: none). */
function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.filter((item): item is string => typeof item === 'string') : [];
}

/** A HGETALL reply (a flat array, or a map with RESP3) as field/value pairs. */
function pairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const out: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
    return out;
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)]);
  if (reply !== null && typeof reply === 'object') return Object.entries(reply).map(([k, v]) => [k, String(v)]);
  return [];
}
