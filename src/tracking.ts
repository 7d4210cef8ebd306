/**
 * @module tracking
 * Customer tracking tokens: one secret per order, kept beside the store (the
 * token is never part of the order, so it never travels in events or lists).
 */

import { newTrackingToken } from './auth.ts';

/** Token -> order id, and back, for the orders that exist. */
export class TrackingTokens {
  readonly #orderByToken = new Map<string, string>();
  readonly #tokenByOrder = new Map<string, string>();

  /**
   * The order's token, minted on first use.
   * @param orderId a new order's id
   */
  issue(orderId: string): string {
    const existing = this.#tokenByOrder.get(orderId);
    if (existing !== undefined) return existing;
    const token = newTrackingToken();
    this.#orderByToken.set(token, orderId);
    this.#tokenByOrder.set(orderId, token);
    return token;
  }

  /**
   * The order a token opens, if any.
   * @param token a presented tracking token
   */
  orderFor(token: string): string | undefined {
    return this.#orderByToken.get(token);
  }

  /**
   * Forget a deleted order's token.
   * @param orderId the deleted order
   */
  forget(orderId: string): void {
    const token = this.#tokenByOrder.get(orderId);
    if (token === undefined) return;
    this.#tokenByOrder.delete(orderId);
    this.#orderByToken.delete(token);
  }
}
