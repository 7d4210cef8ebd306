/**
 * @module notify/webhooks/host
 * What webhooks need from the live node: its position in the tail, a
 * paced durable consumer per endpoint, and the consumer positions (to
 * pin a new endpoint's start and to show its backlog).
 */

import type { Position } from '../../protocol.ts';
import type { ConsumerSpec } from '../../node/consumers.ts';
import type { ConsumerPositions } from '../../store/ports.ts';

/** The live node, as webhooks use it. */
export interface WebhookHost {
  /** The last event the live consumers took. */
  readonly position: Position;
  /** Start a paced consumer (saving its position to `positions`, the storage's by default); resolves with a function that stops it after the batch in hand. */
  register(spec: ConsumerSpec, positions?: ConsumerPositions): Promise<() => Promise<void>>;
  readonly storage: { readonly positions: ConsumerPositions };
}
