/**
 * @module node/commands
 * The one write path. A command is decided against this instance's
 * projection (domain/decide.ts), appended to the backend's log only if the
 * order is still at the version it was decided against, and answered once
 * the projection, fed from the log's tail like everything else, has
 * applied it. When another write got there first (another instance, or one
 * of ours still on its way through the tail), the command catches up and is
 * decided again: the rules, not the race, say whether it still holds.
 */

import { createHash } from 'node:crypto';
import { decide, decideCreate, decideOrderCreate, type Change, type Command } from '../domain/decide.ts';
import type { OrderStatus } from '../domain/statuses.ts';
import { ProtocolError, fail, ok, refusalError, type Result } from '../protocol/errors.ts';
import type { CreateOrderInput } from '../protocol/orders.ts';
import { IDEMPOTENCY_TTL_MS } from '../store/idempotency.ts';
import type { AppendOutcome, Commands, Committed, Created, IdempotencyClaim, IdempotencyRecord, OrderLog } from '../store/ports.ts';
import { movedByCatchingUp } from './catch-up.ts';
import type { OrderProjection } from './projection.ts';

/** How often a command is decided again after losing a race, before it gives up. */
const MAX_ATTEMPTS = 8;

/**
 * The same for a create that reserves stock: every order for a product
 * races on that product's version, and each lost race means another
 * order (or a restock) committed, so the stock moved and the rules must
 * look again. A popular product sees as many rounds as orders in flight.
 */
const MAX_STOCK_ATTEMPTS = 1000;

/** What {@link OrderCommands} works with. */
export interface OrderCommandsOptions {
  readonly log: OrderLog;
  /** This instance's projection, fed from `log`'s tail. */
  readonly projection: OrderProjection;
  /** New order ids (UUID v7, strictly increasing). */
  readonly newId: () => string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** How long an idempotency key is remembered, in milliseconds. @default 24 hours */
  readonly idempotencyTtlMs?: number;
  /** Told how long each append to the log took, in seconds, committed or not (the metrics). @default not timed */
  readonly onAppend?: (seconds: number) => void;
}

/** A create with a key that is still being committed, for retries that arrive meanwhile. */
interface InFlight {
  readonly fingerprint: string;
  readonly created: Promise<Result<Created>>;
}

/** {@link Commands} over any backend. */
export class OrderCommands implements Commands {
  readonly #log: OrderLog;
  readonly #projection: OrderProjection;
  readonly #newId: () => string;
  readonly #now: () => Date;
  readonly #ttlMs: number;
  readonly #onAppend: ((seconds: number) => void) | undefined;
  readonly #inFlight = new Map<string, InFlight>();
  #lastMs = Number.NaN;
  #lastIso = '';

  /** @param options the log, the projection, ids and the clock */
  constructor(options: OrderCommandsOptions) {
    this.#log = options.log;
    this.#projection = options.projection;
    this.#newId = options.newId;
    this.#now = options.now ?? (() => new Date());
    this.#ttlMs = options.idempotencyTtlMs ?? IDEMPOTENCY_TTL_MS;
    this.#onAppend = options.onAppend;
  }

  create(input: CreateOrderInput, idempotencyKey?: string): Promise<Result<Created>> {
    if (idempotencyKey === undefined) return this.#create(input, undefined);
    const fingerprint = fingerprintOf(input);
    const running = this.#inFlight.get(idempotencyKey);
    if (running !== undefined) {
      if (running.fingerprint !== fingerprint) return Promise.resolve(fail(idempotencyMismatch()));
      return running.created.then((result) => (result.ok ? ok({ ...result.value, replayed: true }) : result));
    }
    const claim: IdempotencyClaim = { key: idempotencyKey, fingerprint, expiresAt: Date.now() + this.#ttlMs };
    // Registered before anything is awaited: a retry that comes meanwhile waits for this one.
    const created = this.#createOnce(input, claim).finally(() => this.#inFlight.delete(idempotencyKey));
    this.#inFlight.set(idempotencyKey, { fingerprint, created });
    return created;
  }

  changeStatus(id: string, status: OrderStatus, expectedVersion?: number): Promise<Result<Committed>> {
    return this.#decideAndAppend(() => ({ type: 'changeStatus', id, status, at: this.#timestamp(), ...(expectedVersion === undefined ? {} : { expectedVersion }) }));
  }

  delete(id: string, expectedVersion?: number): Promise<Result<Committed>> {
    return this.#decideAndAppend(() => (expectedVersion === undefined ? { type: 'delete', id, at: this.#timestamp() } : { type: 'delete', id, expectedVersion, at: this.#timestamp() }));
  }

  /** A keyed create: the key's earlier answer if it has one (here or, through the log, anywhere), else a new order. */
  async #createOnce(input: CreateOrderInput, claim: IdempotencyClaim): Promise<Result<Created>> {
    const earlier = await this.#log.findIdempotent(claim.key);
    if (earlier !== undefined) return this.#replay(earlier, claim);
    return this.#create(input, claim);
  }

