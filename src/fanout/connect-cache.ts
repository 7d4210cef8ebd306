/**
 * @module fanout/connect-cache
 * What a connecting client is sent (its snapshot, or on a resume the events
 * it missed), encoded once per view and seq and reused until the store
 * changes. When many clients connect at once (a deploy, a network blip),
 * each one would otherwise serialise the same 1,000 orders, or the same
 * thousand missed events, again.
 */

import { prepareMessage, type OutgoingMessage } from './frame.ts';

interface Entry {
  readonly seq: number;
  readonly message: OutgoingMessage;
}

/** Messages kept at most; a client with an unusual view or resume point just misses the cache. */
const MAX_ENTRIES = 64;

/** Bytes kept at most (payload and frame both count); a message bigger than a quarter of it is not kept. */
const MAX_BYTES = 32 * 1024 * 1024;

/** The latest encoded message per key, valid only for the seq it was built at. */
export class ConnectCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  /**
   * The encoded message for `key` at `seq`, building it with `build` when missing or stale.
   * @param key identifies what is sent: view, limit and flags for a snapshot; view and resume point for missed events
   * @param seq the store's seq now
   * @param build makes the message's JSON text when needed
   */
  get(key: string, seq: number, build: () => string): OutgoingMessage {
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.seq === seq) return hit.message;
    this.#forget(key);
    const message = prepareMessage(build());
    const size = sizeOf(message);
    if (size > MAX_BYTES / 4) return message;
    this.#entries.set(key, { seq, message });
    this.#bytes += size;
    while (this.#entries.size > MAX_ENTRIES || this.#bytes > MAX_BYTES) this.#forget(this.#entries.keys().next().value!);
    return message;
  }

  /** Forget every message: the history they were built from was replaced (their seqs mean something else now). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= sizeOf(entry.message);
  }
}

function sizeOf(message: OutgoingMessage): number {
  return message.payload.length + (message.frame?.length ?? 0);
}
