/**
 * @module notify/email/unsubscribe
 * One-click unsubscribe: the link's token (the order id and a MAC under a key
 * derived from the tracking key, so it needs no storage and outlives a
 * restart), and the list of orders whose customer asked for no more emails,
 * kept where the orders are: a file in DATA_DIR, or this process in memory mode.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { isOrderId } from '../../protocol.ts';
import type { SideKeys } from '../../store/ports.ts';
import { SyncedLines, readLines } from '../line-file.ts';

/** Bytes of MAC kept in a link: 128 bits, as guessable as a tracking token. */
const MAC_BYTES = 16;

/** Makes and checks unsubscribe tokens. */
export class UnsubscribeTokens {
  readonly #key: Buffer;

  /** @param trackingKey the storage's tracking key; a separate key is derived from it */
  constructor(trackingKey: Buffer) {
    this.#key = createHmac('sha256', trackingKey).update('liveorders email unsubscribe v1').digest();
  }

  /**
   * The token of an order's unsubscribe link.
   * @param orderId the order
   */
  issue(orderId: string): string {
    return `${orderId}.${this.#mac(orderId).toString('base64url')}`;
  }

  /**
   * The order a token is for, or `undefined` when it is not one we made.
   * @param token from a link
   */
  orderFor(token: string): string | undefined {
    const dot = token.indexOf('.');
    if (dot < 0 || token.length > 80) return undefined;
    const orderId = token.slice(0, dot);
    if (!isOrderId(orderId)) return undefined;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    if (given.length !== MAC_BYTES || token.slice(dot + 1) !== given.toString('base64url')) return undefined;
    return timingSafeEqual(given, this.#mac(orderId)) ? orderId : undefined;
  }

  #mac(orderId: string): Buffer {
    return createHmac('sha256', this.#key).update(orderId).digest().subarray(0, MAC_BYTES);
  }
}

/** Orders whose customer unsubscribed. */
export interface UnsubscribeList {
  /** Whether emails about this order are stopped. */
  has(orderId: string): Promise<boolean>;
  /** Stop them; durable once this resolves. */
  add(orderId: string): Promise<void>;
}

/** An unsubscribe list kept in this process (memory mode: it ends with it, as the orders do). */
export class MemoryUnsubscribeList implements UnsubscribeList {
  readonly #ids = new Set<string>();

  /** @param orderId an order */
  async has(orderId: string): Promise<boolean> {
    return this.#ids.has(orderId);
  }

  /** @param orderId an order */
  async add(orderId: string): Promise<void> {
    this.#ids.add(orderId);
  }
}

/** File name of the list in DATA_DIR: one order id per line. */
export const UNSUBSCRIBE_FILE = 'email-unsubscribed.txt';

/** An unsubscribe list in a file of DATA_DIR, appended and synced per unsubscribe. */
export class FileUnsubscribeList implements UnsubscribeList {
  readonly #ids: Set<string>;
  readonly #file: SyncedLines;

  private constructor(path: string, ids: Set<string>) {
    this.#file = new SyncedLines(path);
    this.#ids = ids;
  }

  /**
   * Read the list of a data folder (none yet: empty), once at start-up.
   * @param dataDir the journal's folder
   */
  static open(dataDir: string): FileUnsubscribeList {
    const path = join(dataDir, UNSUBSCRIBE_FILE);
    // A line torn by a crash is not an order id, and is skipped.
    return new FileUnsubscribeList(path, new Set(readLines(path).filter(isOrderId)));
  }

  /** @param orderId an order */
  async has(orderId: string): Promise<boolean> {
    return this.#ids.has(orderId);
  }

  /** @param orderId an order */
  add(orderId: string): Promise<void> {
    if (this.#ids.has(orderId)) return this.#file.settled;
    this.#ids.add(orderId);
    // Synced before it is answered.
    return this.#file.append(orderId);
  }
}

/** An unsubscribe list in a Redis set beside the shared history: every instance sees it. */
export class RedisUnsubscribeList implements UnsubscribeList {
  readonly #side: SideKeys;
  readonly #key: string;

  /** @param side keys beside the history */
  constructor(side: SideKeys) {
    this.#side = side;
    this.#key = side.key('email-unsubscribed');
  }

  /** @param orderId an order */
  async has(orderId: string): Promise<boolean> {
    return Number(await this.#side.send(['SISMEMBER', this.#key, orderId])) === 1;
  }

  /** @param orderId an order */
  async add(orderId: string): Promise<void> {
    await this.#side.send(['SADD', this.#key, orderId]);
  }
}
