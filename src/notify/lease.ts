/**
 * @module notify/lease
 * One sender among instances sharing a Redis history: a lease per consumer
 * (a key set with NX and a time to live, renewed by its holder), with a
 * fencing token that grows with every acquisition. The holder's position
 * saves go through {@link FencedPositions}: a save is made only while the
 * key still holds the holder's token, so an instance that lost the lease
 * (paused, cut off) cannot move the position its successor works from.
 * Webhooks can hold a lease of their own name the same way.
 *
 * The lease is short ({@link LEASE_TTL_MS}) so a dead holder is replaced
 * within seconds: the others try again right when it runs out. A short
 * lease is easily outlived by a slow renewal (a Redis command may wait
 * far longer than the lease lasts), so the holder keeps its own clock and
 * stops before Redis could hand the lease to another instance.
 */

import { randomUUID } from 'node:crypto';
import type { Position } from '../protocol/messages.ts';
import type { ConsumerPositions, SideKeys } from '../store/ports.ts';
import { checkConsumerName, encodePosition } from '../store/positions.ts';
import type { Logger } from '../support/logger.ts';

/** How long a lease lasts without renewal, in milliseconds: a dead holder's successor takes over about this long after its last renewal. */
export const LEASE_TTL_MS = 3000;

/** Renewals (and tries to acquire) per lease time: renewing at a third leaves two chances before it runs out. */
const RENEWALS_PER_TTL = 3;

/**
 * The share of the lease time a holder gives up early: it stops sending
 * this much before the lease it last saw renewed can run out in Redis, so
 * its last attempt is over before a successor's first.
 */
const SAFETY_SHARE = 0.1;

/** How long after the lease runs out a waiting instance tries again, in milliseconds (Redis expires the key on access, to the millisecond). */
const AFTER_EXPIRY_MS = 5;

/** Extend the lease only while it is still ours. */
const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/** Give the lease up only while it is still ours. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/**
 * Take a free lease: the next fencing number and the key, at once (a try
 * that finds it held moves no number). Answers the number, or minus the
 * milliseconds the holder's lease has left (0: unknown).
 */
