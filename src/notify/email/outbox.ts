/**
 * @module notify/email/outbox
 * Emails waiting for a retry after a temporary refusal, kept where the
 * orders are (a file in DATA_DIR, a Redis hash beside the history, or this
 * process in memory mode), so the consumer moves on instead of waiting out a
 * retry schedule: one customer's busy mailbox does not hold back the others'
 * emails. An email is put here before the consumer's position moves past its
 * event, so a crash loses none. Bounded: when full, the consumer waits out
 * the retries itself (back-pressure).
 */

import { join } from 'node:path';
import { isOrderId, type Order } from '../../protocol.ts';
import type { SideKeys } from '../../store/ports.ts';
import { jsonItems } from '../../store/redis/replies.ts';
import { SyncedLines, readLines, replaceFile } from '../line-file.ts';

/** Emails the outbox holds at most. */
export const OUTBOX_MAX = 10_000;

/** One email waiting for its next try. */
export interface OutboxEntry {
  /** `ORDER_ID.vVERSION`: one email per order version. */
  readonly key: string;
  /** The order as it was at the event the email is about. */
  readonly order: Order;
  /** Tries made so far. */
  readonly attempts: number;
  /** When the next try is due, in milliseconds since the epoch. */
  readonly due: number;
}

/** Where waiting emails are kept. */
export interface Outbox {
  /** Every waiting email (read once when sending starts). */
  load(): Promise<OutboxEntry[]>;
  /** Keep or replace an entry; durable once this resolves. */
  put(entry: OutboxEntry): Promise<void>;
  /** Forget an entry (sent or given up). */
  remove(key: string): Promise<void>;
}

/**
 * The key of the email about an order at a version.
 * @param order the order
 */
export function outboxKey(order: Pick<Order, 'id' | 'version'>): string {
  return `${order.id}.v${order.version}`;
}

function isEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { key, order, attempts, due } = value as Record<string, unknown>;
  return typeof key === 'string' && typeof attempts === 'number' && typeof due === 'number' && typeof order === 'object' && order !== null && isOrderId((order as { id?: unknown }).id);
}

/** The outbox of memory mode: it ends with the process, as the orders do. */
export class MemoryOutbox implements Outbox {
  readonly #entries = new Map<string, OutboxEntry>();

  async load(): Promise<OutboxEntry[]> {
    return [...this.#entries.values()];
  }

  /** @param entry an email */
  async put(entry: OutboxEntry): Promise<void> {
    this.#entries.set(entry.key, entry);
  }

  /** @param key an email's key */
  async remove(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}

/** File name of the outbox in DATA_DIR: one JSON line per put or removal, compacted at start. */
export const OUTBOX_FILE = 'email-outbox.jsonl';

/** The outbox in a file of DATA_DIR. */
export class FileOutbox implements Outbox {
  readonly #file: SyncedLines;
  readonly #entries: Map<string, OutboxEntry>;

  private constructor(path: string, entries: Map<string, OutboxEntry>) {
    this.#file = new SyncedLines(path);
    this.#entries = entries;
  }

  /**
   * Read the folder's outbox, once at start-up, and write it back compacted.
   * @param dataDir the journal's folder
   */
  static open(dataDir: string): FileOutbox {
    const path = join(dataDir, OUTBOX_FILE);
    const entries = new Map<string, OutboxEntry>();
    for (const line of readLines(path)) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash, or the empty last one
      }
      const { put, remove } = (record ?? {}) as { put?: unknown; remove?: unknown };
      if (isEntry(put)) entries.set(put.key, put);
      else if (typeof remove === 'string') entries.delete(remove);
    }
    const compacted = [...entries.values()].map((entry) => `${JSON.stringify({ put: entry })}\n`).join('');
    replaceFile(path, compacted);
    return new FileOutbox(path, entries);
  }

  async load(): Promise<OutboxEntry[]> {
    return [...this.#entries.values()];
  }

  /** @param entry an email */
  put(entry: OutboxEntry): Promise<void> {
    this.#entries.set(entry.key, entry);
    return this.#append({ put: entry });
  }

  /** @param key an email's key */
  remove(key: string): Promise<void> {
    if (!this.#entries.delete(key)) return this.#file.settled;
    return this.#append({ remove: key });
  }

  /** One append at a time, each synced before it resolves. */
  #append(record: object): Promise<void> {
    return this.#file.append(JSON.stringify(record));
  }
}

/** The outbox in a Redis hash beside the shared history: a new lease holder takes over what its predecessor left. */
export class RedisOutbox implements Outbox {
  readonly #side: SideKeys;
  readonly #key: string;

  /** @param side keys beside the history */
  constructor(side: SideKeys) {
    this.#side = side;
    this.#key = side.key('email-outbox');
  }

  async load(): Promise<OutboxEntry[]> {
    return jsonItems(await this.#side.send(['HVALS', this.#key]), isEntry);
  }

  /** @param entry an email */
  async put(entry: OutboxEntry): Promise<void> {
    await this.#side.send(['HSET', this.#key, entry.key, JSON.stringify(entry)]);
  }

  /** @param key an email's key */
  async remove(key: string): Promise<void> {
    await this.#side.send(['HDEL', this.#key, key]);
  }
}
