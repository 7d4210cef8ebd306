/**
 * @module notify/lease
 * One sender among instances sharing a Redis history: a lease per consumer
 * (a key set with NX and a time to live, renewed by its holder), with a
 * fencing token that grows with every acquisition. The holder's position
 * saves go through {@link FencedPositions}: a save is made only while the
 * key still holds the holder's token, so an instance that lost the lease
 * (paused, cut off) cannot move the position its successor works from.
 * Webhooks can hold a lease of their own name the same way.
 */

import { randomUUID } from 'node:crypto';
import type { Position } from '../protocol/messages.ts';
import type { ConsumerPositions, SideKeys } from '../store/ports.ts';
import { checkConsumerName, encodePosition } from '../store/positions.ts';
import type { Logger } from '../support/logger.ts';

/** How long a lease lasts without renewal, in milliseconds: a dead holder's successor waits at most this. */
export const LEASE_TTL_MS = 10_000;

/** Renewals (and tries to acquire) per lease time: renewing at a third leaves two chances before it runs out. */
const RENEWALS_PER_TTL = 3;

/** Extend the lease only while it is still ours. */
const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/** Give the lease up only while it is still ours. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** Save a position only while the lease is the saver's. */
const FENCED_SAVE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2]) return 1 else return 0 end";
/** Delete a position only while the lease is the deleter's. */
const FENCED_DELETE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[2]) return 1 else return 0 end";

/** Thrown by a fenced save after the lease was lost: the position was not moved. */
export class LeaseLostError extends Error {
  readonly code = 'LO_ERR_LEASE_LOST';
}

/** What a lease tells its owner. */
export interface LeaseOptions {
  readonly side: SideKeys;
  /** The storage's positions (a holder loads from them; saves are fenced). */
  readonly positions: ConsumerPositions;
  /** The consumer the lease is for (its position key is `consumer:NAME`). */
  readonly name: string;
  /** Now the holder: start the consumer, with positions fenced by `token`. */
  readonly onAcquired: (positions: ConsumerPositions) => Promise<void>;
  /** No longer the holder (or stopping): stop the consumer. */
  readonly onLost: () => Promise<void>;
  readonly logger: Logger;
  /** @default {@link LEASE_TTL_MS} */
  readonly ttlMs?: number;
}

/** Holds, renews and gives up one lease; see the module comment. */
export class SenderLease {
  readonly #options: LeaseOptions;
  readonly #ttlMs: number;
  readonly #leaseKey: string;
  readonly #fenceKey: string;
  #token: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** One step (acquire, renew, hand over) at a time. */
  #step: Promise<void> = Promise.resolve();

  /** @param options see {@link LeaseOptions} */
  constructor(options: LeaseOptions) {
    checkConsumerName(options.name);
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.#leaseKey = options.side.key(`lease:${options.name}`);
    this.#fenceKey = options.side.key(`fence:${options.name}`);
  }

  /** Whether this instance holds the lease now. */
  get held(): boolean {
    return this.#token !== undefined;
  }

  /** Try now, then every third of the lease time. */
  start(): void {
    this.#tick();
  }

  /** Stop the consumer (if held) and give the lease up, so another instance takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#step;
    const token = this.#token;
    if (token === undefined) return;
    this.#token = undefined;
    await this.#options.onLost();
    await this.#options.side.send(['EVAL', RELEASE_SCRIPT, '1', this.#leaseKey, token]).catch(() => undefined);
  }

  #tick(): void {
    this.#step = this.#step.then(() => this.#turn()).catch((error: unknown) => this.#options.logger.warn('sender lease step failed', { name: this.#options.name, error }));
    void this.#step.then(() => {
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#ttlMs / RENEWALS_PER_TTL);
    });
  }

  async #turn(): Promise<void> {
    if (this.#stopped) return;
    const { side } = this.#options;
    if (this.#token !== undefined) {
      let renewed = false;
      try {
        renewed = Number(await side.send(['EVAL', RENEW_SCRIPT, '1', this.#leaseKey, this.#token, String(this.#ttlMs)])) === 1;
      } catch {
        // Cannot tell: stop sending rather than risk two senders.
      }
      if (renewed) return;
      this.#token = undefined;
      this.#options.logger.warn('sender lease lost: another instance sends now', { name: this.#options.name });
      await this.#options.onLost();
      return;
    }
    const fence = Number(await side.send(['INCR', this.#fenceKey]));
    const token = `${fence}:${randomUUID()}`;
    if ((await side.send(['SET', this.#leaseKey, token, 'NX', 'PX', String(this.#ttlMs)])) !== 'OK') return;
    this.#token = token;
    this.#options.logger.info('sender lease taken: this instance sends', { name: this.#options.name, fence });
    await this.#options.onAcquired(new FencedPositions(side, this.#leaseKey, token, this.#options.positions));
  }
}

/**
 * Positions saved only while a lease holds a token; loaded as usual.
 */
export class FencedPositions implements ConsumerPositions {
  readonly #side: SideKeys;
  readonly #leaseKey: string;
  readonly #token: string;
  readonly #plain: ConsumerPositions;

  /**
   * @param side keys beside the history
   * @param leaseKey the lease's key
   * @param token the holder's token
   * @param plain the storage's positions, for loading
   */
  constructor(side: SideKeys, leaseKey: string, token: string, plain: ConsumerPositions) {
    this.#side = side;
    this.#leaseKey = leaseKey;
    this.#token = token;
    this.#plain = plain;
  }

  /** @param name a consumer */
  load(name: string): Promise<Position | undefined> {
    return this.#plain.load(name);
  }

  /**
   * @param name a consumer
   * @param position its new position
   * @throws {LeaseLostError} when the lease is no longer this holder's
   */
  async save(name: string, position: Position): Promise<void> {
    checkConsumerName(name);
    const saved = await this.#side.send(['EVAL', FENCED_SAVE_SCRIPT, '2', this.#leaseKey, this.#side.key(`consumer:${name}`), this.#token, encodePosition(position)]);
    if (Number(saved) !== 1) throw new LeaseLostError(`the ${name} lease is no longer this instance's: position not saved`);
  }

  /**
   * Fenced like a save: a holder that lost the lease cannot remove the
   * position its successor works from. (A deleted webhook endpoint's
   * position is deleted through the storage's positions instead, by any
   * instance: see the webhook service.)
   * @param name a consumer
   * @throws {LeaseLostError} when the lease is no longer this holder's
   */
  async delete(name: string): Promise<void> {
    checkConsumerName(name);
    const deleted = await this.#side.send(['EVAL', FENCED_DELETE_SCRIPT, '2', this.#leaseKey, this.#side.key(`consumer:${name}`), this.#token]);
    if (Number(deleted) !== 1) throw new LeaseLostError(`the ${name} lease is no longer this instance's: position not deleted`);
  }
}
