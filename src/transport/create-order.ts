/**
 * @module transport/create-order
 * What both transports do around the one write path when a client creates
 * an order: its idempotency key is scoped to who sends it, and the creator
 * (only ever the creator, or whoever may create orders asking again) is
 * handed the order's tracking token.
 */

import { ok, type CreateOrderInput, type Result } from '../protocol.ts';
import type { AccessControl } from '../security/access.ts';
import type { Principal } from '../security/auth.ts';
import type { Commands, Created } from '../store/ports.ts';

/** A create as its client is answered: the committed order, and its tracking token. */
export type CreatedForClient = Created & { readonly trackingToken: string };

/**
 * The key a client's idempotency key is stored under: scoped to the caller,
 * so nobody can replay another client's answer (and its tracking token) by
 * guessing a key. Open mode has one caller.
 * @param principal who sends the key
 * @param key the key as sent
 */
export function scopedIdempotencyKey(principal: Principal, key: string): string {
  if (principal.kind === 'role') return `${principal.name}\n${key}`;
  // A signed-in user is its subject at its issuer, whichever of its tokens it sends.
  if (principal.kind === 'user') return `user:${principal.issuer} ${principal.subject}\n${key}`;
  return key;
}

/**
 * Create an order for `principal` through the one write path.
 * @param commands the write path
 * @param access who may do what, and the tracking tokens
 * @param principal who asks (already admitted to `createOrder`)
 * @param input the validated order
 * @param idempotencyKey the client's key, as sent, if it sent one
 * @returns the committed order with its tracking token, or the refusal
 * @throws what the write path throws (storage unavailable): each transport answers that its own way
 */
export async function createOrderFor(
  commands: Commands,
  access: AccessControl,
  principal: Principal,
  input: CreateOrderInput,
  idempotencyKey: string | undefined,
): Promise<Result<CreatedForClient>> {
  const result = await commands.create(input, idempotencyKey === undefined ? undefined : scopedIdempotencyKey(principal, idempotencyKey));
  if (!result.ok) return result;
  return ok({ ...result.value, trackingToken: trackingTokenOf(access, result.value.order.id) });
}

/**
 * An order's tracking token: the same for the creator and for whoever may
 * ask for it again (`reissueTrackingToken`).
 * @param access holds the tracking key
 * @param orderId an existing order's id
 */
export function trackingTokenOf(access: AccessControl, orderId: string): string {
  return access.tracking.issue(orderId);
}
