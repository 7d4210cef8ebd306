/**
 * @module observe/sent-messages
 * WebSocket messages sent, by type, counted where every message leaves (the
 * client socket's `send`) at the cost of two byte reads and an increment:
 * every server message's JSON opens with `{"type":"…"` (encode.ts writes
 * the type first), so its type is told from the bytes already there,
 * without decoding anything.
 */

import type { SentMessageType } from './metrics.ts';

/** Offset of the type's first letter in `{"type":"…`. */
const TYPE_AT = 9;

/** `{"t`: the opening every server message has. */
const OPENING = [0x7b, 0x22, 0x74] as const;

const CHAR = { a: 0x61, e: 0x65, f: 0x66, o: 0x6f, p: 0x70, r: 0x72, s: 0x73, v: 0x76 } as const;

/** Counts of messages sent, by type. */
export class SentMessages {
  readonly #counts: Record<SentMessageType, number> = { snapshot: 0, events: 0, resumed: 0, ack: 0, error: 0, pong: 0, refreshed: 0, productUpdated: 0, other: 0 };

  /**
   * Count one message that was sent.
   * @param payload its JSON text, as sent
   */
  count(payload: Uint8Array): void {
    this.#counts[typeOf(payload)]++;
  }

  /** The counts so far (a copy). */
  counts(): Readonly<Record<SentMessageType, number>> {
    return { ...this.#counts };
  }
}

/**
 * The type of a server message from its first bytes.
 * @param payload the message's JSON text
 */
export function typeOf(payload: Uint8Array): SentMessageType {
  if (payload.length <= TYPE_AT + 2 || payload[0] !== OPENING[0] || payload[1] !== OPENING[1] || payload[2] !== OPENING[2]) return 'other';
  switch (payload[TYPE_AT]) {
    case CHAR.s:
      return 'snapshot';
    case CHAR.r:
      // resumed, refreshed
      return payload[TYPE_AT + 2] === CHAR.s ? 'resumed' : payload[TYPE_AT + 2] === CHAR.f ? 'refreshed' : 'other';
    case CHAR.a:
      return 'ack';
    case CHAR.p:
      // pong, productUpdated
      return payload[TYPE_AT + 1] === CHAR.o ? 'pong' : payload[TYPE_AT + 1] === CHAR.r ? 'productUpdated' : 'other';
    case CHAR.e:
      // events, error
      return payload[TYPE_AT + 1] === CHAR.v ? 'events' : payload[TYPE_AT + 1] === CHAR.r ? 'error' : 'other';
    default:
      return 'other';
  }
}
