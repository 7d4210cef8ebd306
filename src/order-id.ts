/**
 * @module order-id
 * Order ids: UUID v7 laid out by `uuid`, with three things `uuid`'s default
 * does not give cheaply.
 *
 * - Random bytes come from a {@link RandomPool} (`uuid` calls
 *   `crypto.getRandomValues` for every id, which showed as 10% of the
 *   server's CPU under a write load).
 * - The timestamp and counter are kept here, as `uuid` keeps them, so ids
 *   stay strictly increasing within a millisecond and across a clock that
 *   steps back.
 * - Ids are made in runs that share a millisecond, and a listener sees each
 *   run's bytes before the first of its ids is handed out. Every new order
 *   gets a tracking token, one AES block (tracking.ts), and a cipher call
 *   costs about a microsecond whether it is given one block or 256: with
 *   the run, one call makes the tokens of all its ids. A run starts at one
 *   id per millisecond (an idle server makes each id when it is asked for,
 *   as before) and doubles each time it is used up within the same
 *   millisecond, up to {@link MAX_RUN_LENGTH}; what is left of a run when
 *   the clock moves on is dropped, so an id never carries a millisecond
 *   older than the clock's when it was handed out.
 */

import { v7 } from 'uuid';
import { RandomPool } from './random-pool.ts';

/** Bytes in an order id (a UUID). */
export const ORDER_ID_BYTES = 16;
/** Random bytes `uuid` reads per id (it uses bytes 6-15). */
const RANDOM_BYTES_PER_ID = 16;
/** The 32-bit counter `uuid` stores in bits 48-79; wrapping it moves to the next millisecond. */
const SEQ_MODULO = 2 ** 32;
/** Most ids made ahead in one run: 4 KiB of ids, enciphered in one call. */
export const MAX_RUN_LENGTH = 256;

/** Options for {@link createOrderIdGenerator}. */
export interface OrderIdOptions {
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /**
   * Sees each run of ids, {@link ORDER_ID_BYTES} bytes per id in the order
   * they will be handed out, before the first of them is. The buffer is
   * never written again.
   */
  readonly onRun?: (ids: Buffer) => void;
}

/**
 * Create an id generator.
 * @param options the clock, and who sees each run of ids
 */
export function createOrderIdGenerator(options: OrderIdOptions = {}): () => string {
  const now = options.now ?? Date.now;
  const onRun = options.onRun;
  const pool = new RandomPool();
  let msecs = -Infinity;
  let seq = 0;
  let run: Buffer = Buffer.alloc(0);
  let handedOut = 0;

  /** Fill a new run of `length` ids, the first made at clock time `t`. */
  const makeRun = (length: number, t: number): void => {
    run = Buffer.allocUnsafe(length * ORDER_ID_BYTES);
    handedOut = 0;
    for (let i = 0; i < length; i++) {
      const random = pool.bytes(RANDOM_BYTES_PER_ID);
      if (t > msecs) {
        msecs = t;
        // A random start (31 bits, as uuid does) leaves room to count up within the millisecond.
        seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
      } else {
        seq = (seq + 1) % SEQ_MODULO;
        if (seq === 0) msecs++;
      }
      v7({ msecs, seq, random }, run, i * ORDER_ID_BYTES);
    }
    onRun?.(run);
  };

  return () => {
    const t = now();
    const runLength = run.length / ORDER_ID_BYTES;
    if (t > msecs) makeRun(1, t);
    else if (handedOut === runLength) makeRun(Math.min(runLength * 2, MAX_RUN_LENGTH), t);
    return formatOrderId(run, handedOut++ * ORDER_ID_BYTES);
  };
}

/** Characters in an order id's text: 32 hex digits and 4 dashes. */
const ORDER_ID_TEXT_LENGTH = 36;
/** ASCII codes of the lowercase hex digits, by value. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;
/** Where each id's text is written before it is read out as a string. */
const idText = Buffer.alloc(ORDER_ID_TEXT_LENGTH);

/**
 * An order id's text: 16 bytes as a lowercase UUID.
 *
 * Written byte by byte and read out in one call, so the id is one flat
 * string. Joining slices of a hex string made a rope, and V8 flattens a
 * rope (a copy, and garbage) the first time it is hashed as a Map key:
 * id + `Map.set` took 1.43 µs that way, 0.55 µs this way.
 * @param bytes holds the id
 * @param offset where its 16 bytes start
 */
export function formatOrderId(bytes: Buffer, offset = 0): string {
  let at = 0;
  for (let i = 0; i < ORDER_ID_BYTES; i++) {
    // UUID groups: 4-2-2-2-6 bytes.
    if (i === 4 || i === 6 || i === 8 || i === 10) idText[at++] = DASH;
    const byte = bytes[offset + i]!;
    idText[at++] = HEX_DIGITS[byte >> 4]!;
    idText[at++] = HEX_DIGITS[byte & 0xf]!;
  }
  return idText.toString('latin1', 0, at);
}
