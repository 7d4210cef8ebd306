/**
 * @module notify/webhooks/delivery-merge
 * How many deliveries and attempts are kept, and how two copies of one
 * delivery (saved by two instances sharing a store) become one. Both the
 * delivery log and the stores use it.
 */

import type { Delivery, DeliveryAttempt } from './model.ts';

/** Deliveries kept per endpoint. */
export const KEPT_DELIVERIES = 100;

/** Attempts kept per delivery (the first ones and the latest). */
export const KEPT_ATTEMPTS = 20;

/**
 * Join another copy of a delivery (made on another instance) into this
 * one, in place (a worker may hold it): the attempts of both, oldest
 * first, bounded to {@link KEPT_ATTEMPTS} as the delivery log bounds them; the state of
 * the copy with the latest attempt.
 * @param target the copy kept
 * @param other the same delivery as another instance saw it
 */
export function mergeDelivery(target: Delivery, other: Delivery): void {
  if (latestAttemptAt(other) > latestAttemptAt(target)) target.state = other.state;
  const seen = new Set(target.attempts.map(attemptKey));
  const joined = [...target.attempts, ...other.attempts.filter((attempt) => !seen.has(attemptKey(attempt)))];
  joined.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  while (joined.length > KEPT_ATTEMPTS) joined.splice(KEPT_ATTEMPTS / 2, 1);
  target.attempts.splice(0, target.attempts.length, ...joined);
}

/** An attempt's identity across copies: two instances never make the same attempt to the millisecond with the same outcome and duration. */
function attemptKey(attempt: DeliveryAttempt): string {
  return `${attempt.at}|${attempt.status}|${attempt.durationMs}|${attempt.error ?? ''}`;
}

/** When the latest attempt was made (ISO times compare as strings); '' without one. */
function latestAttemptAt(delivery: Delivery): string {
  return delivery.attempts.reduce((latest, attempt) => (attempt.at > latest ? attempt.at : latest), '');
}
