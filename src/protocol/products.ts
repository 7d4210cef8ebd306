/**
 * @module protocol/products
 * The catalog as it travels: products (their shape is the domain's), and
 * the validation of what a client sends to create or change one, to
 * adjust its stock, or to order it as an order's lines.
 */

import { PRODUCT_LIMITS, type CreateProductInput, type UpdateProductInput } from '../domain/catalog.ts';
import type { Result } from './errors.ts';
import { isObject } from './json.ts';
import { FieldErrors, parseBoundedInteger as parseInteger, parseSku, parseTrimmedString } from './parse.ts';


export type { CreateProductInput, OrderLine, OrderLineInput, Product, UpdateProductInput } from '../domain/catalog.ts';
export { PRODUCT_LIMITS } from '../domain/catalog.ts';
export type { Shortage } from '../domain/refusals.ts';

/**
 * Validate the body of `POST /api/products`.
 * @param raw parsed JSON from an untrusted client
 */
export function parseCreateProductInput(raw: unknown): Result<CreateProductInput> {
  const errors = new FieldErrors();
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object');
    return errors.result({ sku: '', name: '', priceCents: 0, stock: 0 }, 'Product');
  }
  errors.rejectUnknown(raw, ['sku', 'name', 'priceCents', 'stock'], '');
  const sku = parseSku(raw.sku, 'sku', errors) ?? '';
  const name = parseTrimmedString(raw.name, PRODUCT_LIMITS.nameMaxLength, 'name', errors) ?? '';
  const priceCents = parseInteger(raw.priceCents, 0, PRODUCT_LIMITS.priceCentsMax, 'priceCents', errors) ?? 0;
  const stock = raw.stock === undefined ? 0 : (parseInteger(raw.stock, 0, PRODUCT_LIMITS.stockMax, 'stock', errors) ?? 0);
  return errors.result({ sku, name, priceCents, stock }, 'Product');
}

/**
 * Validate the body of `PATCH /api/products/SKU`: a new `name`, `priceCents`, or both (stock changes go through `/stock`).
 * @param raw parsed JSON from an untrusted client
 */
export function parseUpdateProductInput(raw: unknown): Result<UpdateProductInput> {
  const errors = new FieldErrors();
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object');
    return errors.result({}, 'Product change');
  }
  errors.rejectUnknown(raw, ['name', 'priceCents'], '');
  if (raw.name === undefined && raw.priceCents === undefined) errors.add('', 'must change name or priceCents (stock changes go to POST /api/products/SKU/stock)');
  const name = raw.name === undefined ? undefined : parseTrimmedString(raw.name, PRODUCT_LIMITS.nameMaxLength, 'name', errors);
  const priceCents = raw.priceCents === undefined ? undefined : parseInteger(raw.priceCents, 0, PRODUCT_LIMITS.priceCentsMax, 'priceCents', errors);
  return errors.result({ ...(name === undefined ? {} : { name }), ...(priceCents === undefined ? {} : { priceCents }) }, 'Product change');
}

/**
 * Validate the body of `POST /api/products/SKU/stock`: `{ "delta": n }`, a non-zero integer.
 * @param raw parsed JSON from an untrusted client
 */
export function parseStockDelta(raw: unknown): Result<number> {
  const errors = new FieldErrors();
  if (!isObject(raw)) {
    errors.add('', 'must be a JSON object { "delta": n }');
    return errors.result(0, 'Stock change');
  }
  errors.rejectUnknown(raw, ['delta'], '');
  const delta = parseInteger(raw.delta, -PRODUCT_LIMITS.stockMax, PRODUCT_LIMITS.stockMax, 'delta', errors);
  if (delta === 0) errors.add('delta', 'must not be 0');
  return errors.result(delta ?? 0, 'Stock change');
}
