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
  /** Keep an endpoint's recent deliveries as they are now. */
  saveDeliveries(endpointId: string, deliveries: readonly Delivery[]): Promise<void>;
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

  saveDeliveries(endpointId: string, deliveries: readonly Delivery[]): Promise<void> {
    if (this.#endpoints.has(endpointId)) this.#deliveries.set(endpointId, JSON.stringify(deliveries));
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

  saveDeliveries(endpointId: string, deliveries: readonly Delivery[]): Promise<void> {
    return this.#write(`deliveries-${endpointId}.json`, JSON.stringify(deliveries), 0o600);
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
 * Two hashes beside a shared Redis history (`webhooks:endpoints` and
 * `webhooks:deliveries`, one field per endpoint), so every instance sees
 * the same endpoints, secrets and recent deliveries. Each save replaces a
 * field whole; instances re-read with {@link RedisWebhookStore.load}. A
 * deleted endpoint's id is kept in a set (`webhooks:deleted`), so a late
 * save by an instance that has not re-read yet cannot bring it back.
 */
export class RedisWebhookStore implements WebhookStore {
  readonly #side: SideKeys;
  readonly #endpointsKey: string;
  readonly #deliveriesKey: string;
  readonly #deletedKey: string;

  /** @param side keys beside the history */
  constructor(side: SideKeys) {
    this.#side = side;
    this.#endpointsKey = side.key('webhooks:endpoints');
    this.#deliveriesKey = side.key('webhooks:deliveries');
    this.#deletedKey = side.key('webhooks:deleted');
  }

  async load(): Promise<StoredWebhooks> {
    const endpoints = pairs(await this.#side.send(['HGETALL', this.#endpointsKey])).map(([, text]) => JSON.parse(text) as WebhookEndpoint);
    endpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const deliveries = new Map(pairs(await this.#side.send(['HGETALL', this.#deliveriesKey])).map(([id, text]) => [id, JSON.parse(text) as Delivery[]]));
    return { endpoints, deliveries };
  }

  async saveEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.#side.send(['EVAL', SAVE_UNLESS_DELETED_SCRIPT, '2', this.#deletedKey, this.#endpointsKey, endpoint.id, JSON.stringify(endpoint)]);
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.#side.send(['EVAL', DELETE_SCRIPT, '3', this.#deletedKey, this.#endpointsKey, this.#deliveriesKey, id]);
  }

  async saveDeliveries(endpointId: string, deliveries: readonly Delivery[]): Promise<void> {
    // Only while the endpoint exists: a late save must not bring back a deleted endpoint's deliveries.
    await this.#side.send(['EVAL', SAVE_IF_EXISTS_SCRIPT, '2', this.#endpointsKey, this.#deliveriesKey, endpointId, JSON.stringify(deliveries)]);
  }
}

/** Save an endpoint unless it was deleted (ids are random: a deleted one never comes back by a create). */
const SAVE_UNLESS_DELETED_SCRIPT = "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) return 1 else return 0 end";
/** Forget an endpoint and its deliveries, and remember that it was deleted. */
const DELETE_SCRIPT = "redis.call('SADD', KEYS[1], ARGV[1]) redis.call('HDEL', KEYS[2], ARGV[1]) redis.call('HDEL', KEYS[3], ARGV[1]) return 1";
/** Save an endpoint's deliveries only while the endpoint is kept. */
const SAVE_IF_EXISTS_SCRIPT = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) return 1 else return 0 end";

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
