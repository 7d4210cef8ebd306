/**
 * @module security/tracking
 * Customer tracking tokens, computed from the order id instead of stored.
 *
 * A token is the order id's 16 bytes enciphered with AES-128 under a key made
 * when the server starts, written as 22 base64url characters. Reading a token
 * deciphers it back to an order id; the caller then looks that order up, so a
 * deleted order's token opens nothing. One block of a block cipher is a keyed
 * permutation, so without the key a made-up token names one of N existing
 * orders with odds N / 2^128: the same as guessing one of N random 128-bit
 * tokens. (ECB's weakness, equal blocks giving equal output, cannot arise:
 * every order id is different.)
 *
 * Nothing is kept per order, so any process with the key can check a token.
 * Random tokens needed two maps (token -> order and back) that held 113 of
 * the 622 heap bytes each order took. The token is never part of the order,
 * so it never travels in events or lists.
 *
 * Cost: a cipher call is about a microsecond however many blocks it is
 * given, which made the token one of the largest items of a create. The id
 * generator announces each run of ids before handing them out
 * ({@link TrackingTokens.prepare}), so one call enciphers a whole run.
 */

import { createCipheriv, createDecipheriv, randomBytes, type Cipher, type Decipher } from 'node:crypto';
import { ORDER_ID_BYTES, formatOrderId, readOrderIdBytes } from '../node/order-id.ts';
import { isTrackingToken } from '../protocol.ts';

/** AES-128 on one 16-byte block: the order id in, the token's bytes out. */
const CIPHER = 'aes-128-ecb';
/** Bytes of key; an order id and a token are {@link ORDER_ID_BYTES} each, one AES block. */
const TRACKING_KEY_BYTES = 16;

/**
 * The last of 22 base64url characters carries 2 bits of the 16th byte and 4
 * zero bits; only these four characters leave those zero. Any other final
 * character would decode to the same bytes as one of them, and a token has
 * exactly one spelling.
 */
const CANONICAL_LAST_CHARACTER = /[AQgw]$/;

/** Order id <-> tracking token, under one key. */
export class TrackingTokens {
  // ECB keeps no state between blocks and padding is off, so one long-lived
  // cipher answers each 16-byte update() with 16 bytes, at once.
  readonly #encipher: Cipher;
  readonly #decipher: Decipher;
  // The id's bytes, rewritten per token: update() reads them before returning.
  readonly #block = Buffer.alloc(ORDER_ID_BYTES);
  // The last runs of ids the id generator announced (order-id.ts), oldest
  // first, with their tokens' bytes. Tokens are issued once a create is
  // committed, by when later creates may have started runs of their own.
  readonly #runs: Run[] = [];

  /** @param key 16 secret bytes @default fresh random bytes (tokens last as long as the process) */
  constructor(key: Buffer = randomBytes(TRACKING_KEY_BYTES)) {
    if (key.length !== TRACKING_KEY_BYTES) throw new RangeError(`a tracking key is ${TRACKING_KEY_BYTES} bytes`);
    this.#encipher = createCipheriv(CIPHER, key, null).setAutoPadding(false);
    this.#decipher = createDecipheriv(CIPHER, key, null).setAutoPadding(false);
  }

  /**
   * The order's token; the same id always gives the same token.
   * @param orderId an order id (a lowercase UUID)
   * @throws {TypeError} when `orderId` is not one
   */
  issue(orderId: string): string {
    const block = this.#block;
    if (!readOrderIdBytes(orderId, block)) throw new TypeError(`not an order id: ${orderId}`);
    for (let r = this.#runs.length - 1; r >= 0; r--) {
      const run = this.#runs[r]!;
      // Runs are in id order: one whose first id is above this one is too new.
      if (compareBlocks(block, run.ids, 0) < 0) continue;
      const at = findInRun(run, block);
      if (at >= 0) return run.tokens.toString('base64url', at, at + ORDER_ID_BYTES);
      break;
    }
    return this.#encipher.update(block).toString('base64url');
  }

  /**
   * Encipher a run of ids before they are handed out, in one call: a cipher
   * call costs about a microsecond for one block or for 256, so their tokens
   * then cost a lookup each (the id generator's `onRun`, see order-id.ts).
   * Ids outside the run still get their tokens, one call each; a token is
   * the same either way.
   * @param ids {@link ORDER_ID_BYTES} bytes per id, in the order they will be issued; not written afterwards
   */
  prepare(ids: Buffer): void {
    // ECB would hold a partial block back and shift every later token.
    if (ids.length % ORDER_ID_BYTES !== 0) throw new RangeError(`a run of ids is a multiple of ${ORDER_ID_BYTES} bytes, got ${ids.length}`);
    this.#runs.push({ ids, tokens: this.#encipher.update(ids), next: 0 });
    if (this.#runs.length > RUNS_KEPT) this.#runs.shift();
  }

  /**
   * The order id a well-formed token deciphers to. Any such token names some
   * id; whether an order has it (and so whether the token is real) is the
   * caller's question.
   * @param token a presented tracking token
   */
  orderFor(token: string): string | undefined {
    if (!isTrackingToken(token) || !CANONICAL_LAST_CHARACTER.test(token)) return undefined;
    return formatOrderId(this.#decipher.update(Buffer.from(token, 'base64url')));
  }
}

/** Runs of ids kept with their tokens: enough for the creates of one busy turn (runs double up to 256 ids). */
const RUNS_KEPT = 8;

/** A run of ids announced by the id generator, and their tokens. */
interface Run {
  readonly ids: Buffer;
  readonly tokens: Buffer;
  /** The index of the id whose token is likely asked for next (creates are mostly answered in id order). */
  next: number;
}

/** Offset of `block` in a run: where the last lookup left off, else a binary search (ids are ascending); -1 when absent. */
function findInRun(run: Run, block: Buffer): number {
  const count = run.ids.length / ORDER_ID_BYTES;
  if (run.next < count && compareBlocks(block, run.ids, run.next * ORDER_ID_BYTES) === 0) return run.next++ * ORDER_ID_BYTES;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareBlocks(block, run.ids, mid * ORDER_ID_BYTES);
    if (order === 0) {
      run.next = mid + 1;
      return mid * ORDER_ID_BYTES;
    }
    if (order > 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** `block` against the {@link ORDER_ID_BYTES} bytes of `bytes` at `offset`, byte by byte: below 0, 0 or above 0. */
function compareBlocks(block: Buffer, bytes: Buffer, offset: number): number {
  for (let i = 0; i < ORDER_ID_BYTES; i++) {
    const difference = block[i]! - bytes[offset + i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}
