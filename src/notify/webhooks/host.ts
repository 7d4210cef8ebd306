/**
 * @module notify/webhooks/host
 * What webhooks need from the live node: its position in the tail, a
 * paced durable consumer per endpoint, and the consumer positions (to
 * pin a new endpoint's start and to show its backlog).
 */

import type { OrderEvent, Position } from '../../protocol.ts';

/** A paced consumer of the tail, as the live node registers one. */
export interface PacedConsumerSpec {
  readonly name: string;
  readonly handle: (events: readonly OrderEvent[]) => Promise<void> | void;
  readonly onMissed?: (missed: { readonly reason: string; readonly missed: number }) => Promise<void> | void;
  readonly durable?: boolean;
  readonly maxBatch?: number;
}

/** Where durable consumers keep their positions. */
export interface PositionStore {
  load(name: string): Promise<Position | undefined>;
  save(name: string, position: Position): Promise<void>;
  /** Forget a position (a deleted endpoint's); durable once it resolves, and no error for a name never saved. */
  delete(name: string): Promise<void>;
}

/** The live node, as webhooks use it. */
export interface WebhookHost {
  /** The last event the live consumers took. */
  readonly position: Position;
  /** Start a paced consumer (saving its position to `positions`, the storage's by default); resolves with a function that stops it after the batch in hand. */
  register(spec: PacedConsumerSpec, positions?: PositionStore): Promise<() => Promise<void>>;
  readonly storage: { readonly positions: PositionStore };
}
