/**
 * @module client/stream/backoff
 * Reconnect delays shared by the page and the terminal client: exponential,
 * capped, with jitter so that clients dropped together do not return together.
 */

/** Reconnect delays, in milliseconds. */
export const BACKOFF = { initialMs: 500, maxMs: 15_000 } as const;

/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from
 * {@link BACKOFF}.initialMs up to .maxMs, with "equal jitter" (half fixed, half random).
 * @param attempt how many attempts failed in a row
 * @param random a number in [0, 1)
 */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
