/**
 * @module domain/catalog
 * Products, their stock, and the rules of stock: a product's changes
 * (create, rename or reprice, adjust stock, delete), and what an order's
 * lines reserve and give back. Pure, like decide.ts: the caller passes the
 * products as it knows them and the time; a backend records the products
 * after the change only if each is still at the version it was decided
 * against, so stock is never decided twice from the same count.
 */

import { PRODUCT_LIMITS, type CreateProductInput, type OrderLine, type OrderLineInput, type Product, type UpdateProductInput } from './products.ts';
import type { Refusal, Shortage } from './refusals.ts';
import { fail, ok, type Result } from './result.ts';

/** A product change the rules allow. */
export type ProductCommand =
  | { readonly type: 'createProduct'; readonly input: CreateProductInput; readonly at: string }
  | { readonly type: 'updateProduct'; readonly sku: string; readonly input: UpdateProductInput; readonly expectedVersion?: number; readonly at: string }
  | { readonly type: 'adjustStock'; readonly sku: string; readonly delta: number; readonly expectedVersion?: number; readonly at: string }
  | { readonly type: 'deleteProduct'; readonly sku: string; readonly expectedVersion?: number };

/** The outcome of a product command: the product after it, or its last state when deleted. */
export type ProductChange =
  | { readonly type: 'product.changed'; readonly product: Product }
  | { readonly type: 'product.deleted'; readonly product: Product };

/**
 * Decide a product command against the product it names.
 * @param current the product as the caller knows it, or undefined
 * @param command what was asked
 */
export function decideProduct(current: Product | undefined, command: ProductCommand): Result<ProductChange, Refusal> {
  if (command.type === 'createProduct') {
    if (current !== undefined) return fail({ kind: 'product-exists', sku: current.sku });
    const { sku, name, priceCents, stock } = command.input;
    return ok({ type: 'product.changed', product: { sku, name, priceCents, stock, version: 1, createdAt: command.at, updatedAt: command.at } });
  }
  if (current === undefined) return fail({ kind: 'product-not-found', sku: command.sku });
  if (command.expectedVersion !== undefined && command.expectedVersion !== current.version) {
    return fail({ kind: 'product-version-mismatch', product: current, expectedVersion: command.expectedVersion });
  }
  switch (command.type) {
    case 'updateProduct': {
      const { name = current.name, priceCents = current.priceCents } = command.input;
      return ok({ type: 'product.changed', product: { ...current, name, priceCents, version: current.version + 1, updatedAt: command.at } });
    }
    case 'adjustStock': {
      const stock = current.stock + command.delta;
      if (stock < 0) return fail({ kind: 'out-of-stock', shortages: [{ sku: current.sku, requested: -command.delta, available: current.stock }] });
      if (stock > PRODUCT_LIMITS.stockMax) return fail({ kind: 'stock-too-large', product: current, max: PRODUCT_LIMITS.stockMax });
      return ok({ type: 'product.changed', product: { ...current, stock, version: current.version + 1, updatedAt: command.at } });
    }
    case 'deleteProduct':
      return ok({ type: 'product.deleted', product: current });
  }
}

/**
 * Demand per SKU, in the order each SKU first appears: two lines of one
 * product reserve their sum, checked once against its stock.
 * @param lines an order's lines
 */
export function demandBySku(lines: readonly OrderLineInput[]): Map<string, number> {
  const demand = new Map<string, number>();
  for (const { sku, quantity } of lines) demand.set(sku, (demand.get(sku) ?? 0) + quantity);
  return demand;
}

/** A reservation: the order's priced lines, and every product touched after it. */
export interface Reservation {
  readonly lines: readonly OrderLine[];
  readonly products: readonly Product[];
}

/**
 * Reserve stock for every line at once, all or nothing: each SKU's summed
 * demand against its stock. Refused with every shortage (not only the
 * first), or when a SKU is not in the catalog.
 * @param lines what the order asks for
 * @param productOf the products as the caller knows them
 * @param at the time, in ISO 8601
 */
export function reserve(lines: readonly OrderLineInput[], productOf: (sku: string) => Product | undefined, at: string): Result<Reservation, Refusal> {
  const demand = demandBySku(lines);
  const shortages: Shortage[] = [];
  const products: Product[] = [];
  for (const [sku, requested] of demand) {
    const product = productOf(sku);
    if (product === undefined) return fail({ kind: 'product-not-found', sku });
    if (product.stock < requested) shortages.push({ sku, requested, available: product.stock });
    else products.push({ ...product, stock: product.stock - requested, version: product.version + 1, updatedAt: at });
  }
  if (shortages.length > 0) return fail({ kind: 'out-of-stock', shortages });
  const priced = lines.map(({ sku, quantity }): OrderLine => {
    const product = productOf(sku)!;
    return { sku, name: product.name, quantity, unitPriceCents: product.priceCents };
  });
  return ok({ lines: priced, products });
}

/**
 * Give an order's stock back (it was cancelled, or deleted while pending).
 * A product deleted since has nothing to take it back.
 * @param lines the order's lines
 * @param productOf the products as the caller knows them
 * @param at the time, in ISO 8601
 * @returns every product touched, after the release
 */
export function release(lines: readonly OrderLine[], productOf: (sku: string) => Product | undefined, at: string): readonly Product[] {
  const products: Product[] = [];
  for (const [sku, quantity] of demandBySku(lines)) {
    const product = productOf(sku);
    if (product !== undefined) products.push({ ...product, stock: product.stock + quantity, version: product.version + 1, updatedAt: at });
  }
  return products;
}

/**
 * The lines' total in cents (each line's quantity × its unit price).
 * @param lines priced lines
 */
export function linesTotalCents(lines: readonly OrderLine[]): number {
  let total = 0;
  for (const { quantity, unitPriceCents } of lines) total += quantity * unitPriceCents;
  return total;
}

export { PRODUCT_LIMITS, type CreateProductInput, type OrderLine, type OrderLineInput, type Product, type UpdateProductInput } from './products.ts';
