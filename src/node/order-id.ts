/**
 * @module node/order-id
 * Order ids: UUID v7 laid out by `uuid`, with three things `uuid`'s default
 * does not give cheaply.
 *
 * - Random bytes come from a {@link RandomPool} (`uuid` calls
 *   `crypto.getRandomValues` for every id, which showed high in the
 *   server's profile under a write load).
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

/** Where each of a UUID's 16 bytes starts in its 36-character text (dashes at 8, 13, 18 and 23). */
const UUID_BYTE_OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] as const;
const UUID_DASH_OFFSETS = [8, 13, 18, 23] as const;
const DASH = 0x2d;
/** ASCII codes of the lowercase hex digits, by value. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Value of each lowercase hex digit by character code; -1 for every other character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let digit = 0; digit < 16; digit++) HEX_VALUE[HEX_DIGITS[digit]!] = digit;
/** Where each id's text is written before it is read out as a string; its dashes never change. */
const idText = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

/**
 * An order id's text: 16 bytes as a lowercase UUID.
 *
 * Written byte by byte and read out in one call, so the id is one flat
 * string. Joining slices of a hex string made a rope, and V8 flattens a
 * rope (a copy, and garbage) the first time it is hashed as a Map key,
 * which the store does with every new id.
 * @param bytes holds the id
 * @param offset where its 16 bytes start
 */
export function formatOrderId(bytes: Buffer, offset = 0): string {
  for (let i = 0; i < ORDER_ID_BYTES; i++) {
    const byte = bytes[offset + i]!;
    const at = UUID_BYTE_OFFSETS[i]!;
    idText[at] = HEX_DIGITS[byte >> 4]!;
    idText[at + 1] = HEX_DIGITS[byte & 0xf]!;
  }
  return idText.toString('latin1');
}

/**
 * The reverse of {@link formatOrderId}: write a lowercase UUID's 16 bytes
 * into `block`, checking its form on the way (the same form as `isOrderId`).
 * A tracking token is made from these bytes on every create: this loop
 * replaced a regular expression, a `replace` and `Buffer.from(hex)`, which
 * cost several times as much.
 * @param id the text
 * @param block receives the 16 bytes
 * @returns false, with `block` partly written, when `id` is not a lowercase UUID
 */
export function readOrderIdBytes(id: string, block: Buffer): boolean {
  if (id.length !== 36) return false;
  for (const at of UUID_DASH_OFFSETS) if (id.charCodeAt(at) !== DASH) return false;
  for (let i = 0; i < ORDER_ID_BYTES; i++) {
    const at = UUID_BYTE_OFFSETS[i]!;
    // charCodeAt is >= 128 outside ASCII, which reads as undefined: treated as -1.
    const high = HEX_VALUE[id.charCodeAt(at)] ?? -1;
    const low = HEX_VALUE[id.charCodeAt(at + 1)] ?? -1;
    if (high < 0 || low < 0) return false;
    block[i] = (high << 4) | low;
  }
  return true;
}
