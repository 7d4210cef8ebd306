/**
 * @module domain/products
 * What a product of the catalog is, what an order asks of it and keeps of
 * it, and their bounds: shapes only (the rules of stock are in catalog.ts).
 */

/** A product of the catalog. */
export interface Product {
  /** Unique, chosen by whoever creates it. */
  readonly sku: string;
  readonly name: string;
  /** Unit price in whole cents. */
  readonly priceCents: number;
  /** Units that can still be ordered: never negative. */
  readonly stock: number;
  /** Starts at 1 and grows by 1 with every change (a reservation or a release included); used for `If-Match`. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What an order asks of the catalog: a quantity of one product. */
export interface OrderLineInput {
  readonly sku: string;
  readonly quantity: number;
}

/** One line of an order as kept: the product's name and unit price at the time of the order. */
export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

/** What a client sends to create a product, after validation. */
export interface CreateProductInput {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** What a client sends to change a product's name or price, after validation. */
export interface UpdateProductInput {
  readonly name?: string;
  readonly priceCents?: number;
}

/** Bounds on products; validators and docs use the same numbers. */
export const PRODUCT_LIMITS = {
  skuPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  nameMaxLength: 200,
  priceCentsMax: 100_000_000_000,
  stockMax: 1_000_000_000,
  linesMax: 100,
} as const;

/** One product an order (or a stock change) asked more of than there is. */
export interface Shortage {
  readonly sku: string;
  /** Units asked for, summed over the order's lines. */
  readonly requested: number;
  /** Units in stock when it was decided. */
  readonly available: number;
}
