/**
 * @module client/presence-watch
 * While an order's detail is open: tell the server this socket watches it
 * (the `watch` message, sent again after a reconnect, since a new socket
 * watches nothing), and poll its presence counts. Polling, not pushing:
 * one small GET every few seconds per open dialog, and only while the tab
 * is visible.
 */

import type { ApiProblem } from './api.ts';
import type { ClientMessage, PresenceCounts, Result } from '../src/protocol.ts';

/** How often the counts of the open order are fetched, in milliseconds. */
export const PRESENCE_POLL_MS = 3000;

/** What a {@link PresenceWatch} uses. */
export interface PresenceWatchOptions {
  /** Send on the board's socket; false when it is not open (the next `reconnected` sends it). */
  readonly send: (message: ClientMessage) => boolean;
  readonly fetch: (orderId: string) => Promise<Result<PresenceCounts, ApiProblem>>;
  /** Counts to show, or undefined for none. */
  readonly show: (counts: PresenceCounts | undefined) => void;
}

/** Follows the order whose detail is open. */
export class PresenceWatch {
  readonly #options: PresenceWatchOptions;
  #orderId: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Grows with every `follow`: a poll of an earlier one stops when it sees it changed. */
  #generation = 0;

  /** @param options how to send, fetch and show */
  constructor(options: PresenceWatchOptions) {
    this.#options = options;
  }

  /**
   * Watch `orderId` (undefined: none) from now on. Calling it again with the same order does nothing.
   * @param orderId the order whose detail is open
   */
  follow(orderId: string | undefined): void {
    if (orderId === this.#orderId) return;
    this.#orderId = orderId;
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#announce();
    this.#options.show(undefined);
    if (orderId !== undefined) void this.#poll(orderId, generation);
  }

  /** The socket was opened again: it watches nothing until told. */
  reconnected(): void {
    if (this.#orderId !== undefined) this.#announce();
  }

  #announce(): void {
    this.#options.send(this.#orderId === undefined ? { type: 'watch' } : { type: 'watch', orderId: this.#orderId });
  }

  async #poll(orderId: string, generation: number): Promise<void> {
    if (document.visibilityState === 'visible') {
      const result = await this.#options.fetch(orderId);
      if (generation !== this.#generation) return; // the dialog moved on meanwhile
      this.#options.show(result.ok ? result.value : undefined);
    }
    this.#timer = setTimeout(() => void this.#poll(orderId, generation), PRESENCE_POLL_MS);
  }
}