const ACQUIRE_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then return 0 end
  return -left
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'PX', ARGV[2])
return fence`;
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
  /**
   * No longer the holder (or stopping): stop the consumer. Called after
   * the {@link LeaseOptions.onAcquired} it follows has finished, never
   * during it.
   */
  readonly onLost: () => Promise<void>;
  readonly logger: Logger;
  /** @default {@link LEASE_TTL_MS} */
  readonly ttlMs?: number;
}

/**
 * Holds, renews and gives up one lease; see the module comment.
 *
 * The holder counts the lease as its own only until the lease time (less
 * a safety share) after it sent its last renewal that succeeded: a renewal
 * that has not answered by then (Redis slow, its answer lost, the event
 * loop busy) counts as lost, whatever it answers later, so a holder cut
 * off from Redis stops before a successor can start. {@link SenderLease.held}
 * says so at any moment, for a consumer to check before each send.
 */
export class SenderLease {
  readonly #options: LeaseOptions;
  readonly #ttlMs: number;
  readonly #leaseKey: string;
  readonly #fenceKey: string;
  #token: string | undefined;
  /** Until when (`performance.now()`) the token is surely still the lease's. */
  #heldUntil = 0;
  /** Counts the lease lost at {@link SenderLease.#heldUntil} unless a renewal moved it. */
  #deadline: NodeJS.Timeout | undefined;
  /** A token counted lost that Redis may still hold (a late renewal): released on the next step, so the lease is free at once. */
  #abandoned: string | undefined;
  /** `onAcquired` running (renewals go on meanwhile); a loss meanwhile is told once it is done. */
  #starting: Promise<void> | undefined;
  /** Told `onAcquired` and not `onLost` since. */
  #told = false;
  /** The `onLost` in progress. */
  #losing: Promise<void> = Promise.resolve();
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

  /** Whether this instance holds the lease now (and surely will until its renewal is due). */
  get held(): boolean {
    return this.#token !== undefined && performance.now() < this.#heldUntil;
  }

  /** Try now, then every third of the lease time (a waiting instance: also right when the holder's lease runs out). */
  start(): void {
    this.#tick();
  }

  /** Stop the consumer (if held) and give the lease up, so another instance takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    await this.#step;
    await this.#starting;
    const token = this.#token ?? this.#abandoned;
    this.#token = undefined;
    this.#abandoned = undefined;
    await this.#tellLost();
    if (token !== undefined) await this.#options.side.send(['EVAL', RELEASE_SCRIPT, '1', this.#leaseKey, token]).catch(() => undefined);
  }

  #tick(): void {
    let next = this.#ttlMs / RENEWALS_PER_TTL;
    this.#step = this.#step
      .then(() => this.#turn())
      .then((wait) => {
        if (wait !== undefined) next = wait;
      })
      .catch((error: unknown) => this.#options.logger.warn('sender lease step failed', { name: this.#options.name, error }));
    void this.#step.then(() => {
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), next);
    });
  }

  /** One step; resolves with how long to wait before the next one when that is sooner than usual. */
  async #turn(): Promise<number | undefined> {
    if (this.#stopped) return undefined;
    const { side } = this.#options;
    if (this.#abandoned !== undefined) {
      const abandoned = this.#abandoned;
      this.#abandoned = undefined;
      await side.send(['EVAL', RELEASE_SCRIPT, '1', this.#leaseKey, abandoned]).catch(() => undefined);
    }
    const token = this.#token;
    if (token !== undefined) {
      const sentAt = performance.now();
      let renewed = false;
      try {
        renewed = Number(await side.send(['EVAL', RENEW_SCRIPT, '1', this.#leaseKey, token, String(this.#ttlMs)])) === 1;
      } catch {
        // Cannot tell: stop sending rather than risk two senders.
      }
      // Counted lost while the renewal waited: it changes nothing, whatever it answered.
      if (this.#token !== token) return undefined;
      if (renewed && this.#holdUntil(sentAt)) return undefined;
      // Redis may still hold the token (a late yes, or a renewal that timed out here but was made): released on the next step.
      this.#abandoned = token;
      await this.#lose('sender lease lost: another instance may send now');
      return undefined;
    }
    // Still starting after a loss: no second start meanwhile.
    if (this.#starting !== undefined) return undefined;
    const id = randomUUID();
    const sentAt = performance.now();
    const reply = Number(await side.send(['EVAL', ACQUIRE_SCRIPT, '2', this.#leaseKey, this.#fenceKey, id, String(this.#ttlMs)]));
    // Held by another instance: try again right after its lease runs out, unless it is renewed.
    if (reply <= 0) return reply < 0 ? Math.min(this.#ttlMs / RENEWALS_PER_TTL, -reply + AFTER_EXPIRY_MS) : undefined;
    const taken = `${reply}:${id}`;
    this.#token = taken;
    if (this.#stopped || !this.#holdUntil(sentAt)) {
      // Taken too late to count on (or stopping): let it go at once.
      this.#token = undefined;
      await side.send(['EVAL', RELEASE_SCRIPT, '1', this.#leaseKey, taken]).catch(() => undefined);
      return undefined;
    }
    this.#options.logger.info('sender lease taken: this instance sends', { name: this.#options.name, fence: reply });
    this.#told = true;
    // Renewals go on while the consumer starts (a slow start must not let the lease run out).
    this.#starting = this.#options
      .onAcquired(new FencedPositions(side, this.#leaseKey, taken, this.#options.positions))
      .catch((error: unknown) => this.#options.logger.warn('starting the sender failed', { name: this.#options.name, error }))
      .then(async () => {
        this.#starting = undefined;
        // Lost while starting: what it started stops now.
        if (this.#token !== taken) await this.#tellLost();
      });
    return undefined;
  }

  /**
   * The lease is surely ours until the lease time (less the safety share)
   * after the command that set it was sent; false when that is past already.
   */
  #holdUntil(sentAt: number): boolean {
    const until = sentAt + this.#ttlMs * (1 - SAFETY_SHARE);
    if (until <= performance.now()) return false;
    this.#heldUntil = until;
    this.#armDeadline();
    return true;
  }

  /** Count the lease lost at {@link SenderLease.#heldUntil} unless a renewal moves it. */
  #armDeadline(): void {
    clearTimeout(this.#deadline);
    // A timer may fire a little early by this clock: it looks again then.
    this.#deadline = setTimeout(() => {
      if (this.#token === undefined) return;
      if (performance.now() < this.#heldUntil) return this.#armDeadline();
      // The renewal has not answered in time (it may still be waiting): Redis may give the lease to another instance now.
      this.#abandoned = this.#token;
      this.#lose('sender lease renewal did not answer in time: counted lost, this instance stops sending').catch((error: unknown) => this.#options.logger.warn('sender lease step failed', { name: this.#options.name, error }));
    }, Math.ceil(this.#heldUntil - performance.now()));
  }

  /** No longer the holder: stop the consumer (once `onAcquired` is done, when it is running). */
  async #lose(message: string): Promise<void> {
    if (this.#token === undefined) return;
    this.#token = undefined;
    this.#heldUntil = 0;
    clearTimeout(this.#deadline);
    this.#options.logger.warn(message, { name: this.#options.name });
    if (this.#starting === undefined) await this.#tellLost();
  }

  /** Tell `onLost` once per `onAcquired`, one at a time. */
  #tellLost(): Promise<void> {
    this.#losing = this.#losing.catch(() => undefined).then(async () => {
      if (!this.#told) return;
      this.#told = false;
      await this.#options.onLost();
    });
    return this.#losing;
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
