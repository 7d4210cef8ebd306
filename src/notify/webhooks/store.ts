/**
 * @module notify/webhooks/store
 * Where endpoints (with their secrets) and their recent deliveries are
 * kept: in memory for STORAGE=memory, as files in the data folder for the
 * journal (each replaced atomically: temp file, fsync, rename, so kill -9
 * leaves the old copy or the new one). Writes of one file are coalesced:
 * the latest state is written once the write before it is done.
 */

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder, writeFileAtomically } from '../../store/journal/files.ts';
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

  /** @param dir the folder (made on load) */
  constructor(dir: string) {
    this.#dir = dir;
  }

  async load(): Promise<StoredWebhooks> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const endpoints: WebhookEndpoint[] = [];
    const deliveries = new Map<string, Delivery[]>();
    for (const name of (await readdir(this.#dir)).sort()) {
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
        await writeFileAtomically(this.#dir, name, [Buffer.from(latest)], mode);
      });
    this.#writes.set(name, entry);
    return entry.tail;
  }
}
