/**
 * @module snapshot-cache
 * Encoded snapshots, reused while nothing changed. When many clients connect
 * at once (a deploy, a network blip), each one would otherwise serialise the
 * same 1,000 orders again; here the bytes are built once per view and seq.
 */

import { prepareMessage, type OutgoingMessage } from './frame.ts';
import { encodeServerMessage, type SnapshotMessage } from './protocol.ts';

interface Entry {
  readonly seq: number;
  readonly message: OutgoingMessage;
}

/** Views kept at most; a subscriber with an unusual view just misses the cache. */
const MAX_ENTRIES = 64;

/** The latest encoded snapshot per (view, limit, reset), valid only for the seq it was built at. */
export class SnapshotCache {
  readonly #entries = new Map<string, Entry>();

  /**
   * The encoded snapshot for `key` at `seq`, building it with `build` when missing or stale.
   * @param key identifies the view, limit and reset flag
   * @param seq the store's seq now
   * @param build makes the snapshot message when needed
   */
  get(key: string, seq: number, build: () => SnapshotMessage): OutgoingMessage {
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.seq === seq) return hit.message;
    const message = prepareMessage(encodeServerMessage(build()));
    this.#entries.delete(key);
    this.#entries.set(key, { seq, message });
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return message;
  }
}
