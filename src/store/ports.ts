/**
 * @module store/ports
 * The storage ports: what the rest of the service needs from storage, and
 * what a backend (memory, journal, Redis) provides. Writes go one way:
 * {@link Commands} decide against the local projection and ask the
 * backend's {@link OrderLog} to append; the live node's named consumers
 * (the projection, the history, the hub, paced ones) are then fed from the
 * log's {@link EventSource.tail}, in `seq` order, this instance's own
 * writes included. A backend decides where an append is made atomic; it never
 * holds a copy of the rules (those are in domain/decide.ts).
 */

import type { Product } from '../domain/catalog.ts';
import type { Change } from '../domain/decide.ts';
import type { LogEvent } from '../domain/events.ts';
import type { OrderStatus } from '../domain/statuses.ts';
import type { Result } from '../protocol/errors.ts';
import type { Position, View } from '../protocol/messages.ts';
import type { CreateOrderInput, Order, StatusCounts } from '../protocol/orders.ts';

/** A write that was committed (as durably as the backend makes it) and that this instance's projection has applied. */
export interface Committed {
  /** The order after the change (for a delete, its last state). */
  readonly order: Order;
  /** The change's sequence number. */
  readonly seq: number;
}

/** A committed create, or the first answer again for a retry with the same idempotency key. */
export interface Created extends Committed {
  /** True when this is a retry's answer: the order was created by an earlier request with the same key. */
  readonly replayed: boolean;
}

/**
 * The one write path, for HTTP and WebSocket alike. Each method resolves
 * once the write is committed and this instance's projection has reached
 * it, so the writer reads its own write and this instance's sockets have
 * the event; it resolves with a refusal when a rule says no, and rejects
 * only when storage failed (nothing was committed, or it is unknown
 * whether it was: see the backend).
 */
export interface Commands {
  /**
   * Create an order.
   * @param input a validated order
   * @param idempotencyKey when given, a retry with the same key and input gets the first answer, even while the first is in flight
   */
  create(input: CreateOrderInput, idempotencyKey?: string): Promise<Result<Created>>;
  /**
   * Move an order to another status, if the status machine allows it.
   * @param expectedVersion when given, only if the order is still at this version
   */
  changeStatus(id: string, status: OrderStatus, expectedVersion?: number): Promise<Result<Committed>>;
  /**
   * Delete an order.
   * @param expectedVersion when given, only if the order is still at this version
   */
  delete(id: string, expectedVersion?: number): Promise<Result<Committed>>;
}

