/**
 * @module notify/email/email-log
 * What was emailed per order (what operators see: "emailed: shipped,
 * 10:42"), kept where the orders are, so every instance answers the same and
 * a restart forgets nothing: a file in DATA_DIR, a Redis list per order
 * beside the history, or this process in memory mode. Bounded: the last
 * {@link EMAIL_LOG_LIMITS.perOrder} per order, and in memory (the file's
 * reading) the last {@link EMAIL_LOG_LIMITS.orders} orders.
 */

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOrderId } from '../../protocol.ts';
import type { SideKeys } from '../../store/ports.ts';
import { jsonItems } from '../../store/redis/replies.ts';

/** Records kept per order, and orders held in memory. */
export const EMAIL_LOG_LIMITS = { perOrder: 20, orders: 10_000 } as const;

/** One email about an order: sent, or given up with the server's reply. */
export interface EmailRecord {
  readonly status: string;
  readonly messageId: string;
  readonly outcome: 'sent' | 'failed';
  /** ISO 8601. */
  readonly at: string;
  readonly attempts: number;
  /** The last reply, e.g. `550 mailbox unavailable`, when given up. */
  readonly reply?: string;
}

/** Where the records are kept. */
export interface EmailLog {
  /** Keep a record (a failure to keep it is reported, never stops an email). */
  add(orderId: string, record: EmailRecord): Promise<void>;
  /** The order's records, oldest first. */
  list(orderId: string): Promise<readonly EmailRecord[]>;
}

function isRecord(value: unknown): value is EmailRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { status, messageId, outcome, at, attempts, reply } = value as Record<string, unknown>;
  return typeof status === 'string' && typeof messageId === 'string' && (outcome === 'sent' || outcome === 'failed') && typeof at === 'string' && typeof attempts === 'number' && (reply === undefined || typeof reply === 'string');
}

/** Records in this process: the last orders' last records. */
export class MemoryEmailLog implements EmailLog {
  readonly #records = new Map<string, EmailRecord[]>();

  /** @param orderId the order @param record the email */
  async add(orderId: string, record: EmailRecord): Promise<void> {
    this.keep(orderId, record);
  }

  /** Keep without waiting (also how a file's records are read in). */
  keep(orderId: string, record: EmailRecord): void {
    let list = this.#records.get(orderId);
    if (list === undefined) {
      if (this.#records.size >= EMAIL_LOG_LIMITS.orders) this.#records.delete(this.#records.keys().next().value!);
      list = [];
      this.#records.set(orderId, list);
    }
    list.push(record);
    if (list.length > EMAIL_LOG_LIMITS.perOrder) list.shift();
  }

  /** @param orderId the order */
  async list(orderId: string): Promise<readonly EmailRecord[]> {
    return this.#records.get(orderId) ?? [];
  }

  /** Every kept record, order by order. */
  *entries(): Generator<[string, EmailRecord]> {
    for (const [orderId, list] of this.#records) for (const record of list) yield [orderId, record];
  }
}

/** File name of the records in DATA_DIR: one JSON line per email, compacted at start. */
export const EMAIL_LOG_FILE = 'email-log.jsonl';

/** Records in a file of DATA_DIR, read into memory at start (and written back compacted to the bounds). */
export class FileEmailLog implements EmailLog {
  readonly #path: string;
  readonly #memory: MemoryEmailLog;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, memory: MemoryEmailLog) {
    this.#path = path;
    this.#memory = memory;
  }

  /** @param dataDir the journal's folder */
  static open(dataDir: string): FileEmailLog {
    const path = join(dataDir, EMAIL_LOG_FILE);
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const memory = new MemoryEmailLog();
    for (const line of text.split('\n')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // torn by a crash, or empty
      }
      const { orderId, record } = (parsed ?? {}) as { orderId?: unknown; record?: unknown };
      if (isOrderId(orderId) && isRecord(record)) memory.keep(orderId, record);
    }
    let compacted = '';
    for (const [orderId, record] of memory.entries()) compacted += `${JSON.stringify({ orderId, record })}\n`;
    writeFileSync(`${path}.tmp`, compacted);
    renameSync(`${path}.tmp`, path);
    return new FileEmailLog(path, memory);
  }

  /** @param orderId the order @param record the email */
  add(orderId: string, record: EmailRecord): Promise<void> {
    this.#memory.keep(orderId, record);
    // Not synced: a record lost to a power cut costs a line in a dialog, not an email.
    this.#writing = this.#writing.then(() => appendFile(this.#path, `\n${JSON.stringify({ orderId, record })}\n`));
    return this.#writing;
  }

  /** @param orderId the order */
  list(orderId: string): Promise<readonly EmailRecord[]> {
    return this.#memory.list(orderId);
  }
}

/** Records in a Redis list per order beside the shared history: every instance answers the same. */
export class RedisEmailLog implements EmailLog {
  readonly #side: SideKeys;

  /** @param side keys beside the history */
  constructor(side: SideKeys) {
    this.#side = side;
  }

  /** @param orderId the order @param record the email */
  async add(orderId: string, record: EmailRecord): Promise<void> {
    const key = this.#side.key(`email-log:${orderId}`);
    await this.#side.send(['RPUSH', key, JSON.stringify(record)]);
    await this.#side.send(['LTRIM', key, String(-EMAIL_LOG_LIMITS.perOrder), '-1']);
  }

  /** @param orderId the order */
  async list(orderId: string): Promise<readonly EmailRecord[]> {
    return jsonItems(await this.#side.send(['LRANGE', this.#side.key(`email-log:${orderId}`), '0', '-1']), isRecord);
  }
}
