/**
 * @module store/catalog-commands
 * The catalog's write path: a product command is decided against this
 * instance's projection (domain/catalog.ts), appended to the same log as
 * orders only if the product is still at the version it was decided
 * against, and answered once the projection has applied it. A lost race
 * (an order reserved stock meanwhile, or another instance wrote) catches
 * up and decides again, as order commands do.
 */

import { decideProduct, type CreateProductInput, type Product, type ProductCommand, type UpdateProductInput } from '../domain/catalog.ts';
import { ProtocolError, fail, ok, refusalError, type Result } from '../protocol/errors.ts';
import { movedByCatchingUp } from './catch-up.ts';
import type { OrderLog } from '../store/ports.ts';
import type { OrderProjection } from './projection.ts';

/** How often a product command is decided again after losing a race, before it gives up. */
const MAX_ATTEMPTS = 16;

/** A committed product change: the product after it (for a delete, its last state) and its seq. */
export interface ProductCommitted {
  readonly product: Product;
  readonly seq: number;
}

/** The catalog's reads, from the local projection. */
export interface CatalogReader {
  /** @param sku a product's SKU */
  product(sku: string): Product | undefined;
  /** Every product, by SKU. */
  products(): readonly Product[];
}

/** The catalog's write path, for HTTP. Each method resolves once committed and applied here, or with a refusal. */
export interface CatalogWrites {
  createProduct(input: CreateProductInput): Promise<Result<ProductCommitted>>;
  /** @param expectedVersion when given, only if the product is still at this version */
  updateProduct(sku: string, input: UpdateProductInput, expectedVersion?: number): Promise<Result<ProductCommitted>>;
  /**
   * Add to (or, with a negative delta, take from) a product's stock; never below zero.
   * @param expectedVersion when given, only if the product is still at this version
   */
  adjustStock(sku: string, delta: number, expectedVersion?: number): Promise<Result<ProductCommitted>>;
  /** @param expectedVersion when given, only if the product is still at this version */
  deleteProduct(sku: string, expectedVersion?: number): Promise<Result<ProductCommitted>>;
}

/** The catalog: reads and writes. */
export type Catalog = CatalogReader & CatalogWrites;

/** {@link Catalog} over any backend. */
export class CatalogCommands implements Catalog {
  readonly #log: OrderLog;
  readonly #projection: OrderProjection;
  readonly #now: () => Date;

  /**
   * @param log the backend's log (the one orders go to)
   * @param projection this instance's projection, fed from `log`'s tail
   * @param now the clock
   */
  constructor(log: OrderLog, projection: OrderProjection, now: () => Date = () => new Date()) {
    this.#log = log;
    this.#projection = projection;
    this.#now = now;
  }

  product(sku: string): Product | undefined {
    return this.#projection.product(sku);
  }

  products(): readonly Product[] {
    return this.#projection.products();
  }

  createProduct(input: CreateProductInput): Promise<Result<ProductCommitted>> {
    return this.#decideAndAppend(input.sku, () => ({ type: 'createProduct', input, at: this.#now().toISOString() }));
  }

  updateProduct(sku: string, input: UpdateProductInput, expectedVersion?: number): Promise<Result<ProductCommitted>> {
    return this.#decideAndAppend(sku, () => ({ type: 'updateProduct', sku, input, at: this.#now().toISOString(), ...(expectedVersion === undefined ? {} : { expectedVersion }) }));
  }

  adjustStock(sku: string, delta: number, expectedVersion?: number): Promise<Result<ProductCommitted>> {
    return this.#decideAndAppend(sku, () => ({ type: 'adjustStock', sku, delta, at: this.#now().toISOString(), ...(expectedVersion === undefined ? {} : { expectedVersion }) }));
  }

  deleteProduct(sku: string, expectedVersion?: number): Promise<Result<ProductCommitted>> {
    return this.#decideAndAppend(sku, () => (expectedVersion === undefined ? { type: 'deleteProduct', sku } : { type: 'deleteProduct', sku, expectedVersion }));
  }

  /** Decide against the projection and append; after a lost race, or a refusal from a projection that may be behind, catch up and decide again. */
  async #decideAndAppend(sku: string, command: () => ProductCommand): Promise<Result<ProductCommitted>> {
    let caughtUp = false;
    for (let attempt = 1; ; attempt++) {
      const decided = decideProduct(this.#projection.product(sku), command());
      if (!decided.ok) {
        if (caughtUp || !(await movedByCatchingUp(this.#log, this.#projection))) return fail(refusalError(decided.error));
        caughtUp = true;
        attempt--;
        continue;
      }
      const change = decided.value;
      const outcome = await this.#log.append(change);
      if (outcome.kind === 'committed') {
        if (this.#projection.seq < outcome.seq) await this.#projection.reached(outcome.seq);
        return ok({ product: change.product, seq: outcome.seq });
      }
      if (outcome.kind === 'duplicate') throw new Error('a log answered a claim that was not made');
      await this.#projection.reached(outcome.headSeq);
      if (attempt === MAX_ATTEMPTS) {
        const current = this.#projection.product(sku);
        return fail(new ProtocolError('LO_ERR_VERSION_MISMATCH', `Product ${sku} kept changing while this change was decided; try again`, current === undefined ? {} : { currentVersion: current.version }));
      }
    }
  }
}