/** A page of orders, newest first. */
export interface OrderPage {
  readonly orders: readonly Order[];
  /** How many orders match the query in all (not just this page). */
  readonly total: number;
  /** Pass as `before` to get the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** Which orders to list. */
export interface ListQuery {
  readonly view?: View;
  /** Exclusive: list orders older than this id (the previous page's `nextCursor`). */
  readonly before?: string;
  readonly limit: number;
}

/** The local projection, read synchronously: what this instance knows, as of {@link OrderReader.position}. */
export interface OrderReader {
  /** The last event applied, and the epoch of the history it belongs to. */
  readonly position: Position;
  /** Orders held. */
  readonly size: number;
  get(id: string): Order | undefined;
  list(query: ListQuery): OrderPage;
  counts(): StatusCounts;
}

/** Called with events in `seq` order, each exactly once, in batches. */
export type EventSink = (events: readonly LogEvent[]) => void;

/** What an instance starts from: every order, as of a position. */
export interface LoadedState {
  readonly orders: readonly Order[];
  /** Every product of the catalog, as of the same position. */
  readonly products?: readonly Product[];
  readonly position: Position;
}

/** The history of changes: it owns `seq` and the epoch. */
export interface EventSource {
  /** Identifies the history; it changes only when history is lost (a memory backend's restart, a Redis that lost its data). */
  readonly epoch: string;
  /**
   * The events after `after`, oldest first, at most `limit`, or `'reset'` when
   * some of them are no longer kept or `after` is from another epoch.
   */
  replay(after: Position, limit: number): Promise<readonly LogEvent[] | 'reset'>;
  /**
   * Deliver every event after seq `after` to `sink`, in order, gap-free, now
   * and as they are committed (by any writer).
   * @returns a function that stops the delivery
   */
  tail(after: number, sink: EventSink): () => void;
}

/** An idempotency key claimed by a create. */
export interface IdempotencyClaim {
  /** The key, already scoped to the caller. */
  readonly key: string;
  /** The validated request in canonical form: a reused key with another request is refused. */
  readonly fingerprint: string;
  /** When the key may be forgotten, in epoch milliseconds. */
  readonly expiresAt: number;
}

/** What a backend keeps for an idempotency key: the create it answered. */
export interface IdempotencyRecord extends IdempotencyClaim {
  /** The order as it was created. */
  readonly order: Order;
  /** The create's seq. */
  readonly seq: number;
}

/** The outcome of {@link OrderLog.append}. */
export type AppendOutcome =
  | { readonly kind: 'committed'; readonly seq: number }
  /** The order is no longer at the version the change was decided against: catch up to `headSeq` and decide again. */
  | { readonly kind: 'conflict'; readonly headSeq: number }
  /** The idempotency key was claimed already: answer with what it holds. */
  | { readonly kind: 'duplicate'; readonly record: IdempotencyRecord };

/** Numbers about the backend for `/api/stats` and `/healthz`. */
export type StorageStats = Readonly<Record<string, unknown>> & { readonly mode: StorageMode };

/** Where a write is made atomic and durable. */
export type StorageMode = 'memory' | 'journal' | 'redis';

/** What a storage backend provides. */
export interface OrderLog extends EventSource {
  /**
   * Record a change, atomically: only if its order is still at the version
   * the change was decided against (`versionBefore(change)`; 0: no such
   * order), and together with the idempotency claim when there is one.
   * @param change what decide() returned
   * @param claim the create's idempotency key
   */
  append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome>;
  /** The record a key holds, unless it expired. */
  findIdempotent(key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Shared logs only: the newest seq committed by any instance (one round
   * trip). An instance that refused a command or found no order may only
   * be behind: it catches up to this and looks again.
   */
  head?(): Promise<number>;
  /**
   * Shared logs only: be told when the history was replaced and the log
   * recovered in place (Redis flushed, or back with older data): the
   * listener gets the state loaded again, under its epoch, before any
   * event after it; tails go on from its position, and whatever the
   * instance holds of the old history must be dropped (and its sockets sent
   * a reset).
   */
  onReload?(listener: (state: LoadedState) => void): void;
  stats(): StorageStats;
  /** Whether writes can be taken now, and why not. */
  health(): StorageHealth;
  /** Stop tails and release files or connections. */
  close(): Promise<void>;
}

/** Whether a backend can take writes now; reads are served from the projection either way. */
export interface StorageHealth {
  readonly ready: boolean;
  /** Why not, when not ready (`ENOSPC`, `ECONNREFUSED`, ...). */
  readonly reason?: string;
  /** Since when, in ISO 8601. */
  readonly since?: string;
  /**
   * Reads from this instance's projection may miss writes made elsewhere:
   * its view of a shared history is cut off (Redis unreachable, a tail
   * catching up).
   */
  readonly staleReads?: boolean;
}

/**
 * Where durable consumers of the tail keep the position they have
 * processed (a file in the journal's folder, a key in Redis, memory in
 * memory mode), so a restart resumes each from there.
 */
export interface ConsumerPositions {
  /**
   * The position a consumer saved last, or `undefined` when it never did.
   * @param name the consumer's name (letters, digits and `._-`)
   */
  load(name: string): Promise<Position | undefined>;
  /**
   * Save a consumer's position; durable once this resolves.
   * @param name the consumer's name
   * @param position the last event it processed, and that event's epoch
   */
  save(name: string, position: Position): Promise<void>;
  /**
   * Forget a consumer's position (the consumer is gone for good, such as a
   * deleted webhook endpoint's); durable once this resolves: a restart does
   * not bring it back. Deleting a name never saved is not an error. Stop
   * the consumer first: a save made after the delete keeps its position.
   * @param name the consumer's name
   */
  delete(name: string): Promise<void>;
}

/** A consumer name fit for a file name and a Redis key. */
export const CONSUMER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** An opened backend, with what an instance needs to start. */
export interface Storage {
  readonly mode: StorageMode;
  readonly log: OrderLog;
  /**
   * Other instances write to the same history: a client may come back
   * having seen events this instance has not applied yet.
   */
  readonly shared: boolean;
  /** Every order, as of the position the log's tail continues from. */
  readonly initial: LoadedState;
  /** The key tracking tokens are made with: from configuration, or kept by the backend so links outlive a restart. */
  readonly trackingKey: Buffer;
  /** Where durable consumers keep their positions. */
  readonly positions: ConsumerPositions;
  /** With a shared history (Redis): keys kept beside it, for leases among instances. */
  readonly sideKeys?: SideKeys;
  /** With the journal: its folder, where what the notifiers keep (outbox, unsubscribes, endpoints) lives beside the orders. */
  readonly dataDir?: string;
}

/** Commands on keys kept beside a shared history, each within the backend's deadline. */
export interface SideKeys {
  /** Send one command (Redis: `['SET', key, ...]`); resolves with its reply. */
  send(args: readonly string[]): Promise<unknown>;
  /**
   * The full key for a name, beside the history (same hash slot).
   * `consumer:NAME` is where {@link ConsumerPositions} keeps NAME's position.
   * @param name letters, digits, `._:-`
   */
  key(name: string): string;
}
