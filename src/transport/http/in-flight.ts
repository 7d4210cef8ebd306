/**
 * @module transport/http/in-flight
 * Requests whose answers have not finished, so that shutdown can wait for them.
 */

import type { ServerResponse } from 'node:http';

/** Counts requests whose responses have not finished, so shutdown can wait for them. */
export class InFlightRequests {
  #count = 0;
  #waiters: (() => void)[] = [];

  track(res: ServerResponse): void {
    this.#count++;
    // One listener shared by every response ('close' fires once): no closure or once-wrapper per request.
    res.on('close', this.#finished);
  }

  readonly #finished = (): void => {
    this.#count--;
    if (this.#count === 0) for (const wake of this.#waiters.splice(0)) wake();
  };

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