  async #create(input: CreateOrderInput, claim: IdempotencyClaim | undefined): Promise<Result<Created>> {
    if (input.lines !== undefined && input.lines.length > 0) return this.#createWithStock(input, claim);
    const change = decideCreate(this.#newId(), input, this.#timestamp());
    const outcome = await this.#append(change, claim);
    switch (outcome.kind) {
      case 'committed':
        if (this.#projection.seq < outcome.seq) await this.#projection.reached(outcome.seq);
        return ok({ order: change.order, seq: outcome.seq, replayed: false });
      case 'duplicate':
        return this.#replay(outcome.record, claim!);
      case 'conflict':
        throw new Error(`the log already has an order with the new id ${change.order.id}`);
    }
  }

  /**
   * A create whose lines reserve stock: decided against the products as
   * this instance knows them, and appended only if none of them changed
   * since; after a lost race, decided again on the newer stock. A refusal
   * (out of stock, no such product) from a projection that may be behind a
   * shared history is decided again once it has caught up, and a keyed
   * create that another instance already committed answers with that.
   */
  async #createWithStock(input: CreateOrderInput, claim: IdempotencyClaim | undefined): Promise<Result<Created>> {
    const id = this.#newId();
    const productOf = (sku: string) => this.#projection.product(sku);
    let caughtUp = false;
    for (let attempt = 1; ; attempt++) {
      const decided = decideOrderCreate(id, input, this.#timestamp(), productOf);
      if (!decided.ok) {
        if (!caughtUp) {
          caughtUp = true;
          if (await movedByCatchingUp(this.#log, this.#projection)) {
            attempt--;
            continue;
          }
        }
        const earlier = claim === undefined ? undefined : await this.#log.findIdempotent(claim.key);
        return earlier === undefined ? fail(refusalError(decided.error)) : this.#replay(earlier, claim!);
      }
      const change = decided.value;
      const outcome = await this.#log.append(change, claim);
      switch (outcome.kind) {
        case 'committed':
          if (this.#projection.seq < outcome.seq) await this.#projection.reached(outcome.seq);
          return ok({ order: change.order, seq: outcome.seq, replayed: false });
        case 'duplicate':
          return this.#replay(outcome.record, claim!);
        case 'conflict':
          await this.#projection.reached(outcome.headSeq);
          if (attempt === MAX_STOCK_ATTEMPTS) return fail(new ProtocolError('LO_ERR_VERSION_MISMATCH', 'The stock of these products kept changing while this order was decided; try again'));
      }
    }
  }

  /** The first answer again, once this instance's projection has the order it created. */
  async #replay(record: IdempotencyRecord, claim: IdempotencyClaim): Promise<Result<Created>> {
    if (record.fingerprint !== claim.fingerprint) return fail(idempotencyMismatch());
    await this.#projection.reached(record.seq);
    return ok({ order: record.order, seq: record.seq, replayed: true });
  }

  /**
   * Decide against the projection and append; after a lost race, catch up
   * and decide again. A refusal from a projection that may be behind a
   * shared history (the order was created or moved through another
   * instance a moment ago) is decided again once it has caught up.
   */
  async #decideAndAppend(command: () => Command): Promise<Result<Committed>> {
    let caughtUp = false;
    for (let attempt = 1; ; attempt++) {
      const next = command();
      const decided = decide(this.#projection.get(next.id), next, (sku) => this.#projection.product(sku));
      if (!decided.ok) {
        if (caughtUp || !(await movedByCatchingUp(this.#log, this.#projection))) return fail(refusalError(decided.error));
        caughtUp = true;
        attempt--;
        continue;
      }
      const change: Change = decided.value;
      const outcome = await this.#append(change);
      if (outcome.kind === 'committed') {
        if (this.#projection.seq < outcome.seq) await this.#projection.reached(outcome.seq);
        return ok({ order: change.order, seq: outcome.seq });
      }
      if (outcome.kind === 'duplicate') throw new Error('a log answered a claim that was not made');
      await this.#projection.reached(outcome.headSeq);
      // A change that gives stock back races with every order for those products: it may take as many rounds.
      const limit = 'products' in change && change.products !== undefined ? MAX_STOCK_ATTEMPTS : MAX_ATTEMPTS;
      if (attempt >= limit) return fail(keptChanging(next.id, this.#projection.get(next.id)?.version));
    }
  }

  /** The log's append, timed when asked. */
  #append(change: Change, claim?: IdempotencyClaim): Promise<AppendOutcome> {
    const observe = this.#onAppend;
    if (observe === undefined) return this.#log.append(change, claim);
    const started = performance.now();
    const appended = this.#log.append(change, claim);
    const done = (): void => observe((performance.now() - started) / 1000);
    appended.then(done, done);
    return appended;
  }

  /**
   * The clock's time in ISO 8601. `toISOString` is costly (V8 formats it
   * through printf) and showed in a create's profile; writes in the same
   * millisecond share one string.
   */
  #timestamp(): string {
    const now = this.#now();
    const ms = now.getTime();
    if (ms !== this.#lastMs) {
      this.#lastIso = now.toISOString();
      this.#lastMs = ms;
    }
    return this.#lastIso;
  }
}

/**
 * A validated create in canonical form, hashed: equal for equal requests
 * however their JSON was spelled, and small enough to keep per key.
 * @param input a validated order
 */
export function fingerprintOf(input: CreateOrderInput): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('base64url');
}

/** Every attempt lost its race: the order is changing faster than this command can be decided. */
function keptChanging(id: string, version: number | undefined): ProtocolError {
  return new ProtocolError('LO_ERR_VERSION_MISMATCH', `Order ${id} kept changing while this change was decided; try again`, version === undefined ? {} : { currentVersion: version });
}

function idempotencyMismatch(): ProtocolError {
  return new ProtocolError('LO_ERR_IDEMPOTENCY_MISMATCH', 'This idempotency key was already used with a different request');
}
